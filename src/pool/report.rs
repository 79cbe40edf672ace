//! What a pool did: each worker counts in a slot of its own, and a [`Report`] sums the
//! slots.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use super::{lock, Pool, Shared};

/// What a pool did, returned by [`Pool::wait`] and [`Pool::stop`] (and, at any time, by
/// [`Pool::report`]).
///
/// Every job taken ends one way: once the pool has finished,
/// `submitted == completed + failed + panicked + cancelled`. The [`Pool`] methods of the
/// same names count the same things.
///
/// ```
/// use goro::pool::Pool;
///
/// let pool = Pool::new(2);
/// pool.submit(|| ()).unwrap();
/// pool.submit(|| Ok::<(), String>(())).unwrap();
/// pool.submit(|| Err("bad input")).unwrap();
/// pool.submit(|| -> () { panic!("bug") }).unwrap();
/// let r = pool.wait();
/// assert_eq!((r.submitted, r.completed, r.failed, r.panicked), (4, 2, 1, 1));
/// assert_eq!((pool.completed(), pool.failed(), pool.panicked()), (2, 1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    /// Jobs the pool took.
    pub submitted: u64,
    /// Jobs that ran and returned `()` or `Ok`.
    pub completed: u64,
    /// Jobs that ran and returned `Err`.
    pub failed: u64,
    /// Jobs that panicked.
    pub panicked: u64,
    /// Jobs cancelled before they ran (the pool's context ended, or `stop`).
    pub cancelled: u64,
    /// Jobs the pool did not take (full queue, timeout, closed pool), handed back.
    pub dropped: u64,
    /// Errors (of failed or panicked jobs) that [`Pool::errors`] did not keep, because as
    /// many as its [`errors_capacity`](super::Builder::errors_capacity) waited unread.
    pub errors_dropped: u64,
}

/// A worker's state and counters, on cache lines of their own. Only its worker writes them
/// (plain loads and stores, no read-modify-write: counting a job costs no more than a
/// store); metrics read them.
#[repr(align(128))]
#[derive(Default)]
pub(super) struct WorkerSlot {
    /// `IDLE`, `RUNNING` or `BUSY` (between the two: taking, recording).
    pub(super) state: AtomicU8,
    /// Jobs this worker took from the queue (or ran in place); with the queued ones, that
    /// is what was submitted, so submitting a job increments no shared counter.
    pub(super) taken: AtomicU64,
    pub(super) completed: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) panicked: AtomicU64,
    pub(super) cancelled: AtomicU64,
}

pub(super) const BUSY: u8 = 0;
pub(super) const IDLE: u8 = 1;
pub(super) const RUNNING: u8 = 2;

impl WorkerSlot {
    /// Adds one to a counter of this slot (its worker is the only writer).
    pub(super) fn bump(counter: &AtomicU64) {
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    fn counts(&self) -> Counts {
        Counts {
            taken: self.taken.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            panicked: self.panicked.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
            idle: (self.state.load(Ordering::Relaxed) == IDLE) as usize,
            running: (self.state.load(Ordering::Relaxed) == RUNNING) as usize,
        }
    }
}

#[derive(Default, Clone, Copy)]
pub(super) struct Counts {
    pub(super) taken: u64,
    pub(super) completed: u64,
    pub(super) failed: u64,
    pub(super) panicked: u64,
    pub(super) cancelled: u64,
    pub(super) idle: usize,
    pub(super) running: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.taken += o.taken;
        self.completed += o.completed;
        self.failed += o.failed;
        self.panicked += o.panicked;
        self.cancelled += o.cancelled;
        self.idle += o.idle;
        self.running += o.running;
    }
}

#[derive(Default)]
pub(super) struct Slots {
    live: Vec<Arc<WorkerSlot>>,
    /// What the workers that exited counted.
    retired: Counts,
}

impl Shared {
    /// Jobs taken so far: by the workers, plus those waiting in the queue.
    pub(super) fn submitted(&self) -> u64 {
        // A snapshot: a job moving from the queue to a worker between the two reads may be
        // counted twice or not at all; the count is exact whenever the pool is idle.
        let queued = self.jobs_rx.len() as u64;
        self.counts().taken + queued
    }

    /// The workers' counts now: the live ones' plus the retired ones'.
    pub(super) fn counts(&self) -> Counts {
        let slots = lock(&self.slots);
        let mut c = slots.retired;
        for w in &slots.live {
            c.add(w.counts());
        }
        c
    }

    /// The slot of a worker about to start. It counts as idle from now on: a worker
    /// started for a job will take one, so a submit that follows must not start another.
    pub(super) fn register(&self) -> Arc<WorkerSlot> {
        let slot = Arc::new(WorkerSlot::default());
        slot.state.store(IDLE, Ordering::Relaxed);
        lock(&self.slots).live.push(Arc::clone(&slot));
        slot
    }

    /// A worker exits: its counts move to the retired total.
    pub(super) fn unregister(&self, slot: &Arc<WorkerSlot>) {
        let mut slots = lock(&self.slots);
        slots.live.retain(|w| !Arc::ptr_eq(w, slot));
        let mut c = slot.counts();
        (c.idle, c.running) = (0, 0);
        slots.retired.add(c);
    }
}

impl Pool {
    /// Jobs running now.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(2);
    /// let (started_tx, started) = goro::chan::bounded::<()>(0);
    /// let ctx = pool.context();
    /// pool.submit(move || { started_tx.send(()).ok(); ctx.done().recv().ok(); }).unwrap();
    /// started.recv().unwrap(); // a job runs until the pool stops
    /// assert_eq!((pool.running(), pool.idle()), (1, 1));
    /// pool.stop();
    /// ```
    pub fn running(&self) -> usize {
        self.shared.counts().running
    }

    /// Workers waiting for a job now.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(2);
    /// assert_eq!(pool.idle(), 2); // started, no job yet
    /// ```
    pub fn idle(&self) -> usize {
        self.shared.counts().idle
    }

    /// Live workers.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(3);
    /// assert_eq!(pool.workers(), 3);
    /// ```
    pub fn workers(&self) -> usize {
        self.shared.workers.load(Ordering::Relaxed)
    }

    /// Jobs waiting in the queue.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// let (started_tx, started) = goro::chan::bounded::<()>(0);
    /// let ctx = pool.context();
    /// pool.submit(move || { started_tx.send(()).ok(); ctx.done().recv().ok(); }).unwrap();
    /// started.recv().unwrap(); // a job runs until the pool stops
    /// pool.submit(|| ()).unwrap();
    /// assert_eq!(pool.queued(), 1);
    /// pool.stop();
    /// ```
    pub fn queued(&self) -> usize {
        self.shared.jobs_rx.len()
    }

    /// Jobs taken so far.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(2);
    /// pool.submit(|| ()).unwrap();
    /// pool.submit(|| Err("bad input")).unwrap();
    /// pool.wait();
    /// assert_eq!(pool.submitted(), 2);
    /// ```
    pub fn submitted(&self) -> u64 {
        self.shared.submitted()
    }

    /// Jobs that ran and returned `()` or `Ok`.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// pool.submit(|| Ok::<(), String>(())).unwrap();
    /// pool.wait();
    /// assert_eq!(pool.completed(), 1);
    /// ```
    pub fn completed(&self) -> u64 {
        self.shared.counts().completed
    }

    /// Jobs that ran and returned `Err` (not counting panics: [`panicked`](Self::panicked)).
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// pool.submit(|| Err("bad input")).unwrap();
    /// pool.wait();
    /// assert_eq!((pool.failed(), pool.panicked()), (1, 0));
    /// ```
    pub fn failed(&self) -> u64 {
        self.shared.counts().failed
    }

    /// Jobs that panicked.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// pool.submit(|| -> () { panic!("bug") }).unwrap();
    /// pool.wait();
    /// assert_eq!((pool.panicked(), pool.failed()), (1, 0));
    /// ```
    pub fn panicked(&self) -> u64 {
        self.shared.counts().panicked
    }

    /// Errors that [`errors()`](Self::errors) did not keep (see
    /// [`Builder::errors_capacity`](super::Builder::errors_capacity)).
    ///
    /// ```
    /// let pool = goro::pool::Pool::builder().errors_capacity(1).build();
    /// pool.submit(|| Err("first")).unwrap();
    /// pool.submit(|| Err("second")).unwrap();
    /// pool.wait();
    /// assert_eq!(pool.errors_dropped(), 1); // nobody read the first
    /// ```
    pub fn errors_dropped(&self) -> u64 {
        self.shared.errors_dropped.load(Ordering::Relaxed)
    }

    /// Jobs cancelled before they ran.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// let (started_tx, started) = goro::chan::bounded::<()>(0);
    /// let ctx = pool.context();
    /// pool.submit(move || { started_tx.send(()).ok(); ctx.done().recv().ok(); }).unwrap();
    /// started.recv().unwrap(); // a job runs until the pool stops
    /// pool.submit(|| ()).unwrap();
    /// pool.stop();
    /// assert_eq!(pool.cancelled(), 1);
    /// ```
    pub fn cancelled(&self) -> u64 {
        self.shared.counts().cancelled
    }

    /// Jobs not taken (full queue, timeout, closed pool), handed back to their submitters.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// pool.close();
    /// assert!(pool.submit(|| ()).is_err());
    /// assert_eq!(pool.dropped(), 1);
    /// ```
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// The counters now, as a [`Report`].
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// pool.submit(|| ()).unwrap();
    /// let done = pool.wait();
    /// assert_eq!(pool.report(), done); // the same counts, at any time
    /// ```
    pub fn report(&self) -> Report {
        let s = &self.shared;
        let c = s.counts();
        Report {
            submitted: c.taken + s.jobs_rx.len() as u64,
            completed: c.completed,
            failed: c.failed,
            panicked: c.panicked,
            cancelled: c.cancelled,
            dropped: s.dropped.load(Ordering::Relaxed),
            errors_dropped: s.errors_dropped.load(Ordering::Relaxed),
        }
    }
}
