//! `Sema`: the counting semaphore the locks sleep on (Go's runtime `semacquire` /
//! `semrelease`).
//!
//! A `Sema` counts wake-up tokens. [`Sema::release`] gives a token to the oldest queued
//! waiter, or keeps it if nobody is queued; [`Sema::acquire`] takes a kept token or queues
//! and parks until it is given one. The locks keep their real state in their own atomic
//! word and come here only to sleep and to wake a sleeper, so this is never on a fast path.
//!
//! Keeping a token when nobody is queued is what makes the locks' two-step wait safe: a
//! locker first records itself as a waiter in the lock word, then calls `acquire`; an
//! unlocker that sees the record may call `release` before the locker has queued here. The
//! token waits for it, so the wake-up is not lost.
//!
//! A token given to a queued waiter is handed over directly (it is never left for someone
//! else to take), so a waiter that was queued first is woken first, except that a waiter
//! that has already waited once re-enters at the front (`front == true`), as Go's
//! `semacquire(lifo)` does: it keeps its place in line across a lost race for the lock.
//!
//! The queue's lock is a `std::sync::Mutex`: its critical sections only count and link,
//! never park or run user code, so it is held for a few dozen instructions at most.

use std::pin::pin;
use std::sync::Mutex;

use super::waiter::{WaitList, Waiter};
use crate::rt::registry::Reason;

pub(crate) struct Sema {
    state: Mutex<State>,
}

struct State {
    /// Released tokens nobody has taken yet. Non-zero only while `waiters` is empty.
    tokens: usize,
    waiters: WaitList,
}

impl Sema {
    pub(crate) const fn new() -> Sema {
        Sema {
            state: Mutex::new(State {
                tokens: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing panics under this lock, but never let poisoning spread into goro's locks.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a token, parking until one is released. `front` queues ahead of every other
    /// waiter (for a waiter that has waited before).
    #[track_caller]
    pub(crate) fn acquire(&self, front: bool, reason: Reason) {
        let waiter = pin!(Waiter::new());
        {
            let mut s = self.state();
            if s.tokens > 0 {
                s.tokens -= 1;
                return;
            }
            // SAFETY: `waiter` is pinned in this frame, linked in no list, and we wait on it
            // below after unlocking: it stays valid until a `release` unlinks it.
            unsafe {
                if front {
                    s.waiters.push_front(waiter.as_ref());
                } else {
                    s.waiters.push_back(waiter.as_ref());
                }
            }
        }
        waiter.as_ref().wait(reason);
    }

    #[cfg(test)]
    pub(crate) fn waiters_for_tests(&self) -> usize {
        self.state().waiters.len()
    }

    /// Releases one token: to the oldest queued waiter, else kept for the next `acquire`.
    pub(crate) fn release(&self) {
        let wake = {
            let mut s = self.state();
            match s.waiters.pop_front() {
                Some(w) => w,
                None => {
                    s.tokens += 1;
                    return;
                }
            }
        };
        wake.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn token_before_acquire_is_kept() {
        let s = Sema::new();
        s.release();
        s.release();
        s.acquire(false, Reason::Semacquire);
        s.acquire(true, Reason::Semacquire);
        assert_eq!(s.state().tokens, 0);
    }

    #[test]
    fn release_wakes_queued_threads_in_order() {
        let s = Arc::new(Sema::new());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        for i in 0..3 {
            let (s2, order) = (s.clone(), order.clone());
            threads.push(std::thread::spawn(move || {
                s2.acquire(false, Reason::Semacquire);
                order.lock().unwrap().push(i);
            }));
            // Wait until thread `i` has queued, so the queue order is 0, 1, 2.
            while count_waiters(&s) < i + 1 {
                std::thread::yield_now();
            }
        }
        for i in 0..3 {
            s.release();
            while order.lock().unwrap().len() < i + 1 {
                std::thread::yield_now();
            }
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
    }

    fn count_waiters(s: &Sema) -> usize {
        s.waiters_for_tests()
    }
}
