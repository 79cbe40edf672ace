//! `Cond`: a condition variable for goro's [`Mutex`], that parks goroutines.
//!
//! A `Cond` is a FIFO [`WaitList`] under a small lock. The one rule that makes it free of
//! lost wake-ups: [`Cond::wait`] links its waiter *before* it unlocks the mutex. So a
//! goroutine that changes the condition under the mutex and then signals (or signals after
//! merely having taken the mutex since) finds the waiter in the list:
//!
//! ```text
//! waiter                                   signaller
//! ------                                   ---------
//! 1. holds the mutex, condition false
//! 2. link waiter into the list
//! 3. unlock the mutex
//!                                          4. lock the mutex, make the condition true,
//!                                             unlock (or not: Go allows signalling
//!                                             without it)
//!                                          5. signal: unlink the oldest waiter, wake it
//! 6. park until woken (a wake between 5 and
//!    6 leaves a token: no sleep)
//! 7. lock the mutex, re-check the condition
//! ```
//!
//! A waiter that links itself after step 5 was not waiting when the signal came and is not
//! woken by it, as in Go: a signal wakes only goroutines already waiting.
//!
//! Go's `sync.Cond` numbers its waiters with tickets for the same reason (`notifyList`);
//! linking the waiter's own stack frame does it with no counter to wrap and no allocation.

use std::fmt;
use std::pin::pin;
use std::sync::Mutex as StdMutex;

use super::mutex::{Mutex, MutexGuard};
use super::waiter::{WaitList, Waiter};
use crate::rt::registry::Reason;

/// A condition variable: goroutines wait for a condition on data behind a [`Mutex`].
///
/// Go: `sync.Cond`. Go's `c.L` is not stored in the `Cond`: [`wait`](Self::wait) takes the
/// guard of the mutex and hands it back once the `Cond` was signalled and the mutex
/// re-taken. [`signal`](Self::signal) wakes the goroutine that has waited longest,
/// [`broadcast`](Self::broadcast) wakes every one waiting. Waiting parks a goroutine (its
/// worker runs others) or blocks a thread.
///
/// As in Go, a woken waiter re-takes the mutex behind anybody else, so the condition may
/// have changed again: check it in a loop, or use [`wait_while`](Self::wait_while). No
/// wake-up is lost, and `wait` does not return spuriously on its own.
///
/// ```
/// use goro::sync::{Cond, Mutex};
/// use std::sync::Arc;
///
/// let pair = Arc::new((Mutex::new(false), Cond::new()));
/// let pair2 = pair.clone();
/// goro::go(move || {
///     let (ready, cond) = &*pair2;
///     *ready.lock() = true;
///     cond.signal();
/// });
/// let (ready, cond) = &*pair;
/// let guard = cond.wait_while(ready.lock(), |ready| !*ready);
/// assert!(*guard);
/// ```
pub struct Cond {
    waiters: StdMutex<WaitList>,
}

impl Cond {
    /// A condition variable with nobody waiting. `const`, so it can initialise a `static`.
    ///
    /// Go: `sync.NewCond(&mu)`.
    ///
    /// ```
    /// use goro::sync::{Cond, Mutex};
    ///
    /// static READY: Mutex<bool> = Mutex::new(false);
    /// static COND: Cond = Cond::new();
    /// goro::go(|| {
    ///     *READY.lock() = true;
    ///     COND.signal();
    /// });
    /// assert!(*COND.wait_while(READY.lock(), |ready| !*ready));
    /// ```
    pub const fn new() -> Cond {
        Cond {
            waiters: StdMutex::new(WaitList::new()),
        }
    }

    fn waiters(&self) -> std::sync::MutexGuard<'_, WaitList> {
        // Nothing panics under this lock; never let poisoning spread.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Unlocks the mutex, parks until [`signal`](Self::signal) or
    /// [`broadcast`](Self::broadcast) wakes this caller, then locks the mutex again and
    /// returns its guard.
    ///
    /// Go: `c.Wait()`. Only signals that come after this call has unlocked the mutex can
    /// wake it (a signal sent under the mutex before, with nobody waiting, is not kept).
    ///
    /// ```
    /// use goro::sync::{Cond, Mutex};
    /// use std::sync::Arc;
    ///
    /// let queue = Arc::new((Mutex::new(Vec::new()), Cond::new()));
    /// let q = queue.clone();
    /// goro::go(move || {
    ///     q.0.lock().push("job");
    ///     q.1.signal();
    /// });
    /// let (jobs, cond) = &*queue;
    /// let mut guard = jobs.lock();
    /// while guard.is_empty() {
    ///     guard = cond.wait(guard); // unlocks, parks, locks again
    /// }
    /// assert_eq!(guard.pop(), Some("job"));
    /// ```
    #[track_caller]
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex: &'a Mutex<T> = MutexGuard::mutex(&guard);
        let waiter = pin!(Waiter::new());
        // SAFETY: `waiter` is pinned in this frame, in no list, and we wait on it below; it
        // stays valid until `signal` or `broadcast` unlinks it.
        unsafe { self.waiters().push_back(waiter.as_ref()) };
        drop(guard);
        waiter.as_ref().wait(Reason::CondWait);
        mutex.lock()
    }

    /// Waits while `condition` holds: checks it with the mutex held, and calls
    /// [`wait`](Self::wait) until it returns `false`.
    ///
    /// Go: `for condition() { c.Wait() }`.
    ///
    /// ```
    /// use goro::sync::{Cond, Mutex};
    /// use std::sync::Arc;
    ///
    /// let state = Arc::new((Mutex::new(0), Cond::new()));
    /// let s = state.clone();
    /// goro::go(move || {
    ///     *s.0.lock() = 3;
    ///     s.1.signal();
    /// });
    /// let guard = state.1.wait_while(state.0.lock(), |n| *n < 3);
    /// assert_eq!(*guard, 3);
    /// ```
    #[track_caller]
    pub fn wait_while<'a, T: ?Sized, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> MutexGuard<'a, T>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard);
        }
        guard
    }

    /// Wakes the goroutine (or thread) that has waited longest, if any.
    ///
    /// Go: `c.Signal()`. Holding the mutex while signalling is allowed, not required.
    ///
    /// ```
    /// use goro::sync::{Cond, Mutex};
    /// use std::sync::Arc;
    ///
    /// let state = Arc::new((Mutex::new(0), Cond::new()));
    /// let s = state.clone();
    /// let h = goro::go(move || *s.1.wait_while(s.0.lock(), |n| *n == 0));
    /// *state.0.lock() = 5;
    /// state.1.signal();
    /// assert_eq!(h.join().unwrap(), 5);
    /// ```
    pub fn signal(&self) {
        let wake = self.waiters().pop_front();
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// Wakes every goroutine and thread waiting now.
    ///
    /// Go: `c.Broadcast()`.
    ///
    /// ```
    /// use goro::sync::{Cond, Mutex, WaitGroup};
    /// use std::sync::Arc;
    ///
    /// let state = Arc::new((Mutex::new(0), Cond::new()));
    /// let wg = WaitGroup::new();
    /// for _ in 0..5 {
    ///     let state = state.clone();
    ///     wg.go(move || {
    ///         let (gen, cond) = &*state;
    ///         drop(cond.wait_while(gen.lock(), |gen| *gen == 0));
    ///     });
    /// }
    /// let (gen, cond) = &*state;
    /// *gen.lock() = 1;
    /// cond.broadcast();
    /// wg.wait();
    /// ```
    pub fn broadcast(&self) {
        // Detach the whole list under the lock; waking outside it keeps the critical section
        // short. Waiters that arrive meanwhile go into the fresh list and are not woken.
        let mut list = std::mem::take(&mut *self.waiters());
        while let Some(w) = list.pop_front() {
            w.wake();
        }
    }
}

impl Default for Cond {
    fn default() -> Cond {
        Cond::new()
    }
}

impl fmt::Debug for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cond").finish_non_exhaustive()
    }
}
