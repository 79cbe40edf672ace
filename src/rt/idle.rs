//! Idle workers: who sleeps, who searches, and who gets woken.
//!
//! # Protocol
//!
//! A worker is *busy* (running goroutines), *searching* (its queues are empty and it is
//! looking for work elsewhere) or *sleeping* (parked on its thread, listed in `sleepers`).
//!
//! Whoever makes work appear (a push to a run queue or the injector, a new timer) calls
//! [`Idle::notify_one`]: unless a worker is already searching, it takes one sleeper off the
//! list, counts it as searching, and unparks its thread. A searching worker that finds work
//! stops searching and, if it was the last searcher, notifies again, so work that arrives in a
//! burst fans out over the sleeping workers one at a time (Go's `wakep`/`resetspinning`).
//!
//! A worker that finds nothing goes to sleep in three steps:
//! 1. [`Idle::register`]: it joins `sleepers` and stops counting as searching;
//! 2. a full `SeqCst` fence, then it looks once more at every queue and the timers;
//! 3. it parks its thread unless step 2 found something.
//!
//! The producer does: push the work; `SeqCst` fence; read `num_searching` and `num_sleeping`.
//! The two fences order "push" and "register" in a single total order, so either the
//! producer sees the sleeper (and wakes one), or the sleeper's step 2 sees the work. A producer
//! that sees a searcher relies on it: the searcher decrements `num_searching` in step 1, before
//! its own final look. Thread parking keeps a token, so an unpark that lands between steps 2
//! and 3 is not lost.
//!
//! This file is loom-checked (see `crate::loom`): `tests/loom_idle.rs` runs the worker's
//! search-and-sleep loop and a producer on loom's atomics, fences, mutex and thread parking,
//! and checks that no pushed work is left behind with every worker asleep.

use crate::loom::sync::atomic::{fence, AtomicUsize, Ordering};
use crate::loom::sync::Mutex;

pub(crate) struct Idle {
    sleepers: Mutex<Vec<usize>>,
    num_sleeping: AtomicUsize,
    num_searching: AtomicUsize,
    workers: usize,
}

/// What happened to a worker that went through [`Idle::register`] and then woke up or found
/// work.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Woken {
    /// A notifier took it off the list and counted it as searching.
    Searching,
    /// It left the list itself (spurious wake-up, timer, work found in step 2).
    Idle,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            num_sleeping: AtomicUsize::new(0),
            num_searching: AtomicUsize::new(0),
            workers,
        }
    }

    /// Wakes a sleeping worker if work may be waiting and nobody is searching. Returns the
    /// index of the worker to unpark.
    #[must_use]
    pub(crate) fn notify_one(&self) -> Option<usize> {
        // SeqCst fence: the producer half of the protocol in the module docs.
        fence(Ordering::SeqCst);
        if self.num_searching.load(Ordering::SeqCst) != 0
            || self.num_sleeping.load(Ordering::SeqCst) == 0
        {
            return None;
        }
        let mut sleepers = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        let w = sleepers.pop()?;
        self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
        self.num_searching.fetch_add(1, Ordering::SeqCst);
        Some(w)
    }

    /// Wakes a sleeping worker even if another is searching, counting it as a searcher; for
    /// handing over the timer waiter's role (see `worker::sleep`).
    #[must_use]
    pub(crate) fn wake_any(&self) -> Option<usize> {
        let mut sleepers = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        let w = sleepers.pop()?;
        self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
        self.num_searching.fetch_add(1, Ordering::SeqCst);
        Some(w)
    }

    /// Whether a worker that is not searching may start to (at most half the non-sleeping
    /// workers search at once, as in Go).
    pub(crate) fn may_search(&self) -> bool {
        let searching = self.num_searching.load(Ordering::SeqCst);
        let sleeping = self.num_sleeping.load(Ordering::SeqCst);
        2 * searching < self.workers.saturating_sub(sleeping).max(1)
    }

    /// Whether every worker sleeps (the monitor then sleeps too). SeqCst: pairs with the
    /// monitor's flag (`monitor::Monitor::asleep`), which a worker reads after leaving the
    /// sleeper list.
    pub(crate) fn all_sleeping(&self) -> bool {
        self.num_sleeping.load(Ordering::SeqCst) == self.workers
    }

    /// Whether no worker sleeps or searches: none is about to take queued work.
    /// Relaxed: a snapshot for the monitor's heuristics.
    pub(crate) fn none_idle(&self) -> bool {
        self.num_sleeping.load(Ordering::Relaxed) == 0
            && self.num_searching.load(Ordering::Relaxed) == 0
    }

    pub(crate) fn start_searching(&self) {
        self.num_searching.fetch_add(1, Ordering::SeqCst);
    }

    /// A searcher found work; returns true if it was the last searcher (the caller must then
    /// notify, see the module docs).
    #[must_use]
    pub(crate) fn stop_searching(&self) -> bool {
        self.num_searching.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// Step 1 of going to sleep.
    pub(crate) fn register(&self, worker: usize, searching: bool) {
        let mut sleepers = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        sleepers.push(worker);
        self.num_sleeping.fetch_add(1, Ordering::SeqCst);
        if searching {
            self.num_searching.fetch_sub(1, Ordering::SeqCst);
        }
        drop(sleepers);
        // SeqCst fence: the sleeper half of the protocol in the module docs.
        fence(Ordering::SeqCst);
    }

    /// Leaves the sleeper list after waking or after finding work in step 2.
    pub(crate) fn unregister(&self, worker: usize) -> Woken {
        let mut sleepers = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        match sleepers.iter().position(|&w| w == worker) {
            Some(i) => {
                sleepers.swap_remove(i);
                self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
                Woken::Idle
            }
            None => Woken::Searching,
        }
    }
}
