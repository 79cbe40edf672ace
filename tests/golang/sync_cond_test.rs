//! src/sync/cond_test.go: `TestCondSignal`, `TestCondSignalGenerations`,
//! `TestCondBroadcast`, `TestRace` and `TestCondSignalStealing`.
//!
//! Go's `c.L` is the mutex the Cond was made with; here each test keeps a `Mutex` next to
//! its `Cond` and passes the guard to `wait`. Go's `time.After(2 s)` in
//! TestCondSignalStealing is a liveness bound, kept as such. Not ported: `TestCondCopy`
//! (copying a Cond is a move in Rust; nothing to detect), the benchmarks.

use std::sync::Arc;
use std::time::Duration;

use goro::chan;
use goro::sync::{Cond, Mutex};

use crate::support::go_main;

#[test]
fn test_cond_signal() {
    go_main("TestCondSignal", || {
        let m = Arc::new(Mutex::new(()));
        let c = Arc::new(Cond::new());
        let mut n = 2;
        let (running_tx, running) = chan::bounded(n);
        let (awake_tx, awake) = chan::bounded(n);
        for _ in 0..n {
            let (m, c, running_tx, awake_tx) =
                (m.clone(), c.clone(), running_tx.clone(), awake_tx.clone());
            goro::go(move || {
                let g = m.lock();
                running_tx.send(true).unwrap();
                let g = c.wait(g);
                awake_tx.send(true).unwrap();
                drop(g);
            });
        }
        for _ in 0..n {
            running.recv().unwrap(); // wait for everyone to run
        }
        while n > 0 {
            assert!(awake.try_recv().is_err(), "goroutine not asleep");
            let g = m.lock();
            c.signal();
            drop(g);
            awake.recv().unwrap(); // deadlocks if no goroutine wakes up
            assert!(awake.try_recv().is_err(), "too many goroutines awake");
            n -= 1;
        }
        c.signal();
    });
}

#[test]
fn test_cond_signal_generations() {
    go_main("TestCondSignalGenerations", || {
        let m = Arc::new(Mutex::new(()));
        let c = Arc::new(Cond::new());
        let n = 100;
        let (running_tx, running) = chan::bounded(n);
        let (awake_tx, awake) = chan::bounded(n);
        for i in 0..n {
            let (m2, c2, running_tx, awake_tx) =
                (m.clone(), c.clone(), running_tx.clone(), awake_tx.clone());
            goro::go(move || {
                let g = m2.lock();
                running_tx.send(true).unwrap();
                let g = c2.wait(g);
                awake_tx.send(i).unwrap();
                drop(g);
            });
            if i > 0 {
                let a = awake.recv().unwrap();
                assert_eq!(a, i - 1, "wrong goroutine woke up: want {}, got {a}", i - 1);
            }
            running.recv().unwrap();
            let g = m.lock();
            c.signal();
            drop(g);
        }
        // Go leaves the last wake-up in the buffered channel; a goro channel closes when
        // its receiver goes, so take it (and check it) before returning.
        assert_eq!(awake.recv().unwrap(), n - 1);
    });
}

#[test]
fn test_cond_broadcast() {
    go_main("TestCondBroadcast", || {
        let m = Arc::new(Mutex::new(false)); // Go's `exit`, guarded by the mutex
        let c = Arc::new(Cond::new());
        let n = 200;
        let (running_tx, running) = chan::bounded(n);
        let (awake_tx, awake) = chan::bounded(n);
        for g in 0..n {
            let (m, c, running_tx, awake_tx) =
                (m.clone(), c.clone(), running_tx.clone(), awake_tx.clone());
            goro::go(move || {
                let mut exit = m.lock();
                while !*exit {
                    running_tx.send(g).unwrap();
                    exit = c.wait(exit);
                    awake_tx.send(g).unwrap();
                }
            });
        }
        drop(running_tx);
        for i in 0..n {
            for _ in 0..n {
                running.recv().unwrap(); // deadlocks unless n are running
            }
            if i == n - 1 {
                *m.lock() = true;
            }
            assert!(awake.try_recv().is_err(), "goroutine not asleep");
            let g = m.lock();
            c.broadcast();
            drop(g);
            let mut seen = vec![false; n];
            for _ in 0..n {
                let g = awake.recv().unwrap();
                assert!(!seen[g], "goroutine woke up twice");
                seen[g] = true;
            }
        }
        // Go checks with a non-blocking receive that no goroutine reports running again.
        // Stronger here: each goroutine's sender drops when it exits, so this receive
        // returns an error once every goroutine has left without waiting again.
        assert!(running.recv().is_err(), "goroutine did not exit");
        c.broadcast();
    });
}

#[test]
fn test_race() {
    go_main("TestRace", || {
        let x = Arc::new(Mutex::new(0)); // Go's `x`, under `c.L`
        let c = Arc::new(Cond::new());
        let (done_tx, done) = chan::bounded(0);
        {
            let (x, c, done_tx) = (x.clone(), c.clone(), done_tx.clone());
            goro::go(move || {
                let mut g = x.lock();
                *g = 1;
                g = c.wait(g);
                assert_eq!(*g, 2, "want 2");
                *g = 3;
                c.signal();
                drop(g);
                done_tx.send(true).unwrap();
            });
        }
        {
            let (x, c, done_tx) = (x.clone(), c.clone(), done_tx.clone());
            goro::go(move || {
                let mut g = x.lock();
                loop {
                    if *g == 1 {
                        *g = 2;
                        c.signal();
                        break;
                    }
                    drop(g);
                    goro::yield_now();
                    g = x.lock();
                }
                drop(g);
                done_tx.send(true).unwrap();
            });
        }
        {
            let (x, c, done_tx) = (x.clone(), c.clone(), done_tx.clone());
            goro::go(move || {
                let mut g = x.lock();
                loop {
                    if *g == 2 {
                        g = c.wait(g);
                        assert_eq!(*g, 3, "want 3");
                        break;
                    }
                    if *g == 3 {
                        break;
                    }
                    drop(g);
                    goro::yield_now();
                    g = x.lock();
                }
                drop(g);
                done_tx.send(true).unwrap();
            });
        }
        for _ in 0..3 {
            done.recv().unwrap();
        }
    });
}

#[test]
fn test_cond_signal_stealing() {
    go_main("TestCondSignalStealing", || {
        for _ in 0..1000 {
            let m = Arc::new(Mutex::new(false)); // Go's `done`, under `m`
            let cond = Arc::new(Cond::new());

            // Start a waiter.
            let (ch_tx, ch) = chan::bounded(0);
            {
                let (m, cond) = (m.clone(), cond.clone());
                goro::go(move || {
                    let g = m.lock();
                    ch_tx.send(()).unwrap();
                    let g = cond.wait(g);
                    drop(g);
                    ch_tx.send(()).unwrap();
                });
            }
            ch.recv().unwrap();
            drop(m.lock());

            // The waiter is in `wait`: we synchronised with it, then took and released the
            // mutex it held. Now a broadcast races with a second waiter: the second may or
            // may not be woken, but the first must be.
            {
                let cond = cond.clone();
                goro::go(move || cond.broadcast());
            }
            {
                let (m, cond) = (m.clone(), cond.clone());
                goro::go(move || drop(cond.wait_while(m.lock(), |done| !*done)));
            }

            goro::select! {
                recv(ch) -> v => v.unwrap(),
                recv(goro::time::after(Duration::from_secs(2))) -> _ => {
                    panic!("first waiter didn't get broadcast")
                }
            }

            // Release the second waiter in case it missed the broadcast.
            *m.lock() = true;
            cond.broadcast();
        }
    });
}
