//! src/context/afterfunc_test.go and the AfterFunc cases of x_test.go, rewritten against
//! `Context::after_func`. Go's custom contexts with their own `AfterFunc` method have no
//! counterpart (one concrete `Context` type); their registration count is checked on goro's
//! own registry instead.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan;
use goro::context::{self, ContextError};

use crate::support::{go_main, LIVENESS};

const SHORT: Duration = Duration::from_millis(1);

/// TestAfterFuncCalledAfterCancel: not called while the context is live (checked after a
/// 1 ms wait, which a slow machine cannot make fail), called once it is cancelled.
#[test]
fn test_after_func_called_after_cancel() {
    go_main("TestAfterFuncCalledAfterCancel", || {
        let (ctx, cancel) = context::background().with_cancel();
        let (tx, rx) = chan::bounded::<()>(1);
        let _stop = ctx.after_func(move || tx.send(()).unwrap());
        goro::sleep(SHORT);
        assert!(rx.try_recv().is_err(), "called before the context ended");
        cancel();
        rx.recv_timeout(LIVENESS).expect("not called after cancel");
    });
}

/// TestAfterFuncCalledAfterTimeout.
#[test]
fn test_after_func_called_after_timeout() {
    go_main("TestAfterFuncCalledAfterTimeout", || {
        let (ctx, _cancel) = context::background().with_timeout(SHORT);
        let (tx, rx) = chan::bounded(1);
        let seen = ctx.clone();
        let _stop = ctx.after_func(move || tx.send(seen.err()).unwrap());
        assert_eq!(
            rx.recv_timeout(LIVENESS),
            Ok(Some(ContextError::DeadlineExceeded)),
            "not called after the timeout, or called before the context ended"
        );
    });
}

/// TestAfterFuncCalledImmediately: registered on a context that has ended already, `f` is
/// called (in its own goroutine); `stop` then returns false.
#[test]
fn test_after_func_called_immediately() {
    go_main("TestAfterFuncCalledImmediately", || {
        let (ctx, cancel) = context::background().with_cancel();
        cancel();
        let (tx, rx) = chan::bounded::<()>(1);
        let stop = ctx.after_func(move || tx.send(()).unwrap());
        rx.recv_timeout(LIVENESS)
            .expect("not called on an ended context");
        assert!(!stop(), "stop after the call must return false");
    });
}

/// TestAfterFuncNotCalledAfterStop: `stop` before the cancel returns true and `f` never runs;
/// a second `stop` returns false.
#[test]
fn test_after_func_not_called_after_stop() {
    go_main("TestAfterFuncNotCalledAfterStop", || {
        let (ctx, cancel) = context::background().with_cancel();
        let (tx, rx) = chan::bounded::<()>(1);
        let stop = ctx.after_func(move || tx.send(()).unwrap());
        assert!(stop(), "the first stop prevents the call");
        assert!(!stop(), "a second stop returns false");
        cancel();
        goro::sleep(SHORT);
        // The function was dropped unrun: its sender is gone, so the channel is closed.
        assert_eq!(
            rx.recv_timeout(LIVENESS),
            Err(chan::RecvTimeoutError::Closed)
        );
    });
}

/// TestAfterFuncCalledAfterStop... the other order: `stop` after the call has started
/// returns false.
#[test]
fn test_after_func_stop_after_call() {
    go_main("TestAfterFuncStopAfterCall", || {
        let (ctx, cancel) = context::background().with_cancel();
        let (tx, rx) = chan::bounded::<()>(0);
        let stop = ctx.after_func(move || tx.send(()).unwrap());
        cancel();
        rx.recv_timeout(LIVENESS).expect("not called");
        assert!(!stop());
    });
}

/// TestAfterFuncCalledAsynchronously: `cancel` does not wait for `f`: `f` blocks on a send
/// that is only received after `cancel` has returned.
#[test]
fn test_after_func_called_asynchronously() {
    go_main("TestAfterFuncCalledAsynchronously", || {
        let (ctx, cancel) = context::background().with_cancel();
        let (tx, rx) = chan::bounded::<()>(0);
        let _stop = ctx.after_func(move || tx.send(()).unwrap());
        cancel(); // would deadlock if it ran `f` inline
        rx.recv_timeout(LIVENESS).expect("f never ran");
    });
}

/// Multiple registrations are independent: stopping one does not affect the others, and
/// each runs once.
#[test]
fn test_after_func_registrations_independent() {
    go_main("AfterFuncIndependent", || {
        let (ctx, cancel) = context::background().with_cancel();
        let calls = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = chan::unbounded::<usize>();
        let stops: Vec<_> = (0..10)
            .map(|i| {
                let (calls, tx) = (calls.clone(), tx.clone());
                ctx.after_func(move || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tx.send(i).unwrap();
                })
            })
            .collect();
        drop(tx);
        assert_eq!(goro::__private::context_registered(&ctx), 10);
        for (i, stop) in stops.iter().enumerate() {
            if i % 2 == 1 {
                assert!(stop());
            }
        }
        assert_eq!(goro::__private::context_registered(&ctx), 5);
        cancel();
        let mut got: Vec<usize> = rx.iter().collect();
        got.sort();
        assert_eq!(got, [0, 2, 4, 6, 8]);
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        for stop in &stops {
            assert!(!stop());
        }
    });
}

/// The registration rows of afterfunc_test.go (TestCustomContextAfterFuncCancel and
/// friends): two children register in their parent; once both are cancelled, nothing is
/// registered; an `after_func` unregisters on `stop`. On a context that never ends, `f` is
/// never kept, and `stop` returns true once.
#[test]
fn test_after_func_registrations_count() {
    go_main("AfterFuncRegistrations", || {
        let (parent, _cancel) = context::background().with_cancel();
        let (_a, cancel_a) = parent.with_cancel();
        let (_b, cancel_b) = parent.with_timeout(Duration::from_secs(3600));
        assert_eq!(goro::__private::context_registered(&parent), 2);
        cancel_a();
        cancel_b();
        assert_eq!(goro::__private::context_registered(&parent), 0);
        let stop = parent.after_func(|| {});
        assert_eq!(goro::__private::context_registered(&parent), 1);
        assert!(stop());
        assert_eq!(goro::__private::context_registered(&parent), 0);

        let stop = context::background().after_func(|| panic!("background never ends"));
        assert!(stop());
        assert!(!stop());
    });
}
