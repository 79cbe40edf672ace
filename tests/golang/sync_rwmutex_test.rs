//! src/sync/rwmutex_test.go: `TestParallelReaders` (every reader holds the read lock at the
//! same time), `TestRWMutex` (Go's HammerRWMutex: two writers and 1, 3, 10 or 5 readers,
//! 1,000 rounds each, with an activity counter that a writer must find alone) and
//! `TestRLocker` (read locks taken by one goroutine and released by another; a writer waits
//! for both, and readers wait for the writer).
//!
//! Go sets `GOMAXPROCS` (1, 2, 4, 10) per case; goro's worker count is fixed when the
//! runtime starts, so each case runs with the default (all cores). Not ported: the
//! benchmarks.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use goro::chan::{self, Receiver, Sender};
use goro::sync::{RwLock, RwLockReadGuard};

use crate::support::go_main;

/// Go's parallelReader: read-lock, report, wait to be told, unlock, report.
fn parallel_reader(
    m: &RwLock<()>,
    clocked: Sender<bool>,
    cunlock: Receiver<bool>,
    cdone: Sender<bool>,
) {
    let g = m.read();
    clocked.send(true).unwrap();
    cunlock.recv().unwrap();
    drop(g);
    cdone.send(true).unwrap();
}

fn do_test_parallel_readers(num_readers: usize) {
    let m = Arc::new(RwLock::new(()));
    let (clocked_tx, clocked) = chan::bounded(0);
    let (cunlock, cunlock_rx) = chan::bounded(0);
    let (cdone_tx, cdone) = chan::bounded(0);
    for _ in 0..num_readers {
        let (m, clocked_tx, cunlock_rx, cdone_tx) = (
            m.clone(),
            clocked_tx.clone(),
            cunlock_rx.clone(),
            cdone_tx.clone(),
        );
        goro::go(move || parallel_reader(&m, clocked_tx, cunlock_rx, cdone_tx));
    }
    // Wait for all the read locks to succeed: they are all held now.
    for _ in 0..num_readers {
        clocked.recv().unwrap();
    }
    for _ in 0..num_readers {
        cunlock.send(true).unwrap();
    }
    for _ in 0..num_readers {
        cdone.recv().unwrap();
    }
}

#[test]
fn test_parallel_readers() {
    go_main("TestParallelReaders", || {
        do_test_parallel_readers(1);
        do_test_parallel_readers(3);
        do_test_parallel_readers(4);
    });
}

/// Go's reader: read-lock, count itself in `activity`, which must show no writer.
fn reader(rwm: &RwLock<()>, iterations: usize, activity: &AtomicI32, cdone: Sender<bool>) {
    for _ in 0..iterations {
        let g = rwm.read();
        let n = activity.fetch_add(1, Ordering::SeqCst) + 1;
        assert!((1..10_000).contains(&n), "wlock({n})");
        for _ in 0..100 {
            std::hint::black_box(());
        }
        activity.fetch_sub(1, Ordering::SeqCst);
        drop(g);
    }
    cdone.send(true).unwrap();
}

/// Go's writer: write-lock, count itself as 10,000 in `activity`, which must be alone.
fn writer(rwm: &RwLock<()>, iterations: usize, activity: &AtomicI32, cdone: Sender<bool>) {
    for _ in 0..iterations {
        let g = rwm.write();
        let n = activity.fetch_add(10_000, Ordering::SeqCst) + 10_000;
        assert_eq!(n, 10_000, "wlock({n})");
        for _ in 0..100 {
            std::hint::black_box(());
        }
        activity.fetch_sub(10_000, Ordering::SeqCst);
        drop(g);
    }
    cdone.send(true).unwrap();
}

fn hammer_rw_mutex(num_readers: usize, iterations: usize) {
    // Readers inside + 10,000 × writers inside.
    let activity = Arc::new(AtomicI32::new(0));
    let rwm = Arc::new(RwLock::new(()));
    let (cdone_tx, cdone) = chan::bounded(0);
    let spawn_writer = |cdone_tx: Sender<bool>| {
        let (rwm, activity) = (rwm.clone(), activity.clone());
        goro::go(move || writer(&rwm, iterations, &activity, cdone_tx));
    };
    let spawn_reader = |cdone_tx: Sender<bool>| {
        let (rwm, activity) = (rwm.clone(), activity.clone());
        goro::go(move || reader(&rwm, iterations, &activity, cdone_tx));
    };
    spawn_writer(cdone_tx.clone());
    let mut i = 0;
    while i < num_readers / 2 {
        spawn_reader(cdone_tx.clone());
        i += 1;
    }
    spawn_writer(cdone_tx.clone());
    while i < num_readers {
        spawn_reader(cdone_tx.clone());
        i += 1;
    }
    // Wait for the 2 writers and all readers to finish.
    for _ in 0..2 + num_readers {
        cdone.recv().unwrap();
    }
}

#[test]
fn test_rw_mutex() {
    go_main("TestRWMutex", || {
        let n = 1000;
        // Go runs each of 1, 3, 10 readers at GOMAXPROCS 1, 4 and 10, then 5 readers.
        for num_readers in [1, 3, 10, 1, 3, 10, 1, 3, 10, 5] {
            hammer_rw_mutex(num_readers, n);
        }
    });
}

#[test]
fn test_rlocker() {
    // Go's `wl.RLocker()` is the read side of the same lock: read guards, moved between
    // goroutines, as Go's Locker is unlocked by another goroutine.
    static WL: RwLock<()> = RwLock::new(());
    go_main("TestRLocker", || {
        let (wlocked_tx, wlocked) = chan::bounded(1);
        let (rlocked_tx, rlocked) =
            chan::bounded::<(RwLockReadGuard<'static, ()>, RwLockReadGuard<'static, ()>)>(1);
        let n = 10;
        goro::go(move || {
            for _ in 0..n {
                let a = WL.read();
                let b = WL.read();
                rlocked_tx.send((a, b)).unwrap();
                let w = WL.write();
                wlocked_tx.send(w).unwrap();
            }
        });
        for _ in 0..n {
            let (a, b) = rlocked.recv().unwrap();
            drop(a);
            assert!(wlocked.try_recv().is_err(), "RLocker() didn't read-lock it");
            drop(b);
            let w = wlocked.recv().unwrap();
            assert!(
                rlocked.try_recv().is_err(),
                "RLocker() didn't respect the write lock"
            );
            drop(w);
        }
    });
}
