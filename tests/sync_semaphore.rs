//! `goro::sync::Semaphore`: the weight bound under load, strict FIFO service, context
//! cancellation (`acquire_ctx`), requests larger than the semaphore, and over-release.
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
            sem.acquire(w);
            let now = held.fetch_add(w, Ordering::SeqCst) + w;
            assert!(now <= 10, "{now} units held of 10");
            if i % 4 == 0 {
                goro::yield_now();
            }
            held.fetch_sub(w, Ordering::SeqCst);
            sem.release(w);
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
    assert!(sem.try_acquire(10), "all units were given back");
}

/// Waiters are served in arrival order: a large request at the front holds back smaller
/// ones behind it, even when they would fit.
#[test]
fn fifo_a_large_waiter_blocks_smaller_ones() {
    goro::run(|| {
        let sem = Arc::new(Semaphore::new(10));
        let order = Arc::new(StdMutex::new(Vec::new()));
        sem.acquire(5);
        let (s, o) = (sem.clone(), order.clone());
        let big = goro::go(move || {
            s.acquire(10);
            o.lock().unwrap().push("big");
            s.release(10);
        });
        wait_for_waiters(&sem, 1);
        // 5 units are free, but the big request is first in line.
        assert!(!sem.try_acquire(1));
        let (s, o) = (sem.clone(), order.clone());
        let small = goro::go(move || {
            s.acquire(1);
            o.lock().unwrap().push("small");
            s.release(1);
        });
        wait_for_waiters(&sem, 2);
        assert!(!big.is_finished() && !small.is_finished());
        sem.release(5);
        big.join().unwrap();
        small.join().unwrap();
        assert_eq!(*order.lock().unwrap(), ["big", "small"]);
        assert!(sem.try_acquire(10));
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
    sem.acquire(2);
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
    assert!(!sem.try_acquire(4));
    sem.release(2);
    assert!(sem.try_acquire(5));
    let fresh = Semaphore::new(1);
    let r = panic::catch_unwind(AssertUnwindSafe(|| fresh.release(1)));
    assert!(r.is_err(), "release without acquire must panic");
}

#[test]
fn acquire_ctx_times_out_and_leaves_nothing_held() {
    let sem = Semaphore::new(2);
    sem.acquire(2);
    let (ctx, _cancel) = context::background().with_timeout(Duration::from_millis(5));
    assert_eq!(
        sem.acquire_ctx(&ctx, 1),
        Err(ContextError::DeadlineExceeded)
    );
    assert_eq!(
        format!("{sem:?}"),
        "Semaphore { size: 2, held: 2, waiters: 0 }"
    );
    sem.release(2);
    assert_eq!(sem.acquire_ctx(&context::background(), 2), Ok(()));
}

/// An ended context fails even when the units are free (its end came first).
#[test]
fn acquire_ctx_with_an_ended_context_fails_at_once() {
    let sem = Semaphore::new(3);
    let (ctx, cancel) = context::background().with_cancel();
    cancel();
    assert_eq!(sem.acquire_ctx(&ctx, 1), Err(ContextError::Canceled));
    assert!(sem.try_acquire(3), "nothing was taken");
}

/// A cancelled waiter at the front of the line leaves it, and the smaller waiters it was
/// holding back are served at once.
#[test]
fn cancelling_the_front_waiter_lets_the_others_in() {
    goro::run(|| {
        let sem = Arc::new(Semaphore::new(10));
        sem.acquire(1);
        let (ctx, cancel) = context::background().with_cancel();
        let s = sem.clone();
        let big = goro::go(move || s.acquire_ctx(&ctx, 10));
        wait_for_waiters(&sem, 1);
        let wg = WaitGroup::new();
        for _ in 0..5 {
            let s = sem.clone();
            wg.go(move || {
                s.acquire(1);
                s.release(1);
            });
        }
        wait_for_waiters(&sem, 6);
        cancel();
        assert_eq!(big.join().unwrap(), Err(ContextError::Canceled));
        wg.wait();
        sem.release(1);
        assert!(sem.try_acquire(10));
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
        let with_ctx = goro::go(move || s.acquire_ctx(&ctx, 3));
        let s = sem.clone();
        let plain = goro::go(move || s.acquire(3)); // parks for good, as in x/sync
        for _ in 0..100 {
            sem.acquire(2);
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
        sem.acquire(1);
        let (ctx, cancel) = context::background().with_cancel();
        let handles: Vec<_> = (0..scaled(10_000))
            .map(|_| {
                let (s, ctx) = (sem.clone(), ctx.clone());
                goro::go(move || s.acquire_ctx(&ctx, 1))
            })
            .collect();
        goro::yield_now();
        cancel();
        // Units released after the cancel may be granted to a waiter that has not seen it
        // yet; that waiter must give them back and fail all the same.
        sem.release(1);
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
    sem.acquire(0);
    assert!(sem.try_acquire(0));
    assert!(!sem.try_acquire(1));
    sem.release(0);
}
