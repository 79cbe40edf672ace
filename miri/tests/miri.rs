//! Channels, `select!` and `goro::sync` from plain OS threads only: the test set that CI runs
//! under Miri (`cargo +nightly miri test -p goro-miri --test miri`, or `bash .ci/miri`; see
//! the README). Miri checks the hand-overs between a blocked operation and its waker against
//! Rust's aliasing rules (Stacked and Tree Borrows) and for data races: a waiter may free
//! itself as soon as it observes completion, so a waker must not hold a reference to it
//! across the store that completes it (`rt::park`'s docs).
//!
//! No goroutine is started here: the runtime's stack switching cannot run under Miri, and a
//! plain thread's channel operation must not need it (under Miri, starting the runtime
//! panics). Iteration counts are small under Miri, where every operation is interpreted; the
//! same tests run with larger counts in the ordinary `cargo test`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use goro::chan::{self, Receiver, RecvError, RecvTimeoutError, SendError, Sender};

/// Values each sender sends in the MPMC tests.
const PER_SENDER: u32 = if cfg!(miri) { 12 } else { 2_000 };

/// Two senders and two receivers moving boxed values (so that a value handed over twice or
/// dropped under its receiver is a use-after-free Miri reports) through one channel.
fn two_by_two(tx: Sender<Box<u32>>, rx: Receiver<Box<u32>>) {
    let senders: Vec<_> = (0..2u32)
        .map(|s| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..PER_SENDER {
                    tx.send(Box::new(s * PER_SENDER + i)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let receivers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || rx.iter().map(|b| *b).collect::<Vec<u32>>())
        })
        .collect();
    drop(rx);
    for s in senders {
        s.join().unwrap();
    }
    let mut got: Vec<u32> = receivers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    got.sort_unstable();
    let want: Vec<u32> = (0..2 * PER_SENDER).collect();
    assert_eq!(got, want, "every value received exactly once");
}

#[test]
fn two_senders_two_receivers_unbuffered() {
    let (tx, rx) = chan::bounded(0);
    two_by_two(tx, rx);
}

#[test]
fn two_senders_two_receivers_capacity_1() {
    let (tx, rx) = chan::bounded(1);
    two_by_two(tx, rx);
}

#[test]
fn two_senders_two_receivers_capacity_4() {
    let (tx, rx) = chan::bounded(4);
    two_by_two(tx, rx);
}

#[test]
fn two_senders_two_receivers_unbounded() {
    let (tx, rx) = chan::unbounded();
    two_by_two(tx, rx);
}

/// Two threads select over three channels of each flavour (unbuffered, lock-free ring,
/// unbounded) while one sender feeds each: blocked selects are completed by wakers of
/// several channels, and their losing waiters unlinked.
#[test]
fn select_over_several_channels() {
    let (t0, r0) = chan::bounded::<Box<u32>>(0);
    let (t1, r1) = chan::bounded::<Box<u32>>(2);
    let (t2, r2) = chan::unbounded::<Box<u32>>();
    let senders: Vec<_> = [t0, t1, t2]
        .into_iter()
        .enumerate()
        .map(|(c, tx)| {
            thread::spawn(move || {
                for i in 0..PER_SENDER {
                    tx.send(Box::new(c as u32 * PER_SENDER + i)).unwrap();
                }
            })
        })
        .collect();
    let selectors: Vec<_> = (0..2)
        .map(|_| {
            let (r0, r1, r2) = (r0.clone(), r1.clone(), r2.clone());
            thread::spawn(move || {
                let mut got = Vec::new();
                let (mut a, mut b, mut c) = (Some(&r0), Some(&r1), Some(&r2));
                while a.is_some() || b.is_some() || c.is_some() {
                    goro::select! {
                        recv(a) -> v => match v { Ok(x) => got.push(*x), Err(_) => a = None },
                        recv(b) -> v => match v { Ok(x) => got.push(*x), Err(_) => b = None },
                        recv(c) -> v => match v { Ok(x) => got.push(*x), Err(_) => c = None },
                    }
                }
                got
            })
        })
        .collect();
    drop((r0, r1, r2));
    for s in senders {
        s.join().unwrap();
    }
    let mut got: Vec<u32> = selectors
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    got.sort_unstable();
    let want: Vec<u32> = (0..3 * PER_SENDER).collect();
    assert_eq!(got, want);
}

/// Send cases on blocked selects: two threads each offer a value on two channels at once;
/// exactly one case of each select takes effect, and the losing value is dropped.
#[test]
fn select_send_cases() {
    let rounds = if cfg!(miri) { 6 } else { 500 };
    let (ta, ra) = chan::bounded::<Box<u32>>(0);
    let (tb, rb) = chan::bounded::<Box<u32>>(1);
    let offerers: Vec<_> = (0..2)
        .map(|_| {
            let (ta, tb) = (ta.clone(), tb.clone());
            thread::spawn(move || {
                for i in 0..rounds {
                    goro::select! {
                        send(ta, Box::new(i)) -> r => r.unwrap(),
                        send(tb, Box::new(i)) -> r => r.unwrap(),
                    }
                }
            })
        })
        .collect();
    drop((ta, tb));
    let taker = thread::spawn(move || {
        let mut n = 0;
        let (mut a, mut b) = (Some(&ra), Some(&rb));
        while a.is_some() || b.is_some() {
            goro::select! {
                recv(a) -> v => match v { Ok(_) => n += 1, Err(_) => a = None },
                recv(b) -> v => match v { Ok(_) => n += 1, Err(_) => b = None },
            }
        }
        n
    });
    for o in offerers {
        o.join().unwrap();
    }
    assert_eq!(taker.join().unwrap(), 2 * rounds);
}

/// A select that times out while wakers are busy on its channels: the deadline claims the
/// select's token, or a waker does first; either way exactly one outcome holds.
#[test]
fn select_with_timeout_races_a_sender() {
    let rounds = if cfg!(miri) { 6 } else { 200 };
    let (tx, rx) = chan::bounded::<Box<u32>>(0);
    let (_keep, idle) = chan::bounded::<Box<u32>>(0);
    let sender = thread::spawn(move || {
        let mut sent = 0;
        for i in 0..rounds {
            if tx
                .send_timeout(Box::new(i), Duration::from_micros(50))
                .is_ok()
            {
                sent += 1;
            }
        }
        sent
    });
    let mut got = 0;
    for _ in 0..2 * rounds {
        goro::select! {
            recv(rx) -> v => { if v.is_ok() { got += 1 } },
            recv(idle) -> _v => unreachable!("nobody sends on it"),
            default(Duration::from_micros(50)) => {},
        }
    }
    // Whatever the sender still offers after our last select times out, unreceived.
    let sent = sender.join().unwrap();
    assert_eq!(
        got, sent,
        "a send succeeds exactly when its value is received"
    );
}

/// Blocked receivers and senders (plain and in selects) of every flavour are woken by a
/// close: receivers fail, senders get their values back.
#[test]
fn close_while_blocked() {
    for cap in [0, 1, 4] {
        let (tx, rx) = chan::bounded::<Box<u32>>(cap);
        let blocked = Arc::new(AtomicUsize::new(0));
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || rx.recv())
            })
            .collect();
        let (_never_tx, never) = chan::bounded::<Box<u32>>(0);
        let selector = {
            let rx = rx.clone();
            thread::spawn(move || {
                goro::select! {
                    recv(rx) -> v => v.map(|b| *b),
                    recv(never) -> _v => unreachable!("nobody sends on it"),
                }
            })
        };
        // Let the receivers block first (or not: a close before they wait fails them too).
        wait_a_little();
        tx.close();
        for r in receivers {
            assert_eq!(r.join().unwrap(), Err(RecvError));
        }
        assert_eq!(selector.join().unwrap(), Err(RecvError));

        // Senders blocked on a full channel, then closed by a receiver-side handle.
        let (tx, rx) = chan::bounded::<Box<u32>>(cap);
        for i in 0..cap as u32 {
            tx.send(Box::new(i)).unwrap();
        }
        let senders: Vec<_> = (0..2u32)
            .map(|i| {
                let (tx, blocked) = (tx.clone(), blocked.clone());
                thread::spawn(move || {
                    blocked.fetch_add(1, Ordering::Relaxed);
                    tx.send(Box::new(100 + i))
                })
            })
            .collect();
        let select_sender = {
            let tx = tx.clone();
            thread::spawn(move || {
                goro::select! {
                    send(tx, Box::new(200)) -> r => r.map_err(|SendError(b)| *b),
                    recv(never_rx()) -> _v => unreachable!("never ready"),
                }
            })
        };
        while blocked.load(Ordering::Relaxed) < 2 {
            thread::yield_now();
        }
        wait_a_little();
        tx.close();
        for (i, s) in senders.into_iter().enumerate() {
            match s.join().unwrap() {
                Err(SendError(b)) => assert_eq!(*b, 100 + i as u32),
                Ok(()) => panic!("nobody received, so no send on a full channel succeeds"),
            }
        }
        assert_eq!(select_sender.join().unwrap(), Err(200));
        // What was buffered before the close is still received, then the channel is done.
        let drained: Vec<u32> = rx.iter().map(|b| *b).collect();
        assert_eq!(drained, (0..cap as u32).collect::<Vec<_>>());
    }
}

fn never_rx() -> Receiver<Box<u32>> {
    chan::never()
}

/// Gives blocked threads a chance to reach their wait (only for coverage: the tests are
/// correct whether or not they do).
fn wait_a_little() {
    for _ in 0..if cfg!(miri) { 20 } else { 1_000 } {
        thread::yield_now();
    }
}

/// Receives with a timeout against a sender: a waiter that times out unlinks itself, and
/// one that finds itself already unlinked waits for the state its waker publishes.
#[test]
fn timeouts_race_wakers() {
    let rounds = if cfg!(miri) { 8 } else { 500 };
    for cap in [0, 2] {
        let (tx, rx) = chan::bounded::<Box<u32>>(cap);
        let sender = thread::spawn(move || {
            for i in 0..rounds {
                tx.send(Box::new(i)).unwrap();
            }
        });
        let mut got = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_micros(20)) {
                Ok(v) => got.push(*v),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Closed) => break,
            }
        }
        sender.join().unwrap();
        assert_eq!(got, (0..rounds).collect::<Vec<_>>());
    }
}

/// `goro::sync` from plain threads: each primitive's waiters block their threads and are
/// woken through the same hand-over as a goroutine's.
#[test]
fn sync_primitives_from_threads() {
    use goro::sync::{Cond, Mutex, Once, RwLock, Semaphore, WaitGroup};

    let rounds = if cfg!(miri) { 10 } else { 1_000 };
    let threads = 3;

    // Mutex and WaitGroup.
    let m = Arc::new(Mutex::new(Box::new(0usize)));
    let wg = WaitGroup::new();
    wg.add(threads);
    for _ in 0..threads {
        let (m, wg) = (m.clone(), wg.clone());
        thread::spawn(move || {
            for _ in 0..rounds {
                **m.lock() += 1;
            }
            wg.done();
        });
    }
    wg.wait();
    assert_eq!(**m.lock(), threads * rounds);

    // RwLock: writers and readers.
    let l = Arc::new(RwLock::new(Box::new(0usize)));
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let l = l.clone();
            thread::spawn(move || {
                for _ in 0..rounds {
                    if t == 0 {
                        let r = l.read();
                        assert!(**r <= (threads - 1) * rounds);
                    } else {
                        **l.write() += 1;
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(**l.read(), (threads - 1) * rounds);

    // Cond: a thread waits for a flag set by another.
    let pair = Arc::new((Mutex::new(false), Cond::new()));
    let waiter = {
        let pair = pair.clone();
        thread::spawn(move || {
            let (flag, cond) = &*pair;
            drop(cond.wait_while(flag.lock(), |set| !*set));
        })
    };
    wait_a_little();
    {
        let (flag, cond) = &*pair;
        *flag.lock() = true;
        cond.broadcast();
    }
    waiter.join().unwrap();

    // Once: concurrent callers run the function once and all return after it.
    let once = Arc::new(Once::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let (once, runs) = (once.clone(), runs.clone());
            thread::spawn(move || {
                once.call_once(|| {
                    runs.fetch_add(1, Ordering::Relaxed);
                });
                assert!(once.is_completed());
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(runs.load(Ordering::Relaxed), 1);

    // Semaphore: at most `size` holders at once; one acquirer gives up through a context.
    let sem = Arc::new(Semaphore::new(2));
    let held = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let (sem, held) = (sem.clone(), held.clone());
            thread::spawn(move || {
                for _ in 0..rounds {
                    let _permit = sem.acquire(1);
                    assert!(held.fetch_add(1, Ordering::SeqCst) < 2);
                    held.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let all = sem.acquire(2);
    let (ctx, cancel) = goro::context::background().with_cancel();
    let blocked = {
        let sem = sem.clone();
        thread::spawn(move || sem.acquire_ctx(&ctx, 1).is_err())
    };
    wait_a_little();
    cancel();
    assert!(blocked.join().unwrap());
    drop(all);
    assert!(sem.try_acquire(2).is_some());
}

/// A waker that counts its wake-ups (for polling futures by hand).
struct CountingWaker(AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, std::task::Waker) {
    let c = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (c.clone(), std::task::Waker::from(c))
}

/// Polls `f` once with `waker`.
fn poll_once<F: std::future::Future + Unpin>(
    f: &mut F,
    waker: &std::task::Waker,
) -> std::task::Poll<F::Output> {
    std::pin::Pin::new(f).poll(&mut std::task::Context::from_waker(waker))
}

#[test]
fn async_receive_dropped_after_the_hand_over_gives_the_value_back() {
    // The sender writes into the future's heap block; the dropped future moves the value
    // back into the channel, where the next receive finds it.
    let (tx, rx) = chan::bounded::<Box<u32>>(0);
    let (wakes, waker) = counting_waker();
    let mut fut = rx.recv_async();
    assert!(poll_once(&mut fut, &waker).is_pending());
    tx.try_send(Box::new(5)).unwrap();
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    drop(fut);
    assert_eq!(*rx.try_recv().unwrap(), 5);
}

#[test]
fn async_operations_between_threads() {
    for cap in [0, 1, 1 << 20] {
        let (tx, rx) = chan::bounded::<Box<u32>>(cap);
        let sender = thread::spawn(move || {
            goro::block_on(async {
                for i in 0..PER_SENDER {
                    tx.send_async(Box::new(i)).await.unwrap();
                }
            })
        });
        let got = goro::block_on(async {
            let mut got = Vec::new();
            while let Ok(b) = rx.recv_async().await {
                got.push(*b);
            }
            got
        });
        sender.join().unwrap();
        assert_eq!(got, (0..PER_SENDER).collect::<Vec<_>>(), "cap {cap}");
    }
}

#[test]
fn async_waiters_dropped_while_threads_wake_them() {
    // Futures dropped right as another thread completes them: each value is received
    // once (by a later receive, if its future was dropped holding it).
    let (tx, rx) = chan::bounded::<Box<u32>>(0);
    let sender = thread::spawn(move || {
        for i in 0..PER_SENDER {
            tx.send(Box::new(i)).unwrap();
        }
    });
    let (_wakes, waker) = counting_waker();
    let mut got = Vec::new();
    loop {
        let mut fut = rx.recv_async();
        match poll_once(&mut fut, &waker) {
            std::task::Poll::Ready(Ok(b)) => got.push(*b),
            std::task::Poll::Ready(Err(RecvError)) => break,
            std::task::Poll::Pending => thread::yield_now(),
        }
    }
    sender.join().unwrap();
    assert_eq!(got, (0..PER_SENDER).collect::<Vec<_>>());
}

#[test]
fn async_slots_pass_from_operation_to_operation() {
    // Every operation below waits, so it needs a heap slot; the channel keeps the slot of
    // the last one that ended for the next one. A send dropped while waiting drops its
    // value once; a receive completes in a reused slot; the channel frees the last slot.
    struct Counted(u32, Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = chan::bounded::<Counted>(0);
    let (_wakes, waker) = counting_waker();
    let mut send = tx.send_async(Counted(1, drops.clone()));
    assert!(poll_once(&mut send, &waker).is_pending());
    drop(send);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let mut recv = rx.recv_async();
    assert!(poll_once(&mut recv, &waker).is_pending());
    assert!(tx.try_send(Counted(2, drops.clone())).is_ok());
    match poll_once(&mut recv, &waker) {
        std::task::Poll::Ready(Ok(c)) => assert_eq!(c.0, 2),
        other => panic!(
            "the receive did not complete: {:?}",
            other.map(|r| r.is_ok())
        ),
    }
    drop(recv);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    let mut send = tx.send_async(Counted(3, drops.clone()));
    assert!(poll_once(&mut send, &waker).is_pending());
    assert_eq!(rx.try_recv().map(|c| c.0).ok(), Some(3));
    assert!(poll_once(&mut send, &waker).is_ready());
    drop(send);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    drop((tx, rx));
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}
