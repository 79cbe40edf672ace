//! `goro::context` beyond Go's own tests: memory of long-lived parents, deep and wide trees,
//! timers released on cancel, waiting on `done` from many goroutines, handles and guards.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::chan;
use goro::context::{self, Context, ContextError, Key};

mod support;

use support::Tracked;

/// Runs `f` as a goroutine and waits for it, resuming its panic.
fn run<F: FnOnce() + Send + 'static>(f: F) {
    goro::run(f)
}

fn assert_traits<T: Clone + Send + Sync + 'static>() {}

#[test]
fn handles_are_clone_send_sync() {
    assert_traits::<Context>();
    assert_traits::<context::CancelFn>();
    assert_traits::<context::CancelCauseFn>();
    assert_traits::<context::StopFn>();
    assert_traits::<ContextError>();
}

/// A long-lived parent outlives a million short-lived children, each cancelled right after
/// use: every cancelled child leaves the parent's registry at once, and memory stays flat.
#[test]
fn million_short_lived_children_leave_the_parent_flat() {
    run(|| {
        let n = support::scaled(1_000_000);
        let (parent, cancel_parent) = context::background().with_cancel();
        let before = support::rss_bytes();
        for i in 0..n {
            let (child, cancel) = parent.with_cancel();
            assert_eq!(child.err(), None);
            if i % 2 == 0 {
                // Half of them also watch their done channel, as a worker would.
                assert!(!child.done().is_closed());
            }
            cancel();
            assert!(goro::__private::context_registered(&parent) <= 1);
        }
        assert_eq!(
            goro::__private::context_registered(&parent),
            0,
            "cancelled children stay registered"
        );
        let grown = support::rss_bytes().saturating_sub(before);
        // A leaked child costs hundreds of bytes: a million leaked would be hundreds of MiB.
        assert!(
            grown < 64 << 20,
            "memory grew by {} MiB over {n} cancelled children",
            grown >> 20
        );
        assert_eq!(parent.err(), None);
        cancel_parent();
    });
}

/// The same with deadlines: every child arms a runtime timer, and cancelling it stops the
/// timer and detaches the child.
#[test]
fn short_lived_timeout_children_leave_the_parent_flat() {
    run(|| {
        let n = support::scaled(100_000);
        let (parent, _cancel_parent) = context::background().with_cancel();
        for _ in 0..n {
            let (child, cancel) = parent.with_timeout(Duration::from_secs(3600));
            assert!(child.deadline().is_some());
            cancel();
        }
        assert_eq!(goro::__private::context_registered(&parent), 0);
    });
}

/// Children whose cancel function was dropped stay registered (as in Go) until the parent
/// ends, which releases them all.
#[test]
fn dropped_cancel_functions_are_released_by_the_parent() {
    run(|| {
        let (parent, cancel_parent) = context::background().with_cancel();
        let alive = Arc::new(AtomicUsize::new(0));
        static TOKEN: Key<Tracked> = Key::new("token");
        for _ in 0..1000 {
            let (child, cancel) = parent
                .with_value(&TOKEN, Tracked::new(&alive))
                .with_cancel();
            drop(cancel); // does not cancel
            assert_eq!(child.err(), None);
        }
        assert_eq!(goro::__private::context_registered(&parent), 1000);
        assert_eq!(alive.load(Ordering::SeqCst), 1000);
        cancel_parent();
        assert_eq!(goro::__private::context_registered(&parent), 0);
        assert_eq!(
            alive.load(Ordering::SeqCst),
            0,
            "the children were not freed"
        );
    });
}

/// Cancelling a context with a far deadline releases it at once: the stopped timer waiting
/// for the runtime to sweep it does not keep the context (or its values) alive.
#[test]
fn cancel_releases_the_timer_hold() {
    run(|| {
        static V: Key<Tracked> = Key::new("v");
        let alive = Arc::new(AtomicUsize::new(0));
        let base = context::background().with_value(&V, Tracked::new(&alive));
        let (ctx, cancel) = base.with_timeout(Duration::from_secs(3600));
        drop(base);
        assert_eq!(alive.load(Ordering::SeqCst), 1);
        cancel();
        drop((ctx, cancel));
        assert_eq!(
            alive.load(Ordering::SeqCst),
            0,
            "the timer kept the context alive"
        );
    });
}

/// A chain of 10,000 nested contexts (cancellable, with values between them): cancelling
/// the root ends the leaf before `cancel` returns, and dropping the chain afterwards, on a
/// goroutine's fixed stack, does not overflow it.
#[test]
fn deep_chain_cancels_synchronously_and_drops_iteratively() {
    run(|| {
        static DEPTH: Key<usize> = Key::new("depth");
        let (root, cancel) = context::background().with_cancel();
        let mut leaf = root.clone();
        let mut cancels = Vec::new();
        for i in 0..10_000 {
            if i % 3 == 0 {
                leaf = leaf.with_value(&DEPTH, i);
            } else {
                let (c, cancel) = leaf.with_cancel();
                leaf = c;
                cancels.push(cancel);
            }
        }
        assert_eq!(leaf.value(&DEPTH), Some(&9999));
        assert_eq!(leaf.err(), None);
        cancel();
        assert!(leaf.done().is_closed());
        assert_eq!(leaf.err(), Some(ContextError::Canceled));
        drop(cancels);
        drop(root);
        drop(leaf);

        // A chain of values only (nothing registered anywhere) is freed by its last handle.
        static V: Key<Tracked> = Key::new("v");
        let alive = Arc::new(AtomicUsize::new(0));
        let mut ctx = context::background();
        for _ in 0..10_000 {
            ctx = ctx.with_value(&V, Tracked::new(&alive));
        }
        assert_eq!(alive.load(Ordering::SeqCst), 10_000);
        drop(ctx);
        assert_eq!(alive.load(Ordering::SeqCst), 0);
    });
}

/// A parent with 10,000 children and 10,000 goroutines parked on their done channels: one
/// cancel ends them all before it returns, and wakes every goroutine.
#[test]
fn wide_tree_wakes_every_waiter() {
    run(|| {
        let (parent, cancel) = context::background().with_cancel();
        let (woke_tx, woke) = chan::bounded::<()>(0);
        let mut children = Vec::new();
        for _ in 0..10_000 {
            let (child, cancel_child) = parent.with_cancel();
            let (c, woke_tx) = (child.clone(), woke_tx.clone());
            goro::go(move || {
                assert!(c.done().recv().is_err());
                assert_eq!(c.err(), Some(ContextError::Canceled));
                woke_tx.send(()).unwrap();
            });
            children.push((child, cancel_child));
        }
        drop(woke_tx);
        cancel();
        for (child, _) in &children {
            assert!(
                child.done().is_closed(),
                "a child is still live after cancel"
            );
        }
        assert_eq!(woke.iter().count(), 10_000);
    });
}

/// A child's cancel never reaches its parent or its siblings.
#[test]
fn child_cancel_stays_below() {
    let (parent, cancel_parent) = context::background().with_cancel();
    let (a, cancel_a) = parent.with_cancel();
    let (b, _cancel_b) = parent.with_cancel();
    let (a1, _cancel_a1) = a.with_cancel();
    cancel_a();
    assert_eq!(a.err(), Some(ContextError::Canceled));
    assert_eq!(a1.err(), Some(ContextError::Canceled));
    assert_eq!(parent.err(), None);
    assert_eq!(b.err(), None);
    assert_eq!(
        goro::__private::context_registered(&parent),
        1,
        "only b is left"
    );
    cancel_parent();
    assert_eq!(b.err(), Some(ContextError::Canceled));
    cancel_a(); // a second call does nothing
    assert_eq!(a.err(), Some(ContextError::Canceled));
}

/// `done` works in `select!` against other channels, from goroutines and plain threads.
#[test]
fn done_in_select() {
    let (ctx, cancel) = context::background().with_cancel();
    let (tx, rx) = chan::bounded::<i32>(0);
    let worker = {
        let ctx = ctx.clone();
        goro::go(move || {
            let mut sum = 0;
            loop {
                goro::select! {
                    recv(rx) -> v => sum += v.unwrap(),
                    recv(ctx.done()) -> _d => return (sum, ctx.err()),
                }
            }
        })
    };
    for i in 1..=10 {
        tx.send(i).unwrap();
    }
    cancel();
    assert_eq!(worker.join().unwrap(), (55, Some(ContextError::Canceled)));

    // From a plain thread: a timeout ends the wait.
    let (ctx, _cancel) = context::background().with_timeout(Duration::from_millis(5));
    let (_tx, never) = chan::bounded::<()>(0);
    let got = goro::select! {
        recv(never) -> _v => "value",
        recv(ctx.done()) -> _d => "timeout",
    };
    assert_eq!(got, "timeout");
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
}

/// Deadlines: the reported deadline, the earlier of parent and child, zero and absurd
/// timeouts, and a past deadline.
#[test]
fn deadlines() {
    let bg = context::background();
    let t = Instant::now() + Duration::from_secs(60);
    let (ctx, _c) = bg.with_deadline(t);
    assert_eq!(ctx.deadline(), Some(t));
    let (later, _c2) = ctx.with_deadline(t + Duration::from_secs(60));
    assert_eq!(
        later.deadline(),
        Some(t),
        "a child keeps the earlier deadline"
    );
    let (earlier, _c3) = ctx.with_deadline(t - Duration::from_secs(30));
    assert_eq!(earlier.deadline(), Some(t - Duration::from_secs(30)));
    assert_eq!(ctx.with_value(&NAME, "x").deadline(), Some(t));
    assert_eq!(ctx.without_cancel().deadline(), None);

    let (zero, _c4) = bg.with_timeout(Duration::ZERO);
    assert_eq!(
        zero.err(),
        Some(ContextError::DeadlineExceeded),
        "zero timeout: at once"
    );
    assert!(zero.done().is_closed());
    let (past, _c5) = bg.with_deadline(Instant::now() - Duration::from_secs(1));
    assert_eq!(past.err(), Some(ContextError::DeadlineExceeded));

    let (forever, cancel) = bg.with_timeout(Duration::MAX);
    assert_eq!(
        forever.deadline(),
        None,
        "an unrepresentable deadline is no deadline"
    );
    assert_eq!(forever.err(), None);
    cancel();
    assert_eq!(forever.err(), Some(ContextError::Canceled));

    // A child of a parent with a short timeout ends with the parent, as DeadlineExceeded.
    let (short, _c6) = bg.with_timeout(Duration::from_millis(2));
    let (child, _c7) = short.with_timeout(Duration::from_secs(3600));
    let _ = child.done().recv();
    assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
    assert_eq!(short.err(), Some(ContextError::DeadlineExceeded));
}

static NAME: Key<&str> = Key::new("name");

/// Dropping a `CancelFn` does not cancel; a `CancelGuard` cancels at the end of its scope;
/// the cancel function works from another goroutine.
#[test]
fn cancel_functions_and_guards() {
    let (ctx, cancel) = context::background().with_cancel();
    drop(cancel);
    assert_eq!(ctx.err(), None, "dropping a CancelFn cancelled");

    let (ctx, cancel) = context::background().with_cancel();
    {
        let _guard = cancel.clone().guard();
        assert_eq!(ctx.err(), None);
    }
    assert_eq!(ctx.err(), Some(ContextError::Canceled));

    let (ctx, cancel) = context::background().with_cancel();
    goro::go(move || {
        cancel();
    })
    .join()
    .unwrap();
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
}

/// A done channel handed out stays open when every handle of a context that can no longer
/// be cancelled is dropped (it would never be closed in Go either), and closes as usual
/// otherwise.
#[test]
fn done_receiver_outliving_its_context() {
    let (ctx, cancel) = context::background().with_cancel();
    let done = ctx.done();
    drop(ctx);
    drop(cancel);
    assert!(
        !done.is_closed(),
        "a context nobody can cancel reported done"
    );
    assert!(done.try_recv().is_err());

    let (ctx, cancel) = context::background().with_cancel();
    let done = ctx.done();
    drop(ctx);
    cancel();
    assert!(done.is_closed());

    // Receivers dropped, then asked again: the same live channel.
    let (ctx, cancel) = context::background().with_cancel();
    drop(ctx.done());
    let done = ctx.done();
    assert!(!done.is_closed());
    cancel();
    assert!(done.is_closed());
    assert!(ctx.done().is_closed(), "done() after the end is closed");
}

/// Go's `String()` of contexts, in `Debug`.
#[test]
fn debug_names_the_chain() {
    let (c, _cancel) = context::todo().with_cancel();
    let (d, _cancel2) = c
        .with_value(&NAME, "n")
        .with_timeout(Duration::from_secs(1));
    assert_eq!(
        format!("{:?}", d.without_cancel()),
        "context.TODO.WithCancel.WithValue(name).WithDeadline.WithoutCancel"
    );
}

/// Many goroutines create and cancel children of one parent at once; the registry ends
/// empty, and the parent stays live.
#[test]
fn concurrent_children_of_one_parent() {
    run(|| {
        let (parent, _cancel) = context::background().with_cancel();
        let n = support::scaled(20_000);
        let handles: Vec<_> = (0..8)
            .map(|g| {
                let parent = parent.clone();
                goro::go(move || {
                    for i in 0..n {
                        let (child, cancel) = if (i + g) % 2 == 0 {
                            parent.with_cancel()
                        } else {
                            parent.with_timeout(Duration::from_secs(3600))
                        };
                        let (grandchild, _gc) = child.with_cancel();
                        cancel();
                        assert_eq!(grandchild.err(), Some(ContextError::Canceled));
                        if i % 64 == 0 {
                            goro::yield_now();
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(goro::__private::context_registered(&parent), 0);
        assert_eq!(parent.err(), None);
    });
}
