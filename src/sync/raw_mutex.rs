//! `RawMutex`: Go's `sync.Mutex` algorithm, the lock under [`Mutex`](super::Mutex), `RwLock`
//! and `Once`.
//!
//! # Overview
//!
//! The lock is one word, `state`, plus a [`Sema`] to sleep on; it follows the design of
//! Go's `sync.Mutex`. Taking a free lock is one compare-and-swap; releasing an uncontended
//! lock is one atomic subtraction whose result is never read back: on x86-64 the unlock
//! only needs the flags of `lock sub` (zero, and the sign bit, which is `STARVING`), and
//! that is cheaper than `lock xadd`. Only contention touches the semaphore.
//!
//! `state` packs four fields:
//!
//! | bits | name | meaning |
//! |------|------|---------|
//! | 0 | `LOCKED` | somebody holds the lock |
//! | 1 | `WOKEN` | a waiter is awake and competing (woken by an unlock, or spinning), so an unlock need not wake another |
//! | 2..62 | waiters | lockers that are parked on the semaphore or on their way to it |
//! | 63 | `STARVING` | handoff mode: an unlock hands the lock to the oldest waiter |
//!
//! # Two modes
//!
//! **Normal mode** is fast: a waiter woken by an unlock has to compete for the lock with
//! lockers that just arrived, and those usually win, since they are already running. The
//! woken waiter that loses goes back to the *front* of the queue. A waiter that has waited
//! more than [`STARVATION`] (1 ms, as in Go) sets `STARVING` on its next attempt.
//!
//! **Starvation mode** is fair: an unlock leaves `LOCKED` clear and hands ownership straight
//! to the oldest waiter through the semaphore; lockers that arrive meanwhile see `STARVING`,
//! do not take the lock (not even by spinning), and queue at the back. The handed-off waiter
//! sets `LOCKED` itself and switches back to normal mode if it is the last waiter or waited
//! less than 1 ms. So no waiter waits forever while others keep taking the lock, and the
//! cost of fairness is paid only when somebody is actually starving.
//!
//! # The protocol
//!
//! `lock`: CAS `0 -> LOCKED`; otherwise the slow path, a loop of three passes:
//!
//! 1. *Spin* while the lock is held in normal mode, for at most [`SPIN_ROUNDS`] short rounds,
//!    only with more than one CPU (and more than one worker for a goroutine): the holder may
//!    be about to unlock on another core, and sleeping costs far more than a few pauses.
//!    While spinning, set `WOKEN` if nobody is woken yet, so that an unlock does not wake a
//!    sleeper who would only lose to us.
//! 2. *Try*: compute the next state from the one seen: take `LOCKED` unless starving; count
//!    ourselves as a waiter if the lock is held or starving; set `STARVING` if we have waited
//!    too long and the lock is held; clear `WOKEN` if we are the woken one. One CAS
//!    publishes it; on failure, start over with the new state. If the CAS took a free lock in
//!    normal mode, we own it.
//! 3. *Wait*: park on the semaphore (at the front if we have waited before). On waking: if
//!    the lock is in starvation mode, it was handed to us: add `LOCKED`, remove ourselves
//!    from the waiter count, and perhaps leave starvation mode, in one atomic addition.
//!    Otherwise we were woken in normal mode: we are the `WOKEN` one, back to pass 1.
//!
//! `unlock`: subtract `LOCKED` (Release). If the result is zero, done. Otherwise, from the
//! result's `STARVING` bit:
//!
//! - in starvation mode, release one semaphore token: it goes to the oldest waiter, which
//!   now owns the lock (step 3);
//! - in normal mode, if there are waiters and nobody has already taken the lock, woken
//!   someone or started starving, CAS one waiter off the count and set `WOKEN`, then release
//!   a token. If any of that changed under us, re-read and decide again. (This loop starts
//!   from a fresh read of the state: each of its steps is checked by its CAS.)
//!
//! # The races, both sides
//!
//! - *A locker counts itself as a waiter (pass 2), an unlock releases a token before the
//!   locker reaches the semaphore.* The semaphore keeps the token; the locker's `acquire`
//!   takes it without parking. No wake-up is lost.
//! - *An unlock in normal mode wakes W; a running locker L takes the lock first.* W's pass 2
//!   CAS fails or sees `LOCKED`; W counts itself as a waiter again and queues at the front.
//!   `WOKEN` was set for W, and W clears it in that same CAS, so the next unlock wakes
//!   somebody again.
//! - *W sets `STARVING` in pass 2 while L holds the lock.* L's unlock sees `STARVING` and
//!   hands off: the token goes to the head of the queue, which is W, or a waiter that has
//!   queued at the front after waiting even longer. Arriving lockers queue behind.
//! - *Two lockers see the lock free at once.* Only one CAS of pass 2 succeeds; the other
//!   re-reads and counts itself as a waiter.
//! - *An unlock U goes to its slow path in normal mode; before it reads the state again, L
//!   takes the lock and W sets `STARVING`.* U decided "normal" from its own subtraction, so
//!   it does not hand off; its fresh read shows `LOCKED` or `STARVING` and it returns. The
//!   hand-off is L's, whose subtraction sees `STARVING`: one token, one new owner.
//!
//! Ownership moves with memory ordering: the Release subtraction in `unlock` pairs with the
//! Acquire CAS of the next owner in normal mode; in starvation mode the Release subtraction
//! comes before the semaphore's hand-over, which the new owner observes with Acquire (see
//! `waiter.rs`), so the previous critical section happens before the next one either way.
//!
//! # Rejected designs
//!
//! - A queue lock with strict FIFO handoff on every unlock (a ticket lock, or parking_lot's
//!   fair unlock): every hand-over then waits for the next owner to be scheduled, while the
//!   lock sits idle, even when a running locker could have taken it at once. Under
//!   contention that turns each critical section into a wake-up plus a context switch. Go's
//!   two modes keep the throughput of barging and still bound the wait.
//! - Spinning only (as the channel's futex lock does briefly) or a thread-blocking futex: a
//!   goroutine waiting for a lock held across a `sleep` would hold its worker thread, and
//!   with `GORO_MAXPROCS=1` nothing else could run, not even the holder.
//! - Poisoning (std): a panic while holding the lock does not mark it. Go has no such
//!   notion and parking_lot does without it; a panicking goroutine is reported anyway, and
//!   data that must stay consistent under panics needs its own guard.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::sema::Sema;
use crate::rt::registry::Reason;

const LOCKED: usize = 1;
const WOKEN: usize = 1 << 1;
/// The top bit, so that the unlock's subtraction reports it in the sign flag (see `unlock`).
const STARVING: usize = 1 << (usize::BITS - 1);
const WAITER_SHIFT: u32 = 2;
/// One waiter in the waiter count.
const WAITER: usize = 1 << WAITER_SHIFT;

/// The waiter count of a state.
fn waiters(state: usize) -> usize {
    (state & !STARVING) >> WAITER_SHIFT
}

/// A waiter that has waited this long switches the lock to starvation mode (Go's value).
const STARVATION: Duration = Duration::from_millis(1);
/// Spin rounds before parking, and pauses per round (Go's `active_spin` and
/// `active_spin_cnt`): 120 `pause`s, from under a microsecond to a few, by CPU.
const SPIN_ROUNDS: u32 = 4;
const SPIN_PAUSES: u32 = 30;

/// The lock without data: `state` and the semaphore to sleep on. Also the writer lock of
/// `RwLock` and the lock of `Once` and `OnceLock`.
pub(crate) struct RawMutex {
    state: AtomicUsize,
    sema: Sema,
}

impl RawMutex {
    /// The state word, for tests of what the lock leaves behind.
    #[cfg(test)]
    pub(crate) fn state(&self) -> usize {
        self.state.load(Ordering::Relaxed)
    }

    pub(crate) const fn new() -> RawMutex {
        RawMutex {
            state: AtomicUsize::new(0),
            sema: Sema::new(),
        }
    }

    #[inline]
    #[track_caller]
    pub(crate) fn lock(&self) {
        self.lock_as(Reason::MutexLock);
    }

    /// [`RawMutex::lock`], recording `reason` for a wait (`rt::registry`).
    #[inline]
    #[track_caller]
    pub(crate) fn lock_as(&self, reason: Reason) {
        // Acquire: pairs with the Release subtraction in `unlock`.
        if self
            .state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow(reason);
        }
    }

    /// Takes the lock if that needs no waiting. Like Go's `TryLock`, it may take the lock
    /// ahead of a woken waiter in normal mode, but never in starvation mode.
    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        let mut old = self.state.load(Ordering::Relaxed);
        loop {
            if old & (LOCKED | STARVING) != 0 {
                return false;
            }
            // Acquire: pairs with the Release subtraction in `unlock`.
            match self.state.compare_exchange_weak(
                old,
                old | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(cur) => old = cur,
            }
        }
    }

    #[cfg(test)]
    fn sema_waiters_for_tests(&self) -> usize {
        self.sema.waiters_for_tests()
    }

    pub(crate) fn is_locked(&self) -> bool {
        // Starvation mode between a hand-off and the new owner setting LOCKED counts as held.
        self.state.load(Ordering::Relaxed) & (LOCKED | STARVING) != 0
    }

    #[cold]
    #[track_caller]
    fn lock_slow(&self, reason: Reason) {
        let mut wait_start: Option<Instant> = None;
        let mut starving = false;
        // Whether we are the `WOKEN` waiter (woken by an unlock, or set it while spinning).
        let mut awoke = false;
        let mut round = 0;
        let mut old = self.state.load(Ordering::Relaxed);
        loop {
            // Pass 1: spin while the lock is held in normal mode.
            if old & (LOCKED | STARVING) == LOCKED && may_spin(round) {
                if !awoke
                    && old & WOKEN == 0
                    && waiters(old) != 0
                    && self
                        .state
                        .compare_exchange(old, old | WOKEN, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    awoke = true;
                }
                for _ in 0..SPIN_PAUSES {
                    std::hint::spin_loop();
                }
                round += 1;
                old = self.state.load(Ordering::Relaxed);
                continue;
            }

            // Pass 2: try to take the lock, or count ourselves as a waiter.
            let mut new = old;
            if old & STARVING == 0 {
                new |= LOCKED;
            }
            if old & (LOCKED | STARVING) != 0 {
                new += WAITER;
            }
            if starving && old & LOCKED != 0 {
                new |= STARVING;
            }
            if awoke {
                debug_assert!(new & WOKEN != 0, "goro: inconsistent mutex state");
                new &= !WOKEN;
            }
            // Acquire: pairs with the Release subtraction in `unlock` when this CAS takes
            // the lock.
            if let Err(cur) =
                self.state
                    .compare_exchange(old, new, Ordering::Acquire, Ordering::Relaxed)
            {
                old = cur;
                continue;
            }
            if old & (LOCKED | STARVING) == 0 {
                return;
            }

            // Pass 3: wait for an unlock to wake us.
            let waited_before = wait_start.is_some();
            let start = *wait_start.get_or_insert_with(Instant::now);
            self.sema.acquire(waited_before, reason);
            starving = starving || start.elapsed() > STARVATION;
            old = self.state.load(Ordering::Relaxed);
            if old & STARVING != 0 {
                // Handed off: we own the lock, though LOCKED is clear and we are still
                // counted as a waiter. Nobody else can take it while STARVING is set.
                debug_assert!(
                    old & (LOCKED | WOKEN) == 0 && waiters(old) != 0,
                    "goro: inconsistent mutex state"
                );
                let mut delta = LOCKED.wrapping_sub(WAITER);
                if !starving || waiters(old) == 1 {
                    // Leave starvation mode: we did not wait long, or nobody is left behind
                    // us, and handing off costs a context switch per unlock.
                    delta = delta.wrapping_sub(STARVING);
                }
                // Relaxed: the hand-over itself came through the semaphore (Acquire in
                // `Waiter::wait`, after the unlocker's Release subtraction).
                self.state.fetch_add(delta, Ordering::Relaxed);
                return;
            }
            awoke = true;
            round = 0;
        }
    }

    /// # Safety
    ///
    /// The lock is held, and the holder gives it up (the guard is gone or forgotten).
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        // Release: pairs with the Acquire CAS of the next owner (in `lock`, `lock_slow` or
        // `try_lock`), or reaches a handed-off owner through the semaphore.
        let (zero, starving) = sub_locked(&self.state);
        if !zero {
            self.unlock_slow(starving);
        }
    }

    /// `starving`: whether `STARVING` was set in the state our subtraction left.
    #[cold]
    fn unlock_slow(&self, starving: bool) {
        if starving {
            // Hand the lock to the oldest waiter; LOCKED stays clear until it sets it.
            self.sema.release();
            return;
        }
        // Normal mode. Every step below is checked by the CAS that takes it, so starting
        // from a fresh look rather than the exact state our subtraction left is the same
        // loop, one failed CAS shorter. (The starvation decision above could not be taken
        // from a fresh look: by then another owner may have come and set it.)
        let mut old = self.state.load(Ordering::Relaxed);
        loop {
            // Nobody to wake, or somebody already took the lock, is awake, or a starving
            // waiter is about to be handed the lock by its holder.
            if waiters(old) == 0 || old & (LOCKED | WOKEN | STARVING) != 0 {
                return;
            }
            let next = (old - WAITER) | WOKEN;
            match self
                .state
                .compare_exchange(old, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.sema.release();
                    return;
                }
                Err(cur) => old = cur,
            }
        }
    }
}

/// Subtracts `LOCKED` from `state` (Release, at least) and reports whether the result is
/// zero and whether its `STARVING` bit (the sign bit) is set.
///
/// That is all an unlock needs to know, and on x86-64 it is what the flags of `lock sub`
/// say, while reading the result back (`lock xadd`, what `fetch_sub` compiles to when its
/// value is used) measured 9% slower per uncontended lock and unlock.
///
/// ThreadSanitizer does not see inside `asm!`: to it the unlock would release nothing, and
/// every hand-over of the lock would look like a data race between the two critical
/// sections. Under it (`cfg(goro_tsan)`, see `build.rs`) the portable `fetch_sub` is used.
#[inline(always)]
fn sub_locked(state: &AtomicUsize) -> (bool, bool) {
    // Miri cannot run inline assembly: under it, the portable `fetch_sub` below is checked
    // instead (same effect on `state`, same answer).
    #[cfg(all(target_arch = "x86_64", not(goro_tsan), not(miri)))]
    {
        let (zero, sign): (u8, u8);
        // SAFETY: a locked read-modify-write of the `AtomicUsize` behind `state`, which is
        // valid and aligned; `lock sub` is a full barrier on x86-64, so it orders the
        // critical section before the release as `Release` would, and the asm block is a
        // compiler barrier too (it is not marked `nomem`).
        unsafe {
            std::arch::asm!(
                "lock sub qword ptr [{state}], {locked}",
                "setz {zero}",
                "sets {sign}",
                state = in(reg) state.as_ptr(),
                locked = const LOCKED,
                zero = out(reg_byte) zero,
                sign = out(reg_byte) sign,
                options(nostack),
            );
        }
        (zero != 0, sign != 0)
    }
    #[cfg(any(not(target_arch = "x86_64"), goro_tsan, miri))]
    {
        // Release: see `unlock`.
        let new = state
            .fetch_sub(LOCKED, Ordering::Release)
            .wrapping_sub(LOCKED);
        (new == 0, new & STARVING != 0)
    }
}

/// Whether a locker should spin once more before parking.
fn may_spin(round: u32) -> bool {
    if round >= SPIN_ROUNDS || !multicore() {
        return false;
    }
    // With one worker, the holder cannot run while a goroutine spins on that worker.
    !crate::in_goroutine() || crate::maxprocs() > 1
}

fn multicore() -> bool {
    static CPUS: AtomicUsize = AtomicUsize::new(0);
    let mut n = CPUS.load(Ordering::Relaxed);
    if n == 0 {
        n = std::thread::available_parallelism().map_or(1, |n| n.get());
        CPUS.store(n, Ordering::Relaxed);
    }
    n > 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn state_after_uncontended_use() {
        let m = RawMutex::new();
        m.lock();
        assert_eq!(m.state.load(Ordering::Relaxed), LOCKED);
        assert!(!m.try_lock());
        // SAFETY: locked just above.
        unsafe { m.unlock() };
        assert_eq!(m.state.load(Ordering::Relaxed), 0);
        assert!(m.try_lock());
        // SAFETY: locked by `try_lock`.
        unsafe { m.unlock() };
    }

    #[test]
    fn unlock_subtraction_reports_zero_and_starving() {
        let s = AtomicUsize::new(LOCKED);
        assert_eq!(sub_locked(&s), (true, false));
        assert_eq!(s.load(Ordering::Relaxed), 0);
        s.store(LOCKED | WAITER, Ordering::Relaxed);
        assert_eq!(sub_locked(&s), (false, false));
        assert_eq!(s.load(Ordering::Relaxed), WAITER);
        s.store(LOCKED | WOKEN | STARVING | (3 * WAITER), Ordering::Relaxed);
        assert_eq!(sub_locked(&s), (false, true));
        assert_eq!(waiters(s.load(Ordering::Relaxed)), 3);
        assert_eq!(s.load(Ordering::Relaxed) & (LOCKED | WOKEN), WOKEN);
    }

    #[test]
    fn starving_lock_refuses_try_lock() {
        let m = RawMutex::new();
        m.state.store(STARVING | WAITER, Ordering::Relaxed);
        assert!(!m.try_lock());
        assert!(m.is_locked());
    }

    #[test]
    fn starvation_mode_hands_off_to_the_waiter() {
        let m = Arc::new(RawMutex::new());
        m.lock();
        let (got_tx, got_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let m2 = m.clone();
        let t = std::thread::spawn(move || {
            m2.lock();
            got_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            // SAFETY: locked just above.
            unsafe { m2.unlock() };
        });
        // Wait until the thread is counted and parked on the semaphore.
        while waiters(m.state.load(Ordering::Relaxed)) != 1 || m.sema_waiters_for_tests() != 1 {
            std::thread::yield_now();
        }
        // Mark the lock starving, as a waiter that waited too long does, and unlock.
        m.state.fetch_or(STARVING, Ordering::Relaxed);
        // SAFETY: locked at the start.
        unsafe { m.unlock() };
        // Handed to the waiter: nobody may barge in, before or after it runs.
        assert!(!m.try_lock());
        got_rx.recv().unwrap();
        assert!(!m.try_lock());
        assert_eq!(
            m.state.load(Ordering::Relaxed),
            LOCKED,
            "last waiter left starvation mode"
        );
        go_tx.send(()).unwrap();
        t.join().unwrap();
        assert_eq!(m.state.load(Ordering::Relaxed), 0);
    }
}
