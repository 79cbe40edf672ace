//! src/sync/mutex_test.go: `TestMutex` (ten goroutines hammering one mutex, 1,000 lock /
//! unlock rounds each) and `TestMutexFairness` (a goroutine that sleeps 100 µs with the lock
//! held and re-takes it at once must not keep another from getting it ten times).
//!
//! Not ported: `TestSemaphore` (Go's runtime semaphore, not a public API; goro's is
//! exercised by every test here), `TestMutexMisuse` (unlocking an unlocked mutex cannot be
//! written with guards), the benchmarks.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan;
use goro::sync::Mutex;

use crate::support::go_main;

/// Go's HammerMutex: `loops` lock/unlock rounds, then a value on `done`. The exclusion is
/// also checked here (Go's test relies on the race detector for that).
fn hammer_mutex(m: &Mutex<u64>, inside: &AtomicUsize, loops: usize, done: chan::Sender<bool>) {
    for _ in 0..loops {
        let mut g = m.lock();
        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
        *g += 1;
        inside.fetch_sub(1, Ordering::SeqCst);
    }
    done.send(true).unwrap();
}

#[test]
fn test_mutex() {
    go_main("TestMutex", || {
        let m = Arc::new(Mutex::new(0));
        let inside = Arc::new(AtomicUsize::new(0));
        let (c_tx, c) = chan::bounded(0);
        for _ in 0..10 {
            let (m, inside, c_tx) = (m.clone(), inside.clone(), c_tx.clone());
            goro::go(move || hammer_mutex(&m, &inside, 1000, c_tx));
        }
        for _ in 0..10 {
            assert!(c.recv().unwrap());
        }
        assert_eq!(*m.lock(), 10_000);
    });
}

#[test]
fn test_mutex_fairness() {
    go_main("TestMutexFairness", || {
        let mu = Arc::new(Mutex::new(()));
        let stop = Arc::new(AtomicBool::new(false));
        let (mu1, stop1) = (mu.clone(), stop.clone());
        let hog = goro::go(move || loop {
            let g = mu1.lock();
            goro::sleep(Duration::from_micros(100));
            drop(g);
            if stop1.load(Ordering::Relaxed) {
                return;
            }
        });
        let (done_tx, done) = chan::bounded(0);
        goro::go(move || {
            for _ in 0..10 {
                goro::sleep(Duration::from_micros(100));
                drop(mu.lock());
            }
            done_tx.send(true).unwrap();
        });
        goro::select! {
            recv(done) -> v => assert_eq!(v, Ok(true)),
            recv(goro::time::after(Duration::from_secs(10))) -> _ => {
                panic!("can't acquire Mutex in 10 seconds")
            }
        }
        // Go's `defer close(stop)`.
        stop.store(true, Ordering::Relaxed);
        hog.join().unwrap();
    });
}
