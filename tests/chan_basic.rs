//! Channels: Go's semantics for send, receive and close, for goroutines and threads.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use goro::chan::{self, RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};

mod support;

use support::Counted;

#[test]
fn fifo_for_every_capacity_up_to_200() {
    // Go's chan_test.go TestChan checks each capacity; one sender and one receiver must see
    // the values in order, whatever the buffering.
    goro::run(|| {
        for cap in 0..=200 {
            let (tx, rx) = chan::bounded(cap);
            let h = goro::go(move || {
                for i in 0..500u32 {
                    tx.send(i).unwrap();
                }
            });
            for i in 0..500u32 {
                assert_eq!(rx.recv().unwrap(), i, "capacity {cap}");
            }
            h.join().unwrap();
            assert_eq!(
                rx.recv(),
                Err(chan::RecvError),
                "capacity {cap}: closed by drop"
            );
        }
    });
}

#[goro::test]
fn unbuffered_send_completes_only_when_received() {
    let (tx, rx) = chan::bounded(0);
    let sent = Arc::new(AtomicUsize::new(0));
    let s = sent.clone();
    let h = goro::go(move || {
        tx.send(1).unwrap();
        s.store(1, Ordering::SeqCst);
    });
    goro::sleep(Duration::from_millis(20));
    assert_eq!(
        sent.load(Ordering::SeqCst),
        0,
        "send finished without a receiver"
    );
    assert_eq!(rx.recv().unwrap(), 1);
    h.join().unwrap();
    assert_eq!(sent.load(Ordering::SeqCst), 1);
}

#[goro::test]
fn try_send_on_unbuffered_needs_a_waiting_receiver() {
    let (tx, rx) = chan::bounded::<i32>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let h = goro::go(move || rx.recv().unwrap());
    // Retry until the receiver has parked.
    let mut v = 7;
    loop {
        match tx.try_send(v) {
            Ok(()) => break,
            Err(TrySendError::Full(back)) => {
                v = back;
                goro::yield_now();
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(h.join().unwrap(), 7);
}

#[test]
fn buffered_len_capacity_and_full() {
    let (tx, rx) = chan::bounded(2);
    assert_eq!(tx.capacity(), Some(2));
    assert!(rx.is_empty());
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.len(), 2);
    assert!(tx.try_send(3).unwrap_err().is_full());
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(rx.recv(), Ok(2));
    let (u, _r) = chan::unbounded::<u8>();
    assert_eq!(u.capacity(), None);
}

#[test]
fn close_lets_receivers_drain_then_fails_at_once() {
    let (tx, rx) = chan::bounded(3);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert!(tx.close());
    assert!(!tx.close(), "second close reports false");
    assert!(rx.is_closed());
    assert_eq!(tx.send(3), Err(chan::SendError(3)));
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(rx.recv(), Ok(2));
    for _ in 0..10 {
        assert_eq!(rx.recv(), Err(chan::RecvError));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }
}

#[goro::test]
fn close_wakes_every_blocked_sender_and_receiver() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let receivers: Vec<_> = (0..10)
        .map(|_| {
            let rx = rx.clone();
            goro::go(move || rx.recv())
        })
        .collect();
    let (tx2, _rx2) = chan::bounded::<u32>(0);
    let senders: Vec<_> = (0..10)
        .map(|i| {
            let tx2 = tx2.clone();
            goro::go(move || tx2.send(i))
        })
        .collect();
    goro::sleep(Duration::from_millis(20));
    tx.close();
    tx2.close();
    for h in receivers {
        assert_eq!(h.join().unwrap(), Err(chan::RecvError));
    }
    let mut back: Vec<u32> = senders
        .into_iter()
        .map(|h| h.join().unwrap().unwrap_err().into_inner())
        .collect();
    back.sort();
    assert_eq!(
        back,
        (0..10).collect::<Vec<_>>(),
        "each value handed back once"
    );
}

#[goro::test]
fn dropping_every_receiver_fails_sends() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let blocked = {
        let tx = tx.clone();
        goro::go(move || tx.send(5))
    };
    goro::sleep(Duration::from_millis(20));
    drop(rx);
    assert_eq!(blocked.join().unwrap(), Err(chan::SendError(5)));
    assert_eq!(tx.send(6), Err(chan::SendError(6)));
    assert!(tx.is_closed());
}

#[test]
fn every_value_is_received_or_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let (tx, rx) = chan::bounded(8);
        for i in 0..8 {
            tx.send((Counted(drops.clone()), i)).unwrap();
        }
        // Handed back by a failed send, then dropped.
        match tx.try_send((Counted(drops.clone()), 99)) {
            Err(TrySendError::Full(v)) => assert_eq!(v.1, 99),
            _ => panic!("channel should be full"),
        }
        // Received: dropped by the receiver.
        assert_eq!(rx.recv().unwrap().1, 0);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        // The 7 still buffered go with the channel.
    }
    assert_eq!(drops.load(Ordering::SeqCst), 9);
}

/// Counts its drop, then panics if it is the chosen one.
struct PanicOnDrop {
    drops: Arc<AtomicUsize>,
    panics: bool,
}

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panics {
            panic!("PanicOnDrop: this value panics when dropped");
        }
    }
}

#[test]
fn a_panicking_drop_does_not_abandon_the_other_buffered_values() {
    // Every flavour (unbounded, the lock-free ring at small capacities, the locked buffer at
    // large ones) drops all its buffered values, as a `Vec` does, even when one panics.
    for cap in [Some(1), Some(4), Some(64), Some(300_000), None] {
        for panicking in [0, 2] {
            let drops = Arc::new(AtomicUsize::new(0));
            let sent = cap.unwrap_or(16).min(16);
            let (tx, rx) = match cap {
                Some(c) => chan::bounded(c),
                None => chan::unbounded(),
            };
            // At capacity 1 only the first value can be chosen.
            let chosen = panicking.min(sent - 1);
            for i in 0..sent {
                tx.send(PanicOnDrop {
                    drops: drops.clone(),
                    panics: i == chosen,
                })
                .unwrap();
            }
            drop(tx);
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rx)));
            assert!(
                dropped.is_err(),
                "cap {cap:?}: the panic must reach the dropper"
            );
            assert_eq!(
                drops.load(Ordering::SeqCst),
                sent,
                "cap {cap:?}: every buffered value must be dropped"
            );
        }
    }
}

#[goro::test]
fn timeouts_and_deadlines() {
    let (tx, rx) = chan::bounded::<u8>(0);
    let t = Instant::now();
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(20)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(t.elapsed() >= Duration::from_millis(20));
    assert_eq!(
        tx.send_timeout(4, Duration::from_millis(5)),
        Err(SendTimeoutError::Timeout(4))
    );
    assert_eq!(
        rx.recv_deadline(Instant::now()),
        Err(RecvTimeoutError::Timeout)
    );
    // A value arriving before the deadline is received.
    let h = goro::go(move || {
        goro::sleep(Duration::from_millis(5));
        tx.send(9).unwrap();
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(9));
    h.join().unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(30)),
        Err(RecvTimeoutError::Closed)
    );
}

#[test]
fn timeouts_from_a_plain_thread() {
    let (_tx, rx) = chan::bounded::<u8>(1);
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(10)),
        Err(RecvTimeoutError::Timeout)
    );
}

#[test]
fn never_is_never_ready() {
    let rx = chan::never::<u8>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(!rx.is_closed());
}

#[goro::test]
fn range_over_a_channel() {
    let (tx, rx) = chan::bounded(0);
    goro::go(move || {
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        tx.close();
    });
    let mut got = Vec::new();
    for v in &rx {
        got.push(v);
    }
    assert_eq!(got, [0, 1, 2]);
}

/// Goroutines and OS threads sending and receiving on one channel, for each capacity.
fn mpmc(cap: usize, per_producer: u64) {
    let (tx, rx) = chan::bounded::<u64>(cap);
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let mut producers = Vec::new();
    let mut consumers = Vec::new();
    for p in 0..4u64 {
        let tx = tx.clone();
        let body = move || {
            for i in 0..per_producer {
                tx.send(p * per_producer + i).unwrap();
            }
        };
        if p % 2 == 0 {
            producers.push(Box::new(goro::go(body)) as Box<dyn Joinable>);
        } else {
            producers.push(Box::new(thread::spawn(body)));
        }
    }
    drop(tx);
    for c in 0..4 {
        let (rx, seen) = (rx.clone(), seen.clone());
        let body = move || {
            let mut local = Vec::new();
            for v in &rx {
                local.push(v);
            }
            seen.lock().unwrap().extend(local.iter().copied());
            local.len()
        };
        if c % 2 == 0 {
            consumers.push(Box::new(goro::go(body)) as Box<dyn JoinableLen>);
        } else {
            consumers.push(Box::new(thread::spawn(body)));
        }
    }
    drop(rx);
    for p in producers {
        p.join_it();
    }
    let total: usize = consumers.into_iter().map(|c| c.join_len()).sum();
    assert_eq!(total as u64, 4 * per_producer, "capacity {cap}");
    assert_eq!(
        seen.lock().unwrap().len() as u64,
        4 * per_producer,
        "capacity {cap}"
    );
}

trait Joinable {
    fn join_it(self: Box<Self>);
}
impl Joinable for goro::JoinHandle<()> {
    fn join_it(self: Box<Self>) {
        (*self).join().unwrap()
    }
}
impl Joinable for thread::JoinHandle<()> {
    fn join_it(self: Box<Self>) {
        (*self).join().unwrap()
    }
}
trait JoinableLen {
    fn join_len(self: Box<Self>) -> usize;
}
impl JoinableLen for goro::JoinHandle<usize> {
    fn join_len(self: Box<Self>) -> usize {
        (*self).join().unwrap()
    }
}
impl JoinableLen for thread::JoinHandle<usize> {
    fn join_len(self: Box<Self>) -> usize {
        (*self).join().unwrap()
    }
}

#[test]
fn mpmc_mixed_goroutines_and_threads_cap_0() {
    mpmc(0, 50_000);
}

#[test]
fn mpmc_mixed_goroutines_and_threads_cap_1024() {
    mpmc(1024, 250_000);
}

#[test]
fn mpmc_mixed_goroutines_and_threads_unbounded() {
    let (tx, rx) = chan::unbounded::<u64>();
    drop((tx, rx));
    mpmc(usize::MAX, 50_000);
}

#[test]
fn huge_capacity_does_not_preallocate() {
    let (tx, rx) = chan::bounded::<[u8; 1024]>(usize::MAX / 2);
    tx.send([1; 1024]).unwrap();
    assert_eq!(rx.recv().unwrap()[0], 1);
}

#[test]
fn a_daisy_chain_of_10000_goroutines() {
    // Go's test/chan/goroutines.go: left <- <-right, threaded through 10,000 goroutines.
    goro::run(|| {
        let (first_tx, mut right_rx) = chan::bounded::<u64>(0);
        let leftmost_tx = first_tx;
        let mut handles = Vec::new();
        for _ in 0..10_000 {
            let (tx, rx) = chan::bounded::<u64>(0);
            let from = right_rx;
            handles.push(goro::go(move || {
                let v = from.recv().unwrap();
                tx.send(v + 1).unwrap();
            }));
            right_rx = rx;
        }
        leftmost_tx.send(1).unwrap();
        assert_eq!(right_rx.recv().unwrap(), 10_001);
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn the_largest_capacity_is_still_bounded() {
    let (tx, _rx) = chan::bounded::<u8>(usize::MAX);
    assert_eq!(tx.capacity(), Some(usize::MAX));
}

#[test]
fn same_channel_compares_channels_not_handles() {
    let (ta, ra) = chan::bounded::<i32>(1);
    let (tb, rb) = chan::unbounded::<i32>();
    assert!(ta.same_channel(&ta.clone()));
    assert!(ra.same_channel(&ra.clone()));
    assert!(!ta.same_channel(&tb));
    assert!(!ra.same_channel(&rb));
    // Every `never()` is the same channel, as every nil channel is in Go (and in crossbeam).
    assert!(chan::never::<i32>().same_channel(&chan::never()));
    assert!(!chan::never::<i32>().same_channel(&ra));
}

#[test]
fn is_full_follows_the_buffer() {
    let (tx, rx) = chan::bounded(2);
    assert!(!tx.is_full() && !rx.is_full());
    tx.send(1).unwrap();
    assert!(!tx.is_full());
    tx.send(2).unwrap();
    assert!(tx.is_full() && rx.is_full());
    rx.recv().unwrap();
    assert!(!tx.is_full());
    // Unbuffered: always full (and empty), as crossbeam-channel's zero-capacity channel.
    let (t0, r0) = chan::bounded::<i32>(0);
    assert!(t0.is_full() && r0.is_full() && t0.is_empty());
    // Unbounded: never full.
    let (tu, _ru) = chan::unbounded();
    for i in 0..1_000 {
        tu.send(i).unwrap();
    }
    assert!(!tu.is_full());
    // A large buffer (locked flavour) too.
    let (tl, _rl) = chan::bounded(1 << 30);
    tl.send(0u8).unwrap();
    assert!(!tl.is_full());
}

#[test]
fn values_that_are_not_send() {
    // crossbeam-channel asks no `T: Send` for its operations; such a channel is used by one
    // thread (it is neither `Send` nor `Sync` itself).
    use std::rc::Rc;
    let shared = Rc::new(5);
    let (tx, rx) = chan::bounded::<Rc<i32>>(2);
    tx.send(shared.clone()).unwrap();
    tx.try_send(shared.clone()).unwrap();
    assert!(matches!(
        tx.send_timeout(shared.clone(), Duration::from_millis(1)),
        Err(SendTimeoutError::Timeout(_))
    ));
    assert_eq!(*rx.recv().unwrap(), 5);
    assert_eq!(Rc::strong_count(&shared), 2);
    drop(tx);
    let rest: Vec<Rc<i32>> = rx.iter().collect();
    assert_eq!(rest.len(), 1);
    let got = goro::select! {
        recv(rx) -> v => v.is_err(),
    };
    assert!(got, "closed and drained");
}
