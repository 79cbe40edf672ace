//! `goro::sync::Cond`: broadcast wakes every waiter, signal wakes exactly the oldest one,
//! and no wake-up is lost under load, for goroutines and threads.
//!
//! Go: `sync.Cond`. Go's own tests are ported in `tests/golang/sync_cond_test.rs`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan;
use goro::sync::{Cond, Mutex, WaitGroup};

mod support;

use support::{child, scaled, within_liveness_bound};

/// A generation counter with a condition variable: the usual barrier shape.
struct Gate {
    gen: Mutex<u64>,
    cond: Cond,
}

/// `n` goroutines wait on one `Cond`; one `broadcast` wakes all of them, each once.
#[test]
fn broadcast_wakes_every_waiter() {
    let n = 1000;
    let gate = Arc::new(Gate {
        gen: Mutex::new(0),
        cond: Cond::new(),
    });
    let (waiting_tx, waiting_rx) = chan::bounded(n);
    let woke = Arc::new(AtomicUsize::new(0));
    let wg = WaitGroup::new();
    for _ in 0..n {
        let (gate, waiting_tx, woke) = (gate.clone(), waiting_tx.clone(), woke.clone());
        wg.go(move || {
            let g = gate.gen.lock();
            waiting_tx.send(()).unwrap();
            let g = gate.cond.wait_while(g, |gen| *gen == 0);
            assert_eq!(*g, 1);
            woke.fetch_add(1, Ordering::Relaxed);
        });
    }
    for _ in 0..n {
        waiting_rx.recv().unwrap();
    }
    // Every waiter sent while holding the mutex and waits from there: once we hold the
    // mutex, they are all in `wait`.
    {
        let mut g = gate.gen.lock();
        assert_eq!(woke.load(Ordering::Relaxed), 0);
        *g = 1;
    }
    gate.cond.broadcast();
    wg.wait();
    assert_eq!(woke.load(Ordering::Relaxed), n);
}

/// `signal` wakes the longest waiter, one per call.
#[goro::test]
fn signal_wakes_one_in_arrival_order() {
    let m = Arc::new(Mutex::new(Vec::new()));
    let cond = Arc::new(Cond::new());
    let (waiting_tx, waiting_rx) = chan::bounded(0);
    let (awake_tx, awake_rx) = chan::bounded(10);
    for i in 0..10 {
        let (m2, cond, waiting_tx, awake_tx) = (
            m.clone(),
            cond.clone(),
            waiting_tx.clone(),
            awake_tx.clone(),
        );
        goro::go(move || {
            let g = m2.lock();
            waiting_tx.send(()).unwrap();
            let mut g = cond.wait(g);
            g.push(i);
            awake_tx.send(i).unwrap();
        });
        // Waiter i holds the mutex until it waits: queue order is 0, 1, 2, ...
        waiting_rx.recv().unwrap();
        drop(m.lock());
    }
    for i in 0..10 {
        assert!(
            awake_rx.try_recv().is_err(),
            "a waiter woke without a signal"
        );
        cond.signal();
        assert_eq!(awake_rx.recv().unwrap(), i, "signal woke the wrong waiter");
    }
    assert_eq!(*m.lock(), (0..10).collect::<Vec<_>>());
    cond.signal(); // nobody waits: no effect
}

/// A bounded queue with two conditions (not empty, not full), producers and consumers on
/// goroutines and threads, 200,000 items by default. A lost wake-up would leave a producer
/// or consumer parked for good, which the liveness bound reports.
#[test]
fn no_lost_wakeups_in_a_bounded_queue() {
    within_liveness_bound("no_lost_wakeups_in_a_bounded_queue", bounded_queue);
}

fn bounded_queue() {
    struct Queue {
        items: Mutex<VecDeque<u64>>,
        not_empty: Cond,
        not_full: Cond,
    }
    const CAP: usize = 4;
    let per = scaled(50_000) as u64;
    let producers = 4;
    let q = Arc::new(Queue {
        items: Mutex::new(VecDeque::new()),
        not_empty: Cond::new(),
        not_full: Cond::new(),
    });
    let produce = move |q: &Queue, base: u64| {
        for i in 0..per {
            let mut items = q.not_full.wait_while(q.items.lock(), |it| it.len() == CAP);
            items.push_back(base + i);
            drop(items);
            q.not_empty.signal();
        }
    };
    let consume = move |q: &Queue, n: u64| -> u64 {
        let mut sum = 0;
        for _ in 0..n {
            let mut items = q.not_empty.wait_while(q.items.lock(), |it| it.is_empty());
            sum += items.pop_front().unwrap();
            drop(items);
            q.not_full.signal();
        }
        sum
    };
    let wg = WaitGroup::new();
    // Two producers and one consumer are goroutines; the others are threads.
    for p in 0..2 {
        let q = q.clone();
        wg.go(move || produce(&q, p * per));
    }
    let threads: Vec<_> = (2..producers)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || produce(&q, p * per))
        })
        .collect();
    let total = producers * per;
    let c1 = {
        let q = q.clone();
        goro::go(move || consume(&q, total / 2))
    };
    let c2 = {
        let q = q.clone();
        std::thread::spawn(move || consume(&q, total - total / 2))
    };
    let sum = c1.join().unwrap() + c2.join().unwrap();
    wg.wait();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sum, total * (total - 1) / 2);
    assert!(q.items.lock().is_empty());
}

/// Waiters on plain threads, woken by a goroutine.
#[test]
fn threads_wait_goroutine_broadcasts() {
    let gate = Arc::new(Gate {
        gen: Mutex::new(0),
        cond: Cond::new(),
    });
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let gate = gate.clone();
            std::thread::spawn(move || {
                let g = gate.cond.wait_while(gate.gen.lock(), |gen| *gen < 3);
                *g
            })
        })
        .collect();
    let g2 = gate.clone();
    goro::go(move || {
        for _ in 0..3 {
            goro::sleep(Duration::from_millis(1));
            *g2.gen.lock() += 1;
            g2.cond.broadcast();
        }
    })
    .join()
    .unwrap();
    for t in threads {
        assert_eq!(t.join().unwrap(), 3);
    }
}

/// With one worker, a goroutine in `Cond::wait` parks; the goroutine that signals it has
/// to run on the same worker.
#[test]
fn waiting_parks_with_one_worker() {
    const TEST: &str = "waiting_parks_with_one_worker";
    if child::is_child(TEST) {
        let watchdog = child::watchdog(TEST, Duration::from_secs(30));
        goro::run(|| {
            let gate = Arc::new(Gate {
                gen: Mutex::new(0),
                cond: Cond::new(),
            });
            let waiters: Vec<_> = (0..10)
                .map(|_| {
                    let gate = gate.clone();
                    goro::go(move || *gate.cond.wait_while(gate.gen.lock(), |g| *g == 0))
                })
                .collect();
            let g2 = gate.clone();
            goro::go(move || {
                goro::sleep(Duration::from_millis(5));
                *g2.gen.lock() = 7;
                g2.cond.broadcast();
            });
            for w in waiters {
                assert_eq!(w.join().unwrap(), 7);
            }
        });
        drop(watchdog);
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

#[test]
fn default_and_debug() {
    let c = Cond::default();
    assert_eq!(format!("{c:?}"), "Cond { .. }");
    c.signal();
    c.broadcast();
}
