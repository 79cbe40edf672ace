//! The cases of a select: [`RecvCase`], [`SendCase`] and [`FutCase`], and the protocol the
//! algorithm drives them through ([`SelectCase`], sealed: only these implement it).

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};

use super::super::core::Dir;
use super::super::error::{RecvError, SendError};
use super::super::flavor::Now;
use super::super::waiter::{Token, Waiter, Wake, CLOSED, DONE};
use super::super::{Receiver, Sender};

mod sealed {
    /// Keeps [`SelectCase`](super::SelectCase) implemented by goro's cases only.
    pub trait Sealed {}
}

/// One case of a select, type-erased, in the order the passes of `select` call it.
pub trait SelectCase: sealed::Sealed {
    /// Before the passes, without any lock: lets a timer channel's timer deliver a value
    /// that is due (`Channel::feed`, Go's `maybeRunChan` in `selectgo`); returns the
    /// channel's address (the lock order), or `None` for a nil case.
    fn prepare(&self) -> Option<usize>;
    /// Takes the channel's lock.
    fn lock(&self);
    /// Releases the channel's lock.
    ///
    /// # Safety
    ///
    /// The lock is held by this select.
    unsafe fn unlock(&self);
    /// Pass 1: performs the operation if it can proceed now.
    ///
    /// # Safety
    ///
    /// The channel's lock is held by this select.
    unsafe fn try_now(&mut self, wake: &mut Option<Wake>) -> bool;
    /// With the lock held: for a lock-free channel, which changes without its lock, a
    /// number that changes whenever it does (`Channel::version`); `None` for any other
    /// (and a nil case).
    fn version(&self) -> Option<usize>;
    /// Pass 2, before linking: tells a lock-free channel a waiter is coming; returns whether
    /// the case must be polled once more before it is linked (`Channel::announce`).
    ///
    /// # Safety
    ///
    /// The channel's lock is held by this select.
    unsafe fn announce(&self) -> bool;
    /// Pass 2: links a waiter for case `index` of the select waiting on `token`, built at
    /// `waiter`.
    ///
    /// The select keeps its cases' waiters in storage of its own, not in the cases: a waker
    /// writes to a waiter (its state, its queue links) through the pointer the queue holds,
    /// and that pointer must not be derived from a `&mut` to the case, which the select
    /// reborrows again while the waiter is linked (the aliasing rules would then retire
    /// the pointer, and Miri's Tree Borrows reports the waker's write).
    ///
    /// # Safety
    ///
    /// The channel's lock is held; `waiter` is valid for writes, holds no live waiter, and
    /// stays in place, with `token`, until `unlink` (which is passed the same pointer).
    unsafe fn link(&mut self, token: &Token, index: usize, waiter: *mut Waiter);
    /// Before pass 3, for the winning case: waits until its waker has published the
    /// waiter's final state (it does so after releasing the channel lock, see `waiter.rs`).
    ///
    /// # Safety
    ///
    /// `waiter` is the pointer given to `link`.
    unsafe fn wait_completed(&self, waiter: *const Waiter);
    /// Pass 3: unlinks the waiter (and drops it), or, for the winning case, takes its
    /// outcome. Returns true if the winner was only notified (a lock-free channel changed,
    /// or closed) and must try its operation again. Called after an announcement even when
    /// nothing was linked, to withdraw it.
    ///
    /// # Safety
    ///
    /// The channel's lock is held by this select; `waiter` is the pointer given to `link`,
    /// if it was called since the last `unlink`.
    unsafe fn unlink(&mut self, won: bool, waiter: *mut Waiter) -> bool;
    /// Whether the case is a future (`fut(f)`), which has no channel: `prepare` returns
    /// `None` for it, and the channel calls do nothing.
    fn is_future(&self) -> bool {
        false
    }
    /// For a future case, with no lock held: polls the future; true if it is ready (its
    /// output is kept for `take_result`).
    fn poll_future(&mut self, _cx: &mut Context<'_>) -> bool {
        false
    }
}

/// Where a case keeps its value: the value a send case has not sent yet (or got back), or
/// the value a receive case received, which `take_result` moves out.
///
/// The value is in an `UnsafeCell`: on a locked channel, the counterpart that completes
/// the case's waiter reads or writes it through the waiter's pointer while the select holds
/// references to the case (`wait_completed`, `unlock`). The `Drop` is here rather than on
/// the cases, so that dropping a case does not count as a use of the channel it borrows.
struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    /// Whether `value` holds a value the case owns.
    full: bool,
}

impl<T> Slot<T> {
    #[inline]
    fn empty() -> Slot<T> {
        Slot {
            value: UnsafeCell::new(MaybeUninit::uninit()),
            full: false,
        }
    }

    #[inline]
    fn new(v: T) -> Slot<T> {
        Slot {
            value: UnsafeCell::new(MaybeUninit::new(v)),
            full: true,
        }
    }

    /// Where the value is, or goes.
    fn ptr(&self) -> *mut T {
        self.value.get().cast()
    }

    /// Moves the value out.
    #[inline]
    fn take(&mut self) -> T {
        assert!(self.full, "a case's slot holds a value");
        self.full = false;
        // SAFETY: `full` said the value is there and owned by the slot; it is cleared, so
        // the value is moved out only this once.
        unsafe { self.value.get_mut().assume_init_read() }
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        if self.full {
            // SAFETY: `full` says the value is there and still owned by the slot.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

/// A receive case (`recv(rx) -> v => ...`).
///
/// The received value is written straight into the case (by the channel, or by the sender
/// that finds its waiter), and moved out once more by `take_result`.
pub struct RecvCase<'a, T> {
    rx: Option<&'a Receiver<T>>,
    /// Whether the case's waiter (in the select's storage) is built, from `link` to
    /// `unlink`.
    waiting: bool,
    /// The received value, once `result` is `Some(Ok(()))`.
    slot: Slot<T>,
    /// The outcome once the case ran.
    result: Option<Result<(), RecvError>>,
}

/// A send case (`send(tx, v) -> r => ...`).
///
/// The value stays in the case until a receiver (or the channel's buffer) moves it out; a
/// case that does not win, or finds the channel closed, still holds it.
pub struct SendCase<'a, T> {
    tx: Option<&'a Sender<T>>,
    /// The value, until it is sent.
    slot: Slot<T>,
    /// As in `RecvCase`.
    waiting: bool,
    /// The outcome once the case ran: sent, or closed (`Err`, the value still held).
    result: Option<Result<(), ()>>,
}

impl<'a, T> RecvCase<'a, T> {
    /// A case receiving from `rx` (never ready for `None`).
    #[inline]
    pub fn new(rx: Option<&'a Receiver<T>>) -> Self {
        RecvCase {
            rx,
            waiting: false,
            slot: Slot::empty(),
            result: None,
        }
    }

    /// The outcome of the winning case.
    #[inline]
    pub fn take_result(&mut self) -> Result<T, RecvError> {
        match self.result.take().expect("the select chose this case") {
            Ok(()) => Ok(self.slot.take()),
            Err(e) => Err(e),
        }
    }
}

impl<'a, T> SendCase<'a, T> {
    /// A case sending `value` on `tx` (never ready for `None`).
    #[inline]
    pub fn new(tx: Option<&'a Sender<T>>, value: T) -> Self {
        SendCase {
            tx,
            slot: Slot::new(value),
            waiting: false,
            result: None,
        }
    }

    /// The outcome of the winning case.
    #[inline]
    pub fn take_result(&mut self) -> Result<(), SendError<T>> {
        match self.result.take().expect("the select chose this case") {
            Ok(()) => Ok(()),
            Err(()) => Err(SendError(self.slot.take())),
        }
    }

    /// After the case has run (its value is gone): makes it a nil case, never ready again,
    /// for a `Select` that runs again.
    pub(crate) fn spend(&mut self) {
        self.tx = None;
    }
}

impl<T> fmt::Debug for RecvCase<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvCase")
            .field("nil", &self.rx.is_none())
            .field("waiting", &self.waiting)
            .field("done", &self.result.is_some())
            .finish()
    }
}

impl<T> fmt::Debug for SendCase<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendCase")
            .field("nil", &self.tx.is_none())
            .field("waiting", &self.waiting)
            .field("done", &self.result.is_some())
            .finish()
    }
}

/// A future case (`fut(f) -> v => ...`): the future is polled by the select, outside the
/// channel locks, and its output is the case's result. A future that does not win is left
/// as it is (polled, perhaps, but never past `Pending`), to be awaited or selected again.
pub struct FutCase<'a, F: Future + ?Sized> {
    fut: Pin<&'a mut F>,
    out: Option<F::Output>,
}

impl<'a, F: Future + ?Sized> FutCase<'a, F> {
    /// A case for the future `fut`.
    #[inline]
    pub fn new(fut: Pin<&'a mut F>) -> FutCase<'a, F> {
        FutCase { fut, out: None }
    }

    /// The future's output, once the case ran.
    #[inline]
    pub fn take_result(&mut self) -> F::Output {
        self.out.take().expect("the select ran this case")
    }
}

impl<F: Future + ?Sized> fmt::Debug for FutCase<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FutCase")
            .field("ready", &self.out.is_some())
            .finish()
    }
}

impl<F: Future + ?Sized> sealed::Sealed for FutCase<'_, F> {}

impl<F: Future + ?Sized> SelectCase for FutCase<'_, F> {
    fn prepare(&self) -> Option<usize> {
        None
    }

    fn lock(&self) {}

    unsafe fn unlock(&self) {}

    unsafe fn try_now(&mut self, _wake: &mut Option<Wake>) -> bool {
        false
    }

    fn version(&self) -> Option<usize> {
        None
    }

    unsafe fn announce(&self) -> bool {
        false
    }

    unsafe fn link(&mut self, _token: &Token, _index: usize, _waiter: *mut Waiter) {}

    unsafe fn wait_completed(&self, _waiter: *const Waiter) {}

    unsafe fn unlink(&mut self, _won: bool, _waiter: *mut Waiter) -> bool {
        false
    }

    fn is_future(&self) -> bool {
        true
    }

    fn poll_future(&mut self, cx: &mut Context<'_>) -> bool {
        match self.fut.as_mut().poll(cx) {
            Poll::Ready(v) => {
                self.out = Some(v);
                true
            }
            Poll::Pending => false,
        }
    }
}

impl<T> sealed::Sealed for RecvCase<'_, T> {}
impl<T> sealed::Sealed for SendCase<'_, T> {}

impl<T> SelectCase for RecvCase<'_, T> {
    fn prepare(&self) -> Option<usize> {
        self.rx.map(|r| {
            r.chan.feed();
            r.chan_addr()
        })
    }

    fn lock(&self) {
        if let Some(r) = self.rx {
            r.chan.lock();
        }
    }

    unsafe fn unlock(&self) {
        if let Some(r) = self.rx {
            // SAFETY: the caller holds the lock.
            unsafe { r.chan.unlock() };
        }
    }

    unsafe fn try_now(&mut self, wake_out: &mut Option<Wake>) -> bool {
        let Some(r) = self.rx else { return false };
        // SAFETY: the caller holds the lock; the slot is valid for a write and holds
        // nothing yet (a case runs once).
        match unsafe { r.chan.recv_now(self.slot.ptr()) } {
            Now::Done(wake) => {
                self.slot.full = true;
                *wake_out = wake;
                self.result = Some(Ok(()));
                true
            }
            Now::Closed => {
                self.result = Some(Err(RecvError));
                true
            }
            Now::Wait => false,
        }
    }

    fn version(&self) -> Option<usize> {
        self.rx.and_then(|r| r.chan.version())
    }

    unsafe fn announce(&self) -> bool {
        // SAFETY: the caller holds the lock.
        self.rx
            .is_some_and(|r| unsafe { r.chan.announce(Dir::Recv) })
    }

    unsafe fn link(&mut self, token: &Token, index: usize, waiter: *mut Waiter) {
        let Some(r) = self.rx else { return };
        // A sender writes its value straight into the case, on a locked channel; a
        // lock-free channel's waiter carries none (it is only notified).
        let elem = if r.chan.values_in_waiters() {
            self.slot.ptr()
        } else {
            ptr::null_mut()
        };
        // SAFETY: the caller gives storage valid for writes with no live waiter in it.
        unsafe { waiter.write(Waiter::for_select(elem, token, index)) };
        self.waiting = true;
        // SAFETY: the caller holds the lock; the waiter stays in place until `unlink`
        // removes it or a waker unlinks it, both under the lock, and the slot with the case.
        unsafe { r.chan.link(&*waiter, Dir::Recv) };
    }

    unsafe fn wait_completed(&self, waiter: *const Waiter) {
        if self.waiting {
            // SAFETY: the waiter built by `link`, still in place (the caller's contract).
            unsafe { (*waiter).completed(crate::rt::registry::Reason::Select) };
        }
    }

    unsafe fn unlink(&mut self, won: bool, waiter: *mut Waiter) -> bool {
        let Some(r) = self.rx else { return false };
        let mut retry = false;
        // The waiter is unlinked by its address: look at it in place, drop it after.
        // SAFETY: built by `link` if `waiting`, still in place (the caller's contract).
        let w = self.waiting.then(|| unsafe { &*waiter });
        if let (true, Some(w)) = (won, w) {
            if r.chan.values_in_waiters() {
                self.result = Some(match w.state() {
                    // The sender wrote its value into the slot.
                    DONE => {
                        self.slot.full = true;
                        Ok(())
                    }
                    CLOSED => Err(RecvError),
                    s => unreachable!("winning waiter in state {s}"),
                });
            } else {
                // Notified, or closed: the value (or the close) is in the buffer.
                retry = true;
            }
        }
        // SAFETY: the caller holds the lock; a winner is no longer linked.
        unsafe { r.chan.unlink(w.filter(|_| !won), Dir::Recv) };
        if self.waiting {
            self.waiting = false;
            // SAFETY: no longer linked, and its final state was read if it won: nobody
            // reaches it any more; `w` is not used past here.
            unsafe { ptr::drop_in_place(waiter) };
        }
        retry
    }
}

impl<T> SelectCase for SendCase<'_, T> {
    fn prepare(&self) -> Option<usize> {
        // Nothing to feed: an internal channel's sender never leaves goro.
        self.tx.map(|t| t.chan_addr())
    }

    fn lock(&self) {
        if let Some(t) = self.tx {
            t.chan.lock();
        }
    }

    unsafe fn unlock(&self) {
        if let Some(t) = self.tx {
            // SAFETY: the caller holds the lock.
            unsafe { t.chan.unlock() };
        }
    }

    unsafe fn try_now(&mut self, wake_out: &mut Option<Wake>) -> bool {
        let Some(t) = self.tx else { return false };
        debug_assert!(self.slot.full, "a send case holds its value until it runs");
        // SAFETY: the caller holds the lock; the slot holds our value, which we give up if
        // the send happens (the slot is emptied below).
        match unsafe { t.chan.send_now(self.slot.ptr()) } {
            Now::Done(wake) => {
                self.slot.full = false;
                *wake_out = wake;
                self.result = Some(Ok(()));
                true
            }
            Now::Closed => {
                self.result = Some(Err(()));
                true
            }
            Now::Wait => false,
        }
    }

    fn version(&self) -> Option<usize> {
        self.tx.and_then(|t| t.chan.version())
    }

    unsafe fn announce(&self) -> bool {
        // SAFETY: the caller holds the lock.
        self.tx
            .is_some_and(|t| unsafe { t.chan.announce(Dir::Send) })
    }

    unsafe fn link(&mut self, token: &Token, index: usize, waiter: *mut Waiter) {
        let Some(t) = self.tx else { return };
        // A receiver moves the value straight out of the case, on a locked channel; a
        // lock-free channel's waiter carries none: the case keeps it for its next try.
        let elem = if t.chan.values_in_waiters() {
            self.slot.ptr()
        } else {
            ptr::null_mut()
        };
        // SAFETY: as for `RecvCase::link`.
        unsafe { waiter.write(Waiter::for_select(elem, token, index)) };
        self.waiting = true;
        // SAFETY: as for `RecvCase::link`.
        unsafe { t.chan.link(&*waiter, Dir::Send) };
    }

    unsafe fn wait_completed(&self, waiter: *const Waiter) {
        if self.waiting {
            // SAFETY: as for `RecvCase::wait_completed`.
            unsafe { (*waiter).completed(crate::rt::registry::Reason::Select) };
        }
    }

    unsafe fn unlink(&mut self, won: bool, waiter: *mut Waiter) -> bool {
        let Some(t) = self.tx else { return false };
        let mut retry = false;
        // SAFETY: as for `RecvCase::unlink`.
        let w = self.waiting.then(|| unsafe { &*waiter });
        // SAFETY: the caller holds the lock; a winner is no longer linked.
        unsafe { t.chan.unlink(w.filter(|_| !won), Dir::Send) };
        if let (true, Some(w)) = (won, w) {
            if t.chan.values_in_waiters() {
                self.result = Some(match w.state() {
                    // A receiver moved the value out of the case.
                    DONE => {
                        self.slot.full = false;
                        Ok(())
                    }
                    // Nobody touched it: handed back by `take_result`.
                    CLOSED => Err(()),
                    s => unreachable!("winning waiter in state {s}"),
                });
            } else {
                // Notified of room, or closed: the case still holds its value; try again.
                retry = true;
            }
        }
        // A losing case's value was never touched: it stays with the case and is dropped
        // with it, never sent.
        if self.waiting {
            self.waiting = false;
            // SAFETY: as for `RecvCase::unlink`.
            unsafe { ptr::drop_in_place(waiter) };
        }
        retry
    }
}
