//! Blocked channel operations: [`Waiter`] and its queue.
//!
//! A goroutine (or thread) that must block on a channel builds a `Waiter` on its own stack,
//! links it into the channel's queue under the channel lock, unlocks, and parks until the
//! waiter's `state` leaves `WAITING`. The waker, holding the channel lock, unlinks it, moves
//! the value through `slot`, sets `state` (Release), and unparks it after unlocking, through
//! a clone of its `Unparker`: once `state` is set the waiter may return and its stack frame
//! is gone, so the waker touches nothing of it after that store.
//!
//! A waiter that gives up (a deadline) takes the channel lock and unlinks itself; if it is
//! no longer linked, a waker completed it under that same lock, so its `state` is already
//! set. Either way no pointer to the waiter survives its return.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use crate::park::{self, Unparker};

/// Still linked in a queue.
pub(crate) const WAITING: u8 = 0;
/// The operation happened (a value was handed over).
pub(crate) const DONE: u8 = 1;
/// The channel was closed under the waiter.
pub(crate) const CLOSED: u8 = 2;

/// One blocked send or receive.
pub(crate) struct Waiter<T> {
    unparker: Unparker,
    /// A sender's value, taken by the receiver; or the receiver's destination, filled by the
    /// sender. Accessed by the waker while the waiter is linked (under the channel lock), by
    /// the waiter once `state` says it is not.
    slot: UnsafeCell<Option<T>>,
    state: AtomicU8,
}

impl<T> Waiter<T> {
    pub(crate) fn new(value: Option<T>) -> Waiter<T> {
        Waiter {
            unparker: Unparker::current(),
            slot: UnsafeCell::new(value),
            state: AtomicU8::new(WAITING),
        }
    }

    /// The final state, once the waiter is no longer linked (or `WAITING`).
    pub(crate) fn state(&self) -> u8 {
        // Acquire: pairs with the Release store in `complete`, making `slot` visible.
        self.state.load(Ordering::Acquire)
    }

    /// The value in the slot; for the waiter itself, after it left the queue.
    pub(crate) fn take(&self) -> Option<T> {
        // SAFETY: the waiter calls this only after `state` left WAITING (or after unlinking
        // itself under the lock), when no waker can reach the waiter any more.
        unsafe { (*self.slot.get()).take() }
    }

    /// Parks until a waker completes this waiter, or `deadline` passes. Returns the final
    /// state, or `None` on timeout; the caller must then unlink the waiter under the lock.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> Option<u8> {
        let mut armed = false;
        loop {
            let s = self.state();
            if s != WAITING {
                return Some(s);
            }
            match deadline {
                None => park::park(),
                Some(d) => {
                    if Instant::now() >= d {
                        return None;
                    }
                    park::park_until(d, &mut armed);
                }
            }
        }
    }
}

/// Unparks a completed waiter after the channel lock is released.
pub(crate) struct Wake(Unparker);

impl Wake {
    pub(crate) fn wake(self) {
        self.0.unpark();
    }
}

/// A FIFO of blocked waiters, guarded by the channel lock.
pub(crate) struct Queue<T> {
    waiters: VecDeque<*const Waiter<T>>,
}

// SAFETY: the pointers are only dereferenced under the channel lock, while the waiters they
// point to are linked (see the module docs); `T: Send` values move through their slots.
unsafe impl<T: Send> Send for Queue<T> {}

impl<T> Queue<T> {
    pub(crate) const fn new() -> Queue<T> {
        Queue {
            waiters: VecDeque::new(),
        }
    }

    /// Links `w`.
    ///
    /// # Safety
    ///
    /// `w` stays valid until it is unlinked: by a waker (`pop_*`, `close_all`) or by itself
    /// (`remove`), both under the channel lock, before the waiter returns.
    pub(crate) unsafe fn push(&mut self, w: &Waiter<T>) {
        self.waiters.push_back(w);
    }

    /// Unlinks `w` if it is still linked; returns whether it was.
    pub(crate) fn remove(&mut self, w: &Waiter<T>) -> bool {
        match self.waiters.iter().position(|&p| std::ptr::eq(p, w)) {
            Some(i) => {
                self.waiters.remove(i);
                true
            }
            None => false,
        }
    }

    /// Completes the oldest waiting sender: takes its value.
    pub(crate) fn pop_sender(&mut self) -> Option<(T, Wake)> {
        let w = self.waiters.pop_front()?;
        // SAFETY: linked waiters are valid (see `push`); we hold the channel lock.
        let w = unsafe { &*w };
        // SAFETY: the waiter is linked, so only we (holding the lock) touch its slot.
        let v = unsafe { (*w.slot.get()).take() }.expect("a blocked sender holds its value");
        Some((v, complete(w, DONE)))
    }

    /// Completes the oldest waiting receiver by handing it `v`; gives `v` back if there is
    /// none.
    pub(crate) fn pop_receiver(&mut self, v: T) -> Result<Wake, T> {
        let Some(w) = self.waiters.pop_front() else {
            return Err(v);
        };
        // SAFETY: as in `pop_sender`.
        let w = unsafe { &*w };
        // SAFETY: as in `pop_sender`.
        unsafe { *w.slot.get() = Some(v) };
        Ok(complete(w, DONE))
    }

    /// Completes every waiter as `CLOSED` (senders keep their values, to hand back).
    pub(crate) fn close_all(&mut self, wakes: &mut Vec<Wake>) {
        for w in self.waiters.drain(..) {
            // SAFETY: as in `pop_sender`.
            wakes.push(complete(unsafe { &*w }, CLOSED));
        }
    }
}

/// Sets the final state of an unlinked waiter; the returned `Wake` must be used after the
/// lock is released.
fn complete<T>(w: &Waiter<T>, state: u8) -> Wake {
    let wake = Wake(w.unparker.clone());
    // Release: pairs with the Acquire load in `Waiter::state`; after this store the waiter
    // may return, so `w` is not used again.
    w.state.store(state, Ordering::Release);
    wake
}
