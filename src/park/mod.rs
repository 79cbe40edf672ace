//! Park and unpark: the single way anything in goro waits.
//!
//! The waiting context is either a goroutine or a plain OS thread:
//!
//! - a goroutine parks by switching back to its worker, which commits the park only after the
//!   switch (see [`state`] for the protocol); the worker thread goes on running others;
//! - a thread parks with `std::thread::park`, which blocks it.
//!
//! Both follow the same token contract: [`Unparker::unpark`] leaves one token, [`park`]
//! consumes a token or waits for one, tokens do not accumulate, and `park` may return
//! spuriously. Every blocking primitive is written as "register an `Unparker` where the
//! waker will find it, then `park` in a loop until the condition holds", and works unchanged
//! for both kinds of waiter.

pub(crate) mod atomic {
    pub(crate) use std::sync::atomic::{AtomicU8, Ordering};
}
pub(crate) mod state;

use std::fmt;
use std::thread::Thread;

use crate::goroutine::{self, GRef, Suspend};
use crate::park::state::Unpark;

/// A handle that wakes one parked goroutine or thread.
#[derive(Clone)]
pub(crate) enum Unparker {
    Goroutine(GRef),
    Thread(Thread),
}

impl Unparker {
    /// The unparker of the calling context.
    pub(crate) fn current() -> Unparker {
        match goroutine::current_ref() {
            Some(g) => Unparker::Goroutine(g),
            None => Unparker::Thread(std::thread::current()),
        }
    }

    /// Leaves a wake-up token for the waiter, making it runnable if it was parked.
    pub(crate) fn unpark(&self) {
        match self {
            Unparker::Goroutine(g) => {
                if g.park.unpark() == Unpark::Schedule {
                    // SAFETY: winning the PARKED -> NOTIFIED swap hands us the scheduler
                    // reference the worker forgot when it committed the park; rebuild it
                    // from the pointer (the same allocation `g` points to).
                    let owned = unsafe { GRef::from_raw(g.as_ptr()) };
                    crate::rt::schedule(owned);
                }
            }
            Unparker::Thread(t) => t.unpark(),
        }
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unparker::Goroutine(g) => write!(f, "Unparker(goroutine {})", g.id()),
            Unparker::Thread(t) => write!(f, "Unparker({:?})", t.id()),
        }
    }
}

/// Waits for a token in the calling context (module docs). May return spuriously.
pub(crate) fn park() {
    match goroutine::current() {
        Some(g) => park_goroutine(g),
        None => std::thread::park(),
    }
}

fn park_goroutine(g: &goroutine::Goroutine) {
    if g.park.try_consume() {
        return;
    }
    if std::thread::panicking() {
        // Unwinding keeps per-thread state in std (the panic count): a goroutine that parks
        // while unwinding must finish on the thread it started unwinding on.
        crate::rt::pin_current(g);
    }
    g.suspend(Suspend::Park);
    // Running again: take the token that woke us (or that aborted the park).
    g.park.consume();
}

/// Switches out the current goroutine and queues it behind the runnable ones.
pub(crate) fn yield_goroutine(g: &goroutine::Goroutine) {
    g.suspend(Suspend::Yield);
}
