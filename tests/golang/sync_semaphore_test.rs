//! golang.org/x/sync semaphore/semaphore_test.go: `TestWeighted`, `TestWeightedPanic`,
//! `TestWeightedTryAcquire`, `TestWeightedAcquire`, `TestWeightedDoesntBlockIfTooBig`,
//! `TestLargeAcquireDoesntStarve` and `TestAllocCancelDoesntStarve`.
//!
//! Go's `Acquire(ctx, n)` is `acquire_ctx(&ctx, n)`, and `acquire(n)` with
//! `context.Background()`. Go's `runtime.GOMAXPROCS(0)` is `goro::maxprocs()`. The errgroup
//! of TestWeightedDoesntBlockIfTooBig is a `WaitGroup` collecting the first error. Go's
//! `t.FailNow` inside goroutines becomes a failed assertion. Not ported: the benchmarks and
//! the example.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use goro::chan;
use goro::context::{self, ContextError};
use goro::sync::{Semaphore, WaitGroup};

use crate::support::go_main;

const MAX_SLEEP: Duration = Duration::from_millis(1);

/// Go's HammerWeighted: acquire `n`, sleep a random time under 1 ms, release.
fn hammer_weighted(sem: &Semaphore, n: u64, loops: usize, seed: u64) {
    let mut x = seed | 1;
    for _ in 0..loops {
        let permit = sem.acquire(n);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        goro::sleep(Duration::from_nanos(x % MAX_SLEEP.as_nanos() as u64));
        drop(permit); // Go: sem.Release(n)
    }
}

#[test]
fn test_weighted() {
    go_main("TestWeighted", || {
        let n = goro::maxprocs();
        let loops = 10_000 / n;
        let sem = Arc::new(Semaphore::new(n as u64));
        let wg = WaitGroup::new();
        for i in 0..n {
            let sem = sem.clone();
            wg.go(move || hammer_weighted(&sem, i as u64, loops, 0x9e37_79b9 + i as u64));
        }
        wg.wait();
    });
}

#[test]
fn test_weighted_panic() {
    let _quiet = crate::support::expect_panics();
    go_main("TestWeightedPanic", || {
        let w = Semaphore::new(1);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.release(1)));
        assert!(
            r.is_err(),
            "release of an unacquired weighted semaphore did not panic"
        );
    });
}

#[test]
fn test_weighted_try_acquire() {
    go_main("TestWeightedTryAcquire", || {
        let sem = Semaphore::new(2);
        // Go's Acquire and Release in different places: permits forgotten, units released
        // by hand.
        let mut tries = Vec::new();
        sem.acquire(1).forget();
        tries.push(sem.try_acquire(1).map(|p| p.forget()).is_some());
        tries.push(sem.try_acquire(1).map(|p| p.forget()).is_some());
        sem.release(2);
        tries.push(sem.try_acquire(1).map(|p| p.forget()).is_some());
        sem.acquire(1).forget();
        tries.push(sem.try_acquire(1).map(|p| p.forget()).is_some());
        assert_eq!(tries, [true, false, true, false]);
    });
}

#[test]
fn test_weighted_acquire() {
    go_main("TestWeightedAcquire", || {
        let sem = Semaphore::new(2);
        let try_acquire = |n: u64| {
            let (ctx, cancel) = context::background().with_timeout(Duration::from_millis(10));
            let _guard = cancel.guard();
            sem.acquire_ctx(&ctx, n).map(|p| p.forget()).is_ok()
        };
        let mut tries = Vec::new();
        sem.acquire(1).forget();
        tries.push(try_acquire(1));
        tries.push(try_acquire(1));
        sem.release(2);
        tries.push(try_acquire(1));
        sem.acquire(1).forget();
        tries.push(try_acquire(1));
        assert_eq!(tries, [true, false, true, false]);
    });
}

#[test]
fn test_weighted_doesnt_block_if_too_big() {
    go_main("TestWeightedDoesntBlockIfTooBig", || {
        const N: u64 = 2;
        let sem = Arc::new(Semaphore::new(N));
        let (ctx, cancel) = context::background().with_cancel();
        let _guard = cancel.guard();
        {
            let sem = sem.clone();
            goro::go(move || sem.acquire_ctx(&ctx, N + 1).map(|p| p.forget()));
        }
        let first_err: Arc<StdMutex<Option<ContextError>>> = Arc::default();
        let wg = WaitGroup::new();
        for _ in 0..N * 3 {
            let (sem, first_err) = (sem.clone(), first_err.clone());
            wg.go(move || match sem.acquire_ctx(&context::background(), 1) {
                Ok(_permit) => {
                    goro::sleep(Duration::from_millis(1));
                }
                Err(e) => {
                    first_err.lock().unwrap().get_or_insert(e);
                }
            });
        }
        wg.wait();
        assert!(
            first_err.lock().unwrap().is_none(),
            "Semaphore::new({N}) failed to acquire_ctx(_, 1) with acquire_ctx(_, {}) pending",
            N + 1
        );
    });
}

/// Merely finishing is success: a large `acquire` must not starve behind goroutines that
/// keep releasing and re-acquiring one unit each.
#[test]
fn test_large_acquire_doesnt_starve() {
    go_main("TestLargeAcquireDoesntStarve", || {
        let n = goro::maxprocs() as u64;
        let sem = Arc::new(Semaphore::new(n));
        let running = Arc::new(AtomicBool::new(true));
        let wg = WaitGroup::new();
        for _ in 0..n {
            let mut permit = sem.acquire_owned(1);
            let (sem, running) = (sem.clone(), running.clone());
            wg.go(move || {
                while running.load(Ordering::Relaxed) {
                    goro::sleep(Duration::from_millis(1));
                    drop(permit);
                    permit = sem.acquire_owned(1);
                }
                drop(permit);
            });
        }
        let all = sem.acquire(n);
        running.store(false, Ordering::Relaxed);
        drop(all);
        wg.wait();
    });
}

#[test]
fn test_alloc_cancel_doesnt_starve() {
    go_main("TestAllocCancelDoesntStarve", || {
        let sem = Arc::new(Semaphore::new(10));
        // Hold 1 "read lock".
        let _read = sem.acquire(1);
        let big = {
            let sem = sem.clone();
            goro::go(move || {
                // A "write lock" request that gives up after 300 ms.
                let (ctx, cancel) = context::background().with_timeout(Duration::from_millis(300));
                let _guard = cancel.guard();
                sem.acquire_ctx(&ctx, 10).map(|p| p.forget())
            })
        };
        // Go sleeps 100 ms so that the request above is queued; the test holds whether or
        // not it is.
        goro::sleep(Duration::from_millis(100));
        let (done_tx, done) = chan::bounded::<()>(0);
        {
            let sem = sem.clone();
            goro::go(move || {
                // Queued behind the write request, but served when it is cancelled.
                drop(sem.acquire_ctx(&context::background(), 1).unwrap());
                drop(done_tx);
            });
        }
        goro::select! {
            recv(done) -> v => assert!(v.is_err()),
            recv(goro::time::after(Duration::from_secs(10))) -> _ => {
                panic!("a read lock queued behind a cancelled write lock was never granted")
            }
        }
        // One unit stays held throughout: the write request cannot have succeeded.
        assert_eq!(big.join().unwrap(), Err(ContextError::DeadlineExceeded));
    });
}
