//! The channel: a buffer and two queues of blocked operations under one lock, as Go's
//! `hchan` (`runtime/chan.go`).
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
//!
//! The lock is a raw futex lock (`lock.rs`) rather than `std::sync::Mutex`, because `select`
//! holds the locks of all its channels at once, in address order, as Go's `selectgo` does
//! (see `select`).

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use super::lock::RawLock;

use super::error::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use super::waiter::{Queue, Waiter, Wake, CLOSED, DONE};

pub(crate) struct Channel<T> {
    lock: RawLock,
    state: UnsafeCell<State<T>>,
    /// Capacity (`usize::MAX` for an unbounded channel, which never fills).
    cap: usize,
    unbounded: bool,
    /// A timer's channel (see `new_timer`).
    timer: bool,
    /// Mirror of `State::closed`, for `is_closed` without the lock.
    closed: AtomicBool,
    /// Mirror of the buffer's length, for `len` without the lock.
    len: AtomicUsize,
    pub(crate) senders: AtomicUsize,
    pub(crate) receivers: AtomicUsize,
}

// SAFETY: `state` is only reached under `lock` (see `Locked`); values of `T: Send` move
// between threads through it.
unsafe impl<T: Send> Sync for Channel<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Channel<T> {}

pub(crate) struct State<T> {
    buf: VecDeque<T>,
    closed: bool,
    pub(crate) recvq: Queue<T>,
    pub(crate) sendq: Queue<T>,
}

/// How long an operation may block.
#[derive(Clone, Copy)]
pub(crate) enum Block {
    No,
    Forever,
    Until(Instant),
}

/// What a send can do right now, under the lock.
pub(crate) enum SendNow<T> {
    /// Sent (handed to a receiver, who must be woken, or buffered).
    Done(Option<Wake>),
    /// The channel is closed: the value comes back.
    Closed(T),
    /// It would have to wait: the value comes back.
    Wait(T),
}

/// What a receive can do right now, under the lock.
pub(crate) enum RecvNow<T> {
    /// Received (a sender may have to be woken).
    Done(T, Option<Wake>),
    /// Closed and drained.
    Closed,
    /// It would have to wait.
    Wait,
}

/// The channel's state while its lock is held; unlocks on drop.
pub(crate) struct Locked<'a, T> {
    chan: &'a Channel<T>,
}

impl<T> std::ops::Deref for Locked<'_, T> {
    type Target = State<T>;

    fn deref(&self) -> &State<T> {
        // SAFETY: we hold the lock.
        unsafe { &*self.chan.state.get() }
    }
}

impl<T> std::ops::DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut State<T> {
        // SAFETY: we hold the lock.
        unsafe { &mut *self.chan.state.get() }
    }
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        // SAFETY: a `Locked` exists only while its thread holds the lock.
        unsafe { self.chan.lock.unlock() };
    }
}

impl<T> Channel<T> {
    /// A channel of capacity `cap`, or unbounded for `None`.
    pub(crate) fn new(cap: Option<usize>, senders: usize) -> Channel<T> {
        Channel {
            lock: RawLock::new(),
            state: UnsafeCell::new(State {
                // Never preallocate: a huge capacity costs only what is buffered.
                buf: VecDeque::new(),
                closed: false,
                recvq: Queue::new(),
                sendq: Queue::new(),
            }),
            cap: cap.unwrap_or(usize::MAX),
            unbounded: cap.is_none(),
            timer: false,
            closed: AtomicBool::new(false),
            len: AtomicUsize::new(0),
            senders: AtomicUsize::new(senders),
            receivers: AtomicUsize::new(1),
        }
    }

    /// The channel of a `time::Timer` or `Ticker`, as Go 1.23 has them: it holds the one
    /// pending value internally but reports length and capacity 0, and dropping its sender
    /// does not close it (a receiver left waiting after the value waits forever, as in Go;
    /// dropping every receiver still closes it, which stops the timer).
    pub(crate) fn new_timer() -> Channel<T> {
        let mut c = Channel::new(Some(1), 2);
        c.timer = true;
        c
    }

    pub(crate) fn lock(&self) -> Locked<'_, T> {
        self.lock.lock();
        Locked { chan: self }
    }

    /// Takes the lock for `select`, which releases it with `raw_unlock`.
    pub(crate) fn raw_lock(&self) {
        self.lock.lock();
    }

    /// # Safety
    ///
    /// The caller holds the lock (taken with `raw_lock`).
    pub(crate) unsafe fn raw_unlock(&self) {
        // SAFETY: the caller holds the lock.
        unsafe { self.lock.unlock() };
    }

    /// The state, for `select` while it holds the lock.
    ///
    /// # Safety
    ///
    /// The caller holds the lock and has no other reference into the state.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn state_mut(&self) -> &mut State<T> {
        // SAFETY: the caller holds the lock.
        unsafe { &mut *self.state.get() }
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        if self.timer {
            return Some(0);
        }
        (!self.unbounded).then_some(self.cap)
    }

    pub(crate) fn len(&self) -> usize {
        if self.timer {
            return 0;
        }
        self.len.load(Ordering::Relaxed)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// A send that must not wait, under the lock.
    pub(crate) fn send_now(&self, st: &mut State<T>, v: T) -> SendNow<T> {
        if st.closed {
            return SendNow::Closed(v);
        }
        let v = match st.recvq.pop_receiver(v) {
            Ok(wake) => return SendNow::Done(Some(wake)),
            Err(v) => v,
        };
        if st.buf.len() < self.cap {
            st.buf.push_back(v);
            self.len.store(st.buf.len(), Ordering::Relaxed);
            return SendNow::Done(None);
        }
        SendNow::Wait(v)
    }

    /// A receive that must not wait, under the lock.
    pub(crate) fn recv_now(&self, st: &mut State<T>) -> RecvNow<T> {
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
        let mut st = self.lock();
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
        let deadline = match block {
            Block::No => return Err(SendTimeoutError::Timeout(v)),
            Block::Forever => None,
            Block::Until(d) => Some(d),
        };
        let w = Waiter::new(Some(v));
        // SAFETY: `w` is unlinked before this function returns: by a waker, or below.
        unsafe { st.sendq.push(&w) };
        drop(st);
        let state = match w.wait(deadline) {
            Some(s) => s,
            None => {
                let mut st = self.lock();
                if st.sendq.remove(&w) {
                    drop(st);
                    let v = w.take().expect("an unlinked sender keeps its value");
                    return Err(SendTimeoutError::Timeout(v));
                }
                drop(st);
                w.state()
            }
        };
        match state {
            DONE => Ok(()),
            CLOSED => Err(SendTimeoutError::Closed(
                w.take().expect("a sender woken by close keeps its value"),
            )),
            s => unreachable!("waiter state {s}"),
        }
    }

    pub(crate) fn recv(&self, block: Block) -> Result<T, RecvTimeoutError> {
        let mut st = self.lock();
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
        let deadline = match block {
            Block::No => return Err(RecvTimeoutError::Timeout),
            Block::Forever => None,
            Block::Until(d) => Some(d),
        };
        let w = Waiter::new(None);
        // SAFETY: `w` is unlinked before this function returns: by a waker, or below.
        unsafe { st.recvq.push(&w) };
        drop(st);
        let state = match w.wait(deadline) {
            Some(s) => s,
            None => {
                let mut st = self.lock();
                if st.recvq.remove(&w) {
                    return Err(RecvTimeoutError::Timeout);
                }
                drop(st);
                w.state()
            }
        };
        match state {
            DONE => Ok(w.take().expect("a completed receiver holds its value")),
            CLOSED => Err(RecvTimeoutError::Closed),
            s => unreachable!("waiter state {s}"),
        }
    }

    pub(crate) fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        self.send(v, Block::No).map_err(|e| match e {
            SendTimeoutError::Timeout(v) => TrySendError::Full(v),
            SendTimeoutError::Closed(v) => TrySendError::Closed(v),
        })
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        self.recv(Block::No).map_err(|e| match e {
            RecvTimeoutError::Timeout => TryRecvError::Empty,
            RecvTimeoutError::Closed => TryRecvError::Closed,
        })
    }

    /// Closes the channel: wakes every waiter; returns false if it was already closed.
    pub(crate) fn close(&self) -> bool {
        let mut wakes = Vec::new();
        {
            let mut st = self.lock();
            if st.closed {
                return false;
            }
            st.closed = true;
            // Release: pairs with the Acquire load in `is_closed`.
            self.closed.store(true, Ordering::Release);
            let State { recvq, sendq, .. } = &mut *st;
            recvq.close_all(&mut wakes);
            sendq.close_all(&mut wakes);
        }
        for w in wakes {
            w.wake();
        }
        true
    }
}
