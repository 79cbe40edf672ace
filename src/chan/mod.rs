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
//! # main();
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
//! - **Limits.** `select!` takes up to 128 cases (a larger select is a [`Select`]).
//! - **Blocking.** On a goroutine a blocked operation parks only the goroutine; on a plain
//!   thread it blocks the thread, as crossbeam's does.

mod channel;
mod core;
mod error;
mod flavor;
mod lock;
mod ring;
pub(crate) mod select;
pub(crate) mod waiter;

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use channel::Channel;
pub(crate) use channel::Feeder;
pub use error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use flavor::Block;
pub use select::{Select, Selected};

/// A channel holding up to `cap` values; `cap == 0` is Go's unbuffered (rendezvous) channel.
///
/// Go: `make(chan T, cap)`. Nothing is allocated up front: a huge capacity costs only what is
/// actually buffered.
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    pair(Channel::new(Some(cap), 1))
}

/// A channel whose sends never block.
///
/// Go has none; the nearest is a goroutine that buffers without bound.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    pair(Channel::new(None, 1))
}

/// A receiver that never receives anything (Go's nil channel): `recv` blocks forever,
/// `try_recv` is always empty, and it is never closed.
pub fn never<T>() -> Receiver<T> {
    // A channel with one sender that does not exist: it can never be closed or fed.
    Receiver {
        chan: Arc::new(Channel::new(Some(0), 1)),
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

/// The sending half of a channel. Go: `chan<- T`.
pub struct Sender<T> {
    chan: Arc<Channel<T>>,
}

/// The receiving half of a channel. Go: `<-chan T`.
pub struct Receiver<T> {
    chan: Arc<Channel<T>>,
}

impl<T> Sender<T> {
    fn chan_addr(&self) -> usize {
        Arc::as_ptr(&self.chan) as *const () as usize
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

impl<T> Sender<T> {
    /// Sends `v`, parking while the channel is full (or, unbuffered, until a receiver takes
    /// it).
    ///
    /// Go: `ch <- v`.
    ///
    /// # Errors
    ///
    /// The channel is closed, or every receiver is gone: the value comes back. (Go panics.)
    pub fn send(&self, v: T) -> Result<(), SendError<T>> {
        self.chan.send(v, Block::Forever).map_err(|e| match e {
            SendTimeoutError::Closed(v) | SendTimeoutError::Timeout(v) => SendError(v),
        })
    }

    /// Sends `v` if that can be done without waiting.
    ///
    /// Go: `select { case ch <- v: ... default: ... }`. On an unbuffered channel this succeeds
    /// only if a receiver is already waiting.
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(v)
    }

    /// Sends `v`, waiting at most `timeout`.
    pub fn send_timeout(&self, v: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.chan.send(
            v,
            deadline_after(timeout).map_or(Block::Forever, Block::Until),
        )
    }

    /// Sends `v`, waiting until `deadline` at the latest.
    pub fn send_deadline(&self, v: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.chan.send(v, Block::Until(deadline))
    }
}

impl<T> Sender<T> {
    /// Closes the channel. Returns `false` if it was already closed (Go panics).
    ///
    /// Go: `close(ch)`. Receivers still get what is buffered, then `recv` fails at once;
    /// blocked senders and receivers wake; later sends fail.
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Whether the channel is closed (by `close`, the last `Sender` dropping, or the last
    /// `Receiver` dropping).
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values buffered now. Go: `len(ch)`.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether nothing is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity, or `None` for an unbounded channel. Go: `cap(ch)`.
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
    pub fn recv(&self) -> Result<T, RecvError> {
        self.chan.recv(Block::Forever).map_err(|_| RecvError)
    }

    /// Receives a value if one is ready.
    ///
    /// Go: `select { case v := <-ch: ... default: ... }`.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives a value, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.chan
            .recv(deadline_after(timeout).map_or(Block::Forever, Block::Until))
    }

    /// Receives a value, waiting until `deadline` at the latest.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.chan.recv(Block::Until(deadline))
    }

    /// A blocking iterator over received values, ending when the channel is closed and
    /// drained. Go: `for v := range ch`.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the values ready now; it never blocks.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// Takes a buffered value without asking the channel's feeder first: for the feeder
    /// (a timer discarding its undelivered value under its own lock, see `Feeder`).
    pub(crate) fn take_unfed(&self) -> Option<T> {
        self.chan.recv_unfed(Block::No).ok()
    }
}

impl<T> Receiver<T> {
    /// Whether the channel is closed (values may still be buffered).
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values buffered now. Go: `len(ch)`.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether nothing is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity, or `None` for an unbounded channel. Go: `cap(ch)`.
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

    /// Whether `self` and `other` receive from the same channel.
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
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

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
