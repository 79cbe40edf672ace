//! The channel lock: a futex mutex that `select` can hold several of at once.
//!
//! `std::sync::Mutex` hands out guards only, and `select` must lock a run-time set of
//! channels in address order and unlock them later. This is the classic three-state futex
//! lock (as in std and Go's `lock_futex`): `UNLOCKED`, `LOCKED`, `CONTENDED` (locked, and someone may
//! sleep in the kernel). A waiter looks at the lock rarely: it spins in long stretches of
//! `pause` between looks (see `SPIN_PAUSES`), then yields its thread once, then sleeps with
//! `FUTEX_WAIT`.
//!
//! The lock word shares its cache line with the channel's state on purpose: padding it apart
//! measured 2x slower (two lines move per operation instead of one). The same sharing is why
//! a waiter must not look often: every look pulls the line away from the holder, whose
//! critical section then stalls on it, and a holder that re-takes the lock at once (a
//! goroutine doing its next channel operation) is best left to do so with the line in its
//! cache. Looking every few `pause`s made an unbuffered channel with four senders and four
//! receivers on two workers 2.3x slower than looking every 150.
//!
//! Critical sections never park a goroutine (they only move values and link waiters), so a
//! contended lock blocks a worker thread for at most the length of one such section.

use std::sync::atomic::{AtomicU32, Ordering};

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
const CONTENDED: u32 = 2;

/// Stretches of spinning before a waiter yields its thread (it looks at the lock before
/// each, and once more after the last).
const SPIN_ROUNDS: u32 = 2;
/// `pause`s between two looks at a busy lock: about 4 µs on the 2-core machine the
/// benchmarks run on (25 ns per `pause`). Measured on the channel workloads against
/// exponential spinning (2 to 16 pauses, the previous setting), fixed stretches of 30, 50,
/// 100, 150 and 200, and 1, 2 and 4 rounds: unbuffered MPMC went from 179 to 78 ns per
/// message, MPMC with capacity 1024 from 38 to 27, the other channel workloads within
/// noise. Go's lock spins the same way (four stretches of 30, `procyield`), with a shorter
/// `pause` on most x86 machines.
const SPIN_PAUSES: u32 = 150;

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
        for i in 0..=SPIN_ROUNDS {
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
            if i < SPIN_ROUNDS {
                for _ in 0..SPIN_PAUSES {
                    std::hint::spin_loop();
                }
            } else {
                // Still busy: the holder may have lost its CPU; give ours up once.
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
