//! `goro::sync::Once` and `OnceLock`: exactly one run under racing goroutines and threads,
//! callers parked (not spinning) while it runs, and what a panic in the function does.
//!
//! Go: `sync.Once`, `sync.OnceValue`. Go's own tests are in `tests/golang/sync_once_test.rs`.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan;
use goro::sync::{Once, OnceLock, WaitGroup};

mod support;

use support::{child, payload_str};

/// 1,000 goroutines and 4 threads race to run one function, which sleeps while the others
/// wait; it runs once, and every caller sees its write when `call_once` returns.
#[test]
fn once_racing_goroutines_and_threads() {
    struct Shared {
        once: Once,
        runs: AtomicUsize,
        value: AtomicUsize,
    }
    let shared = Arc::new(Shared {
        once: Once::new(),
        runs: AtomicUsize::new(0),
        value: AtomicUsize::new(0),
    });
    let call = |s: &Shared| {
        s.once.call_once(|| {
            s.runs.fetch_add(1, Ordering::Relaxed);
            goro::sleep(Duration::from_millis(20));
            s.value.store(42, Ordering::Relaxed);
        });
        // Relaxed on purpose: `call_once` must order the write before its return.
        assert_eq!(s.value.load(Ordering::Relaxed), 42);
        assert!(s.once.is_completed());
    };
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = shared.clone();
            std::thread::spawn(move || call(&s))
        })
        .collect();
    let wg = WaitGroup::new();
    for _ in 0..1000 {
        let s = shared.clone();
        wg.go(move || call(&s));
    }
    wg.wait();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(shared.runs.load(Ordering::Relaxed), 1);
}

/// With one worker, goroutines that arrive while the function runs must park: the
/// function itself parks (on a channel fed by another goroutine) and has to be resumed on
/// that same worker.
#[test]
fn once_waiters_park_with_one_worker() {
    const TEST: &str = "once_waiters_park_with_one_worker";
    if child::is_child(TEST) {
        let watchdog = child::watchdog(TEST, Duration::from_secs(30));
        goro::run(|| {
            let once = Arc::new(Once::new());
            let (tx, rx) = chan::bounded::<u32>(0);
            let (entered_tx, entered) = chan::bounded(0);
            let o = once.clone();
            let runner = goro::go(move || {
                o.call_once(|| {
                    entered_tx.send(()).unwrap();
                    assert_eq!(rx.recv().unwrap(), 1);
                });
            });
            entered.recv().unwrap(); // the runner is inside the function
            let wg = WaitGroup::new();
            for _ in 0..100 {
                let o = once.clone();
                wg.go(move || o.call_once(|| panic!("ran twice")));
            }
            goro::go(move || tx.send(1).unwrap());
            wg.wait();
            runner.join().unwrap();
            assert!(once.is_completed());
        });
        drop(watchdog);
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

/// Go's behaviour: a panic in the function reaches its caller, and the `Once` is done
/// anyway; waiters that were parked meanwhile return without running theirs.
#[test]
fn once_panic_counts_as_done() {
    let _quiet = support::expect_panics();
    goro::run(|| {
        let once = Arc::new(Once::new());
        let (tx, rx) = chan::bounded::<()>(0);
        let (entered_tx, entered) = chan::bounded(0);
        let o = once.clone();
        let runner = goro::go(move || {
            o.call_once(|| {
                entered_tx.send(()).unwrap();
                rx.recv().unwrap();
                panic!("init failed");
            })
        });
        entered.recv().unwrap(); // the runner is inside the function
        let wg = WaitGroup::new();
        let others_ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let (o, others_ran) = (once.clone(), others_ran.clone());
            wg.go(move || {
                o.call_once(|| {
                    others_ran.fetch_add(1, Ordering::Relaxed);
                })
            });
        }
        goro::yield_now();
        tx.send(()).unwrap();
        let err = runner.join().expect_err("the panic reaches the caller");
        assert_eq!(err.panic_message(), Some("init failed"));
        wg.wait();
        assert_eq!(others_ran.load(Ordering::Relaxed), 0);
        assert!(once.is_completed());
        once.call_once(|| panic!("must not run"));
    });
}

#[test]
fn once_static_and_debug() {
    static O: Once = Once::new();
    assert_eq!(format!("{O:?}"), "Once { completed: false }");
    let mut n = 0;
    O.call_once(|| n += 1);
    O.call_once(|| n += 1);
    assert_eq!(n, 1);
    assert_eq!(format!("{O:?}"), "Once { completed: true }");
    let d = Once::default();
    assert!(!d.is_completed());
}

/// 1,000 goroutines and threads call `get_or_init` at once: one initialiser runs, every
/// caller gets the same value (the same address).
#[test]
fn once_lock_racing_initialisers() {
    let cell: Arc<OnceLock<Box<u64>>> = Arc::new(OnceLock::new());
    let inits = Arc::new(AtomicUsize::new(0));
    let init = {
        let inits = inits.clone();
        move |cell: &OnceLock<Box<u64>>| -> usize {
            let v = cell.get_or_init(|| {
                inits.fetch_add(1, Ordering::Relaxed);
                goro::sleep(Duration::from_millis(10));
                Box::new(99)
            });
            assert_eq!(**v, 99);
            &**v as *const u64 as usize
        }
    };
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (cell, init) = (cell.clone(), init.clone());
            std::thread::spawn(move || init(&cell))
        })
        .collect();
    let handles: Vec<_> = (0..1000)
        .map(|_| {
            let (cell, init) = (cell.clone(), init.clone());
            goro::go(move || init(&cell))
        })
        .collect();
    let mut addrs: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    addrs.extend(threads.into_iter().map(|t| t.join().unwrap()));
    addrs.dedup();
    assert_eq!(addrs.len(), 1, "callers saw different values");
    assert_eq!(inits.load(Ordering::Relaxed), 1);
}

/// A panicking initialiser leaves the cell empty, and a caller that was waiting for it
/// then runs its own initialiser.
#[test]
fn once_lock_panic_lets_the_next_caller_initialise() {
    let _quiet = support::expect_panics();
    goro::run(|| {
        let cell = Arc::new(OnceLock::new());
        let (tx, rx) = chan::bounded::<()>(0);
        let (entered_tx, entered) = chan::bounded(0);
        let c = cell.clone();
        let first = goro::go(move || {
            c.get_or_init(|| {
                entered_tx.send(()).unwrap();
                rx.recv().unwrap();
                panic!("first initialiser fails");
            });
        });
        entered.recv().unwrap(); // the first initialiser runs
        let c = cell.clone();
        let second = goro::go(move || *c.get_or_init(|| "second"));
        tx.send(()).unwrap();
        assert!(first.join().is_err());
        assert_eq!(second.join().unwrap(), "second");
        assert_eq!(cell.get(), Some(&"second"));
    });
}

#[test]
fn once_lock_api() {
    let mut cell = OnceLock::new();
    assert_eq!(cell.get(), None);
    assert_eq!(format!("{cell:?}"), "OnceLock(<uninit>)");
    assert_eq!(cell.set(String::from("a")), Ok(()));
    assert_eq!(cell.set(String::from("b")), Err(String::from("b")));
    assert_eq!(format!("{cell:?}"), "OnceLock(\"a\")");
    cell.get_mut().unwrap().push('!');
    let copy = cell.clone();
    assert_eq!(cell.take().as_deref(), Some("a!"));
    assert_eq!(cell.take(), None);
    assert_eq!(copy.into_inner().as_deref(), Some("a!"));
    assert_eq!(OnceLock::from(3).into_inner(), Some(3));
    assert_eq!(OnceLock::<u8>::default().into_inner(), None);

    // Values are dropped exactly once: with the cell, or by whoever took them.
    let token = Arc::new(());
    {
        let c = OnceLock::new();
        c.set(token.clone()).unwrap();
        let _ = c.set(token.clone()); // handed back and dropped here
        assert_eq!(Arc::strong_count(&token), 2);
    }
    assert_eq!(Arc::strong_count(&token), 1);

    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        OnceLock::<u8>::new().get_or_init(|| panic!("no value"));
    }));
    assert_eq!(payload_str(&*r.unwrap_err()), Some("no value"));
}
