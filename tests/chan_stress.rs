//! Races between wakers, timeouts and close, on the real channel code: every value is
//! received exactly once or dropped exactly once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan::{self, RecvTimeoutError, SendTimeoutError};

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Senders with tiny timeouts against receivers with tiny timeouts: a value whose send timed
/// out comes back to its sender; every other value is received once.
#[test]
fn timeouts_race_with_wakers() {
    goro::run(|| {
        for cap in [0usize, 1, 4] {
            let (tx, rx) = chan::bounded::<u64>(cap);
            let sent = Arc::new(AtomicU64::new(0));
            let received = Arc::new(AtomicU64::new(0));
            let senders: Vec<_> = (0..4)
                .map(|p| {
                    let (tx, sent) = (tx.clone(), sent.clone());
                    goro::go(move || {
                        for i in 0..2_000u64 {
                            let v = p * 1_000_000 + i + 1;
                            match tx.send_timeout(v, Duration::from_micros(50)) {
                                Ok(()) => {
                                    sent.fetch_add(v, Ordering::SeqCst);
                                }
                                Err(SendTimeoutError::Timeout(back)) => assert_eq!(back, v),
                                Err(e) => panic!("{e}"),
                            }
                        }
                    })
                })
                .collect();
            drop(tx);
            let receivers: Vec<_> = (0..4)
                .map(|_| {
                    let (rx, received) = (rx.clone(), received.clone());
                    goro::go(move || loop {
                        match rx.recv_timeout(Duration::from_micros(30)) {
                            Ok(v) => {
                                received.fetch_add(v, Ordering::SeqCst);
                            }
                            Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Closed) => break,
                        }
                    })
                })
                .collect();
            drop(rx);
            for s in senders {
                s.join().unwrap();
            }
            for r in receivers {
                r.join().unwrap();
            }
            assert_eq!(
                sent.load(Ordering::SeqCst),
                received.load(Ordering::SeqCst),
                "capacity {cap}"
            );
        }
    });
}

/// Selects blocked on several channels while those channels are closed under them and
/// values race in: nothing is lost or duplicated, every losing send value is dropped.
#[test]
fn close_races_with_blocked_selects() {
    goro::run(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(AtomicUsize::new(0));
        for round in 0..200 {
            let (ta, ra) = chan::bounded::<Counted>(0);
            let (tb, rb) = chan::bounded::<Counted>(1);
            let (td, rd) = chan::bounded::<Counted>(0);
            let recv_side = {
                let (ra, rb, received) = (ra.clone(), rb.clone(), received.clone());
                goro::go(move || {
                    let (mut a, mut b) = (Some(&ra), Some(&rb));
                    while a.is_some() || b.is_some() {
                        goro::select! {
                            recv(a) -> v => match v { Ok(_c) => { received.fetch_add(1, Ordering::SeqCst); } Err(_) => a = None },
                            recv(b) -> v => match v { Ok(_c) => { received.fetch_add(1, Ordering::SeqCst); } Err(_) => b = None },
                        }
                    }
                })
            };
            let send_side = {
                let (ta, tb, td, drops) = (ta.clone(), tb.clone(), td.clone(), drops.clone());
                goro::go(move || {
                    for _ in 0..20 {
                        goro::select! {
                            send(ta, Counted(drops.clone())) -> r => { let _ = r; }
                            send(tb, Counted(drops.clone())) -> r => { let _ = r; }
                            send(td, Counted(drops.clone())) -> r => { let _ = r; }
                        }
                    }
                })
            };
            if round % 2 == 0 {
                goro::yield_now();
            }
            // Close every channel while both sides may be blocked.
            ta.close();
            tb.close();
            td.close();
            recv_side.join().unwrap();
            send_side.join().unwrap();
            drop((ra, rb, rd));
        }
        // Each select evaluated three values: one was sent (and dropped by its receiver,
        // or dropped with its channel, or handed back and dropped) and two were dropped
        // unsent. All 200 * 20 * 3 are dropped exactly once.
        assert_eq!(drops.load(Ordering::SeqCst), 200 * 20 * 3);
        assert!(received.load(Ordering::SeqCst) <= 200 * 20);
    });
}

/// Millions of messages through one channel between goroutines and threads.
#[test]
fn millions_of_messages_mpmc() {
    for cap in [0usize, 1024] {
        let n: u64 = if cap == 0 { 1_000_000 } else { 2_000_000 };
        let (tx, rx) = chan::bounded::<u64>(cap);
        let total = Arc::new(AtomicU64::new(0));
        let mut threads = Vec::new();
        let mut goroutines = Vec::new();
        for p in 0..4u64 {
            let tx = tx.clone();
            let per = n / 4;
            let f = move || {
                for i in p * per..(p + 1) * per {
                    tx.send(i).unwrap();
                }
            };
            if p == 0 {
                threads.push(std::thread::spawn(f));
            } else {
                goroutines.push(goro::go(f));
            }
        }
        drop(tx);
        for c in 0..4 {
            let (rx, total) = (rx.clone(), total.clone());
            let f = move || {
                let mut s = 0;
                for v in &rx {
                    s += v;
                }
                total.fetch_add(s, Ordering::SeqCst);
            };
            if c == 0 {
                threads.push(std::thread::spawn(f));
            } else {
                goroutines.push(goro::go(f));
            }
        }
        drop(rx);
        for t in threads {
            t.join().unwrap();
        }
        for g in goroutines {
            g.join().unwrap();
        }
        assert_eq!(
            total.load(Ordering::SeqCst),
            n * (n - 1) / 2,
            "capacity {cap}"
        );
    }
}
