//! Timers driven by the scheduler.
//!
//! One set of deadlines for the whole runtime, in buckets (see `BUCKET_SHIFT`). There is no timer thread: workers fire due
//! timers in their scheduling loop (a single atomic load per loop when no timer is pending,
//! plus a clock read when one is), and when every worker is idle, one of them, the *timer
//! waiter*, sleeps until the earliest deadline while the others sleep without timeout. Adding
//! a timer earlier than the one the waiter sleeps for wakes the waiter; adding one when no
//! worker waits notifies an idle worker (see `idle`), which becomes the waiter.
//!
//! A fired timer either unparks a waiter (see `park`; sleepers re-check the clock, so a timer
//! that fires for a waiter who already left only causes one spurious wake-up) or calls a
//! [`TimerCallback`] (the timers of `goro::time`). A callback timer that was stopped or reset
//! stays in its bucket as a dead entry, skipped when due; when dead entries outnumber live
//! ones, the buckets are swept, so stopping a million timers does not keep them all.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
    Unpark(Unparker),
    /// Calls the callback with the generation the timer was armed with.
    Call(Arc<dyn TimerCallback>, u64),
}

impl Fire {
    pub(crate) fn run(self) {
        match self {
            Fire::Unpark(u) => u.unpark(),
            Fire::Call(cb, generation) => cb.fire(generation),
        }
    }

    fn is_live(&self) -> bool {
        match self {
            Fire::Unpark(_) => true,
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
    /// Entries in `buckets`, and how many of them are known to be dead.
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

    /// Drops every dead entry.
    fn sweep(&mut self) {
        self.buckets.retain(|_, b| {
            b.entries.retain(|e| e.fire.is_live());
            b.min = b.entries.iter().map(|e| e.deadline).min().unwrap_or(NEVER);
            !b.entries.is_empty()
        });
        self.len = self.buckets.values().map(|b| b.entries.len()).sum();
        self.dead = 0;
    }
}

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

    /// Adds a timer that does `fire` at `deadline` (runtime nanoseconds).
    pub(crate) fn add(&self, deadline: u64, fire: Fire) -> Notice {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.dead > 1024 && inner.dead > inner.len / 2 {
            inner.sweep();
        }
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
        if deadline < self.next.load(Ordering::Relaxed) {
            self.next.store(deadline, Ordering::Relaxed);
        }
        match inner.waiter {
            Some(w) if deadline < inner.waiter_deadline => Notice::Waiter(w),
            Some(_) => Notice::None,
            None => Notice::Idle,
        }
    }

    /// A callback timer was stopped or reset: one more dead entry.
    pub(crate) fn note_dead(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.dead += 1;
    }

    /// Removes every timer due at `now` and returns what they do.
    pub(crate) fn take_due(&self, now: u64, out: &mut Vec<Fire>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
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
        // Dead entries among those taken are no longer counted; the estimate only needs to
        // stay below the truth, which `sweep` restores.
        inner.dead = inner.dead.min(inner.len);
        self.next.store(inner.earliest(), Ordering::Relaxed);
    }

    /// An idle worker about to sleep: becomes the timer waiter if there is a pending timer and
    /// no waiter yet, and returns the deadline to sleep until.
    pub(crate) fn become_waiter(&self, worker: usize) -> Option<u64> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
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
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.waiter == Some(worker) {
            inner.waiter = None;
            inner.waiter_deadline = NEVER;
        }
    }
}
