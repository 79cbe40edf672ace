//! Channels with Go's semantics, for goroutines and threads alike.
//!
//! Go: `make(chan T, n)`, `ch <- v`, `<-ch`, `close(ch)`, `for v := range ch`.
//!
//! [`bounded`]`(0)` is Go's unbuffered channel: a send completes only when a receiver has
//! taken the value. [`bounded`]`(n)` buffers up to `n` values; [`unbounded`] never blocks a
//! sender. Both handles are `Clone + Send + Sync`: any number of goroutines and threads may
//! send and receive. A blocked operation parks only its goroutine (or blocks its thread).
//!
//! Closing ([`Sender::close`], or dropping the last `Sender`) lets receivers drain what is
//! buffered, then makes `recv` fail at once; sends fail with the value handed back, and
//! every blocked sender and receiver wakes. When the last `Receiver` is dropped, sends fail
//! instead of blocking forever. Every value sent is received exactly once, or dropped
//! exactly once (with the channel, or in the error that hands it back).
//!
//! ```
//! use goro::chan;
//!
//! #[goro::main]
//! fn main() {
//!     let (tx, rx) = chan::bounded(0);
//!     goro::go(move || {
//!         for i in 0..3 {
//!             tx.send(i).unwrap();
//!         }
//!         tx.close();
//!     });
//!     let got: Vec<i32> = rx.iter().collect(); // Go: for v := range ch
//!     assert_eq!(got, [0, 1, 2]);
//! }
//! ```
//!
//! # Coming from crossbeam-channel
//!
//! The API follows crossbeam-channel 0.5's: [`bounded`], [`unbounded`], [`never()`],
//! [`Sender`]/[`Receiver`] with the same method families (`send`, `try_send`,
//! `send_timeout`, `send_deadline`, `recv`, ..., `iter`, `try_iter`, `len`, `is_empty`,
//! `is_full`, `capacity`, `same_channel`), [`select!`](crate::select) and
//! [`select_biased!`](crate::select_biased) with the same case syntax (including
//! `default()`, trailing commas inside a case, and channels behind any number of references
//! or smart pointers), and [`Select`]. Timer channels are in [`time`](crate::time)
//! (`after`, `tick`). What differs, and why:
//!
//! - **Closing.** Go closes a channel explicitly: [`Sender::close`] exists (crossbeam has
//!   none), and closing wakes every blocked party at once. Dropping the last `Sender` or the
//!   last `Receiver` closes the channel too, so crossbeam's disconnection behaves the same.
//!   The error variants and the query are named after Go's word: `Closed` and `is_closed`,
//!   for crossbeam's `Disconnected` and `is_disconnected`.
//! - **Nil channels.** `select!` also takes an `Option<&Receiver<T>>` or `Option<&Sender<T>>`
//!   (`None` is Go's nil channel, never ready); crossbeam's way, [`never()`], works as well.
//! - **Send values in [`Select`].** A send case takes its value when it is added
//!   ([`Select::send`]`(&tx, v)`), because a Go select evaluates its send values before it
//!   blocks, and a waiting send case on an unbuffered channel hands its value to the
//!   receiver that claims it, under the channel's lock (Go's direct hand-off). crossbeam
//!   registers only the sender and takes the value after the select, in
//!   `SelectedOperation::send`. Accordingly a [`Selected`] case hands out its outcome with
//!   [`Selected::recv`]`::<T>()` / [`Selected::send`]`::<T>()` (no channel argument), a
//!   send case that has run is never ready again, and `Select` is not `Clone` (its send
//!   values need not be). Case types must be `Send + 'static` (the outcome is handed out
//!   through `Any`). Otherwise `Select` is crossbeam's: it runs any number of times, is
//!   `Send`, has `new_biased` and `remove`; `try_select`, `select_timeout` and
//!   `select_deadline` return an `Option` rather than a `Result` with a unit error.
//! - **No readiness-only select.** crossbeam's `Select::ready`, `try_ready` and
//!   `ready_timeout` (wait until a case is ready without performing it) have no
//!   counterpart: on unbuffered and unbounded channels a blocked operation is completed by
//!   its counterpart, which moves the value through the waiter, so a waiter that only
//!   watches would be a second kind of waiter in every queue. Run the operation in the
//!   select itself ([`select!`](crate::select), [`Select::select`]); Go has no readiness
//!   test either.
//! - **Timers in a parked select.** When several timer channels wake a blocked select, the
//!   first timer to fire wins, as in Go (two `after(1ms)` in one select: the one fired first
//!   takes it every time); crossbeam looks at every due timer after waking and picks one at
//!   random. Timers already due when the select starts are ready cases and chosen at random
//!   among the others, in both. Timer channels read length and capacity 0, as in Go 1.23,
//!   and `tick(Duration::ZERO)` panics, as `time.NewTicker(0)` does.
//! - **Values left in a channel** are dropped with it, even while a panic unwinds, as
//!   `Vec` drops its elements: a value whose `Drop` panics during that unwinding aborts the
//!   process, as a second panic does anywhere. crossbeam leaks them instead.
//! - **Limits.** `select!` takes up to 128 cases (a larger select is a [`Select`]).
//! - **Blocking.** On a goroutine a blocked operation parks only the goroutine; on a plain
//!   thread it blocks the thread, as crossbeam's does.
//!
//! # Async
//!
//! [`Sender::send_async`] and [`Receiver::recv_async`] are the send and the receive as
//! futures, for async code on any executor; `Receiver::stream` and `Sender::sink` (features
//! `futures-core` and `futures-sink`) make a channel a `Stream` or a `Sink`. An async
//! operation waits in the channel's queue like a parked goroutine, first come first served
//! with goroutines and threads, and its future holds the waiter (in a small heap block,
//! allocated only if it has to wait), so the futures are `Unpin`.
//!
//! They are cancel-safe. A future may be dropped at any point (a `select!` or `timeout` that
//! took another branch, an aborted task), and then:
//!
//! - a send has either delivered its value or not, and the value is then dropped with the
//!   future (a completed `send_async` returned `Ok`; one dropped early may still have
//!   delivered, as a send races with its cancellation in any language);
//! - a receive has either received nothing, or, if a sender had already handed it its
//!   value (an unbuffered or unbounded channel hands values straight to a waiting
//!   receiver), the value goes back to the channel: to the next waiting receiver, or to the
//!   front of the buffer, ahead of every value sent after it. It is never lost, and never
//!   received twice. (To the senders it looks as if the value had been received, so an
//!   unbuffered channel's `len()` may read 1 until someone takes it.)
//! - an operation that was only told to look again (a buffered channel's waiters are
//!   notified rather than handed values) passes that notification on to the next waiter,
//!   so no value or room is left unclaimed while others wait.
//!
//! `tests/chan_async.rs` drops futures at random points under load from goroutines,
//! threads and tokio tasks, and counts every value's drops.
//!
//! # How values move
//!
//! A value is copied once into the channel and once out of it, or once in all when the other
//! side is already waiting, whatever its size. No layer of the channel takes it by value,
//! since each parameter and each `Result` on the way would be another copy on the
//! goroutine's stack, and goroutine stacks are small (256 KiB). [`Sender::send`] keeps the
//! value in its own frame and gives the channel a pointer to it; the channel moves it out
//! exactly once: into the buffer, or straight into the destination of a receiver that is
//! waiting (a blocked operation's waiter holds a pointer into its goroutine's frame, as Go's
//! `sudog.elem` does, never the value). A send that does not happen returns the value that
//! never left. [`Receiver::recv`] gives the channel a pointer to an uninitialised place in
//! its frame, which the channel, or a sender that finds it waiting, fills once. A `select!`
//! case holds its value (or its destination) itself and is read or filled in place the same
//! way. So a receive needs stack for about two values (its place and the caller's
//! `Result`), a send for about three (the caller's value, the sender's `ManuallyDrop` of
//! it, which never drops a value a receiver may own already, and the `Result`), and so does
//! a `select!` send (the macro moves the value into its case), rather than one per layer;
//! `tests/chan_large.rs` checks this with 24 KiB values on 160 KiB goroutine stacks. It
//! also makes every send and receive of a large value cheaper.

mod channel;
mod core;
mod error;
mod flavor;
mod future;
mod lock;
mod ring;
pub(crate) mod select;
pub(crate) mod waiter;

use std::fmt;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use channel::Channel;
pub(crate) use channel::Feeder;
pub use error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use flavor::{Block, Outcome};
pub(crate) use future::OwnedRecv;
#[cfg(feature = "futures-core")]
pub use future::RecvStream;
#[cfg(feature = "futures-sink")]
pub use future::SendSink;
pub use future::{RecvFuture, SendFuture};
pub use select::{Select, Selected};

/// A channel holding up to `cap` values; `cap == 0` is Go's unbuffered (rendezvous) channel.
///
/// Go: `make(chan T, cap)`. Nothing is allocated up front: a huge capacity costs only what is
/// actually buffered.
///
/// ```
/// use goro::chan;
///
/// let (tx, rx) = chan::bounded(2);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap(); // two fit without a receiver
/// assert_eq!(tx.capacity(), Some(2));
/// assert_eq!((rx.recv(), rx.recv()), (Ok(1), Ok(2)));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    pair(Channel::new(Some(cap), 1))
}

/// A channel whose sends never block.
///
/// Go has none; the nearest is a goroutine that buffers without bound.
///
/// ```
/// use goro::chan;
///
/// let (tx, rx) = chan::unbounded();
/// for i in 0..1000 {
///     tx.send(i).unwrap(); // never blocks
/// }
/// assert_eq!((rx.len(), tx.capacity()), (1000, None));
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    pair(Channel::new(None, 1))
}

/// A receiver that never receives anything (Go's nil channel): `recv` blocks forever,
/// `try_recv` is always empty, and it is never closed.
///
/// ```
/// use goro::chan;
/// use std::time::Duration;
///
/// let rx = chan::never::<i32>();
/// assert_eq!(rx.try_recv(), Err(chan::TryRecvError::Empty));
/// assert!(rx.recv_timeout(Duration::from_millis(1)).unwrap_err().is_timeout());
/// ```
pub fn never<T>() -> Receiver<T> {
    // A channel with one sender that does not exist: it can never be closed or fed.
    let mut chan = Channel::new(Some(0), 1);
    chan.never = true;
    Receiver {
        chan: Arc::new(chan),
    }
}

/// A channel fed by goro itself rather than by user code, such as a timer's (`time` has
/// the rules): it buffers up to `cap` values out of sight (its length and capacity read 0,
/// as Go 1.23 shows a timer's channel), and dropping its senders does not close it; only
/// dropping every receiver does, after telling `feeder` (which can then stop producing:
/// an unreferenced timer is disarmed). A receiver left waiting after the last value waits
/// forever, as in Go. Every receive, `try_recv` and select first lets `feeder` deliver a
/// value that is due (`Feeder::deliver_due`: an expired timer fires in place).
pub(crate) fn internal<T>(cap: usize, feeder: Weak<dyn Feeder>) -> (Sender<T>, Receiver<T>) {
    // One sender more than exist: the count never reaches zero.
    pair(Channel::internal(cap, 2, feeder))
}

fn pair<T>(chan: Channel<T>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(chan);
    (
        Sender {
            chan: Arc::clone(&chan),
        },
        Receiver { chan },
    )
}

/// The instant `d` from now, or `None` if it is too far to represent (no deadline).
fn deadline_after(d: Duration) -> Option<Instant> {
    Instant::now().checked_add(d)
}

/// The error of a timed receive that did not happen.
fn recv_timeout_error(o: Outcome) -> RecvTimeoutError {
    match o {
        Outcome::Closed => RecvTimeoutError::Closed,
        _ => RecvTimeoutError::Timeout,
    }
}

/// The sending half of a channel. Go: `chan<- T`.
///
/// ```
/// use goro::chan;
///
/// let (tx, rx) = chan::bounded(0);
/// let tx2 = tx.clone(); // any number of senders
/// goro::go(move || tx.send("a").unwrap());
/// goro::go(move || tx2.send("b").unwrap());
/// let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
/// got.sort();
/// assert_eq!(got, ["a", "b"]);
/// ```
pub struct Sender<T> {
    chan: Arc<Channel<T>>,
}

/// The receiving half of a channel. Go: `<-chan T`.
///
/// ```
/// use goro::chan;
///
/// let (tx, rx) = chan::unbounded();
/// let rx2 = rx.clone(); // any number of receivers; each value goes to one of them
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// assert_eq!(rx.recv(), Ok(1));
/// assert_eq!(rx2.recv(), Ok(2));
/// ```
pub struct Receiver<T> {
    chan: Arc<Channel<T>>,
}

impl<T> Sender<T> {
    fn chan_addr(&self) -> usize {
        Arc::as_ptr(&self.chan) as *const () as usize
    }
}

impl<T> Sender<T> {
    /// Sends the value in `v`, which stays in the caller's frame: the channel moves it out
    /// (one copy) only if the send happens, and the caller hands it back otherwise.
    ///
    /// The value sits in a `ManuallyDrop` from before the send, never dropped or used again
    /// once it has moved: a panic leaks it rather than dropping it twice, and nothing of the
    /// sender's copy is touched after a receiver took ownership (a plain `mem::forget(v)`
    /// after the send would move a value that may be someone else's by then, such as a `Box`
    /// its receiver is already using).
    #[inline(always)]
    #[track_caller]
    fn send_in_place(&self, v: &ManuallyDrop<T>, block: Block) -> Outcome {
        // SAFETY: `v` is a valid `T` that the caller owns and never drops; on `Done` the
        // caller does not use it any more (every caller below: only the other outcomes take
        // it back with `ManuallyDrop::into_inner`).
        unsafe { self.chan.send(&**v, block) }
    }
}

impl<T> Receiver<T> {
    fn chan_addr(&self) -> usize {
        Arc::as_ptr(&self.chan) as *const () as usize
    }
}

// No `T: Send` bound on the operations (crossbeam-channel has none either): a channel of
// values that are not `Send` is itself neither `Send` nor `Sync` (`core.rs`, `ring.rs`), so
// it is used by one thread (or one goroutine) only, and its values never change threads.

impl<T> Receiver<T> {
    /// Receives into a place of this frame, which the channel fills (one copy) if a value
    /// comes; `err` builds the error otherwise.
    #[inline(always)]
    #[track_caller]
    fn recv_in_place<E>(&self, block: Block, err: impl FnOnce(Outcome) -> E) -> Result<T, E> {
        let mut v = MaybeUninit::<T>::uninit();
        // SAFETY: `v` is valid for a write and stays in place until `recv` returns.
        match unsafe { self.chan.recv(v.as_mut_ptr(), block) } {
            // SAFETY: `Done` means the channel wrote a value there.
            Outcome::Done => Ok(unsafe { v.assume_init() }),
            o => Err(err(o)),
        }
    }
}

impl<T> Sender<T> {
    /// Sends `v`, parking while the channel is full (or, unbuffered, until a receiver takes
    /// it).
    ///
    /// Go: `ch <- v`.
    ///
    /// # Errors
    ///
    /// The channel is closed, or every receiver is gone: the value comes back. (Go panics.)
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::bounded(0);
    /// let h = goro::go(move || rx.recv().unwrap());
    /// tx.send(7).unwrap(); // returns once the goroutine has taken it
    /// assert_eq!(h.join().unwrap(), 7);
    /// tx.close();
    /// assert_eq!(tx.send(8).unwrap_err().into_inner(), 8);
    /// ```
    #[inline]
    #[track_caller]
    pub fn send(&self, v: T) -> Result<(), SendError<T>> {
        let v = ManuallyDrop::new(v);
        match self.send_in_place(&v, Block::Forever) {
            Outcome::Done => Ok(()),
            _ => Err(SendError(ManuallyDrop::into_inner(v))),
        }
    }

    /// Sends `v` if that can be done without waiting.
    ///
    /// Go: `select { case ch <- v: ... default: ... }`. On an unbuffered channel this succeeds
    /// only if a receiver is already waiting.
    ///
    /// ```
    /// use goro::chan::{self, TrySendError};
    ///
    /// let (tx, _rx) = chan::bounded(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// tx.close();
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    #[inline]
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        let v = ManuallyDrop::new(v);
        match self.send_in_place(&v, Block::No) {
            Outcome::Done => Ok(()),
            Outcome::Closed => Err(TrySendError::Closed(ManuallyDrop::into_inner(v))),
            Outcome::TimedOut => Err(TrySendError::Full(ManuallyDrop::into_inner(v))),
        }
    }

    /// Sends `v`, waiting at most `timeout`.
    ///
    /// ```
    /// use goro::chan::{self, SendTimeoutError};
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// assert_eq!(tx.send_timeout(1, Duration::from_millis(1)), Ok(()));
    /// // Full, and nobody receives: the value comes back.
    /// assert_eq!(tx.send_timeout(2, Duration::from_millis(1)), Err(SendTimeoutError::Timeout(2)));
    /// assert_eq!(rx.recv(), Ok(1));
    /// ```
    #[inline]
    #[track_caller]
    pub fn send_timeout(&self, v: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        let block = deadline_after(timeout).map_or(Block::Forever, Block::Until);
        self.send_blocking(v, block)
    }

    /// Sends `v`, waiting until `deadline` at the latest.
    ///
    /// ```
    /// use goro::chan;
    /// use std::time::{Duration, Instant};
    ///
    /// let (tx, _rx) = chan::bounded(0);
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// let err = tx.send_deadline("late", deadline).unwrap_err();
    /// assert!(err.is_timeout() && Instant::now() >= deadline);
    /// ```
    #[inline]
    #[track_caller]
    pub fn send_deadline(&self, v: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.send_blocking(v, Block::Until(deadline))
    }

    /// `send_timeout` and `send_deadline`.
    #[inline(always)]
    #[track_caller]
    fn send_blocking(&self, v: T, block: Block) -> Result<(), SendTimeoutError<T>> {
        let v = ManuallyDrop::new(v);
        match self.send_in_place(&v, block) {
            Outcome::Done => Ok(()),
            Outcome::Closed => Err(SendTimeoutError::Closed(ManuallyDrop::into_inner(v))),
            Outcome::TimedOut => Err(SendTimeoutError::Timeout(ManuallyDrop::into_inner(v))),
        }
    }
}

impl<T> Sender<T> {
    /// Closes the channel. Returns `false` if it was already closed (Go panics).
    ///
    /// Go: `close(ch)`. Receivers still get what is buffered, then `recv` fails at once;
    /// blocked senders and receivers wake; later sends fail.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// tx.send(1).unwrap();
    /// assert!(tx.close());
    /// assert!(!tx.close()); // already closed
    /// assert_eq!(rx.recv(), Ok(1)); // buffered values are still delivered
    /// assert_eq!(rx.recv(), Err(chan::RecvError));
    /// ```
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Whether the channel is closed (by `close`, the last `Sender` dropping, or the last
    /// `Receiver` dropping).
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::bounded::<i32>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx); // the last receiver is gone
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values buffered now. Go: `len(ch)`.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, _rx) = chan::bounded(4);
    /// tx.send('a').unwrap();
    /// tx.send('b').unwrap();
    /// assert_eq!(tx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether nothing is buffered now.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// assert!(tx.is_empty());
    /// tx.send(()).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.recv().unwrap();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity, or `None` for an unbounded channel. Go: `cap(ch)`.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// assert_eq!(chan::bounded::<i32>(0).0.capacity(), Some(0));
    /// assert_eq!(chan::bounded::<i32>(8).0.capacity(), Some(8));
    /// assert_eq!(chan::unbounded::<i32>().0.capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }

    /// Whether the buffer is full now: `len() == cap(ch)` in Go. An unbuffered channel is
    /// always full (and empty), an unbounded one never.
    ///
    /// crossbeam-channel: `Sender::is_full`. Like `len`, the answer may be stale at once.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// assert!(!tx.is_full());
    /// tx.send(1).unwrap();
    /// assert!(tx.is_full() && rx.is_full());
    /// assert!(chan::bounded::<i32>(0).0.is_full());
    /// assert!(!chan::unbounded::<i32>().0.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.chan.capacity().is_some_and(|cap| self.len() >= cap)
    }

    /// Whether `self` and `other` send on the same channel.
    ///
    /// crossbeam-channel: `Sender::same_channel`; Go: `ch1 == ch2`.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (a, _ra) = chan::bounded::<i32>(1);
    /// let (b, _rb) = chan::bounded::<i32>(1);
    /// assert!(a.same_channel(&a.clone()));
    /// assert!(!a.same_channel(&b));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Receiver<T> {
    /// Receives a value, parking until one is there.
    ///
    /// Go: `v, ok := <-ch` (`Err` is `ok == false`).
    ///
    /// # Errors
    ///
    /// The channel is closed and drained.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::bounded(0);
    /// goro::go(move || tx.send("hi").unwrap()); // tx drops when the goroutine ends
    /// assert_eq!(rx.recv(), Ok("hi"));
    /// assert_eq!(rx.recv(), Err(chan::RecvError)); // closed and drained
    /// ```
    #[inline]
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_in_place(Block::Forever, |_| RecvError)
    }

    /// Receives a value if one is ready.
    ///
    /// Go: `select { case v := <-ch: ... default: ... }`.
    ///
    /// ```
    /// use goro::chan::{self, TryRecvError};
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    #[inline]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.recv_in_place(Block::No, |o| match o {
            Outcome::Closed => TryRecvError::Closed,
            _ => TryRecvError::Empty,
        })
    }

    /// Receives a value, waiting at most `timeout`.
    ///
    /// ```
    /// use goro::chan::{self, RecvTimeoutError};
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = chan::bounded::<i32>(1);
    /// assert_eq!(rx.recv_timeout(Duration::from_millis(1)), Err(RecvTimeoutError::Timeout));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.recv_timeout(Duration::from_millis(1)), Ok(1));
    /// ```
    #[inline]
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let block = deadline_after(timeout).map_or(Block::Forever, Block::Until);
        self.recv_in_place(block, recv_timeout_error)
    }

    /// Receives a value, waiting until `deadline` at the latest.
    ///
    /// ```
    /// use goro::chan::{self, RecvTimeoutError};
    /// use std::time::{Duration, Instant};
    ///
    /// let (_tx, rx) = chan::bounded::<i32>(0);
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// assert_eq!(rx.recv_deadline(deadline), Err(RecvTimeoutError::Timeout));
    /// assert!(Instant::now() >= deadline);
    /// ```
    #[inline]
    #[track_caller]
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_in_place(Block::Until(deadline), recv_timeout_error)
    }

    /// A blocking iterator over received values, ending when the channel is closed and
    /// drained. Go: `for v := range ch`.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::bounded(0);
    /// goro::go(move || {
    ///     for i in 1..=3 {
    ///         tx.send(i).unwrap();
    ///     }
    /// }); // the channel closes when `tx` drops
    /// assert_eq!(rx.iter().sum::<i32>(), 6);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the values ready now; it never blocks.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::bounded(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// // Stops at the first empty channel although `tx` is still open.
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// Takes a buffered value without asking the channel's feeder first: for the feeder
    /// (a timer discarding its undelivered value under its own lock, see `Feeder`).
    pub(crate) fn take_unfed(&self) -> Option<T> {
        let mut v = MaybeUninit::<T>::uninit();
        // SAFETY: `v` is valid for a write and stays in place until `recv_unfed` returns.
        match unsafe { self.chan.recv_unfed(v.as_mut_ptr(), Block::No) } {
            // SAFETY: `Done` means the channel wrote a value there.
            Outcome::Done => Some(unsafe { v.assume_init() }),
            _ => None,
        }
    }
}

impl<T> Receiver<T> {
    /// Whether the channel is closed (values may still be buffered).
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// tx.send(1).unwrap();
    /// tx.close();
    /// assert!(rx.is_closed());
    /// assert_eq!(rx.recv(), Ok(1)); // closed, yet the buffered value is still there
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values buffered now. Go: `len(ch)`.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::unbounded();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// rx.recv().unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether nothing is buffered now.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::unbounded();
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity, or `None` for an unbounded channel. Go: `cap(ch)`.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// assert_eq!(chan::bounded::<i32>(3).1.capacity(), Some(3));
    /// assert_eq!(chan::unbounded::<i32>().1.capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }

    /// Whether the buffer is full now: `len() == cap(ch)` in Go. An unbuffered channel is
    /// always full (and empty), an unbounded one never.
    ///
    /// crossbeam-channel: `Receiver::is_full`. Like `len`, the answer may be stale at once.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// assert!(!tx.is_full());
    /// tx.send(1).unwrap();
    /// assert!(tx.is_full() && rx.is_full());
    /// assert!(chan::bounded::<i32>(0).0.is_full());
    /// assert!(!chan::unbounded::<i32>().0.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.chan.capacity().is_some_and(|cap| self.len() >= cap)
    }

    /// Whether `self` and `other` receive from the same channel. Every [`never()`] is the
    /// same channel, as every nil channel is the same value in Go.
    ///
    /// crossbeam-channel: `Receiver::same_channel`; Go: `ch1 == ch2`.
    ///
    /// ```
    /// use goro::chan;
    ///
    /// let (_ta, a) = chan::bounded::<i32>(1);
    /// let (_tb, b) = chan::bounded::<i32>(1);
    /// assert!(a.same_channel(&a.clone()));
    /// assert!(!a.same_channel(&b));
    /// assert!(chan::never::<i32>().same_channel(&chan::never()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan) || (self.chan.never && other.chan.never)
    }
}

// A channel's state is whole whatever panics: an operation either happens or does not, and
// no lock of goro's is poisoned; so its ends may cross `catch_unwind`, as std's and
// crossbeam's do.
impl<T> std::panic::UnwindSafe for Sender<T> {}
impl<T> std::panic::RefUnwindSafe for Sender<T> {}
impl<T> std::panic::UnwindSafe for Receiver<T> {}
impl<T> std::panic::RefUnwindSafe for Receiver<T> {}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // AcqRel: the last sender to leave sees every other sender's departure.
        // A channel closed already (by `close`, say) needs no second close and its lock.
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 && !self.chan.is_closed() {
            self.chan.close();
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // AcqRel: as for senders. With no receiver left, sends fail instead of blocking
        // forever: the channel closes.
        if self.chan.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.receivers_gone();
            if !self.chan.is_closed() {
                self.chan.close();
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Blocking iterator of [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// Non-blocking iterator of [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owning blocking iterator of `Receiver`'s `IntoIterator`.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

/// Aborts the process when dropped. Armed around a select's passes, where a send case's
/// value may have moved out to a receiver while the case still counts it as its own (until
/// pass 3 reads the waiter's state), and disarmed with `mem::forget` once the outcome is
/// known: the machinery runs no user code, so only a bug in goro could panic there, and a
/// second drop of a value that moved must not follow it.
pub(crate) struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        eprintln!("goro: a panic inside a channel operation; aborting");
        std::process::abort();
    }
}
