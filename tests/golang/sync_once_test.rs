//! src/sync/once_test.go: `TestOnce` (ten goroutines call `Do` with an increment; it runs
//! once, and every caller sees 1 when `Do` returns) and `TestOncePanic` (a panicking
//! function still counts as run). Not ported: the benchmark.
//!
//! src/sync/oncefunc_test.go (`OnceFunc`, `OnceValue`, `OnceValues`): the run-once part is
//! `OnceLock::get_or_init`, checked here as TestOnceValue does (concurrent callers, one
//! call, the same value). Go's re-panic of the first panic on every later call is not
//! ported: a Rust panic payload cannot be cloned, so `OnceLock` lets the next caller
//! initialise instead (`tests/sync_once.rs`).

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use goro::chan;
use goro::sync::{Once, OnceLock};

use crate::support::go_main;

/// Go's `run`: `once.Do(o.Increment)`, then `o` must be 1.
fn run(once: &Once, o: &AtomicU32, c: chan::Sender<bool>) {
    once.call_once(|| {
        o.fetch_add(1, Ordering::Relaxed);
    });
    let v = o.load(Ordering::Relaxed);
    assert_eq!(v, 1, "once failed inside run: {v} is not 1");
    c.send(true).unwrap();
}

#[test]
fn test_once() {
    go_main("TestOnce", || {
        let o = Arc::new(AtomicU32::new(0));
        let once = Arc::new(Once::new());
        let (c_tx, c) = chan::bounded(0);
        const N: usize = 10;
        for _ in 0..N {
            let (once, o, c_tx) = (once.clone(), o.clone(), c_tx.clone());
            goro::go(move || run(&once, &o, c_tx));
        }
        for _ in 0..N {
            c.recv().unwrap();
        }
        let v = o.load(Ordering::Relaxed);
        assert_eq!(v, 1, "once failed outside run: {v} is not 1");
    });
}

#[test]
fn test_once_panic() {
    let _quiet = crate::support::expect_panics();
    go_main("TestOncePanic", || {
        let once = Once::new();
        for i in 0..2 {
            let r = panic::catch_unwind(AssertUnwindSafe(|| {
                once.call_once(|| panic!("failed"));
            }));
            if i == 0 {
                assert!(r.is_err(), "Once.Do() has not panic'ed on first iteration");
            } else {
                assert!(r.is_ok(), "Once.Do() has panic'ed on second iteration");
            }
        }
        once.call_once(|| {});
        once.call_once(|| panic!("Once called twice"));
    });
}

#[test]
fn test_once_value() {
    go_main("TestOnceValue", || {
        let calls = Arc::new(AtomicU32::new(0));
        let cell = Arc::new(OnceLock::new());
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let (calls, cell) = (calls.clone(), cell.clone());
                goro::go(move || {
                    *cell.get_or_init(|| {
                        calls.fetch_add(1, Ordering::Relaxed);
                        goro::yield_now();
                        42
                    })
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 42);
        }
        assert_eq!(calls.load(Ordering::Relaxed), 1, "want calls==1");
    });
}
