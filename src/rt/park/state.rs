//! The park state machine of one goroutine: the token protocol that makes lost wake-ups and
//! double runs impossible.
//!
//! This file is loom-checked (see `crate::loom`): it is compiled into the crate with `std`'s
//! atomics and into the model test `tests/loom_park.rs` with loom's.
//!
//! # States
//!
//! - `EMPTY`: no token, the goroutine is running (or runnable).
//! - `NOTIFIED`: a wake-up token is pending; the next park returns at once.
//! - `PARKED`: the goroutine has left its stack and waits; the state owns the goroutine's
//!   scheduler reference.
//!
//! # Protocol
//!
//! Goroutine side (`park`):
//! 1. On its own stack: [`ParkState::try_consume`]. A pending token is taken and park returns
//!    without switching.
//! 2. It switches to its worker's stack (`Suspend::Park`).
//! 3. On the worker's stack, after the switch: [`ParkState::commit`] moves `EMPTY -> PARKED`.
//!    Only now can a waker see `PARKED`, so a waker can never resume a goroutine that is still
//!    on its stack. If the CAS fails, a token arrived between steps 1 and 3: the park is aborted
//!    and the worker resumes the goroutine at once.
//! 4. Whenever the goroutine runs again after step 2, it calls [`ParkState::consume`] to take
//!    the token that woke it (or that aborted the park).
//!
//! Waker side ([`ParkState::unpark`]): swap in `NOTIFIED`. Exactly one waker can observe
//! `PARKED` (the swap is atomic and the state stays `NOTIFIED` until the goroutine runs again),
//! and only that waker schedules the goroutine: no double run. A waker that sees `EMPTY` or
//! `NOTIFIED` leaves its token for step 1 or 3 to find: no lost wake-up. Tokens coalesce, as
//! with `std::thread::park`, so callers re-check their condition after every return from park.

use crate::loom::sync::atomic::{AtomicU8, Ordering};

const EMPTY: u8 = 0;
const NOTIFIED: u8 = 1;
const PARKED: u8 = 2;

/// What the worker must do after trying to commit a park.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Commit {
    /// The goroutine is parked; its scheduler reference now belongs to the park state, and the
    /// waker that observes `PARKED` takes it.
    Parked,
    /// A token arrived before the commit: resume the goroutine now.
    Aborted,
}

/// What a waker must do after [`ParkState::unpark`].
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Unpark {
    /// The goroutine was parked: this waker now owns its scheduler reference and must make it
    /// runnable.
    Schedule,
    /// The goroutine was not parked; the token is left for it.
    Noop,
}

/// The park/unpark state of one goroutine.
#[derive(Debug)]
pub(crate) struct ParkState {
    state: AtomicU8,
}

impl ParkState {
    pub(crate) fn new() -> Self {
        ParkState {
            state: AtomicU8::new(EMPTY),
        }
    }

    /// Step 1: takes a pending token, returning `true` if there was one.
    pub(crate) fn try_consume(&self) -> bool {
        // Acquire: pairs with the Release part of the swap in `unpark`, so the goroutine sees
        // what its waker wrote before waking it.
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Step 3, run by the worker once the goroutine is off its stack.
    pub(crate) fn commit(&self) -> Commit {
        // Release on success: pairs with the Acquire part of the swap in `unpark`; the waker
        // that sees PARKED also sees everything the worker wrote while switching the goroutine
        // out (its saved stack pointer), before it hands the goroutine to another worker.
        match self
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::Release, Ordering::Relaxed)
        {
            Ok(_) => Commit::Parked,
            Err(actual) => {
                debug_assert_eq!(actual, NOTIFIED, "goroutine parked twice");
                Commit::Aborted
            }
        }
    }

    /// Step 4: the goroutine runs again and takes the token that woke it.
    pub(crate) fn consume(&self) {
        // Acquire: a swap reads the last value of the modification order, so this pairs with
        // the Release of the latest `unpark` and sees what every waker wrote before its token.
        let prev = self.state.swap(EMPTY, Ordering::Acquire);
        debug_assert_ne!(prev, PARKED, "goroutine resumed while still parked");
    }

    /// Whether the goroutine is parked now (a snapshot, for diagnostics).
    pub(crate) fn is_parked(&self) -> bool {
        // Relaxed: a snapshot; nothing is read through it.
        self.state.load(Ordering::Relaxed) == PARKED
    }

    /// The waker side: leaves a token, and reports whether the caller must schedule the
    /// goroutine.
    pub(crate) fn unpark(&self) -> Unpark {
        // AcqRel: Release publishes the waker's writes to `try_consume`/`consume`; Acquire
        // pairs with the Release of `commit` (see there).
        if self.state.swap(NOTIFIED, Ordering::AcqRel) == PARKED {
            Unpark::Schedule
        } else {
            Unpark::Noop
        }
    }
}
