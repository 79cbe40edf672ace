//! Races between wakers, timeouts and close, on the real channel code: every value is
//! received exactly once or dropped exactly once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan::{self, RecvTimeoutError, SendTimeoutError};

mod support;

use support::Counted;

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

/// Small buffered channels (capacity 1, locked; 2 and 3, the lock-free ring flavour, where
/// waiters are only notified and look again): goroutines and OS threads, plain operations
/// and selects over two channels.
/// Each sender waits for an acknowledgement of every value before sending the next, so a
/// single lost notification (to a receiver waiting for a value, a sender waiting for room,
/// or a sender waiting for its acknowledgement) stops the exchange for good, which the
/// watchdog reports. Every value must arrive exactly once.
#[test]
fn ring_channels_lose_no_wake_up() {
    const SENDERS: u64 = 6;
    const PER_SENDER: u64 = 4_000;
    for cap in [1usize, 2, 3] {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (ta, ra) = chan::bounded::<(usize, u64)>(cap);
            let (tb, rb) = chan::bounded::<(usize, u64)>(cap);
            let acks: Vec<_> = (0..SENDERS).map(|_| chan::bounded::<()>(1)).collect();
            let ack_tx: Arc<Vec<_>> = Arc::new(acks.iter().map(|(t, _)| t.clone()).collect());
            let mut senders = Vec::new();
            let mut threads = Vec::new();
            for (p, (_, ack)) in acks.into_iter().enumerate() {
                let (ta, tb) = (ta.clone(), tb.clone());
                let work = move || {
                    for i in 0..PER_SENDER {
                        let v = (p, p as u64 * PER_SENDER + i + 1);
                        if i % 3 == 0 {
                            if p % 2 == 0 { ta.send(v) } else { tb.send(v) }.unwrap();
                        } else {
                            goro::select! {
                                send(ta, v) -> r => r.unwrap(),
                                send(tb, v) -> r => r.unwrap(),
                            }
                        }
                        if i % 2 == 0 {
                            ack.recv().unwrap();
                        } else {
                            goro::select! { recv(ack) -> r => r.unwrap() }
                        }
                    }
                };
                if p < 4 {
                    senders.push(goro::go(work));
                } else {
                    threads.push(std::thread::spawn(work));
                }
            }
            drop((ta, tb));
            let receive = move |ra: chan::Receiver<(usize, u64)>,
                                rb: chan::Receiver<(usize, u64)>,
                                plain: bool,
                                acks: Arc<Vec<chan::Sender<()>>>| {
                let (mut sum, mut count) = (0u64, 0u64);
                let mut got = |(p, v): (usize, u64)| {
                    sum += v;
                    count += 1;
                    acks[p].send(()).unwrap();
                };
                let (mut a, mut b) = (Some(ra), Some(rb));
                while a.is_some() || b.is_some() {
                    if plain {
                        // Plain receives on whichever channel is still open.
                        match a.as_ref().or(b.as_ref()).unwrap().recv() {
                            Ok(m) => got(m),
                            Err(_) if a.is_some() => a = None,
                            Err(_) => b = None,
                        }
                        continue;
                    }
                    goro::select! {
                        recv(a.as_ref()) -> m => match m {
                            Ok(m) => got(m),
                            Err(_) => a = None,
                        },
                        recv(b.as_ref()) -> m => match m {
                            Ok(m) => got(m),
                            Err(_) => b = None,
                        },
                    }
                }
                (sum, count)
            };
            let receivers: Vec<_> = (0..3)
                .map(|k| {
                    let (ra, rb, acks) = (ra.clone(), rb.clone(), ack_tx.clone());
                    goro::go(move || receive(ra, rb, k == 0, acks))
                })
                .collect();
            let on_thread = std::thread::spawn(move || receive(ra, rb, false, ack_tx));
            for s in senders {
                s.join().unwrap();
            }
            for t in threads {
                t.join().unwrap();
            }
            let (mut sum, mut count) = on_thread.join().unwrap();
            for r in receivers {
                let (s, c) = r.join().unwrap();
                sum += s;
                count += c;
            }
            done_tx.send((count, sum)).unwrap();
        });
        let n = SENDERS * PER_SENDER;
        let (count, sum) = done_rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("cap {cap}: a sender or receiver never woke up"));
        assert_eq!(count, n, "cap {cap}");
        assert_eq!(sum, n * (n + 1) / 2, "cap {cap}");
    }
}
