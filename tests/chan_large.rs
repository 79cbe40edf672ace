//! Large values through channels on small goroutine stacks.
//!
//! A value moves from its sender to its receiver through at most a copy or two on either
//! goroutine's stack (the module docs of `goro::chan`, "How values move"), whatever the
//! flavour, the operation (blocking, timed, non-blocking, `select!`), and whether the other
//! side was waiting already. Here goroutines with `STACK` bytes of stack send and receive
//! values a good fraction of that size; a value copied through every layer of the channel
//! (five or more copies live at once) overflows the stack, which aborts the process, so
//! each flavour runs in a child process of its own and the parent asserts that it exited
//! cleanly.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use goro::chan::{self, Receiver, RecvTimeoutError, SendTimeoutError, Sender, TrySendError};
use goro::RuntimeBuilder;

mod support;

use support::child;

/// Every goroutine's stack in the child processes.
const STACK: usize = 128 * 1024;

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

/// Sends the values `first..first + 5` with each kind of send, while `rx_side` receives them
/// with each kind of receive. The side that is `slow` sleeps a little before each operation,
/// so that the other side usually finds nobody there and parks.
fn exchange<T: Payload>(tx: &Sender<T>, rx: &Receiver<T>, first: u8, slow_sender: bool) {
    let pause = || goro::time::sleep(Duration::from_millis(2));
    let never = chan::never::<T>();
    let (tx2, rx2) = (tx.clone(), rx.clone());
    let receiver = goro::go(move || {
        let never_tx: Option<&Sender<T>> = None;
        let mut got = Vec::new();
        let pause_if = |slow: bool| {
            if slow {
                pause();
            }
        };
        pause_if(!slow_sender);
        got.push(rx2.recv().unwrap().tag());
        pause_if(!slow_sender);
        got.push(rx2.recv_timeout(WAIT).unwrap().tag());
        pause_if(!slow_sender);
        goro::select! {
            recv(rx2) -> v => got.push(v.unwrap().tag()),
            send(never_tx, T::make(0)) -> _ => unreachable!("a nil channel is never ready"),
        }
        pause_if(!slow_sender);
        got.push(rx2.recv().unwrap().tag());
        pause_if(!slow_sender);
        let v = loop {
            match rx2.try_recv() {
                Ok(v) => break v,
                Err(_) => goro::yield_now(),
            }
        };
        got.push(v.tag());
        got
    });
    let pause_if = |slow: bool| {
        if slow {
            pause();
        }
    };
    pause_if(slow_sender);
    assert!(tx.send(T::make(first)).is_ok());
    pause_if(slow_sender);
    assert!(tx.send_timeout(T::make(first + 1), WAIT).is_ok());
    pause_if(slow_sender);
    goro::select! {
        send(tx, T::make(first + 2)) -> r => assert!(r.is_ok()),
        recv(never) -> _ => unreachable!("`never` is never ready"),
    }
    pause_if(slow_sender);
    let mut v = T::make(first + 3);
    loop {
        match tx.try_send(v) {
            Ok(()) => break,
            Err(TrySendError::Full(back)) => {
                assert_eq!(back.tag(), first + 3);
                v = back;
                goro::yield_now();
            }
            Err(TrySendError::Closed(_)) => unreachable!("the channel is open"),
        }
    }
    pause_if(slow_sender);
    assert!(tx.send(T::make(first + 4)).is_ok());
    let got = receiver.join().unwrap();
    assert_eq!(got, (first..first + 5).collect::<Vec<_>>());
    drop(tx2);
}

/// The failing paths, where the value comes back in an error: a timed-out send on a
/// channel nobody receives from, then sends of every kind on a closed channel.
fn failures<T: Payload>(tx: &Sender<T>, rx: &Receiver<T>) {
    match tx.send_timeout(T::make(7), Duration::from_millis(1)) {
        Err(SendTimeoutError::Timeout(v)) => assert_eq!(v.tag(), 7),
        // A buffered channel with room takes it; receive it back.
        Ok(()) => assert_eq!(rx.recv().unwrap().tag(), 7),
        Err(SendTimeoutError::Closed(_)) => unreachable!("the channel is open"),
    }
    assert!(matches!(
        rx.recv_timeout(Duration::from_millis(1)),
        Err(RecvTimeoutError::Timeout)
    ));
    tx.close();
    assert_eq!(tx.send(T::make(8)).unwrap_err().into_inner().tag(), 8);
    assert!(matches!(tx.try_send(T::make(9)), Err(TrySendError::Closed(v)) if v.tag() == 9));
    goro::select! {
        send(tx, T::make(10)) -> r => assert_eq!(r.unwrap_err().into_inner().tag(), 10),
    }
    assert!(rx.recv().is_err());
    goro::select! {
        recv(rx) -> v => assert!(v.is_err()),
    }
}

/// Runs `exchange` both ways and `failures` on channels made by `make`, for values of `T`.
fn every_way<T: Payload>(make: fn() -> (Sender<T>, Receiver<T>)) {
    let (tx, rx) = make();
    exchange(&tx, &rx, 1, false);
    exchange(&tx, &rx, 11, true);
    failures(&tx, &rx);
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
