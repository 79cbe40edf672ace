//! src/runtime/chan_test.go: TestChan (every capacity 0..=199), TestNonblockRecvRace,
//! TestMultiConsumer, TestChanSendInterface, the select tests (TestNonblockSelectRace(2),
//! TestSelfSelect, TestSelectStress, TestSelectFairness, TestPseudoRandomSend,
//! TestSelectDuplicateChannel), and channels of channels. Not applicable:
//! the stack-shrinking tests (TestShrinkStackDuringBlockedSend, TestNoShrinkStackWhileParking,
//! TestSelectStackAdjust), which test Go's garbage collector.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan::{self, RecvError, Sender, TryRecvError, TrySendError};
use goro::sync::WaitGroup;

use crate::support::{go_main, Counted};

/// Go's TestChan runs with `N = 200` capacities (20 with -short).
const CAPS: usize = 200;

/// Receive from an empty channel blocks; a non-blocking receive does not.
fn chan_recv_on_empty_blocks(cap: usize) {
    let (tx, rx) = chan::bounded::<i32>(cap);
    let recv1 = Arc::new(AtomicBool::new(false));
    let recv2 = Arc::new(AtomicBool::new(false));
    // Go: `_ = <-c` and `_, _ = <-c`.
    let h1 = {
        let (rx, recv1) = (rx.clone(), recv1.clone());
        goro::go(move || {
            let v = rx.recv();
            recv1.store(true, Ordering::SeqCst);
            v
        })
    };
    let h2 = {
        let (rx, recv2) = (rx.clone(), recv2.clone());
        goro::go(move || {
            let v = rx.recv();
            recv2.store(true, Ordering::SeqCst);
            v
        })
    };
    goro::sleep(Duration::from_millis(1));
    assert!(
        !recv1.load(Ordering::SeqCst) && !recv2.load(Ordering::SeqCst),
        "chan[{cap}]: receive from empty chan"
    );
    // Go: select { case _ = <-c: t.Fatal; default: } (twice, with `v` and `v, ok`).
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "chan[{cap}]");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "chan[{cap}]");
    // Go sends two zeros to release them; distinct values show each got exactly one.
    tx.send(10).unwrap();
    tx.send(20).unwrap();
    let mut got = [h1.join().unwrap().unwrap(), h2.join().unwrap().unwrap()];
    got.sort_unstable();
    assert_eq!(got, [10, 20], "chan[{cap}]");
    assert!(recv1.load(Ordering::SeqCst) && recv2.load(Ordering::SeqCst));
}

/// Send to a full channel blocks; a non-blocking send does not.
fn chan_send_on_full_blocks(cap: usize) {
    let (tx, rx) = chan::bounded::<i32>(cap);
    for i in 0..cap as i32 {
        tx.send(i).unwrap();
    }
    assert_eq!(tx.len(), cap);
    let sent = Arc::new(AtomicBool::new(false));
    let h = {
        let (tx, sent) = (tx.clone(), sent.clone());
        goro::go(move || {
            tx.send(-1).unwrap();
            sent.store(true, Ordering::SeqCst);
        })
    };
    goro::sleep(Duration::from_millis(1));
    assert!(
        !sent.load(Ordering::SeqCst),
        "chan[{cap}]: send to full chan"
    );
    // Go: select { case c <- 0: t.Fatal; default: }. The value comes back.
    assert_eq!(tx.try_send(7), Err(TrySendError::Full(7)), "chan[{cap}]");
    // Go: `<-c` releases the blocked sender.
    let first = rx.recv().unwrap();
    h.join().unwrap();
    assert!(sent.load(Ordering::SeqCst));
    if cap == 0 {
        assert_eq!(first, -1, "chan[0]: the blocked sender's value");
        assert_eq!(tx.len(), 0);
    } else {
        // The oldest buffered value first; the blocked sender's value moved in behind.
        assert_eq!(first, 0, "chan[{cap}]");
        let rest: Vec<i32> = rx.try_iter().collect();
        let want: Vec<i32> = (1..cap as i32).chain([-1]).collect();
        assert_eq!(rest, want, "chan[{cap}]: FIFO after a blocked send");
    }
}

/// After filling and closing: the buffered values in order, then (0, false) forever.
fn chan_close_then_drain(cap: usize) {
    let (tx, rx) = chan::bounded::<i32>(cap);
    for i in 0..cap as i32 {
        tx.send(i).unwrap();
    }
    assert!(tx.close());
    for i in 0..cap as i32 {
        assert_eq!(rx.recv(), Ok(i), "chan[{cap}]");
    }
    // Go: `v := <-c` gives 0, then `v, ok := <-c` gives (0, false).
    assert_eq!(rx.recv(), Err(RecvError), "chan[{cap}]");
    assert_eq!(rx.recv(), Err(RecvError), "chan[{cap}]");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "chan[{cap}]");
}

/// Close unblocks a parked receiver, which sees (0, false).
fn chan_close_unblocks_recv(cap: usize) {
    let (tx, rx) = chan::bounded::<i32>(cap);
    let (done_tx, done) = chan::bounded::<bool>(0);
    let h = goro::go(move || {
        let r = rx.recv();
        done_tx.send(r == Err(RecvError)).unwrap();
    });
    goro::sleep(Duration::from_millis(1));
    assert!(tx.close());
    assert!(
        done.recv().unwrap(),
        "chan[{cap}]: received non zero from closed chan"
    );
    h.join().unwrap();
}

/// 100 integers arrive uncorrupted and in FIFO order, received with `v` and with `v, ok`.
fn chan_fifo_100(cap: usize) {
    let (tx, rx) = chan::bounded::<i32>(cap);
    let sender = |tx: Sender<i32>| {
        goro::go(move || {
            for i in 0..100 {
                tx.send(i).unwrap();
            }
        })
    };
    let h = sender(tx.clone());
    for i in 0..100 {
        let v = rx.recv().unwrap();
        assert_eq!(v, i, "chan[{cap}]");
    }
    h.join().unwrap();
    // Same, with `v, ok := <-c` (recv's Result carries `ok`).
    let h = sender(tx);
    for i in 0..100 {
        match rx.recv() {
            Ok(v) => assert_eq!(v, i, "chan[{cap}]"),
            Err(RecvError) => panic!("chan[{cap}]: receive failed, expected {i}"),
        }
    }
    h.join().unwrap();
    // The last Sender is gone: closed.
    assert_eq!(rx.recv(), Err(RecvError));
}

/// 4 goroutines send 0..1000 each, 4 goroutines receive 1000 each: every value arrives
/// exactly 4 times.
fn chan_multi_sender_receiver(cap: usize) {
    const P: usize = 4;
    const L: i32 = 1000;
    let (tx, rx) = chan::bounded::<i32>(cap);
    for _ in 0..P {
        let tx = tx.clone();
        goro::go(move || {
            for i in 0..L {
                tx.send(i).unwrap();
            }
        });
    }
    let (done_tx, done) = chan::bounded::<HashMap<i32, usize>>(0);
    for _ in 0..P {
        let (rx, done_tx) = (rx.clone(), done_tx.clone());
        goro::go(move || {
            let mut recv = HashMap::new();
            for _ in 0..L {
                let v = rx.recv().unwrap();
                *recv.entry(v).or_insert(0) += 1;
            }
            done_tx.send(recv).unwrap();
        });
    }
    let mut recv: HashMap<i32, usize> = HashMap::new();
    for _ in 0..P {
        for (k, v) in done.recv().unwrap() {
            *recv.entry(k).or_insert(0) += v;
        }
    }
    assert_eq!(recv.len(), L as usize, "chan[{cap}]: distinct values");
    for (k, v) in recv {
        assert_eq!(v, P, "chan[{cap}]: value {k} received {v} times");
    }
    assert_eq!(rx.len(), 0);
}

/// len/cap, empty and full.
fn chan_len_cap(cap: usize) {
    let (tx, rx) = chan::bounded::<i32>(cap);
    assert_eq!((rx.len(), rx.capacity()), (0, Some(cap)), "chan[{cap}]");
    for i in 0..cap as i32 {
        tx.send(i).unwrap();
    }
    assert_eq!((tx.len(), tx.capacity()), (cap, Some(cap)), "chan[{cap}]");
    assert_eq!((rx.len(), rx.capacity()), (cap, Some(cap)), "chan[{cap}]");
}

#[test]
fn test_chan() {
    go_main("TestChan", || {
        for cap in 0..CAPS {
            chan_recv_on_empty_blocks(cap);
            chan_send_on_full_blocks(cap);
            chan_close_then_drain(cap);
            chan_close_unblocks_recv(cap);
            chan_fifo_100(cap);
            chan_multi_sender_receiver(cap);
            chan_len_cap(cap);
        }
    });
}

/// TestNonblockRecvRace (10000 iterations): a cap-1 channel holds a value; a goroutine's
/// non-blocking receive must not find it empty while main concurrently closes and receives.
#[test]
fn test_nonblock_recv_race() {
    go_main("TestNonblockRecvRace", || {
        for i in 0..10_000 {
            let (tx, rx) = chan::bounded::<i32>(1);
            tx.send(1).unwrap();
            let h = {
                let rx = rx.clone();
                goro::go(move || rx.try_recv())
            };
            assert!(tx.close());
            let main_got = rx.recv();
            let g_got = h.join().unwrap();
            assert_ne!(
                g_got,
                Err(TryRecvError::Empty),
                "iteration {i}: chan is not ready"
            );
            // The one value went to exactly one of them; the other saw the channel closed.
            match (main_got, g_got) {
                (Ok(1), Err(TryRecvError::Closed)) | (Err(RecvError), Ok(1)) => {}
                other => panic!("iteration {i}: {other:?}"),
            }
        }
    });
}

/// TestMultiConsumer: 23 workers range over a work channel (cap 69) and forward into a result
/// channel (cap 69); a feeder sends 271828 values cycling through `PN`, closes the work
/// channel, waits for the workers, closes the results. Count and sum must match.
#[test]
fn test_multi_consumer() {
    const NWORK: usize = 23;
    const NITER: usize = 271_828;
    const PN: [u64; 10] = [2, 3, 7, 11, 13, 17, 19, 23, 27, 31];
    go_main("TestMultiConsumer", || {
        let (q_tx, q) = chan::bounded::<u64>(NWORK * 3);
        let (r_tx, r) = chan::bounded::<u64>(NWORK * 3);
        let wg = WaitGroup::new();
        for w in 0..NWORK {
            wg.add(1);
            let (q, r_tx, wg) = (q.clone(), r_tx.clone(), wg.clone());
            goro::go(move || {
                for v in &q {
                    // Mess with the FIFO-ish nature of range.
                    if PN[w % PN.len()] == v {
                        goro::yield_now();
                    }
                    r_tx.send(v).unwrap();
                }
                wg.done();
            });
        }
        drop(q);
        // Feeder and closer. `r_tx` is cloned by the workers; close() closes for all.
        let feeder = goro::go(move || {
            let mut expect = 0;
            for i in 0..NITER {
                let v = PN[i % PN.len()];
                expect += v;
                q_tx.send(v).unwrap();
            }
            assert!(q_tx.close()); // no more work
            wg.wait(); // workers done
            assert!(r_tx.close()); // so there can be no more results
            expect
        });
        let (mut n, mut s) = (0, 0);
        for v in &r {
            n += 1;
            s += v;
        }
        let expect = feeder.join().unwrap();
        assert_eq!(expect, 4_158_941);
        assert_eq!((n, s), (NITER, expect));
    });
}

trait Message: Any + Send {
    fn id(&self) -> usize;
    fn as_any(&self) -> &dyn Any;
}

#[derive(Debug, PartialEq)]
struct Mt(usize);

impl Message for Mt {
    fn id(&self) -> usize {
        self.0
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct Other(String);

impl Message for Other {
    fn id(&self) -> usize {
        self.0.len()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A message that counts its drops.
impl Message for Counted {
    fn id(&self) -> usize {
        usize::MAX
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// TestChanSendInterface: interface values (here boxed trait objects) through a cap-1
/// channel; a non-blocking send on the full channel (`try_send`) takes the default and hands
/// the value back; Go's real select of two send cases and a default, on the full channel,
/// takes the default and drops both values unsent.
#[test]
fn test_chan_send_interface() {
    go_main("TestChanSendInterface", || {
        let (tx, rx) = chan::bounded::<Box<dyn Message>>(1);
        tx.send(Box::new(Mt(1))).unwrap();
        // Go: select { case c <- m: default: }
        let back = match tx.try_send(Box::new(Mt(2))) {
            Err(TrySendError::Full(b)) => b,
            other => panic!("send on a full chan: {other:?}"),
        };
        assert_eq!(back.as_any().downcast_ref::<Mt>(), Some(&Mt(2)));
        // Go: select { case c <- m: case c <- &mt{}: default: }, a real 2-send-case select:
        // the chan is full, so the default runs and neither value is sent (both dropped).
        let dropped = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            let chosen = goro::select! {
                send(tx, Box::new(Counted(dropped.clone())) as Box<dyn Message>) -> _r => "first",
                send(tx, Box::new(Other("xyz".into())) as Box<dyn Message>) -> _r => "second",
                default => "default",
            };
            assert_eq!(chosen, "default");
        }
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            100,
            "unsent values are dropped"
        );
        assert_eq!(tx.len(), 1);
        drop(back);
        // What is in the channel is the first value, intact.
        let m = rx.recv().unwrap();
        assert_eq!(m.as_any().downcast_ref::<Mt>(), Some(&Mt(1)));
        // Across goroutines, each trait object arrives as sent.
        let h = goro::go(move || {
            for i in 0..1000 {
                let m: Box<dyn Message> = if i % 2 == 0 {
                    Box::new(Mt(i))
                } else {
                    Box::new(Other("x".repeat(i)))
                };
                tx.send(m).unwrap();
            }
        });
        for (i, m) in rx.iter().enumerate() {
            assert_eq!(m.id(), i);
            assert_eq!(m.as_any().is::<Mt>(), i % 2 == 0);
        }
        h.join().unwrap();
    });
}

/// Channels of channels: each request carries its own reply channel (Go's classic server
/// pattern; chan_test.go's barrier tests send results through per-request channels). 100
/// clients × 100 requests to one server goroutine over an unbuffered request channel.
#[test]
fn chan_of_chans_request_reply() {
    go_main("chan of chans", || {
        let (req_tx, req) = chan::bounded::<(u64, Sender<u64>)>(0);
        let server = goro::go(move || {
            let mut served = 0;
            for (x, reply) in &req {
                reply.send(x * x).unwrap();
                served += 1;
            }
            served
        });
        let wg = WaitGroup::new();
        for c in 0..100u64 {
            let req_tx = req_tx.clone();
            wg.go(move || {
                // Each client has one reply channel, reused for all its requests.
                let (reply_tx, reply) = chan::bounded(0);
                for i in 0..100 {
                    let x = c * 100 + i;
                    req_tx.send((x, reply_tx.clone())).unwrap();
                    assert_eq!(reply.recv(), Ok(x * x));
                }
            });
        }
        wg.wait();
        drop(req_tx);
        assert_eq!(server.join().unwrap(), 100 * 100);
    });
}

/// The memory model's rule for buffered channels (go.dev/ref/mem): the k-th receive on a
/// channel of capacity C happens before the (k+C)-th send completes, which makes a buffered
/// channel a counting semaphore. 200 goroutines acquire (send) and release (receive) a cap-3
/// channel around a critical section: never more than 3 inside at once.
#[test]
fn buffered_chan_as_semaphore() {
    use std::sync::atomic::AtomicUsize;
    const C: usize = 3;
    go_main("semaphore", || {
        let (acquire, release) = chan::bounded::<()>(C);
        let inside = Arc::new(AtomicUsize::new(0));
        let max_inside = Arc::new(AtomicUsize::new(0));
        let wg = WaitGroup::new();
        for _ in 0..200 {
            let (acquire, release) = (acquire.clone(), release.clone());
            let (inside, max_inside) = (inside.clone(), max_inside.clone());
            wg.go(move || {
                for _ in 0..50 {
                    acquire.send(()).unwrap();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    max_inside.fetch_max(now, Ordering::SeqCst);
                    goro::yield_now();
                    inside.fetch_sub(1, Ordering::SeqCst);
                    release.recv().unwrap();
                }
            });
        }
        wg.wait();
        let max = max_inside.load(Ordering::SeqCst);
        assert!((1..=C).contains(&max), "{max} goroutines inside at once");
        assert_eq!(acquire.len(), 0);
    });
}

// ---- The select tests of chan_test.go, with `goro::select!`. ----

/// TestNonblockSelectRace (and Race2, where c2 is closed instead of sent to): a select acts on
/// one snapshot. c1 holds a value; a goroutine's non-blocking select on c1 and c2 must not take
/// the default while main makes c2 ready and then drains c1 non-blockingly. 100,000 times.
fn nonblock_select_race(close_c2: bool) {
    const N: usize = 100_000;
    let (done_tx, done) = goro::chan::bounded::<bool>(1);
    for _ in 0..N {
        let (c1_tx, c1) = goro::chan::bounded::<i32>(1);
        let (c2_tx, c2) = goro::chan::bounded::<i32>(1);
        c1_tx.send(1).unwrap();
        let done_tx = done_tx.clone();
        let (c1g, c2g) = (c1.clone(), c2.clone());
        goro::go(move || {
            let ok = goro::select! {
                recv(c1g) -> _v => true,
                recv(c2g) -> _v => true,
                default => false,
            };
            done_tx.send(ok).unwrap();
        });
        if close_c2 {
            c2_tx.close();
        } else {
            c2_tx.send(1).unwrap();
        }
        goro::select! {
            recv(c1) -> _v => {}
            default => {}
        }
        assert!(done.recv().unwrap(), "no chan is ready");
        drop(c2);
    }
}

#[test]
fn test_nonblock_select_race() {
    go_main("TestNonblockSelectRace", || nonblock_select_race(false));
}

#[test]
fn test_nonblock_select_race2() {
    go_main("TestNonblockSelectRace2", || nonblock_select_race(true));
}

/// TestSelfSelect: for capacities 0 and 10, two goroutines each run 1,000 selects having both
/// `c <- p` and `<-c` (in either order). No deadlock; unbuffered, a goroutine never receives
/// its own value.
#[test]
fn test_self_select() {
    go_main("TestSelfSelect", || {
        for cap in [0usize, 10] {
            let (tx, rx) = goro::chan::bounded::<usize>(cap);
            let wg = goro::sync::WaitGroup::new();
            for p in 0..2usize {
                let (tx, rx) = (tx.clone(), rx.clone());
                wg.go(move || {
                    for i in 0..1000 {
                        if p == 0 || i % 2 == 0 {
                            goro::select! {
                                send(tx, p) -> r => r.unwrap(),
                                recv(rx) -> v => {
                                    let v = v.unwrap();
                                    assert!(!(cap == 0 && v == p), "self receive {v}, cap {cap}");
                                }
                            }
                        } else {
                            goro::select! {
                                recv(rx) -> v => {
                                    let v = v.unwrap();
                                    assert!(!(cap == 0 && v == p), "self receive {v}, cap {cap}");
                                }
                                send(tx, p) -> r => r.unwrap(),
                            }
                        }
                    }
                });
            }
            wg.wait();
        }
    });
}

/// TestSelectStress: channels with capacities 0, 0, 2, 3; on each, a plain sender and a plain
/// receiver of N values; one goroutine sends N on each through one 4-case select, another
/// receives N from each through one 4-case select, finished cases set to nil. N = 100,000 as
/// in Go. Must terminate; every channel carries exactly 2N values.
#[test]
fn test_select_stress() {
    go_main("TestSelectStress", || {
        const N: usize = 100_000;
        let caps = [0usize, 0, 2, 3];
        let chans: Vec<_> = caps
            .iter()
            .map(|&c| goro::chan::bounded::<usize>(c))
            .collect();
        let wg = goro::sync::WaitGroup::new();
        let received = std::sync::Arc::new(AtomicUsize::new(0));
        for (tx, rx) in &chans {
            let tx = tx.clone();
            wg.go(move || {
                for i in 0..N {
                    tx.send(i).unwrap();
                }
            });
            let (rx, received) = (rx.clone(), received.clone());
            wg.go(move || {
                for _ in 0..N {
                    rx.recv().unwrap();
                    received.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        {
            let txs: Vec<_> = chans.iter().map(|(tx, _)| tx.clone()).collect();
            wg.go(move || {
                let mut n = [0usize; 4];
                let mut c: Vec<Option<&goro::chan::Sender<usize>>> = txs.iter().map(Some).collect();
                while c.iter().any(Option::is_some) {
                    let k = goro::select! {
                        send(c[3], 0) -> r => { r.unwrap(); 3 }
                        send(c[2], 0) -> r => { r.unwrap(); 2 }
                        send(c[0], 0) -> r => { r.unwrap(); 0 }
                        send(c[1], 0) -> r => { r.unwrap(); 1 }
                    };
                    n[k] += 1;
                    if n[k] == N {
                        c[k] = None;
                    }
                }
            });
        }
        {
            let rxs: Vec<_> = chans.iter().map(|(_, rx)| rx.clone()).collect();
            let received = received.clone();
            wg.go(move || {
                let mut n = [0usize; 4];
                let mut c: Vec<Option<&goro::chan::Receiver<usize>>> =
                    rxs.iter().map(Some).collect();
                while c.iter().any(Option::is_some) {
                    let k = goro::select! {
                        recv(c[0]) -> v => { v.unwrap(); 0 }
                        recv(c[3]) -> v => { v.unwrap(); 3 }
                        recv(c[1]) -> v => { v.unwrap(); 1 }
                        recv(c[2]) -> v => { v.unwrap(); 2 }
                    };
                    received.fetch_add(1, Ordering::Relaxed);
                    n[k] += 1;
                    if n[k] == N {
                        c[k] = None;
                    }
                }
            });
        }
        wg.wait();
        assert_eq!(received.load(Ordering::Relaxed), 8 * N);
        assert!(chans.iter().all(|(_, rx)| rx.is_empty()));
    });
}

/// TestSelectFairness: c1 and c2 each hold 10,001 values (1s and 2s), c3 and c4 are never
/// ready; a goroutine loops a 4-case receive select and forwards what it got. Over 10,000
/// trials the count of 1s must be within 10σ of 5,000 (σ = 50): a uniform choice.
#[test]
fn test_select_fairness() {
    go_main("TestSelectFairness", || {
        const TRIALS: usize = 10_000;
        let (c1_tx, c1) = goro::chan::bounded::<u8>(TRIALS + 1);
        let (c2_tx, c2) = goro::chan::bounded::<u8>(TRIALS + 1);
        for _ in 0..=TRIALS {
            c1_tx.send(1).unwrap();
            c2_tx.send(2).unwrap();
        }
        let (_c3_tx, c3) = goro::chan::bounded::<u8>(0);
        let (_c4_tx, c4) = goro::chan::bounded::<u8>(0);
        let (out_tx, out) = goro::chan::bounded::<u8>(0);
        let (done_tx, done) = goro::chan::bounded::<()>(0);
        let h = goro::go(move || loop {
            let b = goro::select! {
                recv(c3) -> _v => panic!("c3"),
                recv(c4) -> _v => panic!("c4"),
                recv(c1) -> v => v.unwrap(),
                recv(c2) -> v => v.unwrap(),
            };
            goro::select! {
                send(out_tx, b) -> r => r.unwrap(),
                recv(done) -> _v => return,
            }
        });
        let mut cnt1 = 0usize;
        for _ in 0..TRIALS {
            match out.recv().unwrap() {
                1 => cnt1 += 1,
                2 => {}
                b => panic!("unexpected value {b}"),
            }
        }
        drop(done_tx);
        h.join().unwrap();
        let dev = (cnt1 as f64 - TRIALS as f64 / 2.0).abs();
        let sigma = (TRIALS as f64 * 0.25).sqrt();
        assert!(
            dev <= 10.0 * sigma,
            "unfair select: {cnt1} ones of {TRIALS}"
        );
    });
}

/// TestPseudoRandomSend: for capacities 0 and 100, 100 selects `{c <- 1; c <- 0}`; the
/// receiver records the values; both 0s and 1s must be more than 10%.
#[test]
fn test_pseudo_random_send() {
    go_main("TestPseudoRandomSend", || {
        const N: usize = 100;
        for cap in [0usize, N] {
            let (tx, rx) = goro::chan::bounded::<usize>(cap);
            let h = goro::go(move || (0..N).map(|_| rx.recv().unwrap()).collect::<Vec<_>>());
            for _ in 0..N {
                goro::select! {
                    send(tx, 1) -> r => r.unwrap(),
                    send(tx, 0) -> r => r.unwrap(),
                }
            }
            let l = h.join().unwrap();
            let n1 = l.iter().filter(|&&v| v == 1).count();
            let n0 = N - n1;
            assert!(
                n0 > N / 10 && n1 > N / 10,
                "want pseudorandom, got {n0} zeros and {n1} ones (chan cap {cap})"
            );
        }
    });
}

/// TestSelectDuplicateChannel: goroutine A selects on `<-c`, `<-c`, `<-d` (c twice); B blocks
/// on `<-c`; `d <- 7` wakes A; then `c <- 8` must wake B (c's queue not corrupted by A's two
/// waiters). Go sleeps to let A and B park; so does this port (not a timing assertion).
#[test]
fn test_select_duplicate_channel() {
    go_main("TestSelectDuplicateChannel", || {
        let (c_tx, c) = goro::chan::bounded::<i32>(0);
        let (d_tx, d) = goro::chan::bounded::<i32>(0);
        let (e_tx, e) = goro::chan::bounded::<i32>(0);
        let ca = c.clone();
        let a = goro::go(move || {
            goro::select! {
                recv(ca) -> _v => panic!("A got c"),
                recv(ca) -> _v => panic!("A got c"),
                recv(d) -> v => assert_eq!(v, Ok(7)),
            }
            e_tx.send(9).unwrap();
        });
        goro::sleep(Duration::from_millis(1)); // A waits on c
        let b = goro::go(move || c.recv().unwrap());
        goro::sleep(Duration::from_millis(1)); // B waits on c
        d_tx.send(7).unwrap(); // wake A
        assert_eq!(e.recv(), Ok(9)); // A is gone
        c_tx.send(8).unwrap(); // wake B
        assert_eq!(b.join().unwrap(), 8);
        a.join().unwrap();
    });
}

/// BenchmarkChanPopular's shape, as a test: 1,000 goroutines each select on a shared `c`
/// (never ready) and their own `d`; main sends on every `d`, 100 rounds. Every goroutine gets
/// its 100 values; c's waiter queue is linked and unlinked 100,000 times.
#[test]
fn test_chan_popular() {
    go_main("ChanPopular", || {
        const N: usize = 1000;
        const ROUNDS: usize = 100;
        let (_c_tx, c) = goro::chan::bounded::<bool>(0);
        let wg = goro::sync::WaitGroup::new();
        let mut a = Vec::new();
        for _ in 0..N {
            let (d_tx, d) = goro::chan::bounded::<bool>(0);
            a.push(d_tx);
            let c = c.clone();
            wg.go(move || {
                for _ in 0..ROUNDS {
                    goro::select! {
                        recv(c) -> _v => panic!("c is never ready"),
                        recv(d) -> v => assert_eq!(v, Ok(true)),
                    }
                }
            });
        }
        for _ in 0..ROUNDS {
            for d in &a {
                d.send(true).unwrap();
            }
        }
        wg.wait();
    });
}
