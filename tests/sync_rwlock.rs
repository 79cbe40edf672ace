//! `goro::sync::RwLock`: readers in parallel, writers alone, writer preference (a waiting
//! writer stops new readers), no starvation either way, guards across parks.
//!
//! Go: `sync.RWMutex`. Go's own tests are ported in `tests/golang/sync_rwmutex_test.rs`.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::chan;
use goro::sync::{Mutex, RwLock, WaitGroup};

mod support;

use support::scaled;

const LIVENESS: Duration = Duration::from_secs(30);

/// `n` readers each take the read lock and then wait, holding it, until all `n` hold it
/// at once. If readers excluded each other, the barrier would never fill.
fn readers_hold_the_lock_together(n: usize) {
    let rw = Arc::new(RwLock::new(7));
    let (in_tx, in_rx) = chan::bounded(0);
    let (out_tx, out_rx) = chan::bounded::<()>(0);
    let wg = WaitGroup::new();
    for _ in 0..n {
        let (rw, in_tx, out_rx) = (rw.clone(), in_tx.clone(), out_rx.clone());
        wg.go(move || {
            let g = rw.read();
            in_tx.send(*g).unwrap();
            // Hold the read lock across a park until every reader is in.
            out_rx.recv().unwrap_err();
            drop(g);
        });
    }
    for _ in 0..n {
        assert_eq!(in_rx.recv().unwrap(), 7);
    }
    assert!(rw.try_write().is_none(), "readers are inside");
    drop(out_tx); // release them all
    wg.wait();
    assert!(rw.try_write().is_some());
}

#[test]
fn readers_in_parallel() {
    for n in [1, 3, 100, 1000] {
        readers_hold_the_lock_together(n);
    }
}

#[test]
fn readers_in_parallel_on_threads() {
    let rw = Arc::new(RwLock::new(()));
    let barrier = Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (rw, barrier) = (rw.clone(), barrier.clone());
            std::thread::spawn(move || {
                let _g = rw.read();
                barrier.wait(); // all four hold the read lock here
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Go's HammerRWMutex shape: `activity` is readers inside + 10,000 per writer inside.
fn hammer(readers: usize, writers: usize, iterations: usize) {
    let rw = Arc::new(RwLock::new(0u64));
    let activity = Arc::new(AtomicI64::new(0));
    let wg = WaitGroup::new();
    for _ in 0..writers {
        let (rw, activity) = (rw.clone(), activity.clone());
        wg.go(move || {
            for i in 0..iterations {
                let mut g = rw.write();
                assert_eq!(activity.fetch_add(10_000, Ordering::SeqCst), 0);
                if i % 8 == 0 {
                    goro::yield_now(); // hold it across a park
                }
                *g += 1;
                activity.fetch_sub(10_000, Ordering::SeqCst);
            }
        });
    }
    for _ in 0..readers {
        let (rw, activity) = (rw.clone(), activity.clone());
        wg.go(move || {
            for i in 0..iterations {
                let g = rw.read();
                let n = activity.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(
                    (1..10_000).contains(&n),
                    "a writer is inside with readers: {n}"
                );
                if i % 8 == 0 {
                    goro::yield_now();
                }
                let _ = *g;
                activity.fetch_sub(1, Ordering::SeqCst);
            }
        });
    }
    wg.wait();
    assert_eq!(*rw.read(), (writers * iterations) as u64);
}

#[test]
fn writers_exclude_everyone() {
    hammer(10, 2, scaled(2_000));
    hammer(2, 10, scaled(1_000));
}

#[test]
fn threads_and_goroutines_share_a_lock() {
    let rw = Arc::new(RwLock::new(0u64));
    let per = scaled(10_000);
    let t = {
        let rw = rw.clone();
        std::thread::spawn(move || {
            for _ in 0..per {
                *rw.write() += 1;
                assert!(*rw.read() > 0);
            }
        })
    };
    let wg = WaitGroup::new();
    for _ in 0..4 {
        let rw = rw.clone();
        wg.go(move || {
            for _ in 0..per {
                *rw.write() += 1;
                let _ = *rw.read();
            }
        });
    }
    wg.wait();
    t.join().unwrap();
    assert_eq!(*rw.read(), 5 * per as u64);
}

/// A writer waiting for a reader stops new readers: `try_read` fails, and a reader that
/// arrives then gets in only after the writer.
#[test]
fn a_waiting_writer_blocks_new_readers() {
    goro::run(|| {
        let rw = Arc::new(RwLock::new(Vec::new()));
        let first = rw.read();
        let rw_w = rw.clone();
        let writer = goro::go(move || rw_w.write().push("writer"));
        while !rw.is_locked_exclusive() {
            goro::yield_now();
        }
        assert!(
            rw.try_read().is_none(),
            "a new reader overtook a waiting writer"
        );
        assert!(rw.try_write().is_none());
        let rw_r = rw.clone();
        let (started_tx, started_rx) = chan::bounded(0);
        let late_reader = goro::go(move || {
            started_tx.send(()).unwrap();
            rw_r.read().clone()
        });
        started_rx.recv().unwrap();
        goro::sleep(Duration::from_millis(5)); // let the late reader block, if it can
        assert!(!writer.is_finished() && !late_reader.is_finished());
        drop(first);
        writer.join().unwrap();
        // The late reader, whenever it got in, got in after the writer.
        assert_eq!(late_reader.join().unwrap(), ["writer"]);
    });
}

/// Readers that overlap all the time would keep a reader-preferring lock busy forever; a
/// writer still gets in, repeatedly.
#[test]
fn writers_are_not_starved_by_overlapping_readers() {
    goro::run(|| {
        let rw = Arc::new(RwLock::new(0u32));
        let stop = Arc::new(AtomicBool::new(false));
        let wg = WaitGroup::new();
        for _ in 0..4 {
            let (rw, stop) = (rw.clone(), stop.clone());
            wg.go(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _g = rw.read();
                    goro::sleep(Duration::from_micros(200));
                }
            });
        }
        let start = Instant::now();
        for _ in 0..20 {
            *rw.write() += 1;
            assert!(
                start.elapsed() < LIVENESS,
                "a writer was starved by readers"
            );
        }
        stop.store(true, Ordering::Relaxed);
        wg.wait();
        assert_eq!(*rw.read(), 20);
    });
}

/// Readers that queued behind a writer go in before the next writer: writers taking
/// turns back to back cannot starve them.
#[test]
fn readers_are_not_starved_by_back_to_back_writers() {
    goro::run(|| {
        let rw = Arc::new(RwLock::new(()));
        let stop = Arc::new(AtomicBool::new(false));
        let wg = WaitGroup::new();
        for _ in 0..2 {
            let (rw, stop) = (rw.clone(), stop.clone());
            wg.go(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _g = rw.write();
                    goro::sleep(Duration::from_micros(200));
                }
            });
        }
        let reads = Arc::new(AtomicUsize::new(0));
        let readers = WaitGroup::new();
        for _ in 0..4 {
            let (rw, reads) = (rw.clone(), reads.clone());
            readers.go(move || {
                for _ in 0..10 {
                    drop(rw.read());
                    reads.fetch_add(1, Ordering::Relaxed);
                    goro::yield_now();
                }
            });
        }
        readers.wait();
        assert_eq!(reads.load(Ordering::Relaxed), 40);
        stop.store(true, Ordering::Relaxed);
        wg.wait();
    });
}

/// Guards are `Send`: a read guard taken by one goroutine is released by another, as Go
/// allows (`RUnlock` from any goroutine), from a `static` lock.
#[test]
fn guards_handed_between_goroutines() {
    static RW: RwLock<u8> = RwLock::new(1);
    goro::run(|| {
        let (tx, rx) = chan::bounded(1);
        goro::go(move || tx.send(RW.read()).unwrap())
            .join()
            .unwrap();
        let g = rx.recv().unwrap();
        assert!(RW.try_write().is_none());
        assert_eq!(*g, 1);
        drop(g);
        let (tx, rx) = chan::bounded(1);
        goro::go(move || {
            let mut w = RW.write();
            *w = 2;
            tx.send(w).unwrap();
        })
        .join()
        .unwrap();
        let w = rx.recv().unwrap();
        assert!(RW.try_read().is_none());
        drop(w);
        assert_eq!(*RW.read(), 2);
    });
}

#[test]
fn accessors_and_formatting() {
    let _quiet = support::expect_panics();
    let mut rw = RwLock::new(vec![1]);
    {
        let r = rw.read();
        assert_eq!(format!("{rw:?}"), "RwLock { data: [1], .. }");
        assert_eq!(format!("{r:?}"), "[1]");
    }
    {
        let _w = rw.write();
        assert_eq!(format!("{rw:?}"), "RwLock { data: <locked>, .. }");
    }
    rw.get_mut().push(2);
    rw.try_write().unwrap().push(3);
    assert_eq!(*rw.try_read().unwrap(), [1, 2, 3]);
    assert_eq!(rw.into_inner(), [1, 2, 3]);
    let d: RwLock<String> = RwLock::default();
    assert!(d.read().is_empty());
    assert_eq!(*RwLock::from(3).read(), 3);
    // No poisoning: a panicking writer releases the lock.
    let rw = Arc::new(RwLock::new(0));
    let rw2 = rw.clone();
    let h = goro::go(move || {
        let mut w = rw2.write();
        *w = 1;
        panic!("writer panics");
    });
    assert!(h.join().is_err());
    assert_eq!(*rw.read(), 1);
    let m = Mutex::new(rw);
    assert_eq!(*m.lock().write(), 1);
}
