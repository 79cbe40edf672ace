//! The channel lock: a futex mutex that `select` can hold several of at once.
//!
//! `std::sync::Mutex` hands out guards only, and `select` must lock a run-time set of
//! channels in address order and unlock them later. This is the classic three-state futex
//! lock (as in std and Go's `lock_futex`): `UNLOCKED`, `LOCKED`, `CONTENDED` (locked, and someone may
//! sleep in the kernel). A waiter spins briefly with `pause`, then yields its thread twice
//! (a holder re-taking the lock in a tight loop keeps the cache line, and a long pure spin
//! starves; measured: 4x slower on a contended SPSC channel), then sleeps with `FUTEX_WAIT`
//! (see `SPINS`).
//! The lock word shares its cache line with the channel's state on purpose: padding it apart
//! measured 2x slower (two lines move per operation instead of one).
//!
//! Critical sections never park a goroutine (they only move values and link waiters), so a
//! contended lock blocks a worker thread for at most the length of one such section.

use std::sync::atomic::{AtomicU32, Ordering};

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
const CONTENDED: u32 = 2;

/// Rounds before sleeping in the kernel: four of spinning (2 to 16 `pause`s), then two of
/// yielding the thread. Chosen on the channel workloads (2 cores), where it was the best of
/// the settings tried (4, 5, 6, 8, 12 and 14 rounds, and 100 single-`pause` spins); the
/// contended workloads (worker pool, unbuffered MPMC) vary 2-3x from run to run on this
/// shared machine, so the margin between close settings is not settled.
const SPINS: u32 = 6;

pub(crate) struct RawLock {
    state: AtomicU32,
}

impl RawLock {
    pub(crate) const fn new() -> RawLock {
        RawLock {
            state: AtomicU32::new(UNLOCKED),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) {
        // Acquire: pairs with the Release of `unlock`, ordering the previous holder's
        // critical section before ours.
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    #[cold]
    fn lock_contended(&self) {
        for i in 0..SPINS {
            let state = self.state.load(Ordering::Relaxed);
            // Acquire: as in `lock`.
            if state == UNLOCKED
                && self
                    .state
                    .compare_exchange_weak(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            if i < 4 {
                for _ in 0..(2u32 << i) {
                    std::hint::spin_loop();
                }
            } else {
                // The holder may be re-taking the lock in a tight loop with the cache line
                // in its core: give up the CPU briefly rather than starve.
                std::thread::yield_now();
            }
        }
        // Mark the lock contended so that its holder wakes us, then sleep while it is.
        // Acquire: as in `lock` (the swap that finds UNLOCKED takes the lock).
        while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
            futex_wait(&self.state, CONTENDED);
        }
    }

    /// # Safety
    ///
    /// The calling thread holds the lock.
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        // Release: pairs with the Acquire of `lock`.
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            futex_wake_one(&self.state);
        }
    }
}

fn futex_wait(state: &AtomicU32, expected: u32) {
    // SAFETY: FUTEX_WAIT reads the u32 at a valid, aligned address and sleeps only while it
    // still holds `expected`; spurious returns are handled by the caller's loop.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            state.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

fn futex_wake_one(state: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            state.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
    }
}
