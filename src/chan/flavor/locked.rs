//! The locked flavour: Go's `hchan` (`runtime/chan.go`), the buffer under the channel lock
//! with the queues, and values handed directly between a blocked operation and its
//! counterpart. Channels of capacity 0, unbounded ones and those whose buffer would be too
//! large to allocate up front have it.
//!
//! # Invariants (under the lock)
//!
//! - Receivers wait only while the buffer is empty: a waiting receiver and a buffered value
//!   never coexist.
//! - Senders wait only while the buffer is full (always, for capacity 0): a waiting sender
//!   and free buffer space never coexist.
//! - Once `closed`, nobody waits: `close` completes every waiter, and new operations fail
//!   (sends at once; receives once the buffer is drained).
//!
//! So a send first hands its value to a waiting receiver, else buffers it, else waits; a
//! receive first takes from the buffer (refilling it from the oldest waiting sender, which
//! keeps FIFO order), else takes a waiting sender's value directly (capacity 0), else waits.
//! Every value is moved under the lock, so it is received exactly once or stays in the
//! buffer (dropped with the channel), or comes back to its sender in an error.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::super::core::{Core, Dir, State, WaitEnd};
use super::super::error::{RecvTimeoutError, SendTimeoutError};
use super::super::waiter::{Waiter, CLOSED, DONE};
use super::{Block, RecvNow, SendNow};

pub(crate) struct Channel<T> {
    core: Core<T, VecDeque<T>>,
    /// Capacity, or `None` for an unbounded channel (which never fills).
    cap: Option<usize>,
    /// Mirror of `State::closed`, for `is_closed` without the lock.
    closed: AtomicBool,
    /// Mirror of the buffer's length, for `len` without the lock.
    len: AtomicUsize,
}

impl<T> Channel<T> {
    /// A channel of capacity `cap`, or unbounded for `None`.
    pub(crate) fn new(cap: Option<usize>) -> Channel<T> {
        Channel {
            // Never preallocate: a huge capacity costs only what is buffered.
            core: Core::new(VecDeque::new()),
            cap,
            closed: AtomicBool::new(false),
            len: AtomicUsize::new(0),
        }
    }

    pub(crate) fn core(&self) -> &Core<T, VecDeque<T>> {
        &self.core
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.cap
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub(crate) fn is_closed(&self) -> bool {
        // Acquire: pairs with the Release store in `close`.
        self.closed.load(Ordering::Acquire)
    }

    /// A send that must not wait, under the lock.
    pub(crate) fn send_now(&self, st: &mut State<T, VecDeque<T>>, v: T) -> SendNow<T> {
        if st.closed {
            return SendNow::Closed(v);
        }
        let v = match st.recvq.pop_receiver(v) {
            Ok(wake) => return SendNow::Done(Some(wake)),
            Err(v) => v,
        };
        if self.cap.is_none_or(|cap| st.buf.len() < cap) {
            st.buf.push_back(v);
            self.len.store(st.buf.len(), Ordering::Relaxed);
            return SendNow::Done(None);
        }
        SendNow::Wait(v)
    }

    /// A receive that must not wait, under the lock.
    pub(crate) fn recv_now(&self, st: &mut State<T, VecDeque<T>>) -> RecvNow<T> {
        if let Some(v) = st.buf.pop_front() {
            // Room in the buffer: the oldest blocked sender moves its value in.
            let wake = st.sendq.pop_sender().map(|(sv, wake)| {
                st.buf.push_back(sv);
                wake
            });
            self.len.store(st.buf.len(), Ordering::Relaxed);
            return RecvNow::Done(v, wake);
        }
        if let Some((v, wake)) = st.sendq.pop_sender() {
            return RecvNow::Done(v, Some(wake));
        }
        if st.closed {
            return RecvNow::Closed;
        }
        RecvNow::Wait
    }

    pub(crate) fn send(&self, v: T, block: Block) -> Result<(), SendTimeoutError<T>> {
        let mut st = self.core.lock();
        let v = match self.send_now(&mut st, v) {
            SendNow::Done(wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                return Ok(());
            }
            SendNow::Closed(v) => return Err(SendTimeoutError::Closed(v)),
            SendNow::Wait(v) => v,
        };
        let Some(deadline) = block.deadline() else {
            return Err(SendTimeoutError::Timeout(v));
        };
        let w = Waiter::new(Some(v));
        // SAFETY: `w` is unlinked before this function returns: by a waker, or by
        // `Core::wait` when it times out.
        unsafe { st.sendq.push(&w) };
        drop(st);
        match self.core.wait(&w, Dir::Send, deadline, |_| {}) {
            WaitEnd::Completed(DONE) => Ok(()),
            WaitEnd::Completed(CLOSED) => Err(SendTimeoutError::Closed(
                w.take().expect("a sender woken by close keeps its value"),
            )),
            WaitEnd::TimedOut => Err(SendTimeoutError::Timeout(
                w.take().expect("an unlinked sender keeps its value"),
            )),
            WaitEnd::Completed(s) => unreachable!("waiter state {s}"),
        }
    }

    pub(crate) fn recv(&self, block: Block) -> Result<T, RecvTimeoutError> {
        let mut st = self.core.lock();
        match self.recv_now(&mut st) {
            RecvNow::Done(v, wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                return Ok(v);
            }
            RecvNow::Closed => return Err(RecvTimeoutError::Closed),
            RecvNow::Wait => {}
        }
        let Some(deadline) = block.deadline() else {
            return Err(RecvTimeoutError::Timeout);
        };
        let w = Waiter::new(None);
        // SAFETY: as in `send`.
        unsafe { st.recvq.push(&w) };
        drop(st);
        match self.core.wait(&w, Dir::Recv, deadline, |_| {}) {
            WaitEnd::Completed(DONE) => Ok(w.take().expect("a completed receiver holds its value")),
            WaitEnd::Completed(CLOSED) => Err(RecvTimeoutError::Closed),
            WaitEnd::TimedOut => Err(RecvTimeoutError::Timeout),
            WaitEnd::Completed(s) => unreachable!("waiter state {s}"),
        }
    }

    /// Closes the channel: wakes every waiter; returns false if it was already closed.
    pub(crate) fn close(&self) -> bool {
        self.core.close(|_| {
            // Release: pairs with the Acquire load in `is_closed`.
            self.closed.store(true, Ordering::Release)
        })
    }
}
