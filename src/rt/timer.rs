//! Timers driven by the scheduler.
//!
//! # Overview
//!
//! One set of deadlines for the whole runtime, in buckets (see `BUCKET_SHIFT`). There is no
//! timer thread: workers fire due timers in their scheduling loop (a single atomic load per
//! loop when no timer is pending, plus a clock read when one is), and when every worker is
//! idle, one of them, the *timer waiter*, sleeps until the earliest deadline while the others
//! sleep without timeout. Adding a timer earlier than the one the waiter sleeps for wakes the
//! waiter; adding one when no worker waits notifies an idle worker (see `idle`), which becomes
//! the waiter.
//!
//! A fired timer either unparks a goroutine in a timed wait (`park::TimedWait`) or calls a
//! [`TimerCallback`] (the timers of `goro::time`). A channel timer may also be fired in
//! place, by a receiver that looks at its channel after the deadline (`time`, Go's
//! `maybeRunChan`); it then moves to a new generation, so its entry here, due already, is
//! stale when a worker takes it and does nothing. Such an entry is not counted dead: it is
//! due, so the next look takes it (invariant 1).
//!
//! # Dead entries
//!
//! Memory is kept proportional to the *live* timers, whatever the program does (Go 1.23
//! collects unreferenced timers; before it, a `time.After` that lost a `select` stayed in the
//! heap until its deadline). An entry is *dead* once nothing can come of it:
//!
//! - a callback timer stopped, reset (its entry carries an older generation), or whose
//!   channel lost its last receiver (`time` disarms it then);
//! - the timer of a timed wait that ended before its deadline: the goroutine bumped its
//!   `timed_wait` number, so the entry's number is stale and it wakes nobody.
//!
//! Removing an entry from the middle of a bucket would need an index per entry; instead, who
//! kills an entry calls [`Timers::note_dead`], and once the dead entries counted pass 1024 and
//! half the set, the set is *swept*: every entry is asked whether it is live
//! ([`Fire::is_live`]) and the dead ones are removed.
//!
//! # Invariants
//!
//! 1. Every entry that dies while in the set *before its deadline* is counted once by
//!    `note_dead`, after it died (a timed wait whose deadline has passed counts nothing:
//!    its entry is due, so a worker takes it at its next look). Some counts are for entries
//!    already gone (a timer stopped while a worker was firing it, an entry a sweep took
//!    between its death and its count); `dead` is thus an over-estimate of the dead entries
//!    in the set, reset by each sweep, and lowered to `len` when entries are taken.
//! 2. A death is published before its count: it is a change under the timer's own lock (or
//!    to the goroutine's `timed_wait`), made before `note_dead` takes the set's lock. A
//!    sweep, under that lock, that runs after the count sees the death; one that runs
//!    before it may miss the death, but the count then comes after the sweep reset `dead`.
//!    So no dead entry stays in the set uncounted.
//! 3. Nothing is dropped and no user code runs under the set's lock: a sweep moves the
//!    removed entries out, and they are dropped after unlocking (dropping one can drop the
//!    last reference to a timer, hence a channel sender or an `after_func` closure, whose
//!    `Drop` may itself add a timer). `is_live` only takes a timer's own lock, and nobody
//!    takes the set's lock while holding a timer's lock, so the order is always set, then
//!    timer.
//!
//! # Cost
//!
//! A sweep costs O(`len`) and runs only when `dead` > max(1024, `len` / 2). `dead` rises
//! only through `note_dead` (one call per stop, reset, dropped timer or early-ended wait,
//! each O(1) itself) and restarts from 0 at each sweep, so between two sweeps there were more
//! than `len` / 2 calls: a sweep costs O(1) amortised per call, over-estimates included.
//! By invariants 1 and 2, the dead entries in the set never exceed `dead`, so after each
//! `add` or `note_dead` they are at most max(1024, `len` / 2), and `len` is at most twice the
//! live entries plus 1024 (plus the due entries not yet taken).
//!
//! # Rejected designs
//!
//! - An index per entry, for removal at once on stop: every entry would carry its position,
//!   kept up to date as buckets change, and every stop and early wake-up would remove under
//!   the set's lock, where counting and sweeping in bulk costs one short critical section
//!   per death and nothing per entry.
//! - Sweeping from the worker loop: the loop would need to look at `dead` on every turn;
//!   `add` and `note_dead` already hold the lock when the count changes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::rt::goroutine::GRef;
use crate::rt::park::Unparker;

/// No pending timer.
pub(crate) const NEVER: u64 = u64::MAX;

/// Timers are kept in buckets of `1 << BUCKET_SHIFT` ns (about 65 µs) of deadline: adding a
/// timer is a map look-up and a push, and firing takes whole buckets at once, instead of a
/// heap operation per timer. Deadlines stay exact: the bucket that holds `now` is fired
/// entry by entry.
const BUCKET_SHIFT: u32 = 16;

/// What a due timer does.
pub(crate) enum Fire {
    /// Unparks the goroutine if it is still in the timed wait with this number (its
    /// `timed_wait`, see `park::TimedWait`).
    Unpark(GRef, u32),
    /// Calls the callback with the generation the timer was armed with.
    Call(Arc<dyn TimerCallback>, u64),
}

impl Fire {
    pub(crate) fn run(self) {
        match self {
            Fire::Unpark(g, wait) => {
                // Relaxed: a hint, written by the goroutine alone. A wait that ends just
                // after this load gets its next park woken once for nothing, which every
                // park loop tolerates; a stale entry never wakes the goroutine otherwise.
                if g.timed_wait.load(Ordering::Relaxed) == wait {
                    Unparker::Goroutine(g).unpark();
                }
            }
            Fire::Call(cb, generation) => cb.fire(generation),
        }
    }

    /// Whether anything can still come of this entry (module docs, "Dead entries").
    fn is_live(&self) -> bool {
        match self {
            // Relaxed: invariant 2 of the module docs orders this load after the write that
            // ended the wait, if that wait has been counted dead already.
            Fire::Unpark(g, wait) => g.timed_wait.load(Ordering::Relaxed) == *wait,
            Fire::Call(cb, generation) => cb.is_live(*generation),
        }
    }
}

/// A timer that runs code when due (`goro::time`'s `Timer`, `Ticker`, `after_func`).
pub(crate) trait TimerCallback: Send + Sync {
    /// Called by a worker, in scheduler context, when the entry armed with `generation` is
    /// due. Takes the entry's reference, which it may use to arm the next one.
    fn fire(self: Arc<Self>, generation: u64);
    /// Whether the entry armed with `generation` still counts (not stopped or reset since).
    fn is_live(&self, generation: u64) -> bool;
}

struct Entry {
    deadline: u64,
    fire: Fire,
}

#[derive(Default)]
struct Bucket {
    /// Earliest deadline in `entries`.
    min: u64,
    entries: Vec<Entry>,
}

struct Inner {
    buckets: BTreeMap<u64, Bucket>,
    /// Entries in `buckets`, and an over-estimate of how many are dead (module docs,
    /// invariant 1).
    len: usize,
    dead: usize,
    /// The worker sleeping until `waiter_deadline`, if any.
    waiter: Option<usize>,
    waiter_deadline: u64,
}

impl Inner {
    fn earliest(&self) -> u64 {
        self.buckets.first_key_value().map_or(NEVER, |(_, b)| b.min)
    }

    /// Sweeps if the dead entries counted are worth it (module docs, "Cost"); returns the
    /// entries removed, for the caller to drop once it has unlocked.
    #[must_use = "dead entries are dropped after unlocking"]
    fn sweep_if_due(&mut self) -> Vec<Entry> {
        if self.dead > SWEEP_MIN_DEAD && self.dead > self.len / 2 {
            self.sweep()
        } else {
            Vec::new()
        }
    }

    /// Removes every dead entry and returns them (module docs, invariant 3).
    fn sweep(&mut self) -> Vec<Entry> {
        let mut removed = Vec::with_capacity(self.dead.min(self.len));
        self.buckets.retain(|_, b| {
            let mut min = NEVER;
            let mut i = 0;
            while i < b.entries.len() {
                if b.entries[i].fire.is_live() {
                    min = min.min(b.entries[i].deadline);
                    i += 1;
                } else {
                    removed.push(b.entries.swap_remove(i));
                }
            }
            b.min = min;
            // A bucket that held many entries gives back its room.
            if b.entries.capacity() > 4 * b.entries.len() + 8 {
                b.entries.shrink_to_fit();
            }
            !b.entries.is_empty()
        });
        self.len -= removed.len();
        self.dead = 0;
        removed
    }
}

/// Dead entries counted below which the set is never swept, so that small sets are not swept
/// over and over.
const SWEEP_MIN_DEAD: usize = 1024;

pub(crate) struct Timers {
    inner: Mutex<Inner>,
    /// Mirror of the earliest deadline (NEVER if none), for the workers' lock-free check.
    next: AtomicU64,
}

/// What `add` asks the caller to do to get the new timer noticed.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    /// The timer waiter sleeps past the new deadline: unpark this worker.
    Waiter(usize),
    /// No worker waits for timers: notify an idle worker.
    Idle,
    /// The waiter will wake in time.
    None,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            inner: Mutex::new(Inner {
                buckets: BTreeMap::new(),
                len: 0,
                dead: 0,
                waiter: None,
                waiter_deadline: NEVER,
            }),
            next: AtomicU64::new(NEVER),
        }
    }

    /// The earliest pending deadline, or NEVER.
    pub(crate) fn next_deadline(&self) -> u64 {
        // Relaxed: a hint; firing takes the lock, which orders everything else.
        self.next.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a timer that does `fire` at `deadline` (runtime nanoseconds).
    pub(crate) fn add(&self, deadline: u64, fire: Fire) -> Notice {
        let mut inner = self.lock();
        let swept = inner.sweep_if_due();
        inner.len += 1;
        let bucket = inner
            .buckets
            .entry(deadline >> BUCKET_SHIFT)
            .or_insert(Bucket {
                min: NEVER,
                entries: Vec::new(),
            });
        bucket.min = bucket.min.min(deadline);
        bucket.entries.push(Entry { deadline, fire });
        // A sweep may have left `next` earlier than the earliest entry: that only costs a
        // worker one look at the set, which then stores the right value (`take_due`).
        if deadline < self.next.load(Ordering::Relaxed) {
            self.next.store(deadline, Ordering::Relaxed);
        }
        let notice = match inner.waiter {
            Some(w) if deadline < inner.waiter_deadline => Notice::Waiter(w),
            Some(_) => Notice::None,
            None => Notice::Idle,
        };
        drop(inner);
        drop(swept);
        notice
    }

    /// An entry died before its deadline (module docs, invariants 1 and 2): one more dead
    /// entry, and a sweep if they are now worth one, so that dropping a million timers frees
    /// them even if no timer is added afterwards.
    pub(crate) fn note_dead(&self) {
        let mut inner = self.lock();
        inner.dead += 1;
        let swept = inner.sweep_if_due();
        drop(inner);
        drop(swept);
    }

    /// Entries in the set, live or dead.
    pub(crate) fn len(&self) -> usize {
        self.lock().len
    }

    /// Whether any entry in the set is live (`rt::deadlock`): O(entries), under the lock. An
    /// entry whose death this thread does not see yet counts as live.
    pub(crate) fn any_live(&self) -> bool {
        let inner = self.lock();
        inner
            .buckets
            .values()
            .any(|b| b.entries.iter().any(|e| e.fire.is_live()))
    }

    /// Removes every timer due at `now` and returns what they do.
    pub(crate) fn take_due(&self, now: u64, out: &mut Vec<Fire>) {
        let mut inner = self.lock();
        let before = out.len();
        while let Some(mut first) = inner.buckets.first_entry() {
            if first.get().min > now {
                break;
            }
            if *first.key() < now >> BUCKET_SHIFT {
                // The whole bucket lies before `now`.
                out.extend(first.remove().entries.into_iter().map(|e| e.fire));
                continue;
            }
            // The bucket that holds `now`: take what is due, keep the rest.
            let bucket = first.get_mut();
            let mut min = NEVER;
            let mut i = 0;
            while i < bucket.entries.len() {
                if bucket.entries[i].deadline <= now {
                    out.push(bucket.entries.swap_remove(i).fire);
                } else {
                    min = min.min(bucket.entries[i].deadline);
                    i += 1;
                }
            }
            bucket.min = min;
            if bucket.entries.is_empty() {
                first.remove();
            }
            break;
        }
        let taken = out.len() - before;
        inner.len -= taken;
        // Dead entries among those taken stay counted (telling them apart would cost a look
        // at each): an over-estimate, which only brings the next sweep forward (module docs,
        // "Cost"). It never needs to exceed the entries left.
        inner.dead = inner.dead.min(inner.len);
        self.next.store(inner.earliest(), Ordering::Relaxed);
    }

    /// An idle worker about to sleep: becomes the timer waiter if there is a pending timer and
    /// no waiter yet, and returns the deadline to sleep until.
    pub(crate) fn become_waiter(&self, worker: usize) -> Option<u64> {
        let mut inner = self.lock();
        let next = inner.earliest();
        if next == NEVER || inner.waiter.is_some() {
            return None;
        }
        inner.waiter = Some(worker);
        inner.waiter_deadline = next;
        Some(next)
    }

    /// The timer waiter woke up: gives up the role.
    pub(crate) fn leave_waiter(&self, worker: usize) {
        let mut inner = self.lock();
        if inner.waiter == Some(worker) {
            inner.waiter = None;
            inner.waiter_deadline = NEVER;
        }
    }
}
