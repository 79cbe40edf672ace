//! `fork()` after the runtime started: the child process cannot use it.
//!
//! `fork` copies only the calling thread. In the child the worker threads are gone, while the
//! runtime's memory still says they exist: goroutines queued or parked in the parent would
//! never run, and a `join` or a channel wait on them would hang with no message. Go does not
//! support this either (it offers only fork followed at once by exec). goro registers a
//! `pthread_atfork` child handler when the runtime starts; it marks the runtime unusable, and
//! the first use in the child that could wait for a worker (spawning a goroutine, arming a
//! timer, a plain thread's wait, such as joining a goroutine) panics with a message naming
//! the cause. The checks sit on those entries, not on every wake-up or goroutine park, to
//! keep them off the hot paths. A worker thread that finds itself alone in a child (`fork`
//! called from a goroutine) ends the child process with that message once its goroutines
//! have nothing left to do, since no thread in the child could ever wake it.
//!
//! A child that only calls `exec` (the `std::process::Command` way) is unaffected.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set in the child of a `fork` taken after the runtime started.
static FORKED: AtomicBool = AtomicBool::new(false);

const MESSAGE: &str = "goro: this process was forked after the goro runtime started; the child \
     cannot use goroutines, their joins, timers or blocking waits (its worker threads were not \
     copied). As in Go, fork only to exec, or fork before the runtime starts";

/// Registers the child handler; called once, when the runtime starts.
pub(crate) fn watch() {
    // SAFETY: `in_child` is a plain `extern "C" fn` that only stores to an atomic, which is
    // async-signal-safe as `pthread_atfork` child handlers must be.
    let rc = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
    // Without the handler a forked child would hang instead of panicking; not fatal.
    debug_assert_eq!(rc, 0, "pthread_atfork failed");
}

extern "C" fn in_child() {
    // Relaxed: the child's only thread runs this handler before returning from `fork`, and
    // every later check is on that same thread (or on threads it starts, which `spawn`
    // orders after this store).
    FORKED.store(true, Ordering::Relaxed);
}

/// Panics if this is the child of a fork taken after the runtime started.
#[inline]
pub(crate) fn check() {
    if FORKED.load(Ordering::Relaxed) {
        forked();
    }
}

/// Whether this is the child of a fork taken after the runtime started.
pub(crate) fn is_child() -> bool {
    FORKED.load(Ordering::Relaxed)
}

#[cold]
#[inline(never)]
fn forked() -> ! {
    panic!("{MESSAGE}");
}

/// Ends a forked child whose last thread is a worker with nothing to run.
#[cold]
pub(crate) fn end_child() -> ! {
    eprintln!("{MESSAGE}");
    std::process::abort();
}
