//! `goro::group::Group` beyond x/sync's tests: panics resumed by `wait`, `go` blocking at the
//! limit, tasks starting tasks, several waiters, errors that are not `Clone`.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan;
use goro::context::{self, ContextError};
use goro::group::Group;

mod support;

use support::payload_str;

/// A panicking task does not take the others down: `wait` returns once every task is done,
/// then resumes the panic with its message; the group's context is cancelled with it.
#[goro::test]
fn wait_resumes_a_task_panic_with_its_message() {
    let _quiet = support::expect_panics();
    let (g, ctx) = Group::<String>::with_context(&context::background());
    let finished = Arc::new(AtomicUsize::new(0));
    for _ in 0..10 {
        let (ctx, finished) = (ctx.clone(), finished.clone());
        g.go(move || {
            let _ = ctx.done().recv(); // stopped by the panic's cancellation
            finished.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
    }
    g.go(|| panic!("task {} exploded", 7));
    let r = panic::catch_unwind(AssertUnwindSafe(|| g.wait()));
    let payload = r.expect_err("wait must resume the panic");
    assert_eq!(payload_str(&*payload), Some("task 7 exploded"));
    assert_eq!(
        finished.load(Ordering::SeqCst),
        10,
        "wait returned before every task"
    );
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    let cause = ctx.cause().unwrap().to_string();
    assert!(cause.contains("task 7 exploded"), "{cause}");

    // Resumed once: the group can be used again.
    g.go(|| Ok(()));
    assert_eq!(g.wait(), Ok(()));
}

/// A panic wins over an error; a `&'static str` payload keeps its type.
#[test]
fn panic_wins_over_error() {
    let _quiet = support::expect_panics();
    let g = Group::<&str>::new();
    g.go(|| Err("plain error"));
    g.go(|| panic!("static message"));
    let r = panic::catch_unwind(AssertUnwindSafe(|| g.wait()));
    let payload = r.expect_err("the panic is resumed");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"static message"));
    // The error was not returned with the panic: the next wait returns it.
    assert_eq!(g.wait(), Err("plain error"));
}

/// `go` waits while the limit is reached and starts the task once a place frees.
#[goro::test]
fn go_blocks_at_the_limit() {
    let g = Group::<()>::new();
    g.set_limit(2);
    let (release_tx, release) = chan::bounded::<()>(0);
    for _ in 0..2 {
        let release = release.clone();
        g.go(move || {
            let _ = release.recv();
            Ok(())
        });
    }
    let third_started = Arc::new(AtomicBool::new(false));
    let starter = {
        let (g, third_started) = (g.clone(), third_started.clone());
        goro::go(move || {
            g.go(move || {
                third_started.store(true, Ordering::SeqCst);
                Ok(())
            });
        })
    };
    goro::sleep(Duration::from_millis(5));
    assert!(
        !third_started.load(Ordering::SeqCst),
        "started beyond the limit"
    );
    release_tx.send(()).unwrap(); // one place frees
    starter.join().unwrap();
    release_tx.send(()).unwrap();
    g.wait().unwrap();
    assert!(third_started.load(Ordering::SeqCst));
}

/// Tasks may start more tasks through a clone of the group; `wait` waits for all.
#[goro::test]
fn tasks_start_tasks() {
    let g = Group::<String>::new();
    let count = Arc::new(AtomicUsize::new(0));
    fn spread(g: Group<String>, count: Arc<AtomicUsize>, depth: u32) {
        let inner = g.clone();
        g.go(move || {
            count.fetch_add(1, Ordering::SeqCst);
            if depth > 0 {
                spread(inner.clone(), count.clone(), depth - 1);
                spread(inner, count, depth - 1);
            }
            Ok(())
        });
    }
    spread(g.clone(), count.clone(), 10);
    g.wait().unwrap();
    assert_eq!(count.load(Ordering::SeqCst), (1 << 11) - 1);
}

/// Two goroutines waiting at once both return after the tasks; exactly one gets the error.
#[goro::test]
fn several_waiters_share_one_error() {
    let g = Group::<&str>::new();
    let (release_tx, release) = chan::bounded::<()>(0);
    g.go(move || {
        let _ = release.recv();
        Err("the error")
    });
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let g = g.clone();
            goro::go(move || g.wait())
        })
        .collect();
    goro::sleep(Duration::from_millis(1));
    release_tx.close();
    let results: Vec<_> = waiters.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_err()).count(),
        1,
        "{results:?}"
    );
    assert!(results.contains(&Err("the error")));
}

/// A group without a context takes errors that are not `Clone` (`std::io::Error`).
#[test]
fn io_errors_without_a_context() {
    let g = Group::<std::io::Error>::new();
    g.go(|| Err(std::io::Error::other("disk on fire")));
    assert_eq!(g.wait().unwrap_err().to_string(), "disk on fire");
}

/// With a context, the cause is the first error itself: it downcasts to the group's error
/// type and is the value `wait` returns. A non-`Clone` error is shared through an `Arc`.
#[test]
fn the_cause_downcasts_to_the_error() {
    #[derive(Debug, Clone, PartialEq)]
    struct Refused(u16);
    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "port {} refused", self.0)
        }
    }
    impl std::error::Error for Refused {}

    let (g, ctx) = Group::with_context(&context::background());
    g.go(|| Err(Refused(443)));
    let err = g.wait().unwrap_err();
    let cause = ctx.cause().unwrap();
    assert_eq!(cause.downcast_ref::<Refused>(), Some(&err));
    assert_eq!(cause.to_string(), "port 443 refused");

    let (g, ctx) = Group::<Arc<std::io::Error>>::with_context(&context::background());
    g.go(|| Err(Arc::new(std::io::Error::other("disk on fire"))));
    let err = g.wait().unwrap_err();
    let cause = ctx.cause().unwrap();
    let shared = cause.downcast_ref::<Arc<std::io::Error>>().unwrap();
    assert!(Arc::ptr_eq(shared, &err));
    assert_eq!(cause.to_string(), "disk on fire");
}

/// Many small tasks under a small limit all run exactly once.
#[goro::test]
fn many_tasks_under_a_limit() {
    let n = support::scaled(100_000);
    let g = Group::<String>::new();
    g.set_limit(8);
    let sum = Arc::new(AtomicUsize::new(0));
    for i in 0..n {
        let sum = sum.clone();
        g.go(move || {
            sum.fetch_add(i, Ordering::Relaxed);
            Ok(())
        });
    }
    g.wait().unwrap();
    assert_eq!(sum.load(Ordering::Relaxed), n * (n - 1) / 2);
    assert_eq!(format!("{g:?}"), "Group { running: 0, limit: Some(8) }");
}

/// `set_limit(0)` is refused with a message naming the problem.
#[test]
fn set_limit_zero_panics_clearly() {
    let g = Group::<String>::new();
    let r = panic::catch_unwind(AssertUnwindSafe(|| g.set_limit(0)));
    let payload = r.expect_err("set_limit(0) must panic");
    let msg = payload_str(&*payload).unwrap();
    assert!(
        msg.contains("set_limit(0)") && msg.contains("remove_limit"),
        "{msg}"
    );
    assert_eq!(g.limit(), None);
}
