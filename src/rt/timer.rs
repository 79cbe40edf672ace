//! Timers driven by the scheduler.
//!
//! One set of deadlines for the whole runtime, in buckets (see `BUCKET_SHIFT`). There is no timer thread: workers fire due
//! timers in their scheduling loop (a single atomic load per loop when no timer is pending,
//! plus a clock read when one is), and when every worker is idle, one of them, the *timer
//! waiter*, sleeps until the earliest deadline while the others sleep without timeout. Adding
//! a timer earlier than the one the waiter sleeps for wakes the waiter; adding one when no
//! worker waits notifies an idle worker (see `idle`), which becomes the waiter.
//!
//! A fired timer unparks its waiter (see `park`); sleepers re-check the clock, so a timer that
//! fires for a waiter who already left only causes one spurious wake-up.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::park::Unparker;

/// No pending timer.
pub(crate) const NEVER: u64 = u64::MAX;

/// Timers are kept in buckets of `1 << BUCKET_SHIFT` ns (about 65 µs) of deadline: adding a
/// timer is a map look-up and a push, and firing takes whole buckets at once, instead of a
/// heap operation per timer. Deadlines stay exact: the bucket that holds `now` is fired
/// entry by entry.
const BUCKET_SHIFT: u32 = 16;

struct Entry {
    deadline: u64,
    waker: Unparker,
}

#[derive(Default)]
struct Bucket {
    /// Earliest deadline in `entries`.
    min: u64,
    entries: Vec<Entry>,
}

struct Inner {
    buckets: BTreeMap<u64, Bucket>,
    /// The worker sleeping until `waiter_deadline`, if any.
    waiter: Option<usize>,
    waiter_deadline: u64,
}

impl Inner {
    fn earliest(&self) -> u64 {
        self.buckets.first_key_value().map_or(NEVER, |(_, b)| b.min)
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

    /// Adds a timer that unparks `waker` at `deadline` (runtime nanoseconds).
    pub(crate) fn add(&self, deadline: u64, waker: Unparker) -> Notice {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = inner
            .buckets
            .entry(deadline >> BUCKET_SHIFT)
            .or_insert(Bucket {
                min: NEVER,
                entries: Vec::new(),
            });
        bucket.min = bucket.min.min(deadline);
        bucket.entries.push(Entry { deadline, waker });
        if deadline < self.next.load(Ordering::Relaxed) {
            self.next.store(deadline, Ordering::Relaxed);
        }
        match inner.waiter {
            Some(w) if deadline < inner.waiter_deadline => Notice::Waiter(w),
            Some(_) => Notice::None,
            None => Notice::Idle,
        }
    }

    /// Removes every timer due at `now` and returns their wakers.
    pub(crate) fn take_due(&self, now: u64, out: &mut Vec<Unparker>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(mut first) = inner.buckets.first_entry() {
            if first.get().min > now {
                break;
            }
            if *first.key() < now >> BUCKET_SHIFT {
                // The whole bucket lies before `now`.
                out.extend(first.remove().entries.into_iter().map(|e| e.waker));
                continue;
            }
            // The bucket that holds `now`: take what is due, keep the rest.
            let bucket = first.get_mut();
            let mut min = NEVER;
            let mut i = 0;
            while i < bucket.entries.len() {
                if bucket.entries[i].deadline <= now {
                    out.push(bucket.entries.swap_remove(i).waker);
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
