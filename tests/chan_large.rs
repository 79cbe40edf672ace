//! Large values through channels on small goroutine stacks.
//!
//! A send or receive needs stack for two or three values whatever their size (the module
//! docs of `goro::chan`, "How values move"), whatever the flavour, the operation (blocking, timed,
//! non-blocking, `select!`), and whether the other side was waiting already. Here
//! goroutines with `STACK` bytes of stack (160 KiB) send and receive values of 8 to 24 KiB,
//! each operation in a function of its own. Values passed down through every layer of the
//! channel took seven or eight values' worth of stack per operation, which for 24 KiB
//! overflows the stack and aborts the process; passed by pointer they take two or three,
//! leaving at least 32 KiB to spare (the test passes with 128 KiB stacks, not with 96). So
//! each flavour runs in a child process of its own and the parent asserts that it exited
//! cleanly.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use goro::chan::{self, Receiver, RecvTimeoutError, SendTimeoutError, Sender, TrySendError};
use goro::RuntimeBuilder;

mod support;

use support::child;

/// Every goroutine's stack in the child processes.
const STACK: usize = 160 * 1024;

/// A value that can say which one it is, and checks that it arrived whole.
trait Payload: Send + 'static {
    fn make(tag: u8) -> Self;
    /// The tag given to `make`; panics if any byte differs (a torn or mixed-up copy).
    fn tag(&self) -> u8;
}

impl<const N: usize> Payload for [u8; N] {
    fn make(tag: u8) -> Self {
        [tag; N]
    }

    fn tag(&self) -> u8 {
        assert!(self.iter().all(|&b| b == self[0]), "a value arrived torn");
        self[0]
    }
}

/// Values made and dropped, for `Dropper`: every value is dropped exactly once.
static MADE: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// A large value with a `Drop`, so that a copy left behind and dropped twice (or never)
/// shows up in the counts.
struct Dropper<const N: usize> {
    data: [u8; N],
}

impl<const N: usize> Payload for Dropper<N> {
    fn make(tag: u8) -> Self {
        MADE.fetch_add(1, Ordering::Relaxed);
        Dropper { data: [tag; N] }
    }

    fn tag(&self) -> u8 {
        self.data.tag()
    }
}

impl<const N: usize> Drop for Dropper<N> {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

const WAIT: Duration = Duration::from_secs(60);

// Each operation is a function of its own (`inline(never)`), so that the stack a goroutine
// needs is one operation's frame and the channel's, not the sum of every value the test
// code itself holds.

#[inline(never)]
fn send_plain<T: Payload>(tx: &Sender<T>, tag: u8) {
    assert!(tx.send(T::make(tag)).is_ok());
}

#[inline(never)]
fn send_timed<T: Payload>(tx: &Sender<T>, tag: u8) {
    assert!(tx.send_timeout(T::make(tag), WAIT).is_ok());
}

#[inline(never)]
fn send_select<T: Payload>(tx: &Sender<T>, tag: u8) {
    let never = chan::never::<T>();
    goro::select! {
        send(tx, T::make(tag)) -> r => assert!(r.is_ok()),
        recv(never) -> _ => unreachable!("`never` is never ready"),
    }
}

#[inline(never)]
fn send_try<T: Payload>(tx: &Sender<T>, tag: u8) {
    let mut v = T::make(tag);
    loop {
        match tx.try_send(v) {
            Ok(()) => break,
            Err(TrySendError::Full(back)) => {
                assert_eq!(back.tag(), tag);
                v = back;
                goro::yield_now();
            }
            Err(TrySendError::Closed(_)) => unreachable!("the channel is open"),
        }
    }
}

#[inline(never)]
fn recv_plain<T: Payload>(rx: &Receiver<T>) -> u8 {
    rx.recv().unwrap().tag()
}

#[inline(never)]
fn recv_timed<T: Payload>(rx: &Receiver<T>) -> u8 {
    rx.recv_timeout(WAIT).unwrap().tag()
}

#[inline(never)]
fn recv_select<T: Payload>(rx: &Receiver<T>) -> u8 {
    let never_tx: Option<&Sender<T>> = None;
    goro::select! {
        recv(rx) -> v => v.unwrap().tag(),
        send(never_tx, T::make(0)) -> _ => unreachable!("a nil channel is never ready"),
    }
}

#[inline(never)]
fn recv_try<T: Payload>(rx: &Receiver<T>) -> u8 {
    loop {
        match rx.try_recv() {
            Ok(v) => return v.tag(),
            Err(_) => goro::yield_now(),
        }
    }
}

/// Sends the values `first..first + 5` with each kind of send, while a goroutine receives
/// them with each kind of receive (a blocking one across from each non-blocking one, which
/// an unbuffered channel needs). The side that is slow sleeps a little before each
/// operation, so that the other side usually finds nobody there and parks.
#[inline(never)]
fn exchange<T: Payload>(tx: &Sender<T>, rx: &Receiver<T>, first: u8, slow_sender: bool) {
    let pause_if = |slow: bool| {
        if slow {
            goro::time::sleep(Duration::from_millis(2));
        }
    };
    let rx2 = rx.clone();
    let receiver = goro::go(move || {
        let recvs: [fn(&Receiver<T>) -> u8; 5] =
            [recv_plain, recv_timed, recv_select, recv_plain, recv_try];
        let mut got = Vec::new();
        for recv in recvs {
            pause_if(!slow_sender);
            got.push(recv(&rx2));
        }
        got
    });
    let sends: [fn(&Sender<T>, u8); 5] =
        [send_plain, send_timed, send_select, send_try, send_plain];
    for (i, send) in sends.into_iter().enumerate() {
        pause_if(slow_sender);
        send(tx, first + i as u8);
    }
    assert_eq!(
        receiver.join().unwrap(),
        (first..first + 5).collect::<Vec<_>>()
    );
}

/// A timed-out send on a channel nobody receives from: the value comes back.
#[inline(never)]
fn send_times_out<T: Payload>(tx: &Sender<T>, rx: &Receiver<T>) {
    match tx.send_timeout(T::make(7), Duration::from_millis(1)) {
        Err(SendTimeoutError::Timeout(v)) => assert_eq!(v.tag(), 7),
        // A buffered channel with room takes it; receive it back.
        Ok(()) => assert_eq!(recv_plain(rx), 7),
        Err(SendTimeoutError::Closed(_)) => unreachable!("the channel is open"),
    }
}

#[inline(never)]
fn recv_times_out<T: Payload>(rx: &Receiver<T>) {
    assert!(matches!(
        rx.recv_timeout(Duration::from_millis(1)),
        Err(RecvTimeoutError::Timeout)
    ));
}

/// Sends of every kind on a closed channel: the value comes back.
#[inline(never)]
fn send_closed<T: Payload>(tx: &Sender<T>) {
    assert_eq!(tx.send(T::make(8)).unwrap_err().into_inner().tag(), 8);
}

#[inline(never)]
fn try_send_closed<T: Payload>(tx: &Sender<T>) {
    assert!(matches!(tx.try_send(T::make(9)), Err(TrySendError::Closed(v)) if v.tag() == 9));
}

#[inline(never)]
fn select_send_closed<T: Payload>(tx: &Sender<T>) {
    goro::select! {
        send(tx, T::make(10)) -> r => assert_eq!(r.unwrap_err().into_inner().tag(), 10),
    }
}

#[inline(never)]
fn recv_closed<T: Payload>(rx: &Receiver<T>) {
    assert!(rx.recv().is_err());
    goro::select! {
        recv(rx) -> v => assert!(v.is_err()),
    }
}

/// Runs `exchange` both ways, then the failing paths, on a channel made by `make`, for
/// values of `T`.
#[inline(never)]
fn every_way<T: Payload>(make: fn() -> (Sender<T>, Receiver<T>)) {
    let (tx, rx) = make();
    exchange(&tx, &rx, 1, false);
    exchange(&tx, &rx, 11, true);
    send_times_out(&tx, &rx);
    recv_times_out(&rx);
    tx.close();
    send_closed(&tx);
    try_send_closed(&tx);
    select_send_closed(&tx);
    recv_closed(&rx);
}

/// In a child with `STACK`-byte goroutine stacks: every way, for arrays and `Drop` values
/// of 8, 16 and 24 KiB, on channels made by `make` (generic over the value type).
macro_rules! child_body {
    ($make:expr) => {{
        RuntimeBuilder::new()
            .maxprocs(2)
            .stack_size(STACK)
            .init()
            .expect("start the runtime");
        goro::run(|| {
            every_way::<[u8; 8 << 10]>($make);
            every_way::<[u8; 16 << 10]>($make);
            every_way::<[u8; 24 << 10]>($make);
            every_way::<Dropper<8192>>($make);
            every_way::<Dropper<24576>>($make);
        });
        assert_eq!(
            MADE.load(Ordering::Relaxed),
            DROPPED.load(Ordering::Relaxed),
            "every value is dropped exactly once"
        );
        println!("large values went through with {} KiB stacks", STACK >> 10);
    }};
}

macro_rules! flavour_test {
    ($name:ident, $make:expr) => {
        #[test]
        fn $name() {
            const NAME: &str = stringify!($name);
            if child::is_child(NAME) {
                child_body!($make);
                return;
            }
            child::run_ok(NAME, &[]);
        }
    };
}

// Unbuffered: Go's rendezvous, the value handed from stack to stack.
flavour_test!(large_values_unbuffered, || chan::bounded(0));
// The lock-free ring.
flavour_test!(large_values_ring, || chan::bounded(2));
// A buffer too large for a ring (1 MiB of slots): the locked flavour with a buffer.
flavour_test!(large_values_locked_buffer, || chan::bounded(1000));
// Unbounded: the locked flavour, never full.
flavour_test!(large_values_unbounded, chan::unbounded);
