//! What every channel flavour shares: the channel lock, the two queues of blocked operations
//! it guards, and closing.
//!
//! A flavour keeps whatever else must change under the same lock in `State::buf` (the
//! buffer of the locked flavour; nothing for the lock-free one). The lock is a raw futex lock
//! (`lock.rs`) rather than `std::sync::Mutex`, because `select` holds the locks of all its
//! channels at once, in address order, as Go's `selectgo` does (see `select`), so it takes
//! and releases them apart from any guard.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::time::Instant;

use super::lock::RawLock;
use super::waiter::{Queue, Waiter, Wakes};
use crate::rt::registry::Reason;

/// Which side of a channel an operation is on, and so which queue it waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Send,
    Recv,
}

/// The lock and what it guards.
pub(crate) struct Core<T, B> {
    lock: RawLock,
    state: UnsafeCell<State<T, B>>,
}

// SAFETY: `state` is only reached under `lock` (see `Guard` and `state_mut`); values of
// `T: Send` move between threads through it, and the flavour's `B` is sent along.
unsafe impl<T: Send, B: Send> Sync for Core<T, B> {}
// SAFETY: as above.
unsafe impl<T: Send, B: Send> Send for Core<T, B> {}

/// The state under the channel lock.
pub(crate) struct State<T, B> {
    /// Set once by `close`; from then on nobody waits (`Core::close`).
    pub(crate) closed: bool,
    pub(crate) recvq: Queue<T>,
    pub(crate) sendq: Queue<T>,
    /// The flavour's own part of the state.
    pub(crate) buf: B,
}

impl<T, B> State<T, B> {
    /// The queue where operations of direction `dir` wait.
    pub(crate) fn queue(&mut self, dir: Dir) -> &mut Queue<T> {
        match dir {
            Dir::Send => &mut self.sendq,
            Dir::Recv => &mut self.recvq,
        }
    }
}

/// The state while the lock is held; unlocks on drop.
pub(crate) struct Guard<'a, T, B> {
    core: &'a Core<T, B>,
}

impl<T, B> Deref for Guard<'_, T, B> {
    type Target = State<T, B>;

    fn deref(&self) -> &State<T, B> {
        // SAFETY: we hold the lock.
        unsafe { &*self.core.state.get() }
    }
}

impl<T, B> DerefMut for Guard<'_, T, B> {
    fn deref_mut(&mut self) -> &mut State<T, B> {
        // SAFETY: we hold the lock.
        unsafe { &mut *self.core.state.get() }
    }
}

impl<T, B> Drop for Guard<'_, T, B> {
    fn drop(&mut self) {
        // SAFETY: a `Guard` exists only while its thread holds the lock.
        unsafe { self.core.lock.unlock() };
    }
}

/// How a blocked operation's wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitEnd {
    /// A waker completed the waiter with this state (`DONE`, `CLOSED` or `NOTIFIED`).
    Completed(u8),
    /// The deadline passed while the waiter was still linked; it is unlinked now.
    TimedOut,
}

impl<T, B> Core<T, B> {
    pub(crate) fn new(buf: B) -> Core<T, B> {
        Core {
            lock: RawLock::new(),
            state: UnsafeCell::new(State {
                closed: false,
                recvq: Queue::new(),
                sendq: Queue::new(),
                buf,
            }),
        }
    }

    pub(crate) fn lock(&self) -> Guard<'_, T, B> {
        self.lock.lock();
        Guard { core: self }
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
    pub(crate) unsafe fn state_mut(&self) -> &mut State<T, B> {
        // SAFETY: the caller holds the lock.
        unsafe { &mut *self.state.get() }
    }

    /// Closes the channel: under the lock, marks it closed, runs the flavour's `also`, and
    /// completes every waiter as `CLOSED`; then wakes them. Returns false if it was already
    /// closed.
    pub(crate) fn close(&self, also: impl FnOnce(&mut State<T, B>)) -> bool {
        let mut wakes = Wakes::new();
        {
            let mut st = self.lock();
            if st.closed {
                return false;
            }
            st.closed = true;
            let st = &mut *st;
            st.recvq.close_all(&mut wakes);
            st.sendq.close_all(&mut wakes);
            also(st);
        }
        wakes.wake_all();
        true
    }

    /// Waits for a waker to complete `w`, which the caller linked into the `dir` queue
    /// under the lock it has released since, or for `deadline`. A waiter that times out
    /// takes the lock and unlinks itself, then runs `unlinked` under the lock (still
    /// holding it); one that finds itself already unlinked has lost the race to a waker,
    /// and waits for the state that waker is about to publish (`Waiter::completed`).
    #[track_caller]
    pub(crate) fn wait(
        &self,
        w: &Waiter,
        dir: Dir,
        deadline: Option<Instant>,
        unlinked: impl FnOnce(&State<T, B>),
    ) -> WaitEnd {
        let reason = match dir {
            Dir::Send => Reason::ChanSend,
            Dir::Recv => Reason::ChanReceive,
        };
        if let Some(s) = w.wait(deadline, reason) {
            return WaitEnd::Completed(s);
        }
        let mut st = self.lock();
        let linked = st.queue(dir).remove(w);
        unlinked(&st);
        drop(st);
        if linked {
            WaitEnd::TimedOut
        } else {
            WaitEnd::Completed(w.completed(reason))
        }
    }
}
