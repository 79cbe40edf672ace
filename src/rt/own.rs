//! Who may touch a worker's owner-only state: the thread holding the worker, until the
//! monitor (or the thread itself) retakes the worker for another thread.
//!
//! # The problem
//!
//! A worker's local queue has one producer, its owner (`queue`); a goroutine running on the
//! owner's thread pushes to it when it wakes or spawns a goroutine (`rt::schedule`). The
//! monitor (`rt::monitor`) may give the worker to another thread while that goroutine runs
//! (it blocks its thread, or computes for long), and the goroutine can call `schedule` again at
//! any moment, on the old thread. Two threads must never push at once, and the new owner must
//! see every push the old one made.
//!
//! # The protocol
//!
//! One atomic word per worker holds a *generation* and a *status*. A thread that takes a
//! worker learns its generation and is its owner for as long as the generation stays:
//!
//! - `SCHED`: the owner is in scheduler context (finding, starting or finishing a goroutine).
//!   Nobody else changes the word.
//! - `RUNNING`: the owner's thread runs a goroutine. The only state in which the worker can be
//!   retaken: [`Ownership::retake`] moves `(g, RUNNING)` to `(g + 1, SCHED)`, and whoever
//!   retook it starts another thread as owner of generation `g + 1` (the monitor), or is
//!   that owner itself (a thread without a worker that takes one whose thread is blocked).
//! - `KERNEL`: the running goroutine is inside a short owner-only section (a push to the
//!   local queue or `runnext`), entered with [`Ownership::enter`] (`RUNNING` to `KERNEL`) and
//!   left with [`Ownership::leave`]. A retake in the meantime fails, and is tried again later.
//!
//! The old owner learns it lost the worker when [`Ownership::enter`] or [`Ownership::end_run`]
//! fails: both are compare-and-swaps from `(g, RUNNING)`, which cannot succeed once the
//! generation has moved on, whatever the new owner does with the word (this is why the word
//! carries the generation: a status alone would let the old owner's `(RUNNING -> SCHED)`
//! succeed against the new owner's `RUNNING`). A thread that lost its worker touches nothing
//! of it again: its goroutine's wake-ups go to the injector, and the thread becomes a spare
//! (`rt::worker`).
//!
//! Memory: every owner-only section ends with a Release store (`leave`, `begin_run`) or a
//! Release compare-and-swap (`end_run`) of the word, and [`Ownership::retake`] is an Acquire
//! read of the same word, so the retaker sees every push the old owner made, and hands it on
//! to the new owner through the start of its thread (or is the new owner).
//!
//! This file is loom-checked (see `crate::loom`): `tests/loom_own.rs` runs an owner whose
//! goroutine pushes while a monitor retakes the worker for a new owner that pops, and checks
//! that no two threads touch the queue at once and that every pushed item is taken once.

use crate::loom::sync::atomic::{AtomicU64, Ordering};

/// The owner is in scheduler context.
pub(crate) const SCHED: u64 = 0;
/// The owner's thread runs a goroutine; the worker may be retaken.
pub(crate) const RUNNING: u64 = 1;
/// The running goroutine is inside an owner-only section.
pub(crate) const KERNEL: u64 = 2;
const STATUS: u64 = 3;

fn word(generation: u64, status: u64) -> u64 {
    generation << 2 | status
}

/// The ownership word of one worker (module docs).
pub(crate) struct Ownership {
    word: AtomicU64,
}

impl Default for Ownership {
    fn default() -> Self {
        Ownership::new()
    }
}

impl Ownership {
    /// Generation 0, held in scheduler context by the thread the worker first starts on.
    pub(crate) fn new() -> Ownership {
        Ownership {
            word: AtomicU64::new(word(0, SCHED)),
        }
    }

    /// The generation and status now.
    pub(crate) fn load(&self) -> (u64, u64) {
        // Relaxed: a snapshot for the monitor's heuristics; `retake` decides.
        let w = self.word.load(Ordering::Relaxed);
        (w >> 2, w & STATUS)
    }

    /// The owner of `generation`, in scheduler context, is about to run a goroutine.
    pub(crate) fn begin_run(&self, generation: u64) {
        debug_assert_eq!(self.word.load(Ordering::Relaxed), word(generation, SCHED));
        // Release: pairs with the Acquire of `retake`, publishing the scheduler's own pushes.
        self.word
            .store(word(generation, RUNNING), Ordering::Release);
    }

    /// The owner's goroutine has switched out; returns whether the thread still owns the
    /// worker (`false`: it was retaken meanwhile).
    pub(crate) fn end_run(&self, generation: u64) -> bool {
        // Relaxed: on success nothing changes hands (the owner stays owner, and `SCHED`
        // cannot be retaken); on failure the thread only stops touching the worker. Being a
        // read-modify-write, it is ordered against `retake` in the word's modification order,
        // which is all the protocol needs.
        self.word
            .compare_exchange(
                word(generation, RUNNING),
                word(generation, SCHED),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// The owner's running goroutine enters an owner-only section; returns `false` if the
    /// worker was retaken (the section must not run).
    #[inline]
    pub(crate) fn enter(&self, generation: u64) -> bool {
        // Acquire: keeps the section's pushes after the swap, so they happen only while a
        // retake fails; the swap itself is ordered against `retake` in the word's
        // modification order.
        self.word
            .compare_exchange(
                word(generation, RUNNING),
                word(generation, KERNEL),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Leaves the section entered with [`Ownership::enter`].
    #[inline]
    pub(crate) fn leave(&self, generation: u64) {
        // Release: pairs with the Acquire of `retake`, publishing the section's pushes.
        self.word
            .store(word(generation, RUNNING), Ordering::Release);
    }

    /// Takes the worker from the owner of `generation` while its goroutine runs; returns the
    /// new generation, whose owner starts in scheduler context, or `None` if the owner was not
    /// running a goroutine of that generation (it finished, is inside a section, or the
    /// worker was retaken already).
    pub(crate) fn retake(&self, generation: u64) -> Option<u64> {
        // AcqRel: Acquire pairs with the Release of `begin_run`/`leave` (the old owner's
        // pushes happen before the new owner's pops); Release orders the new generation
        // before the start of the new owner's thread, which reads it.
        self.word
            .compare_exchange(
                word(generation, RUNNING),
                word(generation + 1, SCHED),
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .ok()
            .map(|_| generation + 1)
    }
}
