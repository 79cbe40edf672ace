//! The cases of a select: [`RecvCase`] and [`SendCase`], and the protocol the algorithm
//! drives them through ([`SelectCase`], sealed: only these two implement it).

use std::fmt;

use super::super::core::Dir;
use super::super::error::{RecvError, SendError};
use super::super::flavor::{RecvNow, SendNow};
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
    /// Pass 2, before linking: tells a lock-free channel a waiter is coming; returns whether
    /// the case must be polled once more before it is linked (`Channel::announce`).
    ///
    /// # Safety
    ///
    /// The channel's lock is held by this select.
    unsafe fn announce(&self) -> bool;
    /// Pass 2: links a waiter for case `index` of the select waiting on `token`.
    ///
    /// # Safety
    ///
    /// The channel's lock is held; `self` and `token` stay in place until `unlink`.
    unsafe fn link(&mut self, token: &Token, index: usize);
    /// Before pass 3, for the winning case: waits until its waker has published the
    /// waiter's final state (it does so after releasing the channel lock, see `waiter.rs`).
    fn wait_completed(&self);
    /// Pass 3: unlinks the waiter, or, for the winning case, takes its outcome. Returns
    /// true if the winner was only notified (a lock-free channel changed, or closed) and
    /// must try its operation again. Called after an announcement even when nothing was
    /// linked, to withdraw it.
    ///
    /// # Safety
    ///
    /// The channel's lock is held by this select.
    unsafe fn unlink(&mut self, won: bool) -> bool;
}

/// A receive case (`recv(rx) -> v => ...`).
pub struct RecvCase<'a, T> {
    rx: Option<&'a Receiver<T>>,
    waiter: Option<Waiter<T>>,
    result: Option<Result<T, RecvError>>,
}

/// A send case (`send(tx, v) -> r => ...`).
pub struct SendCase<'a, T> {
    tx: Option<&'a Sender<T>>,
    value: Option<T>,
    waiter: Option<Waiter<T>>,
    result: Option<Result<(), SendError<T>>>,
}

impl<'a, T> RecvCase<'a, T> {
    /// A case receiving from `rx` (never ready for `None`).
    pub fn new(rx: Option<&'a Receiver<T>>) -> Self {
        RecvCase {
            rx,
            waiter: None,
            result: None,
        }
    }

    /// The outcome of the winning case.
    pub fn take_result(&mut self) -> Result<T, RecvError> {
        self.result.take().expect("the select chose this case")
    }
}

impl<'a, T> SendCase<'a, T> {
    /// A case sending `value` on `tx` (never ready for `None`).
    pub fn new(tx: Option<&'a Sender<T>>, value: T) -> Self {
        SendCase {
            tx,
            value: Some(value),
            waiter: None,
            result: None,
        }
    }

    /// The outcome of the winning case.
    pub fn take_result(&mut self) -> Result<(), SendError<T>> {
        self.result.take().expect("the select chose this case")
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
            .field("waiting", &self.waiter.is_some())
            .field("done", &self.result.is_some())
            .finish()
    }
}

impl<T> fmt::Debug for SendCase<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendCase")
            .field("nil", &self.tx.is_none())
            .field("waiting", &self.waiter.is_some())
            .field("done", &self.result.is_some())
            .finish()
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
        // SAFETY: the caller holds the lock.
        match unsafe { r.chan.recv_now() } {
            RecvNow::Done(v, wake) => {
                *wake_out = wake;
                self.result = Some(Ok(v));
                true
            }
            RecvNow::Closed => {
                self.result = Some(Err(RecvError));
                true
            }
            RecvNow::Wait => false,
        }
    }

    unsafe fn announce(&self) -> bool {
        // SAFETY: the caller holds the lock.
        self.rx
            .is_some_and(|r| unsafe { r.chan.announce(Dir::Recv) })
    }

    unsafe fn link(&mut self, token: &Token, index: usize) {
        let Some(r) = self.rx else { return };
        let w = self.waiter.insert(Waiter::for_select(None, token, index));
        // SAFETY: the caller holds the lock; `self` (and so `w`) stays in place until
        // `unlink` removes it or a waker unlinks it, both under the lock.
        unsafe { r.chan.link(w, Dir::Recv) };
    }

    fn wait_completed(&self) {
        if let Some(w) = self.waiter.as_ref() {
            w.completed();
        }
    }

    unsafe fn unlink(&mut self, won: bool) -> bool {
        let Some(r) = self.rx else { return false };
        let mut retry = false;
        // The waiter is unlinked by its address: look at it in place, drop it after.
        let w = self.waiter.as_ref();
        if let (true, Some(w)) = (won, w) {
            if r.chan.values_in_waiters() {
                self.result = Some(match w.state() {
                    DONE => Ok(w.take().expect("a completed receiver holds its value")),
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
        self.waiter = None;
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
        let v = self
            .value
            .take()
            .expect("a send case holds its value until it runs");
        // SAFETY: the caller holds the lock.
        match unsafe { t.chan.send_now(v) } {
            SendNow::Done(wake) => {
                *wake_out = wake;
                self.result = Some(Ok(()));
                true
            }
            SendNow::Closed(v) => {
                self.result = Some(Err(SendError(v)));
                true
            }
            SendNow::Wait(v) => {
                self.value = Some(v);
                false
            }
        }
    }

    unsafe fn announce(&self) -> bool {
        // SAFETY: the caller holds the lock.
        self.tx
            .is_some_and(|t| unsafe { t.chan.announce(Dir::Send) })
    }

    unsafe fn link(&mut self, token: &Token, index: usize) {
        let Some(t) = self.tx else { return };
        // A lock-free channel's waiter carries no value: the case keeps it for its next try.
        let value = if t.chan.values_in_waiters() {
            self.value.take()
        } else {
            None
        };
        let w = self.waiter.insert(Waiter::for_select(value, token, index));
        // SAFETY: as for `RecvCase::link`.
        unsafe { t.chan.link(w, Dir::Send) };
    }

    fn wait_completed(&self) {
        if let Some(w) = self.waiter.as_ref() {
            w.completed();
        }
    }

    unsafe fn unlink(&mut self, won: bool) -> bool {
        let Some(t) = self.tx else { return false };
        let mut retry = false;
        let w = self.waiter.as_ref();
        // SAFETY: the caller holds the lock; a winner is no longer linked.
        unsafe { t.chan.unlink(w.filter(|_| !won), Dir::Send) };
        if let Some(w) = w {
            if !won {
                // The losing value stays with the case and is dropped with it, never sent.
                if let Some(v) = w.take() {
                    self.value = Some(v);
                }
            } else if t.chan.values_in_waiters() {
                self.result = Some(match w.state() {
                    DONE => Ok(()),
                    CLOSED => Err(SendError(
                        w.take().expect("a sender woken by close keeps its value"),
                    )),
                    s => unreachable!("winning waiter in state {s}"),
                });
            } else {
                // Notified of room, or closed: the case still holds its value; try again.
                retry = true;
            }
        }
        self.waiter = None;
        retry
    }
}
