//! test/closedchan.go: what every operation does on a closed channel, adapted to goro's
//! deliberate differences (Go panics where goro returns an error):
//!
//! - a receive on a closed, drained channel fails at once, forever (Go: zero value, ok=false);
//!   values buffered before the close are still delivered first, in order;
//! - a send (blocking or not) on a closed channel returns the value (Go: panic), and nothing
//!   is left behind;
//! - a second `close` returns `false` (Go: panic "close of closed channel");
//! - `len` counts what is still buffered after the close, `cap` does not change;
//! - dropping every `Receiver` closes the channel too (Go has no such rule).
//!
//! Go runs each check through three implementations of the operations: direct, a 1-case
//! select and a 2-case select with a never-ready (`dummy`) channel; all three run here, with
//! `goro::select!` (Go's `default` first, as in Go's source), and also the timed operations
//! (`*_timeout`, `*_deadline`, Go's select with a `time.After` case), which must not wait on
//! a closed channel. `close(nil)` has no Rust equivalent: `chan::never()` has no `Sender`.

use std::time::{Duration, Instant};

use goro::chan::{
    self, Receiver, RecvError, RecvTimeoutError, SendError, SendTimeoutError, Sender, TryRecvError,
    TrySendError,
};

use crate::support::go_main;

/// Go's `Chan` interface of closedchan.go, with Go's results: a receive on a closed channel
/// gives the zero value and `ok == false`, a non-blocking one also `selected == true`. A send
/// on a closed channel returns the value (Go panics).
trait Chan {
    /// `c <- x`.
    fn send(&self, x: i32) -> Result<(), i32>;
    /// `select { case c <- x: return true; default: return false }`.
    fn nbsend(&self, x: i32) -> Result<bool, i32>;
    /// `x, ok := <-c`.
    fn recv2(&self) -> (i32, bool);
    /// `select { case x, ok := <-c: return x, ok, true; default: return 0, false, false }`.
    fn nbrecv2(&self) -> (i32, bool, bool);
    fn close(&self) -> bool;
    fn name(&self) -> &'static str;

    /// `<-c`.
    fn recv(&self) -> i32 {
        self.recv2().0
    }
    /// `select { case x := <-c: return x, true; default: return 0, false }`.
    fn nbrecv(&self) -> (i32, bool) {
        let (x, _, selected) = self.nbrecv2();
        (x, selected)
    }
}

/// Go's XChan: the direct operations.
struct Direct(Sender<i32>, Receiver<i32>);

impl Chan for Direct {
    fn send(&self, x: i32) -> Result<(), i32> {
        self.0.send(x).map_err(|SendError(x)| x)
    }
    fn nbsend(&self, x: i32) -> Result<bool, i32> {
        match self.0.try_send(x) {
            Ok(()) => Ok(true),
            Err(TrySendError::Full(_)) => Ok(false),
            Err(TrySendError::Closed(x)) => Err(x),
        }
    }
    fn recv2(&self) -> (i32, bool) {
        match self.1.recv() {
            Ok(x) => (x, true),
            Err(RecvError) => (0, false),
        }
    }
    fn nbrecv2(&self) -> (i32, bool, bool) {
        match self.1.try_recv() {
            Ok(x) => (x, true, true),
            Err(TryRecvError::Closed) => (0, false, true),
            Err(TryRecvError::Empty) => (0, false, false),
        }
    }
    fn close(&self) -> bool {
        self.0.close()
    }
    fn name(&self) -> &'static str {
        "direct"
    }
}

/// Timed operations: blocking = wait up to an hour (must return at once on a closed
/// channel), non-blocking = a zero timeout.
struct Timeout(Sender<i32>, Receiver<i32>);

const HOUR: Duration = Duration::from_secs(3600);

fn timed_send(r: Result<(), SendTimeoutError<i32>>) -> Result<bool, i32> {
    match r {
        Ok(()) => Ok(true),
        Err(SendTimeoutError::Timeout(_)) => Ok(false),
        Err(SendTimeoutError::Closed(x)) => Err(x),
    }
}

fn timed_recv(r: Result<i32, RecvTimeoutError>) -> (i32, bool, bool) {
    match r {
        Ok(x) => (x, true, true),
        Err(RecvTimeoutError::Closed) => (0, false, true),
        Err(RecvTimeoutError::Timeout) => (0, false, false),
    }
}

impl Chan for Timeout {
    fn send(&self, x: i32) -> Result<(), i32> {
        let ok = timed_send(self.0.send_timeout(x, HOUR))?;
        assert!(ok, "send_timeout timed out after an hour?");
        Ok(())
    }
    fn nbsend(&self, x: i32) -> Result<bool, i32> {
        timed_send(self.0.send_timeout(x, Duration::ZERO))
    }
    fn recv2(&self) -> (i32, bool) {
        let (x, ok, selected) = timed_recv(self.1.recv_timeout(HOUR));
        assert!(selected, "recv_timeout timed out after an hour?");
        (x, ok)
    }
    fn nbrecv2(&self) -> (i32, bool, bool) {
        timed_recv(self.1.recv_timeout(Duration::ZERO))
    }
    fn close(&self) -> bool {
        self.0.close()
    }
    fn name(&self) -> &'static str {
        "timeout"
    }
}

/// Deadline operations: blocking = a deadline an hour away, non-blocking = a deadline
/// already past.
struct Deadline(Sender<i32>, Receiver<i32>);

impl Chan for Deadline {
    fn send(&self, x: i32) -> Result<(), i32> {
        let ok = timed_send(self.0.send_deadline(x, Instant::now() + HOUR))?;
        assert!(ok, "send_deadline timed out after an hour?");
        Ok(())
    }
    fn nbsend(&self, x: i32) -> Result<bool, i32> {
        timed_send(
            self.0
                .send_deadline(x, Instant::now() - Duration::from_millis(1)),
        )
    }
    fn recv2(&self) -> (i32, bool) {
        let (x, ok, selected) = timed_recv(self.1.recv_deadline(Instant::now() + HOUR));
        assert!(selected, "recv_deadline timed out after an hour?");
        (x, ok)
    }
    fn nbrecv2(&self) -> (i32, bool, bool) {
        timed_recv(
            self.1
                .recv_deadline(Instant::now() - Duration::from_millis(1)),
        )
    }
    fn close(&self) -> bool {
        self.0.close()
    }
    fn name(&self) -> &'static str {
        "deadline"
    }
}

/// Go's SChan: every operation a 1-case select (plus `default` for the non-blocking ones).
struct Select1(Sender<i32>, Receiver<i32>);

fn sent(r: Result<(), SendError<i32>>) -> Result<(), i32> {
    r.map_err(|SendError(x)| x)
}

fn received(r: Result<i32, RecvError>) -> (i32, bool) {
    match r {
        Ok(x) => (x, true),
        Err(RecvError) => (0, false),
    }
}

impl Chan for Select1 {
    fn send(&self, x: i32) -> Result<(), i32> {
        goro::select! {
            send(self.0, x) -> r => sent(r),
        }
    }
    fn nbsend(&self, x: i32) -> Result<bool, i32> {
        goro::select! {
            default => Ok(false),
            send(self.0, x) -> r => sent(r).map(|()| true),
        }
    }
    fn recv2(&self) -> (i32, bool) {
        goro::select! {
            recv(self.1) -> r => received(r),
        }
    }
    fn nbrecv2(&self) -> (i32, bool, bool) {
        goro::select! {
            default => (0, false, false),
            recv(self.1) -> r => {
                let (x, ok) = received(r);
                (x, ok, true)
            }
        }
    }
    fn close(&self) -> bool {
        self.0.close()
    }
    fn name(&self) -> &'static str {
        "1-case select"
    }
}

/// Go's SSChan: every operation a 2-case select whose second case is a receive on a fresh
/// unbuffered `dummy` channel nobody sends on.
struct Select2(Sender<i32>, Receiver<i32>);

fn dummy() -> (Sender<i32>, Receiver<i32>) {
    chan::bounded(0)
}

impl Chan for Select2 {
    fn send(&self, x: i32) -> Result<(), i32> {
        let (_keep, dummy) = dummy();
        goro::select! {
            send(self.0, x) -> r => sent(r),
            recv(dummy) -> _r => panic!("dummy"),
        }
    }
    fn nbsend(&self, x: i32) -> Result<bool, i32> {
        let (_keep, dummy) = dummy();
        goro::select! {
            default => Ok(false),
            send(self.0, x) -> r => sent(r).map(|()| true),
            recv(dummy) -> _r => panic!("dummy"),
        }
    }
    fn recv2(&self) -> (i32, bool) {
        let (_keep, dummy) = dummy();
        goro::select! {
            recv(self.1) -> r => received(r),
            recv(dummy) -> _r => panic!("dummy"),
        }
    }
    fn nbrecv2(&self) -> (i32, bool, bool) {
        let (_keep, dummy) = dummy();
        goro::select! {
            default => (0, false, false),
            recv(self.1) -> r => {
                let (x, ok) = received(r);
                (x, ok, true)
            }
            recv(dummy) -> _r => panic!("dummy"),
        }
    }
    fn close(&self) -> bool {
        self.0.close()
    }
    fn name(&self) -> &'static str {
        "2-case select"
    }
}

type Mk = fn(Sender<i32>, Receiver<i32>) -> Box<dyn Chan>;

/// Go's `mks` (XChan, SChan, SSChan), and goro's timed operations.
const MKS: [Mk; 5] = [
    |s, r| Box::new(Direct(s, r)),
    |s, r| Box::new(Select1(s, r)),
    |s, r| Box::new(Select2(s, r)),
    |s, r| Box::new(Timeout(s, r)),
    |s, r| Box::new(Deadline(s, r)),
];

/// Go's test1: on a closed, drained channel.
fn test1(c: &dyn Chan) {
    let name = c.name();
    for _ in 0..3 {
        // Receive a close signal (a zero value).
        assert_eq!(c.recv(), 0, "{name}: recv on closed");
        assert_eq!(c.recv2(), (0, false), "{name}: recv2 on closed");
        // Non-blocking: received without blocking, so selected == true.
        assert_eq!(c.nbrecv(), (0, true), "{name}: nbrecv on closed");
        assert_eq!(c.nbrecv2(), (0, false, true), "{name}: nbrecv2 on closed");
    }
    // Go: shouldPanic(func() { c.Nbsend(1) }). goro hands the value back.
    assert_eq!(c.nbsend(1), Err(1), "{name}: nbsend on closed");
    // The value should have been discarded.
    assert_eq!(c.recv2(), (0, false), "{name}: value left behind by nbsend");
    // Similarly Send.
    assert_eq!(c.send(2), Err(2), "{name}: send on closed");
    assert_eq!(c.recv2(), (0, false), "{name}: value left behind by send");
    // Go: close of a closed channel panics.
    assert!(!c.close(), "{name}: second close");
}

/// The buffered 1 comes out through each of the four receive forms, then test1.
fn testasync1(c: &dyn Chan) {
    assert_eq!(c.recv(), 1, "{}: Recv did not get 1", c.name());
    test1(c);
}

fn testasync2(c: &dyn Chan) {
    assert_eq!(c.recv2(), (1, true), "{}: Recv2 did not get 1", c.name());
    test1(c);
}

fn testasync3(c: &dyn Chan) {
    assert_eq!(c.nbrecv(), (1, true), "{}: Nbrecv did not get 1", c.name());
    test1(c);
}

fn testasync4(c: &dyn Chan) {
    assert_eq!(c.nbrecv2(), (1, true, true), "{}: Nbrecv2", c.name());
    test1(c);
}

/// Go's closedsync: an unbuffered channel, closed.
fn closedsync() -> (Sender<i32>, Receiver<i32>) {
    let (tx, rx) = chan::bounded(0);
    assert!(tx.close());
    (tx, rx)
}

/// Go's closedasync: a cap-2 channel holding one value 1, closed.
fn closedasync() -> (Sender<i32>, Receiver<i32>) {
    let (tx, rx) = chan::bounded(2);
    tx.send(1).unwrap();
    assert!(tx.close());
    (tx, rx)
}

#[test]
fn closedchan_sync() {
    go_main("closedchan sync", || {
        for mk in MKS {
            let (tx, rx) = closedsync();
            test1(&*mk(tx, rx));
        }
    });
}

#[test]
fn closedchan_async() {
    go_main("closedchan async", || {
        let testcloseds: [fn(&dyn Chan); 4] = [testasync1, testasync2, testasync3, testasync4];
        for testclosed in testcloseds {
            for mk in MKS {
                let (tx, rx) = closedasync();
                testclosed(&*mk(tx, rx));
            }
        }
    });
}

#[test]
fn closed_recv_fails_forever_and_never_blocks() {
    go_main("closed recv forever", || {
        let (tx, rx) = chan::bounded::<u8>(0);
        assert!(tx.close());
        for _ in 0..10_000 {
            assert_eq!(rx.recv(), Err(RecvError));
        }
        assert_eq!(rx.iter().count(), 0, "range over a closed chan");
        assert!(tx.is_closed() && rx.is_closed());
        // Many goroutines at once: none blocks.
        let hs: Vec<_> = (0..100)
            .map(|_| {
                let rx = rx.clone();
                goro::go(move || (0..100).all(|_| rx.recv() == Err(RecvError)))
            })
            .collect();
        assert!(hs.into_iter().all(|h| h.join().unwrap()));
    });
}

#[test]
fn len_and_cap_after_close() {
    go_main("len/cap after close", || {
        // Go's closedasync: cap 2, one value buffered, closed.
        let (tx, rx) = closedasync();
        assert_eq!((rx.len(), rx.capacity()), (1, Some(2)));
        assert_eq!((tx.len(), tx.capacity()), (1, Some(2)));
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!((rx.len(), rx.capacity()), (0, Some(2)));
        // A refused send adds nothing.
        assert_eq!(tx.send(5), Err(SendError(5)));
        assert_eq!(tx.try_send(6), Err(TrySendError::Closed(6)));
        assert_eq!((rx.len(), rx.capacity()), (0, Some(2)));
        // Unbuffered and unbounded.
        let (tx, rx) = closedsync();
        assert_eq!((rx.len(), rx.capacity()), (0, Some(0)));
        drop(tx);
        let (tx, rx) = chan::unbounded::<i32>();
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert!(tx.close());
        assert_eq!((rx.len(), rx.capacity()), (5, None));
        assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(rx.len(), 0);
    });
}

#[test]
fn close_twice_returns_false() {
    go_main("close twice", || {
        let (tx, rx) = chan::bounded::<i32>(1);
        let tx2 = tx.clone();
        assert!(!tx.is_closed());
        assert!(tx.close(), "first close");
        assert!(!tx.close(), "second close, same handle");
        assert!(!tx2.close(), "second close, another handle");
        assert!(tx2.is_closed() && rx.is_closed());
        // Concurrent closes: exactly one wins.
        for _ in 0..1000 {
            let (tx, _rx) = chan::bounded::<i32>(0);
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    let tx = tx.clone();
                    goro::go(move || tx.close())
                })
                .collect();
            let wins = hs.into_iter().map(|h| h.join().unwrap());
            assert_eq!(wins.filter(|&w| w).count(), 1, "closes that returned true");
        }
    });
}

#[test]
fn close_wakes_blocked_receivers_and_senders() {
    go_main("close wakes everybody", || {
        // Receivers parked on an empty channel all wake with "closed" (Go: zero, ok=false).
        let (tx, rx) = chan::bounded::<i32>(0);
        let receivers: Vec<_> = (0..50)
            .map(|_| {
                let rx = rx.clone();
                goro::go(move || rx.recv())
            })
            .collect();
        goro::sleep(Duration::from_millis(5));
        assert!(tx.close());
        for h in receivers {
            assert_eq!(h.join().unwrap(), Err(RecvError));
        }

        // Senders parked on a full channel all wake with their own value back (Go: they
        // panic); the buffered values stay receivable, in order.
        let (tx, rx) = chan::bounded::<i32>(3);
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        let senders: Vec<_> = (100..150)
            .map(|v| {
                let tx = tx.clone();
                goro::go(move || (v, tx.send(v)))
            })
            .collect();
        goro::sleep(Duration::from_millis(5));
        assert!(tx.close());
        let mut refused = 0;
        for h in senders {
            let (v, r) = h.join().unwrap();
            match r {
                // Closed under it, or closed before it started: its value comes back.
                Err(SendError(back)) => {
                    assert_eq!(back, v);
                    refused += 1;
                }
                Ok(()) => panic!("sender {v} succeeded on a full channel"),
            }
        }
        assert_eq!(refused, 50);
        assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
    });
}

#[test]
fn dropping_every_receiver_closes() {
    go_main("drop receivers", || {
        // goro's difference: with no Receiver left, sends fail instead of blocking forever.
        let (tx, rx) = chan::bounded::<String>(1);
        let rx2 = rx.clone();
        drop(rx);
        assert!(!tx.is_closed(), "one receiver is still there");
        tx.send("kept".into()).unwrap();
        // A sender parked on the full channel wakes when the last receiver goes.
        let h = {
            let tx = tx.clone();
            goro::go(move || tx.send("blocked".into()))
        };
        goro::sleep(Duration::from_millis(5));
        drop(rx2);
        assert_eq!(h.join().unwrap(), Err(SendError("blocked".to_string())));
        assert!(tx.is_closed());
        assert_eq!(tx.send("late".into()), Err(SendError("late".to_string())));
        assert_eq!(
            tx.try_send("late".into()),
            Err(TrySendError::Closed("late".to_string()))
        );
        assert!(!tx.close(), "already closed by the receivers leaving");
    });
}

#[test]
fn dropping_every_sender_closes_after_drain() {
    go_main("drop senders", || {
        let (tx, rx) = chan::bounded::<i32>(4);
        let tx2 = tx.clone();
        tx.send(1).unwrap();
        tx2.send(2).unwrap();
        drop(tx);
        assert!(!rx.is_closed(), "one sender is still there");
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        // A receiver parked on the empty channel wakes when the last sender goes.
        let h = {
            let rx = rx.clone();
            goro::go(move || rx.recv())
        };
        goro::sleep(Duration::from_millis(5));
        drop(tx2);
        assert_eq!(h.join().unwrap(), Err(RecvError));
        assert!(rx.is_closed());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}
