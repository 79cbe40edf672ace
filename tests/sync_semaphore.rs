//! `goro::sync::Semaphore`: the weight bound under load, strict FIFO service, context
//! cancellation (`acquire_ctx`), requests larger than the semaphore, over-release, and the
//! permits (released on drop, during a panic too; owned; forgotten).
//!
//! Go: `golang.org/x/sync/semaphore.Weighted`. Its own tests are ported in
//! `tests/golang/sync_semaphore_test.rs`.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use goro::context::{self, ContextError};
use goro::sync::{Semaphore, WaitGroup};

mod support;

use support::{payload_str, scaled};

/// Goroutines and threads acquire weights 1..=10 of a semaphore of 10; the weight held
/// never exceeds 10, and everything is given back.
#[test]
fn weight_bound_holds_under_load() {
    let sem = Arc::new(Semaphore::new(10));
    let held = Arc::new(AtomicU64::new(0));
    let loops = scaled(2_000);
    let work = move |sem: &Semaphore, held: &AtomicU64, seed: u64| {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        for i in 0..loops {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let w = x % 10 + 1;
            let permit = sem.acquire(w);
            let now = held.fetch_add(w, Ordering::SeqCst) + w;
            assert!(now <= 10, "{now} units held of 10");
            if i % 4 == 0 {
                goro::yield_now();
            }
            held.fetch_sub(w, Ordering::SeqCst);
            drop(permit);
        }
    };
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let (sem, held) = (sem.clone(), held.clone());
            std::thread::spawn(move || work(&sem, &held, 1000 + t))
        })
        .collect();
    let wg = WaitGroup::new();
    for g in 0..16 {
        let (sem, held) = (sem.clone(), held.clone());
        wg.go(move || work(&sem, &held, g));
    }
    wg.wait();
    for t in threads {
        t.join().unwrap();
    }
    assert!(sem.try_acquire(10).is_some(), "all units were given back");
}

/// Waiters are served in arrival order: a large request at the front holds back smaller
/// ones behind it, even when they would fit.
#[test]
fn fifo_a_large_waiter_blocks_smaller_ones() {
    goro::run(|| {
        let sem = Arc::new(Semaphore::new(10));
        let order = Arc::new(StdMutex::new(Vec::new()));
        let five = sem.acquire(5);
        let (s, o) = (sem.clone(), order.clone());
        let big = goro::go(move || {
            let _all = s.acquire(10);
            o.lock().unwrap().push("big");
        });
        wait_for_waiters(&sem, 1);
        // 5 units are free, but the big request is first in line.
        assert!(sem.try_acquire(1).is_none());
        let (s, o) = (sem.clone(), order.clone());
        let small = goro::go(move || {
            let _one = s.acquire(1);
            o.lock().unwrap().push("small");
        });
        wait_for_waiters(&sem, 2);
        assert!(!big.is_finished() && !small.is_finished());
        drop(five);
        big.join().unwrap();
        small.join().unwrap();
        assert_eq!(*order.lock().unwrap(), ["big", "small"]);
        assert!(sem.try_acquire(10).is_some());
    });
}

/// Parks until `n` acquirers are queued (read from the `Debug` output).
fn wait_for_waiters(sem: &Semaphore, n: usize) {
    let want = format!("waiters: {n} }}");
    while !format!("{sem:?}").ends_with(&want) {
        goro::yield_now();
    }
}

#[test]
fn releasing_more_than_held_panics() {
    let sem = Semaphore::new(5);
    sem.acquire(2).forget();
    let r = panic::catch_unwind(AssertUnwindSafe(|| sem.release(3)));
    let msg = payload_str(&*r.expect_err("over-release must panic"))
        .unwrap()
        .to_owned();
    assert!(
        msg.starts_with("semaphore: released more than held"),
        "unclear message: {msg}"
    );
    assert!(
        msg.contains('3') && msg.contains('2'),
        "names the amounts: {msg}"
    );
    // Nothing was released: the 2 units are still held, and the semaphore still works.
    assert!(sem.try_acquire(4).is_none());
    sem.release(2);
    assert!(sem.try_acquire(5).is_some());
    let fresh = Semaphore::new(1);
    let r = panic::catch_unwind(AssertUnwindSafe(|| fresh.release(1)));
    assert!(r.is_err(), "release without acquire must panic");
}

#[test]
fn acquire_ctx_times_out_and_leaves_nothing_held() {
    let sem = Semaphore::new(2);
    let both = sem.acquire(2);
    let (ctx, _cancel) = context::background().with_timeout(Duration::from_millis(5));
    assert_eq!(
        sem.acquire_ctx(&ctx, 1).unwrap_err(),
        ContextError::DeadlineExceeded
    );
    assert_eq!(
        format!("{sem:?}"),
        "Semaphore { size: 2, held: 2, waiters: 0 }"
    );
    drop(both);
    let again = sem.acquire_ctx(&context::background(), 2).unwrap();
    assert_eq!(again.units(), 2);
}

/// An ended context fails even when the units are free (its end came first).
#[test]
fn acquire_ctx_with_an_ended_context_fails_at_once() {
    let sem = Semaphore::new(3);
    let (ctx, cancel) = context::background().with_cancel();
    cancel();
    assert_eq!(
        sem.acquire_ctx(&ctx, 1).unwrap_err(),
        ContextError::Canceled
    );
    assert!(sem.try_acquire(3).is_some(), "nothing was taken");
}

/// A cancelled waiter at the front of the line leaves it, and the smaller waiters it was
/// holding back are served at once.
#[test]
fn cancelling_the_front_waiter_lets_the_others_in() {
    goro::run(|| {
        let sem = Arc::new(Semaphore::new(10));
        let one = sem.acquire(1);
        let (ctx, cancel) = context::background().with_cancel();
        let s = sem.clone();
        let big = goro::go(move || s.acquire_ctx(&ctx, 10).map(|p| p.units()));
        wait_for_waiters(&sem, 1);
        let wg = WaitGroup::new();
        for _ in 0..5 {
            let s = sem.clone();
            wg.go(move || drop(s.acquire(1)));
        }
        wait_for_waiters(&sem, 6);
        cancel();
        assert_eq!(big.join().unwrap(), Err(ContextError::Canceled));
        wg.wait();
        drop(one);
        assert!(sem.try_acquire(10).is_some());
    });
}

/// A request for more than the whole semaphore never succeeds: with a context it waits for
/// the context; either way it does not queue, so others are served meanwhile.
#[test]
fn requests_larger_than_the_semaphore() {
    goro::run(|| {
        let sem = Arc::new(Semaphore::new(2));
        let (ctx, cancel) = context::background().with_cancel();
        let s = sem.clone();
        let with_ctx = goro::go(move || s.acquire_ctx(&ctx, 3).map(|p| p.units()));
        let s = sem.clone();
        let plain = goro::go(move || s.acquire(3).units()); // parks for good, as in x/sync
        for _ in 0..100 {
            sem.acquire(2).forget();
            sem.release(1);
            sem.release(1);
        }
        assert_eq!(
            format!("{sem:?}"),
            "Semaphore { size: 2, held: 0, waiters: 0 }"
        );
        assert!(!with_ctx.is_finished());
        cancel();
        assert_eq!(with_ctx.join().unwrap(), Err(ContextError::Canceled));
        goro::sleep(Duration::from_millis(5));
        assert!(!plain.is_finished(), "acquire(3) of 2 cannot succeed");
    });
}

/// Many waiters cancelled at once by one context: every one leaves, and the semaphore
/// ends empty and usable.
#[test]
fn mass_cancellation() {
    goro::run(|| {
        let sem = Arc::new(Semaphore::new(1));
        let one = sem.acquire(1);
        let (ctx, cancel) = context::background().with_cancel();
        let handles: Vec<_> = (0..scaled(10_000))
            .map(|_| {
                let (s, ctx) = (sem.clone(), ctx.clone());
                goro::go(move || s.acquire_ctx(&ctx, 1).map(|p| p.units()))
            })
            .collect();
        goro::yield_now();
        cancel();
        // Units released after the cancel may be granted to a waiter that has not seen it
        // yet; that waiter must give them back and fail all the same.
        drop(one);
        for h in handles {
            assert_eq!(h.join().unwrap(), Err(ContextError::Canceled));
        }
        assert_eq!(
            format!("{sem:?}"),
            "Semaphore { size: 1, held: 0, waiters: 0 }"
        );
    });
}

#[test]
fn zero_weight_and_size() {
    let sem = Semaphore::new(0);
    assert_eq!(sem.size(), 0);
    drop(sem.acquire(0));
    assert!(sem.try_acquire(0).is_some());
    assert!(sem.try_acquire(1).is_none());
    sem.release(0);
}

/// A panic between acquiring and the end of the permit's scope gives the units back (the
/// permit is dropped by the unwinding), in a goroutine and on a thread; a waiter queued
/// behind the panicking holder is then served.
#[test]
fn a_panic_while_holding_a_permit_releases_the_units() {
    let _quiet = support::expect_panics();
    let sem = Arc::new(Semaphore::new(3));
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let _permit = sem.acquire(3);
        panic!("expected panic while holding the units");
    }));
    assert!(r.is_err());
    assert_eq!(sem.available(), 3);

    let (held_tx, held) = goro::chan::bounded::<()>(0);
    let s = sem.clone();
    let holder = goro::go(move || {
        let _permit = s.acquire(3);
        held_tx.send(()).unwrap();
        goro::sleep(Duration::from_millis(5));
        panic!("expected panic in a goroutine holding the units");
    });
    held.recv().unwrap();
    let s = sem.clone();
    let waiter = goro::go(move || s.acquire(2).units());
    assert!(holder.join().is_err());
    assert_eq!(waiter.join().unwrap(), 2);
    assert_eq!(sem.available(), 3);
}

/// Owned permits move into goroutines and release there; `forget` keeps the units held
/// until `release`, for both kinds.
#[test]
fn owned_permits_and_forget() {
    let sem = Arc::new(Semaphore::new(2));
    let a = sem.acquire_owned(1);
    let b = sem.try_acquire_owned(1).unwrap();
    assert!(sem.try_acquire_owned(1).is_none());
    assert_eq!(sem.available(), 0);
    goro::go(move || drop(a)).join().unwrap();
    assert_eq!(sem.available(), 1);
    b.forget();
    assert_eq!(sem.available(), 1, "a forgotten permit keeps its units");
    sem.release(1);
    assert_eq!(sem.available(), 2);
    let c = sem.acquire_ctx_owned(&context::background(), 2).unwrap();
    assert!(Arc::ptr_eq(c.semaphore(), &sem));
    drop(c);
    sem.acquire(2).forget();
    assert_eq!(sem.available(), 0);
    sem.release(2);
    assert_eq!(sem.available(), 2);
}

/// A `try_acquire` that fails takes nothing and gives nothing back: the units held by
/// others stay held.
#[test]
fn a_failed_try_acquire_changes_nothing() {
    let sem = Arc::new(Semaphore::new(2));
    let both = sem.acquire(2);
    for _ in 0..3 {
        assert!(sem.try_acquire(1).is_none());
        assert!(sem.try_acquire_owned(1).is_none());
    }
    assert_eq!(sem.available(), 0);
    drop(both);
    assert_eq!(sem.available(), 2);
}
