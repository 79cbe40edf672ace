//! `goro::sync::Mutex`: exclusion at scale, parking instead of blocking the worker, guards
//! across parks and between goroutines, no poisoning, and the starvation (handoff) mode.
//!
//! Go: `sync.Mutex`. Go's own tests are ported in `tests/golang/sync_mutex_test.rs`.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::chan;
use goro::sync::{Mutex, WaitGroup};

mod support;

use support::{child, payload_str, scaled};

/// A liveness bound: a run that takes this long has deadlocked or starved a waiter. Never a
/// timing assertion.
const LIVENESS: Duration = Duration::from_secs(30);

/// Data guarded by a mutex, with a tripwire: `inside` counts holders, which must never be
/// more than one.
struct Guarded {
    count: Mutex<u64>,
    inside: AtomicUsize,
}

impl Guarded {
    fn new() -> Guarded {
        Guarded {
            count: Mutex::new(0),
            inside: AtomicUsize::new(0),
        }
    }

    /// One increment under the lock; with `park`, the lock is held across a `yield_now`,
    /// so that lockers arriving meanwhile find it held and park.
    fn increment(&self, park: bool) {
        let mut g = self.count.lock();
        assert_eq!(self.inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
        let v = *g;
        if park {
            goro::yield_now();
        }
        *g = v + 1;
        self.inside.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn exclusion_under_100000_goroutines() {
    let n = scaled(100_000);
    let data = Arc::new(Guarded::new());
    let wg = WaitGroup::new();
    for i in 0..n {
        let data = data.clone();
        // Every 16th goroutine holds the lock across a park, so many lockers queue.
        wg.go(move || data.increment(i % 16 == 0));
    }
    wg.wait();
    assert_eq!(*data.count.lock(), n as u64);
    assert!(!data.count.is_locked());
}

#[test]
fn exclusion_between_threads_and_goroutines() {
    let data = Arc::new(Guarded::new());
    let per = scaled(20_000);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let data = data.clone();
            std::thread::spawn(move || {
                for _ in 0..per {
                    data.increment(false);
                }
            })
        })
        .collect();
    let wg = WaitGroup::new();
    for _ in 0..8 {
        let data = data.clone();
        wg.go(move || {
            for i in 0..per {
                data.increment(i % 64 == 0);
            }
        });
    }
    wg.wait();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*data.count.lock(), 10 * per as u64);
}

/// With one worker, a goroutine waiting for a lock must park, not hold the worker: the
/// holder sleeps with the lock held, another goroutine blocks on it, and meanwhile a third
/// goroutine runs, and the holder wakes from its sleep. If the waiter held the worker, none
/// of that could run and the watchdog would fail the child.
#[test]
fn waiting_goroutine_does_not_block_its_worker() {
    const TEST: &str = "waiting_goroutine_does_not_block_its_worker";
    if child::is_child(TEST) {
        assert_eq!(goro::maxprocs(), 1);
        let watchdog = child::watchdog(TEST, LIVENESS);
        goro::run(|| {
            let m = Arc::new(Mutex::new(Vec::new()));
            let held = m.lock();
            let (started_tx, started_rx) = chan::bounded(0);
            let m2 = m.clone();
            let waiter = goro::go(move || {
                started_tx.send(()).unwrap();
                m2.lock().push("waiter");
            });
            started_rx.recv().unwrap();
            // The waiter runs now, on the only worker, and parks on the lock; the holder
            // sleeps with the lock held. Both need the worker back.
            goro::sleep(Duration::from_millis(20));
            assert!(!waiter.is_finished(), "took a held lock");
            // Other goroutines still run while the waiter waits.
            let other = goro::go(|| (1..=10).sum::<u32>());
            assert_eq!(other.join().unwrap(), 55);
            assert!(!waiter.is_finished(), "took a held lock");
            let mut held = held;
            held.push("holder");
            drop(held);
            waiter.join().unwrap();
            assert_eq!(*m.lock(), ["holder", "waiter"]);
        });
        drop(watchdog);
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

/// Go's mutex is not owned by a goroutine: a guard can be handed over a channel and
/// dropped by another goroutine, and held across parks on the way.
#[test]
fn guard_handed_to_another_goroutine() {
    static M: Mutex<u32> = Mutex::new(0);
    goro::run(|| {
        let (tx, rx) = chan::bounded(0);
        let locker = goro::go(move || {
            let mut g = M.lock();
            *g += 1;
            goro::sleep(Duration::from_millis(1)); // across a park
            tx.send(g).unwrap();
        });
        let mut g = rx.recv().unwrap();
        locker.join().unwrap();
        assert!(
            M.try_lock().is_none(),
            "still held by the handed-over guard"
        );
        *g += 1;
        drop(g);
        assert_eq!(*M.lock(), 2);
    });
}

#[test]
fn no_poisoning_a_panic_unlocks() {
    let _quiet = support::expect_panics();
    let m = Arc::new(Mutex::new(1));
    let m2 = m.clone();
    let h = goro::go(move || {
        let mut g = m2.lock();
        *g = 2;
        panic!("boom while locked");
    });
    let err = h.join().expect_err("the goroutine panicked");
    assert_eq!(err.panic_message(), Some("boom while locked"));
    assert!(!m.is_locked());
    assert_eq!(*m.lock(), 2, "the change made before the panic stays");
    // Also on a thread, without goroutines.
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let _g = m.lock();
        panic!("again");
    }));
    assert_eq!(payload_str(&*r.unwrap_err()), Some("again"));
    assert_eq!(*m.try_lock().expect("unlocked by the unwind"), 2);
}

#[test]
fn try_lock_and_accessors() {
    let mut m = Mutex::new(String::from("a"));
    {
        let g = m.lock();
        assert!(m.is_locked());
        assert!(m.try_lock().is_none());
        assert_eq!(format!("{m:?}"), "Mutex { data: <locked>, .. }");
        assert_eq!(format!("{g} {g:?}"), "a \"a\"");
    }
    assert_eq!(format!("{m:?}"), "Mutex { data: \"a\", .. }");
    m.get_mut().push('b');
    m.try_lock().unwrap().push('c');
    assert_eq!(m.into_inner(), "abc");
    let d: Mutex<Vec<u8>> = Mutex::default();
    assert!(d.lock().is_empty());
    let f = Mutex::from(5);
    assert_eq!(*f.lock(), 5);
    // Unsized data.
    let s: &Mutex<[u8]> = &Mutex::new([1u8, 2, 3]);
    s.lock()[0] = 9;
    assert_eq!(&*s.lock(), &[9, 2, 3]);
}

/// The starvation mode: a hog re-takes the lock the moment it lets go, all the time. In
/// normal mode a waiter woken by the unlock would lose every race; after 1 ms of waiting
/// it switches the lock to handoff mode and gets it at the next unlock. Run with threads,
/// where the hog never parks, and with goroutines.
#[test]
fn a_waiter_is_not_starved_by_a_hog_thread() {
    let m = Arc::new(Mutex::new(0u64));
    let stop = Arc::new(AtomicBool::new(false));
    let (m2, stop2) = (m.clone(), stop.clone());
    let hog = std::thread::spawn(move || {
        while !stop2.load(Ordering::Relaxed) {
            let mut g = m2.lock();
            let until = Instant::now() + Duration::from_micros(50);
            while Instant::now() < until {
                std::hint::spin_loop();
            }
            *g += 1;
        }
    });
    let start = Instant::now();
    for _ in 0..20 {
        *m.lock() += 1;
        assert!(start.elapsed() < LIVENESS, "a waiter was starved by a hog");
    }
    stop.store(true, Ordering::Relaxed);
    hog.join().unwrap();
}

#[goro::test]
fn a_waiting_goroutine_is_not_starved() {
    let m = Arc::new(Mutex::new(()));
    let stop = Arc::new(AtomicBool::new(false));
    let (m2, stop2) = (m.clone(), stop.clone());
    // The hog holds the lock across a park and re-takes it at once after unlocking.
    let hog = goro::go(move || {
        while !stop2.load(Ordering::Relaxed) {
            let _g = m2.lock();
            goro::sleep(Duration::from_micros(100));
        }
    });
    let (done_tx, done_rx) = chan::bounded(1);
    goro::go(move || {
        for _ in 0..10 {
            goro::sleep(Duration::from_micros(100));
            drop(m.lock());
        }
        done_tx.send(()).unwrap();
    });
    goro::select! {
        recv(done_rx) -> _ => {}
        recv(goro::time::after(LIVENESS)) -> _ => panic!("can't acquire the mutex in {LIVENESS:?}"),
    }
    stop.store(true, Ordering::Relaxed);
    hog.join().unwrap();
}

/// The starvation mode, deterministically: with one worker, a hog that unlocks and
/// re-locks without parking in between always wins against the waiter it has just woken,
/// which can only run once the hog parks again (holding the lock). Only the handoff of
/// starvation mode gets the waiter in: after it has waited 1 ms, it marks the lock
/// starving, and the hog's next unlock hands the lock over.
#[test]
fn starvation_mode_with_one_worker() {
    const TEST: &str = "starvation_mode_with_one_worker";
    if child::is_child(TEST) {
        let watchdog = child::watchdog(TEST, LIVENESS);
        goro::run(|| {
            let m = Arc::new(Mutex::new(0u32));
            let stop = Arc::new(AtomicBool::new(false));
            let (m2, stop2) = (m.clone(), stop.clone());
            let hog = goro::go(move || {
                while !stop2.load(Ordering::Relaxed) {
                    let mut g = m2.lock();
                    *g += 1;
                    goro::sleep(Duration::from_micros(100));
                }
            });
            goro::sleep(Duration::from_millis(1)); // the hog is in its loop
            for _ in 0..10 {
                let before = *m.lock();
                assert!(before > 0);
            }
            stop.store(true, Ordering::Relaxed);
            hog.join().unwrap();
        });
        drop(watchdog);
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

/// Many goroutines queue on a lock held across a sleep; each gets it exactly once, and the
/// lock ends free with nobody counted as waiting.
#[goro::test]
fn queue_of_parked_goroutines_drains() {
    let m = Arc::new(Mutex::new(Vec::new()));
    let n = scaled(10_000);
    let g = m.lock();
    let wg = WaitGroup::new();
    for i in 0..n {
        let m = m.clone();
        wg.go(move || m.lock().push(i));
    }
    goro::sleep(Duration::from_millis(10));
    drop(g);
    wg.wait();
    let mut v = std::mem::take(&mut *m.lock());
    v.sort_unstable();
    assert_eq!(v, (0..n).collect::<Vec<_>>());
    assert!(!m.is_locked());
}

/// The auto traits a user relies on: locks shared between goroutines (`Sync`), guards
/// handed over (`Send`), as in the docs.
#[test]
fn send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Mutex<Vec<u8>>>();
    // `Cell` is `Send` but not `Sync`: a mutex makes it shareable, like std's.
    send_sync::<Mutex<std::cell::Cell<u8>>>();
    send::<goro::sync::MutexGuard<'static, Vec<u8>>>();
    send_sync::<goro::sync::RwLock<Vec<u8>>>();
    send::<goro::sync::RwLockReadGuard<'static, Vec<u8>>>();
    send::<goro::sync::RwLockWriteGuard<'static, Vec<u8>>>();
    send_sync::<goro::sync::Once>();
    send_sync::<goro::sync::OnceLock<String>>();
    send_sync::<goro::sync::Cond>();
    send_sync::<goro::sync::Semaphore>();
}
