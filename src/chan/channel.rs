//! The channel: a buffer and two queues of blocked operations under one lock, as Go's
//! `hchan` (`runtime/chan.go`).
//!
//! # Invariants (under `state`)
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
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::error::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use super::waiter::{Queue, Waiter, CLOSED, DONE};

pub(crate) struct Channel<T> {
    state: Mutex<State<T>>,
    /// Capacity; `usize::MAX` for an unbounded channel.
    cap: usize,
    /// Mirror of `State::closed`, for `is_closed` without the lock.
    closed: AtomicBool,
    /// Mirror of the buffer's length, for `len` without the lock.
    len: AtomicUsize,
    pub(crate) senders: AtomicUsize,
    pub(crate) receivers: AtomicUsize,
}

struct State<T> {
    buf: VecDeque<T>,
    closed: bool,
    recvq: Queue<T>,
    sendq: Queue<T>,
}

/// How long an operation may block.
#[derive(Clone, Copy)]
pub(crate) enum Block {
    No,
    Forever,
    Until(Instant),
}

impl<T> Channel<T> {
    pub(crate) fn new(cap: usize, senders: usize) -> Channel<T> {
        Channel {
            state: Mutex::new(State {
                // Never preallocate: a huge capacity costs only what is buffered.
                buf: VecDeque::new(),
                closed: false,
                recvq: Queue::new(),
                sendq: Queue::new(),
            }),
            cap,
            closed: AtomicBool::new(false),
            len: AtomicUsize::new(0),
            senders: AtomicUsize::new(senders),
            receivers: AtomicUsize::new(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic never happens while the lock is held (no user code runs under it), so a
        // poisoned lock still guards a consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        (self.cap != usize::MAX).then_some(self.cap)
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn send(&self, v: T, block: Block) -> Result<(), SendTimeoutError<T>>
    where
        T: Send,
    {
        let mut st = self.lock();
        if st.closed {
            return Err(SendTimeoutError::Closed(v));
        }
        let v = match st.recvq.pop_receiver(v) {
            Ok(wake) => {
                drop(st);
                wake.wake();
                return Ok(());
            }
            Err(v) => v,
        };
        if st.buf.len() < self.cap {
            st.buf.push_back(v);
            self.len.store(st.buf.len(), Ordering::Relaxed);
            return Ok(());
        }
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

    pub(crate) fn recv(&self, block: Block) -> Result<T, RecvTimeoutError>
    where
        T: Send,
    {
        let mut st = self.lock();
        if let Some(v) = st.buf.pop_front() {
            // Room in the buffer: the oldest blocked sender moves its value in.
            let wake = st.sendq.pop_sender().map(|(sv, wake)| {
                st.buf.push_back(sv);
                wake
            });
            self.len.store(st.buf.len(), Ordering::Relaxed);
            drop(st);
            if let Some(wake) = wake {
                wake.wake();
            }
            return Ok(v);
        }
        if let Some((v, wake)) = st.sendq.pop_sender() {
            drop(st);
            wake.wake();
            return Ok(v);
        }
        if st.closed {
            return Err(RecvTimeoutError::Closed);
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

    pub(crate) fn try_send(&self, v: T) -> Result<(), TrySendError<T>>
    where
        T: Send,
    {
        self.send(v, Block::No).map_err(|e| match e {
            SendTimeoutError::Timeout(v) => TrySendError::Full(v),
            SendTimeoutError::Closed(v) => TrySendError::Closed(v),
        })
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError>
    where
        T: Send,
    {
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
