//! Timers driven by the scheduler.
//!
//! One heap of deadlines for the whole runtime. There is no timer thread: workers fire due
//! timers in their scheduling loop (a single atomic load per loop when no timer is pending,
//! plus a clock read when one is), and when every worker is idle, one of them, the *timer
//! waiter*, sleeps until the earliest deadline while the others sleep without timeout. Adding
//! a timer earlier than the one the waiter sleeps for wakes the waiter; adding one when no
//! worker waits notifies an idle worker (see `idle`), which becomes the waiter.
//!
//! A fired timer unparks its waiter (see `park`); sleepers re-check the clock, so a timer that
//! fires for a waiter who already left only causes one spurious wake-up.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::park::Unparker;

/// No pending timer.
pub(crate) const NEVER: u64 = u64::MAX;

struct Entry {
    deadline: u64,
    seq: u64,
    waker: Unparker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest deadline on top; `seq`
        // keeps timers with equal deadlines in insertion order.
        (other.deadline, other.seq).cmp(&(self.deadline, self.seq))
    }
}

struct Inner {
    heap: BinaryHeap<Entry>,
    seq: u64,
    /// The worker sleeping until `waiter_deadline`, if any.
    waiter: Option<usize>,
    waiter_deadline: u64,
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
                heap: BinaryHeap::new(),
                seq: 0,
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
        inner.seq += 1;
        let seq = inner.seq;
        inner.heap.push(Entry {
            deadline,
            seq,
            waker,
        });
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
        while inner.heap.peek().is_some_and(|e| e.deadline <= now) {
            out.push(inner.heap.pop().expect("peeked").waker);
        }
        let next = inner.heap.peek().map_or(NEVER, |e| e.deadline);
        self.next.store(next, Ordering::Relaxed);
    }

    /// An idle worker about to sleep: becomes the timer waiter if there is a pending timer and
    /// no waiter yet, and returns the deadline to sleep until.
    pub(crate) fn become_waiter(&self, worker: usize) -> Option<u64> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let next = inner.heap.peek()?.deadline;
        if inner.waiter.is_some() {
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
