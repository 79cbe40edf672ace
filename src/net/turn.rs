//! `Turn`: the one-byte lock that makes a socket's operations of one direction take turns
//! (the read or write half of Go's `fdMutex`).
//!
//! # Why not a `goro::sync::Mutex`
//!
//! A socket needs two of these (reading, writing), and an idle server holds thousands of
//! sockets, so their size counts: a `Mutex<()>` is 40 bytes (its state word and a
//! semaphore with its own queue), a `Turn` is one byte. The queue of a contended turn lives
//! in a table shared by every turn of the process, keyed by the turn's address, as Go's
//! `semtable` keys its semaphores. Contention here is rare (several goroutines reading one
//! socket at once), so the shared queue is never on a fast path.
//!
//! # The protocol
//!
//! The state is `FREE`, `HELD`, or `QUEUED` (held, and waiters are queued in the table).
//!
//! - `take`: CAS `FREE -> HELD`. Otherwise, under the table shard's lock: take the turn if
//!   it became `FREE`, else mark it `QUEUED` and link a waiter (both in that one critical
//!   section), then park until the turn is handed over.
//! - `give`: CAS `HELD -> FREE`. Otherwise (`QUEUED`), under the shard's lock: unlink the
//!   oldest waiter of this turn and mark it woken; if it was the last one of this turn,
//!   store `HELD` (the woken waiter now holds it). The turn never becomes `FREE` in a
//!   hand-over, so a newcomer cannot take it from the waiter it was handed to.
//!
//! `QUEUED` is set and cleared only under the shard's lock, where the waiters are linked
//! and unlinked: `QUEUED` holds exactly while a waiter of this turn is linked. A `give`
//! that sees `QUEUED` blocks on the shard's lock until the waiter that set it has linked
//! itself, so it always finds one. The fast paths never touch the table: a `take` that
//! finds `FREE` takes it, and a `give` only frees a turn nobody is queued for.

use std::pin::pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::rt::registry::Reason;
use crate::sync::waiter::{WaitList, Waiter};

const FREE: u8 = 0;
const HELD: u8 = 1;
const QUEUED: u8 = 2;

/// Shards of the table of queued waiters (a power of two): enough that unrelated sockets
/// rarely share one.
const SHARDS: usize = 64;

static TABLE: [Mutex<WaitList>; SHARDS] = [const { Mutex::new(WaitList::new()) }; SHARDS];

fn shard(key: usize) -> MutexGuard<'static, WaitList> {
    // The low bits of an address are mostly alignment; mix the rest.
    let i =
        (key >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (usize::BITS - SHARDS.trailing_zeros());
    // Nothing panics under these locks; never let poisoning spread anyway.
    TABLE[i].lock().unwrap_or_else(|e| e.into_inner())
}

/// A turn: one holder at a time, the others queued in order of arrival.
pub(crate) struct Turn {
    state: AtomicU8,
}

/// Holds a [`Turn`]; gives it to the next waiter when dropped.
pub(crate) struct TurnGuard<'a>(&'a Turn);

impl Turn {
    pub(crate) const fn new() -> Turn {
        Turn {
            state: AtomicU8::new(FREE),
        }
    }

    fn key(&self) -> usize {
        self as *const Turn as usize
    }

    /// Waits for the turn (on a goroutine, parking it; on a thread, blocking it).
    #[inline]
    pub(crate) fn take(&self) -> TurnGuard<'_> {
        // Acquire: pairs with the Release CAS in `give`, so the previous holder's operation
        // happens before ours.
        if self
            .state
            .compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.take_slow();
        }
        TurnGuard(self)
    }

    #[cold]
    fn take_slow(&self) {
        let waiter = pin!(Waiter::keyed(self.key()));
        {
            let mut list = shard(self.key());
            let mut s = self.state.load(Ordering::Relaxed);
            loop {
                let (want, took) = match s {
                    FREE => (HELD, true),
                    HELD => (QUEUED, false),
                    _ => break,
                };
                // Acquire (when taking): as in `take`. Marking `QUEUED` publishes nothing:
                // the hand-over is ordered by the waiter's `woken` flag.
                match self
                    .state
                    .compare_exchange(s, want, Ordering::Acquire, Ordering::Relaxed)
                {
                    Ok(_) if took => return,
                    Ok(_) => break,
                    Err(now) => s = now,
                }
            }
            // SAFETY: `waiter` is pinned in this frame, linked in no list, and we wait on it
            // below after unlocking: it stays valid until `give_slow` unlinks it.
            unsafe { list.push_back(waiter.as_ref()) };
        }
        // Returns once `give_slow` has handed us the turn; the Acquire on the waiter's
        // `woken` flag pairs with the Release store that marks it, after which the
        // previous holder's operation is visible.
        waiter.as_ref().wait(Reason::IoWait);
    }

    fn give(&self) {
        // Release: pairs with the Acquire CAS of the next `take`.
        if self
            .state
            .compare_exchange(HELD, FREE, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.give_slow();
        }
    }

    #[cold]
    fn give_slow(&self) {
        let wake = {
            let mut list = shard(self.key());
            let (wake, more) = list
                .pop_key(self.key())
                .expect("a queued turn has a waiter in the table");
            if !more {
                // Relaxed: under the shard's lock, which orders it with the waiters' CASes;
                // the woken waiter holds the turn now.
                self.state.store(HELD, Ordering::Relaxed);
            }
            wake
        };
        wake.wake();
    }
}

impl Drop for TurnGuard<'_> {
    fn drop(&mut self) {
        self.0.give();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn uncontended_turns_never_queue() {
        let t = Turn::new();
        for _ in 0..3 {
            let g = t.take();
            assert_eq!(t.state.load(Ordering::Relaxed), HELD);
            drop(g);
            assert_eq!(t.state.load(Ordering::Relaxed), FREE);
        }
    }

    #[test]
    fn one_holder_at_a_time_and_everyone_gets_a_turn() {
        // Threads and goroutines on a few turns that share table shards with each other.
        let turns: Arc<Vec<Turn>> = Arc::new((0..3).map(|_| Turn::new()).collect());
        let inside: Arc<Vec<AtomicUsize>> = Arc::new((0..3).map(|_| AtomicUsize::new(0)).collect());
        let done = Arc::new(AtomicUsize::new(0));
        let work = {
            let (turns, inside, done) = (turns.clone(), inside.clone(), done.clone());
            move |who: usize| {
                for i in 0..2_000 {
                    let k = (who + i) % 3;
                    let _g = turns[k].take();
                    assert_eq!(inside[k].fetch_add(1, Ordering::SeqCst), 0, "two holders");
                    if i % 7 == 0 {
                        crate::yield_now();
                    }
                    inside[k].fetch_sub(1, Ordering::SeqCst);
                }
                done.fetch_add(1, Ordering::SeqCst);
            }
        };
        let threads: Vec<_> = (0..2)
            .map(|who| {
                let work = work.clone();
                std::thread::spawn(move || work(who))
            })
            .collect();
        let goroutines: Vec<_> = (2..6)
            .map(|who| {
                let work = work.clone();
                crate::go(move || work(who))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for g in goroutines {
            g.join().unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 6);
        for t in turns.iter() {
            assert_eq!(t.state.load(Ordering::Relaxed), FREE);
        }
    }
}
