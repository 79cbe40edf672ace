//! Channels from async code (`send_async`, `recv_async`): with tokio's runtimes (multi-thread
//! and current-thread) and `futures::executor`, beside goroutines and threads on the same
//! channels, and cancel safety: futures dropped at random points never lose or duplicate a
//! value.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use goro::chan::{self, Receiver, RecvError, SendError, Sender};

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap()
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// The capacities that pick each flavour: unbuffered and unbounded (locked), small
/// buffered (lock-free ring), and a buffer too large for a ring (locked).
fn channels<T>() -> Vec<(&'static str, Sender<T>, Receiver<T>)> {
    let mut v = Vec::new();
    let (tx, rx) = chan::bounded(0);
    v.push(("unbuffered", tx, rx));
    let (tx, rx) = chan::bounded(4);
    v.push(("bounded(4)", tx, rx));
    let (tx, rx) = chan::bounded(1 << 22);
    v.push(("bounded(4M)", tx, rx));
    let (tx, rx) = chan::unbounded();
    v.push(("unbounded", tx, rx));
    v
}

#[test]
fn a_task_receives_what_a_goroutine_sends() {
    for rt in [multi_thread(), current_thread()] {
        for (kind, tx, rx) in channels::<u64>() {
            let sender = goro::go(move || {
                for i in 0..1000 {
                    tx.send(i).unwrap();
                }
            });
            let sum = rt.block_on(async move {
                let mut sum = 0;
                while let Ok(v) = rx.recv_async().await {
                    sum += v;
                }
                sum
            });
            sender.join().unwrap();
            assert_eq!(sum, 999 * 1000 / 2, "{kind}");
        }
    }
}

#[test]
fn a_goroutine_receives_what_a_task_sends() {
    for rt in [multi_thread(), current_thread()] {
        for (kind, tx, rx) in channels::<u64>() {
            let receiver = goro::go(move || rx.iter().sum::<u64>());
            rt.block_on(async move {
                for i in 0..1000 {
                    tx.send_async(i).await.unwrap();
                }
            });
            assert_eq!(receiver.join().unwrap(), 999 * 1000 / 2, "{kind}");
        }
    }
}

#[test]
fn tasks_on_both_sides() {
    let rt = multi_thread();
    for (kind, tx, rx) in channels::<u64>() {
        let total = rt.block_on(async move {
            let mut senders = Vec::new();
            for t in 0..4u64 {
                let tx = tx.clone();
                senders.push(tokio::spawn(async move {
                    for i in 0..500 {
                        tx.send_async(t * 1000 + i).await.unwrap();
                    }
                }));
            }
            drop(tx);
            let mut receivers = Vec::new();
            for _ in 0..3 {
                let rx = rx.clone();
                receivers.push(tokio::spawn(async move {
                    let mut got = Vec::new();
                    while let Ok(v) = rx.recv_async().await {
                        got.push(v);
                    }
                    got
                }));
            }
            for s in senders {
                s.await.unwrap();
            }
            let mut all = Vec::new();
            for r in receivers {
                all.extend(r.await.unwrap());
            }
            all
        });
        let set: HashSet<u64> = total.iter().copied().collect();
        assert_eq!(total.len(), 2000, "{kind}");
        assert_eq!(set.len(), 2000, "{kind}: a value arrived twice");
    }
}

#[test]
fn futures_executor_works_too() {
    for (kind, tx, rx) in channels::<u32>() {
        let h = std::thread::spawn(move || {
            futures::executor::block_on(async {
                for i in 0..100 {
                    tx.send_async(i).await.unwrap();
                }
            })
        });
        let sum = futures::executor::block_on(async {
            let mut s = 0;
            while let Ok(v) = rx.recv_async().await {
                s += v;
            }
            s
        });
        h.join().unwrap();
        assert_eq!(sum, 99 * 100 / 2, "{kind}");
    }
}

#[test]
fn closing_wakes_waiting_tasks_and_hands_values_back() {
    let rt = multi_thread();
    for (kind, tx, rx) in channels::<String>() {
        let rx2 = rx.clone();
        let waiting = rt.spawn(async move { rx2.recv_async().await });
        // Let it wait, then close.
        std::thread::sleep(Duration::from_millis(20));
        tx.close();
        assert_eq!(rt.block_on(waiting).unwrap(), Err(RecvError), "{kind}");
        let sent = rt.block_on(tx.send_async("back".to_string()));
        assert_eq!(sent, Err(SendError("back".to_string())), "{kind}");
        drop(rx);
    }
    // A task blocked in a send on a full channel gets its value back at the close.
    let (tx, rx) = chan::bounded::<String>(0);
    let tx2 = tx.clone();
    let sending = rt.spawn(async move { tx2.send_async("kept".to_string()).await });
    std::thread::sleep(Duration::from_millis(20));
    tx.close();
    assert_eq!(
        rt.block_on(sending).unwrap(),
        Err(SendError("kept".to_string()))
    );
    drop(rx);
}

/// A value that counts its drops, to check that none is lost or dropped twice.
struct Counted {
    id: u64,
    drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// A small xorshift generator, seeded per task.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn cancelled_receives_lose_nothing() {
    const SENDERS: u64 = 3;
    const PER_SENDER: u64 = 2000;
    let rt = multi_thread();
    for (kind, tx, rx) in channels::<Counted>() {
        let drops = Arc::new(AtomicUsize::new(0));
        let got = Arc::new(Mutex::new(Vec::new()));
        // Senders: goroutines, a thread and a task.
        let mut goroutines = Vec::new();
        for s in 0..SENDERS - 1 {
            let tx = tx.clone();
            let drops = drops.clone();
            goroutines.push(goro::go(move || {
                for i in 0..PER_SENDER {
                    let id = s * PER_SENDER + i;
                    tx.send(Counted {
                        id,
                        drops: drops.clone(),
                    })
                    .unwrap();
                }
            }));
        }
        let task_sender = {
            let tx = tx.clone();
            let drops = drops.clone();
            rt.spawn(async move {
                for i in 0..PER_SENDER {
                    let id = (SENDERS - 1) * PER_SENDER + i;
                    tx.send_async(Counted {
                        id,
                        drops: drops.clone(),
                    })
                    .await
                    .unwrap();
                }
            })
        };
        drop(tx);
        // Receivers: tasks whose receives time out at random (dropping the future at
        // whatever point it reached), and a goroutine that receives plainly.
        let mut tasks = Vec::new();
        for t in 0..3u64 {
            let rx = rx.clone();
            let got = got.clone();
            tasks.push(rt.spawn(async move {
                let mut seed = 0x9E37_79B9_7F4A_7C15 ^ (t + 1);
                loop {
                    let wait = Duration::from_micros(next(&mut seed) % 60);
                    // Biased towards the timer: a receive that was handed its value
                    // but not polled since is dropped when the timer is due too.
                    tokio::select! {
                        biased;
                        _ = tokio::time::sleep(wait) => {}
                        r = rx.recv_async() => match r {
                            Ok(v) => got.lock().unwrap().push(v.id),
                            Err(RecvError) => break,
                        },
                    }
                }
            }));
        }
        let plain = {
            let rx = rx.clone();
            let got = got.clone();
            goro::go(move || {
                for v in rx.iter() {
                    got.lock().unwrap().push(v.id);
                    goro::yield_now();
                }
            })
        };
        for g in goroutines {
            g.join().unwrap();
        }
        rt.block_on(task_sender).unwrap();
        for t in tasks {
            rt.block_on(t).unwrap();
        }
        plain.join().unwrap();
        drop(rx);
        let got = got.lock().unwrap();
        let set: HashSet<u64> = got.iter().copied().collect();
        assert_eq!(set.len(), got.len(), "{kind}: a value was received twice");
        assert_eq!(
            got.len() as u64,
            SENDERS * PER_SENDER,
            "{kind}: a value was lost"
        );
        assert_eq!(
            drops.load(Ordering::Relaxed) as u64,
            SENDERS * PER_SENDER,
            "{kind}: drops"
        );
    }
}

#[test]
fn cancelled_sends_either_arrive_or_are_dropped() {
    let rt = multi_thread();
    for (kind, tx, rx) in channels::<Counted>() {
        let drops = Arc::new(AtomicUsize::new(0));
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let receiver = {
            let delivered = delivered.clone();
            goro::go(move || {
                for v in rx.iter() {
                    delivered.lock().unwrap().push(v.id);
                    if v.id % 7 == 0 {
                        goro::sleep(Duration::from_micros(50));
                    }
                }
            })
        };
        let attempts = rt.block_on(async move {
            let mut tasks = Vec::new();
            for t in 0..3u64 {
                let tx = tx.clone();
                let drops = drops.clone();
                tasks.push(tokio::spawn(async move {
                    let mut seed = 0xD1B5_4A32_D192_ED03 ^ (t + 1);
                    let mut sent_ok = Vec::new();
                    for i in 0..1500u64 {
                        let id = t * 100_000 + i;
                        let v = Counted {
                            id,
                            drops: drops.clone(),
                        };
                        let wait = Duration::from_micros(next(&mut seed) % 150);
                        tokio::select! {
                            biased;
                            _ = tokio::time::sleep(wait) => {}
                            r = tx.send_async(v) => {
                                r.unwrap();
                                sent_ok.push(id);
                            }
                        }
                    }
                    sent_ok
                }));
            }
            drop(tx);
            let mut ok = Vec::new();
            for t in tasks {
                ok.extend(t.await.unwrap());
            }
            (ok, drops)
        });
        receiver.join().unwrap();
        let (ok, drops) = attempts;
        let delivered = delivered.lock().unwrap();
        let got: HashSet<u64> = delivered.iter().copied().collect();
        assert_eq!(got.len(), delivered.len(), "{kind}: a value arrived twice");
        // Every send that completed arrived; one cancelled may have arrived too (its value
        // was taken as the future was dropped), but nothing else.
        for id in &ok {
            assert!(got.contains(id), "{kind}: sent {id} never arrived");
        }
        // Every value was dropped exactly once: by its receiver or with its future.
        assert_eq!(drops.load(Ordering::Relaxed), 4500, "{kind}: drops");
    }
}

#[test]
fn goroutines_threads_and_tasks_share_a_channel() {
    let rt = multi_thread();
    for (kind, tx, rx) in channels::<u64>() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut goroutines = Vec::new();
        let mut threads = Vec::new();
        let mut tasks = Vec::new();
        for k in 0..2u64 {
            let (tx1, tx2, tx3) = (tx.clone(), tx.clone(), tx.clone());
            goroutines.push(goro::go(move || {
                let tx = tx1;
                for i in 0..300 {
                    tx.send(k * 10_000 + i).unwrap();
                }
            }));
            threads.push(std::thread::spawn(move || {
                let tx = tx2;
                for i in 0..300 {
                    tx.send(100_000 + k * 10_000 + i).unwrap();
                }
            }));
            tasks.push(rt.spawn(async move {
                let tx = tx3;
                for i in 0..300 {
                    tx.send_async(200_000 + k * 10_000 + i).await.unwrap();
                }
            }));
        }
        drop(tx);
        let mut receivers = Vec::new();
        for _ in 0..2 {
            let (rx, seen) = (rx.clone(), seen.clone());
            receivers.push(goro::go(move || {
                for v in rx.iter() {
                    seen.lock().unwrap().push(v);
                }
            }));
        }
        let (rx2, seen2) = (rx.clone(), seen.clone());
        let thread_rx = std::thread::spawn(move || {
            for v in rx2.iter() {
                seen2.lock().unwrap().push(v);
            }
        });
        let (rx3, seen3) = (rx.clone(), seen.clone());
        let task_rx = rt.spawn(async move {
            while let Ok(v) = rx3.recv_async().await {
                seen3.lock().unwrap().push(v);
            }
        });
        drop(rx);
        for g in goroutines {
            g.join().unwrap();
        }
        for t in threads {
            t.join().unwrap();
        }
        for t in tasks {
            rt.block_on(t).unwrap();
        }
        for r in receivers {
            r.join().unwrap();
        }
        thread_rx.join().unwrap();
        rt.block_on(task_rx).unwrap();
        let seen = seen.lock().unwrap();
        let set: HashSet<u64> = seen.iter().copied().collect();
        assert_eq!(seen.len(), 1800, "{kind}");
        assert_eq!(set.len(), 1800, "{kind}: duplicates");
    }
}

#[test]
fn a_select_over_channels_fed_by_tasks_is_fair() {
    let rt = multi_thread();
    let (tx1, rx1) = chan::bounded::<u8>(0);
    let (tx2, rx2) = chan::bounded::<u8>(0);
    for tx in [tx1, tx2] {
        rt.spawn(async move { while tx.send_async(1).await.is_ok() {} });
    }
    let counts = goro::go(move || {
        let (mut a, mut b) = (0, 0);
        for _ in 0..2000 {
            goro::select! {
                recv(rx1) -> _ => a += 1,
                recv(rx2) -> _ => b += 1,
            }
        }
        (a, b)
    })
    .join()
    .unwrap();
    // About 1000 each; far outside these bounds only if the choice is not fair.
    assert!(
        (700..=1300).contains(&counts.0) && (700..=1300).contains(&counts.1),
        "{counts:?}"
    );
}

/// Goroutines send every value through a select over two channels, and tasks receive on
/// both. A select that one channel won leaves its waiter on the other until it unlinks it
/// itself: a task receiving there meanwhile must skip that waiter (and wait for a real
/// sender), never take a value from it, so every value arrives exactly once.
#[test]
fn tasks_receive_beside_selects_that_send_on_two_channels() {
    const SENDERS: u64 = 4;
    const EACH: u64 = 2000;
    let rt = multi_thread();
    for cap in [0, 1] {
        let (tx1, rx1) = chan::bounded::<u64>(cap);
        let (tx2, rx2) = chan::bounded::<u64>(cap);
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                let (tx1, tx2) = (tx1.clone(), tx2.clone());
                goro::go(move || {
                    for v in s * EACH..(s + 1) * EACH {
                        goro::select! {
                            send(tx1, v) -> r => r.unwrap(),
                            send(tx2, v) -> r => r.unwrap(),
                        }
                    }
                })
            })
            .collect();
        drop((tx1, tx2));
        let mut receivers = Vec::new();
        for rx in [rx1, rx2] {
            for _ in 0..2 {
                let rx = rx.clone();
                receivers.push(rt.spawn(async move {
                    let mut got = Vec::new();
                    while let Ok(v) = rx.recv_async().await {
                        got.push(v);
                    }
                    got
                }));
            }
        }
        for s in senders {
            s.join().unwrap();
        }
        let mut seen: Vec<u64> = receivers
            .into_iter()
            .flat_map(|r| rt.block_on(r).unwrap())
            .collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..SENDERS * EACH).collect::<Vec<_>>(),
            "capacity {cap}"
        );
    }
}

#[test]
fn parked_selects_tasks_and_threads_receive_together() {
    let rt = multi_thread();
    for (kind, tx, rx) in channels::<u64>() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (_other_tx, other_rx) = chan::bounded::<u64>(0);
        let selecting = {
            let (rx, seen) = (rx.clone(), seen.clone());
            goro::go(move || loop {
                goro::select! {
                    recv(rx) -> v => match v {
                        Ok(v) => seen.lock().unwrap().push(v),
                        Err(_) => break,
                    },
                    recv(other_rx) -> _ => unreachable!(),
                }
            })
        };
        let task = {
            let (rx, seen) = (rx.clone(), seen.clone());
            rt.spawn(async move {
                while let Ok(v) = rx.recv_async().await {
                    seen.lock().unwrap().push(v);
                }
            })
        };
        let thread = {
            let (rx, seen) = (rx.clone(), seen.clone());
            std::thread::spawn(move || {
                for v in rx.iter() {
                    seen.lock().unwrap().push(v);
                }
            })
        };
        drop(rx);
        for i in 0..3000 {
            tx.send(i).unwrap();
        }
        drop(tx);
        selecting.join().unwrap();
        rt.block_on(task).unwrap();
        thread.join().unwrap();
        let mut seen = seen.lock().unwrap().clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..3000).collect::<Vec<_>>(), "{kind}");
    }
}

#[test]
fn a_dropped_receive_hands_its_value_back_in_order() {
    // Deterministic: a receive future waiting on an unbuffered channel is handed a value,
    // then dropped; the value goes back ahead of the ones sent after it.
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let (tx0, rx0) = chan::bounded::<u32>(0);
    let mut fut = rx0.recv_async();
    assert!(std::pin::Pin::new(&mut fut).poll(&mut cx).is_pending());
    tx0.try_send(1).unwrap();
    drop(fut);
    // Back in the channel, as if buffered: the next receive takes it.
    assert_eq!(rx0.len(), 1);
    assert_eq!(rx0.try_recv(), Ok(1));
    // On an unbounded channel, ahead of a value sent after it.
    let (tx, rx) = chan::unbounded::<u32>();
    let mut fut = rx.recv_async();
    assert!(std::pin::Pin::new(&mut fut).poll(&mut cx).is_pending());
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    drop(fut);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn a_dropped_notified_receive_passes_the_notification_on() {
    // Two receive futures wait on a buffered (lock-free) channel; a send notifies the
    // first, which is dropped without looking: the second must be woken.
    let (tx, rx) = chan::bounded::<u32>(4);
    let woken = Arc::new(AtomicUsize::new(0));
    struct Count(Arc<AtomicUsize>);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (w1, w2) = (
        std::task::Waker::from(Arc::new(Count(Arc::new(AtomicUsize::new(0))))),
        std::task::Waker::from(Arc::new(Count(woken.clone()))),
    );
    let mut f1 = rx.recv_async();
    let mut f2 = rx.recv_async();

    assert!(std::pin::Pin::new(&mut f1)
        .poll(&mut std::task::Context::from_waker(&w1))
        .is_pending());
    assert!(std::pin::Pin::new(&mut f2)
        .poll(&mut std::task::Context::from_waker(&w2))
        .is_pending());
    tx.send(7).unwrap();
    assert_eq!(woken.load(Ordering::SeqCst), 0);
    drop(f1);
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    assert_eq!(
        std::pin::Pin::new(&mut f2).poll(&mut std::task::Context::from_waker(&w2)),
        std::task::Poll::Ready(Ok(7))
    );
}
