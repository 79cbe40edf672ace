//! A worker pool: a bounded number of goroutines running submitted jobs.
//!
//! Go programmers write the article's worker pool by hand (a `jobs` channel, N goroutines
//! ranging over it, a `WaitGroup`, a `results` channel), then add its production variations
//! one by one, or reach for libraries (ants, pond, conc). [`Pool`] has them all in one type,
//! built only from goro's public API (goroutines, channels, `select!`, [`context`]):
//!
//! | need | Go, by hand or with a library | goro |
//! |------|-------------------------------|------|
//! | N workers ranging over `jobs` | `for w := 1; w <= n; w++ { go worker(jobs) }` | [`Pool::new(n)`](Pool::new) + [`submit`](Pool::submit) |
//! | dynamic pools | ants / pond `NewPool(max)` | [`Pool::builder()`](Pool::builder)`.min_workers(a).max_workers(b).idle_timeout(d)`, [`resize`](Pool::resize) |
//! | backpressure | `jobs := make(chan Job, n)` | [`queue_capacity(n)`](Builder::queue_capacity): `submit` blocks while full; [`try_submit`](Pool::try_submit), [`submit_timeout`](Pool::submit_timeout), [`submit_ctx`](Pool::submit_ctx) |
//! | results | `results <- r` | [`submit_with_result`](Pool::submit_with_result) → [`TaskHandle`], [`map`](Pool::map) (in order), [`map_unordered`](Pool::map_unordered) |
//! | errChan | `errs <- err` | jobs return `Result`; [`errors()`](Pool::errors); [`ErrorPolicy::FailFast`] cancels the rest |
//! | context-aware pools | `select { case <-ctx.Done(): ... }` in each worker | [`Builder::context`], [`Pool::context`] |
//! | shutdown | `close(jobs); wg.Wait()` | [`close`](Pool::close), [`wait`](Pool::wait) → [`Report`], [`stop`](Pool::stop) |
//!
//! ```
//! use goro::pool::Pool;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//!
//! #[goro::main]
//! fn main() {
//!     let pool = Pool::new(3);
//!     let sum = Arc::new(AtomicU64::new(0));
//!     for j in 1..=5u64 {
//!         let sum = sum.clone();
//!         pool.submit(move || {
//!             sum.fetch_add(j * 2, Ordering::Relaxed);
//!         })
//!         .unwrap();
//!     }
//!     let report = pool.wait();
//!     assert_eq!(report.completed, 5);
//!     assert_eq!(sum.load(Ordering::Relaxed), 30);
//! }
//! # main();
//! ```
//!
//! # Life of a job
//!
//! A submitted job waits in the queue (a goro channel; unbounded unless
//! [`queue_capacity`](Builder::queue_capacity) bounds it), is taken by an idle worker, and
//! ends *completed* (it returned `()` or `Ok`), *failed* (it returned `Err`), *panicked*,
//! or, if the pool's context ended before a worker took it, *cancelled* without running.
//! A job the pool did not take (full queue, timeout, closed pool) is handed back in the
//! [`SubmitError`] and counted as *dropped*. After [`wait`](Pool::wait),
//! `submitted == completed + failed + panicked + cancelled`.
//!
//! # Errors and panics
//!
//! A job's error is counted and sent to [`errors()`](Pool::errors) (the article's
//! `errChan`; unbounded, closed when the pool has finished). With [`ErrorPolicy::FailFast`]
//! the first error also cancels the pool's context: queued jobs are cancelled and no more
//! are taken ("cancel all workers if one fails"); running jobs see
//! [`Pool::context`] end. A panicking job never kills its worker; by default
//! ([`PanicPolicy::Error`]) it counts as panicked and is reported on `errors()` as
//! [`JobError::Panicked`]; [`PanicPolicy::Resume`] makes [`wait`](Pool::wait) re-raise the
//! first panic once the pool has finished; [`PanicPolicy::Abort`] ends the process, as an
//! unrecovered panic in a goroutine does in Go.
//!
//! # Nested submits
//!
//! A job may submit more jobs to its own pool. On a bounded queue that is full while every
//! worker is busy, a blocking submit from inside the pool could wait forever (each worker
//! waiting for room that only a worker can make), so a [`submit`](Pool::submit) made from
//! one of the pool's own workers never blocks on a full queue: it runs the job right there,
//! in the submitting worker (the "caller runs" policy). The same goes for a submit from a
//! job after [`close`](Pool::close) (as [`wait`](Pool::wait) does): work a running job
//! spawns is part of the work `wait` waits for, unless the pool's context has ended, and
//! then it is refused like any other. Waiting inside a job for another
//! job's [`TaskHandle`] still needs a free worker: give such pools a `max_workers` above the
//! nesting depth, or restructure the work as a pipeline.

mod error;
mod job;
mod map;

pub use error::{JobError, SubmitError, TaskError};
pub use job::{JobResult, TaskHandle};
pub use map::{Map, MapUnordered};

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::chan::{self, Receiver, SendTimeoutError, Sender, TrySendError};
use crate::context::{self, CancelFn, Context, StopFn};
use crate::sync::WaitGroup;
use job::{Job, Outcome, Plain, Queued, WithResult};

/// What the pool does with a job's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorPolicy {
    /// Keep going; every error is counted and sent to [`Pool::errors`].
    #[default]
    Collect,
    /// The first error also cancels the pool's context: queued jobs are cancelled, no more
    /// are taken.
    FailFast,
}

/// What the pool does with a panicking job. The worker survives in every case but `Abort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PanicPolicy {
    /// Count it as panicked and send [`JobError::Panicked`] to [`Pool::errors`] (under
    /// [`ErrorPolicy::FailFast`] it also ends the pool, as an error does).
    #[default]
    Error,
    /// Count it, and make [`Pool::wait`] re-raise the first panic once the pool has
    /// finished (after every other job has run or been cancelled).
    Resume,
    /// Print it and abort the process, as an unrecovered panic in a Go goroutine does.
    Abort,
}

/// Configures a [`Pool`]; made by [`Pool::builder`].
#[derive(Debug, Clone)]
pub struct Builder {
    min_workers: usize,
    max_workers: usize,
    idle_timeout: Duration,
    queue_capacity: Option<usize>,
    error_policy: ErrorPolicy,
    panic_policy: PanicPolicy,
    context: Option<Context>,
    name: Option<String>,
}

/// What a pool did, returned by [`Pool::wait`] and [`Pool::stop`].
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
}

/// A pool of worker goroutines; see the [module docs](self).
///
/// Clones share the pool (a job may hold one to submit more work). The pool finishes when
/// [`wait`](Self::wait) or [`stop`](Self::stop) is called; dropping every handle without
/// either closes it, and its workers finish the queued jobs on their own.
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
    /// Shared by the handles only (not the workers): the last one dropped closes the pool.
    _handles: Arc<CloseOnDrop>,
}

struct Shared {
    id: u64,
    name: Option<String>,
    min: usize,
    max: AtomicUsize,
    idle_timeout: Duration,
    queue_capacity: Option<usize>,
    error_policy: ErrorPolicy,
    panic_policy: PanicPolicy,
    jobs_tx: Sender<Job>,
    jobs_rx: Receiver<Job>,
    errors_tx: Mutex<Option<Sender<JobError>>>,
    errors_rx: Receiver<JobError>,
    ctx: Context,
    cancel: CancelFn,
    /// Closes the queue when the pool's context ends.
    on_done: Mutex<Option<StopFn>>,
    /// Counts the live workers (for `wait`).
    live: WaitGroup,
    /// Live workers; read on every submit, written only when workers come and go.
    workers: AtomicUsize,
    /// The live workers' slots (for the metrics), and the counts of those that exited.
    slots: Mutex<Slots>,
    dropped: AtomicU64,
    /// The first panic, for `PanicPolicy::Resume`.
    panic: Mutex<Option<Box<dyn Any + Send + 'static>>>,
}

/// A worker's state and counters, on cache lines of their own. Only its worker writes them
/// (plain loads and stores, no read-modify-write: counting a job costs no more than a
/// store); metrics read them.
#[repr(align(128))]
#[derive(Default)]
struct WorkerSlot {
    /// `IDLE`, `RUNNING` or `BUSY` (between the two: taking, recording).
    state: AtomicU8,
    /// Jobs this worker took from the queue (or ran in place); with the queued ones, that
    /// is what was submitted, so submitting a job increments no shared counter.
    taken: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    panicked: AtomicU64,
    cancelled: AtomicU64,
}

const BUSY: u8 = 0;
const IDLE: u8 = 1;
const RUNNING: u8 = 2;

impl WorkerSlot {
    /// Adds one to a counter of this slot (its worker is the only writer).
    fn bump(counter: &AtomicU64) {
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
struct Counts {
    taken: u64,
    completed: u64,
    failed: u64,
    panicked: u64,
    cancelled: u64,
    idle: usize,
    running: usize,
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
struct Slots {
    live: Vec<Arc<WorkerSlot>>,
    /// What the workers that exited counted.
    retired: Counts,
}

impl Shared {
    /// Jobs taken so far: by the workers, plus those waiting in the queue.
    fn submitted(&self) -> u64 {
        // A snapshot: a job moving from the queue to a worker between the two reads may be
        // counted twice or not at all; the count is exact whenever the pool is idle.
        let queued = self.jobs_rx.len() as u64;
        self.counts().taken + queued
    }

    /// The workers' counts now: the live ones' plus the retired ones'.
    fn counts(&self) -> Counts {
        let slots = lock(&self.slots);
        let mut c = slots.retired;
        for w in &slots.live {
            c.add(w.counts());
        }
        c
    }

    /// The slot of a worker about to start. It counts as idle from now on: a worker
    /// started for a job will take one, so a submit that follows must not start another.
    fn register(&self) -> Arc<WorkerSlot> {
        let slot = Arc::new(WorkerSlot::default());
        slot.state.store(IDLE, Ordering::Relaxed);
        lock(&self.slots).live.push(Arc::clone(&slot));
        slot
    }

    /// A worker exits: its counts move to the retired total.
    fn unregister(&self, slot: &Arc<WorkerSlot>) {
        let mut slots = lock(&self.slots);
        slots.live.retain(|w| !Arc::ptr_eq(w, slot));
        let mut c = slot.counts();
        (c.idle, c.running) = (0, 0);
        slots.retired.add(c);
    }
}

/// Closes the pool when the last `Pool` handle is dropped.
struct CloseOnDrop(Arc<Shared>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.jobs_tx.close();
    }
}

crate::goroutine_local! {
    /// The id of the pool whose worker the current goroutine is (0: none), and its slot
    /// (valid while that worker runs, which is when this is read).
    static CURRENT_POOL: Cell<(u64, *const WorkerSlot)> = Cell::new((0, std::ptr::null()));
}

fn next_pool_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            min_workers: 0,
            max_workers: default_workers(),
            idle_timeout: Duration::from_secs(1),
            queue_capacity: None,
            error_policy: ErrorPolicy::Collect,
            panic_policy: PanicPolicy::Error,
            context: None,
            name: None,
        }
    }
}

/// The default size: one worker per worker thread of the runtime.
fn default_workers() -> usize {
    crate::maxprocs().max(1)
}

impl Builder {
    /// Workers kept even when idle (default 0). Started with the pool.
    pub fn min_workers(mut self, n: usize) -> Builder {
        self.min_workers = n;
        self
    }

    /// The most workers at a time (default: [`maxprocs`](crate::maxprocs)). The pool
    /// starts a worker when a job is submitted and none is idle, up to this.
    pub fn max_workers(mut self, n: usize) -> Builder {
        self.max_workers = n;
        self
    }

    /// How long a worker above `min_workers` stays idle before it exits (default 1 s).
    pub fn idle_timeout(mut self, d: Duration) -> Builder {
        self.idle_timeout = d;
        self
    }

    /// Bounds the job queue: `submit` blocks while `n` jobs wait (backpressure). Without
    /// it the queue is unbounded. `0` makes every submit a hand-off to an idle worker.
    pub fn queue_capacity(mut self, n: usize) -> Builder {
        self.queue_capacity = Some(n);
        self
    }

    /// What a job's error does (default [`ErrorPolicy::Collect`]).
    pub fn error_policy(mut self, p: ErrorPolicy) -> Builder {
        self.error_policy = p;
        self
    }

    /// Shorthand for `error_policy(ErrorPolicy::FailFast)`.
    pub fn fail_fast(self) -> Builder {
        self.error_policy(ErrorPolicy::FailFast)
    }

    /// What a panicking job does (default [`PanicPolicy::Error`]).
    pub fn panic_policy(mut self, p: PanicPolicy) -> Builder {
        self.panic_policy = p;
        self
    }

    /// Binds the pool to `ctx`: when it ends, the pool takes no more jobs and cancels the
    /// queued ones. The pool's own context ([`Pool::context`]) is a child of it.
    pub fn context(mut self, ctx: &Context) -> Builder {
        self.context = Some(ctx.clone());
        self
    }

    /// Names the workers' goroutines (shown in panic messages).
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Makes the pool and starts its `min_workers`.
    ///
    /// # Panics
    ///
    /// If `max_workers` is 0, or `min_workers` is above `max_workers`.
    pub fn build(self) -> Pool {
        assert!(
            self.max_workers > 0,
            "goro::pool: max_workers must be at least 1"
        );
        assert!(
            self.min_workers <= self.max_workers,
            "goro::pool: min_workers ({}) is above max_workers ({})",
            self.min_workers,
            self.max_workers
        );
        let parent = self.context.unwrap_or_else(context::background);
        let (ctx, cancel) = parent.with_cancel();
        let (jobs_tx, jobs_rx) = match self.queue_capacity {
            Some(n) => chan::bounded(n),
            None => chan::unbounded(),
        };
        let (errors_tx, errors_rx) = chan::unbounded();
        let shared = Arc::new(Shared {
            id: next_pool_id(),
            name: self.name,
            min: self.min_workers,
            max: AtomicUsize::new(self.max_workers),
            idle_timeout: self.idle_timeout,
            queue_capacity: self.queue_capacity,
            error_policy: self.error_policy,
            panic_policy: self.panic_policy,
            jobs_tx,
            jobs_rx,
            errors_tx: Mutex::new(Some(errors_tx)),
            errors_rx,
            ctx,
            cancel,
            on_done: Mutex::new(None),
            live: WaitGroup::new(),
            workers: AtomicUsize::new(0),
            slots: Mutex::new(Slots::default()),
            dropped: AtomicU64::new(0),
            panic: Mutex::new(None),
        });
        // When the pool's context ends (its parent, fail-fast, `stop`), close the queue:
        // submits fail from then on, and the workers cancel what is queued.
        let weak = Arc::downgrade(&shared);
        let stop = shared.ctx.after_func(move || {
            if let Some(shared) = weak.upgrade() {
                shared.jobs_tx.close();
            }
        });
        *lock(&shared.on_done) = Some(stop);
        for _ in 0..shared.min {
            shared.workers.fetch_add(1, Ordering::Relaxed);
            spawn_worker(&shared);
        }
        Pool {
            _handles: Arc::new(CloseOnDrop(Arc::clone(&shared))),
            shared,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while these locks are held.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pool {
    /// A pool of exactly `workers` workers, started now, with an unbounded queue.
    ///
    /// # Panics
    ///
    /// If `workers` is 0.
    pub fn new(workers: usize) -> Pool {
        assert!(workers > 0, "goro::pool: a pool needs at least 1 worker");
        Pool::builder()
            .min_workers(workers)
            .max_workers(workers)
            .build()
    }

    /// A [`Builder`] for a dynamic, bounded, context-bound or fail-fast pool.
    ///
    /// ```
    /// use goro::pool::Pool;
    /// use std::time::Duration;
    ///
    /// let pool = Pool::builder()
    ///     .min_workers(1)
    ///     .max_workers(8)
    ///     .idle_timeout(Duration::from_millis(100))
    ///     .queue_capacity(64)
    ///     .build();
    /// pool.submit(|| println!("hello from a pool worker")).unwrap();
    /// pool.wait();
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Queues `job`, waiting while a bounded queue is full. Fails (handing the job back)
    /// once the pool is closed or its context has ended.
    ///
    /// From inside one of this pool's own jobs, a full queue does not block, and a closed
    /// (but not cancelled) pool still takes the job: it runs at once in the calling worker
    /// (see "Nested submits" in the [module docs](self)).
    pub fn submit<F, R>(&self, job: F) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: JobResult,
    {
        let r = self.submit_job(Job::new(Plain(job)));
        self.shared.handed_back(r, |p: Plain<F>| p.0)
    }

    /// Queues `job` if that needs no waiting: fails with [`SubmitError::Full`] on a full
    /// queue, [`SubmitError::Closed`] on a closed pool.
    pub fn try_submit<F, R>(&self, job: F) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: JobResult,
    {
        let r = self.enqueue(Job::new(Plain(job)), Wait::No);
        self.shared.handed_back(r, |p: Plain<F>| p.0)
    }

    /// Queues `job`, waiting at most `timeout` for room ([`SubmitError::Timeout`]).
    pub fn submit_timeout<F, R>(&self, job: F, timeout: Duration) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: JobResult,
    {
        let wait = match Instant::now().checked_add(timeout) {
            Some(d) => Wait::Until(d),
            None => Wait::Forever,
        };
        let r = self.enqueue(Job::new(Plain(job)), wait);
        self.shared.handed_back(r, |p: Plain<F>| p.0)
    }

    /// Queues `job`, waiting for room until `ctx` ends ([`SubmitError::Canceled`]).
    pub fn submit_ctx<F, R>(&self, ctx: &Context, job: F) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: JobResult,
    {
        let r = self.enqueue(Job::new(Plain(job)), Wait::Ctx(ctx));
        self.shared.handed_back(r, |p: Plain<F>| p.0)
    }

    /// Queues `job` and returns a handle to its value (waiting while a bounded queue is
    /// full). A panic of the job reaches the handle as [`TaskError::Panicked`] and counts as
    /// a panicked job; a job cancelled before it ran gives [`TaskError::Canceled`].
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(2);
    /// let h = pool.submit_with_result(|| 6 * 7).unwrap();
    /// assert_eq!(h.wait(), Ok(42));
    /// pool.wait();
    /// ```
    pub fn submit_with_result<F, T>(&self, job: F) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (handle, tx) = TaskHandle::new();
        let r = self.submit_job(Job::new(WithResult { f: job, tx }));
        self.shared
            .handed_back(r, |w: WithResult<F, T>| w.f)
            .map(|()| handle)
    }

    /// `submit`'s queueing: without waiting if possible; then, from one of the pool's own
    /// workers, running the job in place (module docs, "Nested submits"); else waiting.
    fn submit_job(&self, job: Job) -> Result<(), SubmitError<Job>> {
        let s = &self.shared;
        let job = match self.enqueue(job, Wait::No) {
            Ok(()) => return Ok(()),
            Err(SubmitError::Full(job)) => job,
            Err(SubmitError::Closed(job)) => {
                if s.in_own_worker().is_some() && s.ctx.err().is_none() {
                    s.run_here(job);
                    return Ok(());
                }
                return Err(SubmitError::Closed(job));
            }
            Err(e) => return Err(e),
        };
        if s.in_own_worker().is_some() {
            s.run_here(job);
            return Ok(());
        }
        self.enqueue(job, Wait::Forever)
    }

    /// Runs `f` over `items` on the pool, yielding the results in input order, with a
    /// bounded number of items submitted and not yet yielded (so a huge or endless input is
    /// fine). Each item is `Ok(value)`, or `Err` if that call panicked or was cancelled.
    ///
    /// Items go to the workers in batches that grow while `f` is cheap (up to 256 items)
    /// and stay single items while it is slow, and at most `2 × max_workers` batches are
    /// in flight. The pool counts a batch as one job (a panic in it as one panicked job).
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(4);
    /// let squares: Vec<u64> = pool
    ///     .map(1..=5u64, |x| x * x)
    ///     .map(Result::unwrap)
    ///     .collect();
    /// assert_eq!(squares, [1, 4, 9, 16, 25]);
    /// ```
    pub fn map<I, F, T>(&self, items: I, f: F) -> Map<I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        Map::new(self.clone(), items.into_iter(), f)
    }

    /// Like [`map`](Self::map), but yields each result as soon as it is ready, in any order.
    pub fn map_unordered<I, F, T>(&self, items: I, f: F) -> MapUnordered<I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        MapUnordered::new(self.clone(), items.into_iter(), f)
    }

    fn enqueue(&self, job: Job, wait: Wait<'_>) -> Result<(), SubmitError<Job>> {
        let s = &self.shared;
        if s.ctx.err().is_some() {
            return Err(SubmitError::Closed(job));
        }
        // A worker for it, if none is idle (before the send: with capacity 0 the send waits
        // for a worker to take it).
        s.grow_if_needed(1);
        let sent = match wait {
            Wait::No => s.jobs_tx.try_send(job).map_err(|e| match e {
                TrySendError::Full(j) => SubmitError::Full(j),
                TrySendError::Closed(j) => SubmitError::Closed(j),
            }),
            Wait::Forever => s.jobs_tx.send(job).map_err(|e| SubmitError::Closed(e.0)),
            Wait::Until(d) => s.jobs_tx.send_deadline(job, d).map_err(|e| match e {
                SendTimeoutError::Timeout(j) => SubmitError::Timeout(j),
                SendTimeoutError::Closed(j) => SubmitError::Closed(j),
            }),
            Wait::Ctx(ctx) => {
                // A losing send case drops its value, so the job travels in a cell whose
                // other half stays here, to hand the job back on cancellation.
                let cell = Arc::new(Mutex::new(Some(job)));
                let wrapped = Job::new(job::Handback(Arc::clone(&cell)));
                let sent = crate::select! {
                    send(s.jobs_tx, wrapped) -> r => r.map_err(|_| false),
                    recv(ctx.done()) -> _ => Err(true),
                };
                sent.map_err(|canceled| {
                    let job = lock(&cell)
                        .take()
                        .expect("a job that was not sent is in its cell");
                    if canceled {
                        SubmitError::Canceled(job)
                    } else {
                        SubmitError::Closed(job)
                    }
                })
            }
        };
        if sent.is_ok() {
            // Again after the send: a worker started (or seen idle) before it may have
            // timed out meanwhile. Either it is still idle and takes the job, or it stored
            // its leaving before our look (then we start one), or it looks at the queue
            // after our send and stays (`wait_for_job`).
            s.grow_if_needed(0);
        }
        sent
    }

    /// Stops taking jobs; the queued ones still run. Submitters blocked on a full queue
    /// get their jobs back ([`SubmitError::Closed`]). Idempotent.
    pub fn close(&self) {
        self.shared.jobs_tx.close();
    }

    /// Closes the pool, waits until every queued job has run (or been cancelled) and every
    /// worker has exited, and reports what happened. The pool's context ends, and
    /// [`errors()`](Self::errors) closes once its buffered errors are read.
    ///
    /// # Panics
    ///
    /// With [`PanicPolicy::Resume`], re-raises the first panic of a job. Called from one of
    /// the pool's own jobs (it would wait for itself).
    pub fn wait(&self) -> Report {
        let s = &self.shared;
        assert!(
            s.in_own_worker().is_none(),
            "goro::pool: wait (or stop) called from one of the pool's own jobs, which would \
             wait for itself"
        );
        self.close();
        s.live.wait();
        // Every worker is gone. A worker started by a racing submit after the queue closed
        // finds it closed and drained, and exits at once.
        if let Some(stop) = lock(&s.on_done).take() {
            stop();
        }
        (s.cancel)();
        lock(&s.errors_tx).take();
        if let Some(p) = lock(&s.panic).take() {
            std::panic::resume_unwind(p);
        }
        self.report()
    }

    /// Cancels the queued jobs (they will not run), waits for the running ones to finish,
    /// and reports, as [`wait`](Self::wait) does.
    pub fn stop(&self) -> Report {
        (self.shared.cancel)();
        self.wait()
    }

    /// Changes the most workers at a time, even while busy. Growing starts workers for
    /// queued jobs at once; shrinking lets surplus workers exit as they finish their job.
    ///
    /// # Panics
    ///
    /// If `max_workers` is 0 or below the pool's `min_workers`.
    pub fn resize(&self, max_workers: usize) {
        let s = &self.shared;
        assert!(
            max_workers > 0 && max_workers >= s.min,
            "goro::pool: resize({max_workers}) is below min_workers ({}) or 0",
            s.min
        );
        s.max.store(max_workers, Ordering::Relaxed);
        for _ in 0..s.jobs_rx.len() {
            if !s.grow_if_needed(0) {
                break;
            }
        }
    }

    /// The pool's context: a child of the one given to [`Builder::context`] (or of
    /// `background`), ended by fail-fast, [`stop`](Self::stop), or when the pool finishes.
    /// Jobs that can stop early should watch it.
    pub fn context(&self) -> Context {
        self.shared.ctx.clone()
    }

    /// The errors of failed and panicked jobs, as they happen (the article's `errChan`).
    /// Unbounded; closed when the pool has finished ([`wait`](Self::wait)), so a `for` loop
    /// over it ends.
    pub fn errors(&self) -> Receiver<JobError> {
        self.shared.errors_rx.clone()
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        self.shared.counts().running
    }

    /// Workers waiting for a job now.
    pub fn idle(&self) -> usize {
        self.shared.counts().idle
    }

    /// Live workers.
    pub fn workers(&self) -> usize {
        self.shared.workers.load(Ordering::Relaxed)
    }

    /// Jobs waiting in the queue.
    pub fn queued(&self) -> usize {
        self.shared.jobs_rx.len()
    }

    /// Jobs taken so far.
    pub fn submitted(&self) -> u64 {
        self.shared.submitted()
    }

    /// Jobs that ran and returned `()` or `Ok`.
    pub fn completed(&self) -> u64 {
        self.shared.counts().completed
    }

    /// Jobs that ran and returned `Err`, or panicked.
    pub fn failed(&self) -> u64 {
        let c = self.shared.counts();
        c.failed + c.panicked
    }

    /// Jobs cancelled before they ran.
    pub fn cancelled(&self) -> u64 {
        self.shared.counts().cancelled
    }

    /// Jobs not taken (full queue, timeout, closed pool), handed back to their submitters.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// The counters now, as a [`Report`].
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
        }
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers())
            .field("running", &self.running())
            .field("queued", &self.queued())
            .field("queue_capacity", &self.shared.queue_capacity)
            .field("report", &self.report())
            .finish()
    }
}

/// How long `enqueue` may wait for room.
enum Wait<'a> {
    No,
    Forever,
    Until(Instant),
    Ctx(&'a Context),
}

impl Shared {
    /// The slot of the calling goroutine, if it is one of this pool's workers.
    fn in_own_worker(&self) -> Option<*const WorkerSlot> {
        let (pool, slot) = CURRENT_POOL.with(|c| c.get());
        (pool == self.id).then_some(slot)
    }

    /// A submit's result for its caller: a job not taken is counted as dropped and handed
    /// back as the caller's type.
    fn handed_back<Q: Queued, F>(
        &self,
        r: Result<(), SubmitError<Job>>,
        take: impl Fn(Q) -> F,
    ) -> Result<(), SubmitError<F>> {
        let Err(e) = r else { return Ok(()) };
        self.dropped.fetch_add(1, Ordering::Relaxed);
        let back = |j: Job| take(j.take::<Q>());
        Err(match e {
            SubmitError::Full(j) => SubmitError::Full(back(j)),
            SubmitError::Timeout(j) => SubmitError::Timeout(back(j)),
            SubmitError::Canceled(j) => SubmitError::Canceled(back(j)),
            SubmitError::Closed(j) => SubmitError::Closed(back(j)),
        })
    }

    /// Starts a worker if fewer workers are idle than there are jobs to take (the queued
    /// ones plus `extra` about to be sent), below the limit; returns whether it started
    /// one. A worker counts as idle from its start (see `register`) until it takes a job.
    #[inline]
    fn grow_if_needed(self: &Arc<Self>, extra: usize) -> bool {
        // At the limit (a fixed pool, always): nothing to do, and no slot is read.
        if self.workers.load(Ordering::Relaxed) >= self.max.load(Ordering::Relaxed) {
            return false;
        }
        self.grow_below_limit(extra)
    }

    #[cold]
    #[inline(never)]
    fn grow_below_limit(self: &Arc<Self>, extra: usize) -> bool {
        // An idle worker already woken for a queued job still counts as idle until it runs,
        // hence the comparison with the queue rather than "no idle worker".
        // SeqCst fence: pairs with the one in `wait_for_job` (a worker stores its state,
        // then looks at the queue; we pushed, then look at the states).
        std::sync::atomic::fence(Ordering::SeqCst);
        let idle = self.counts().idle;
        if idle >= self.jobs_rx.len() + extra || !self.claim_slot() {
            return false;
        }
        spawn_worker(self);
        true
    }

    /// Gives up a worker slot if there are more workers than `floor`; returns whether it
    /// did (the caller then exits).
    fn retire_above(&self, floor: usize) -> bool {
        let mut n = self.workers.load(Ordering::Relaxed);
        loop {
            if n <= floor {
                return false;
            }
            match self
                .workers
                .compare_exchange_weak(n, n - 1, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(cur) => n = cur,
            }
        }
    }

    /// Runs a job in the calling worker (a nested submit on a full or closed queue).
    fn run_here(&self, job: Job) {
        let slot = self
            .in_own_worker()
            .expect("jobs run in place only in the pool's own workers");
        // SAFETY: as below.
        WorkerSlot::bump(unsafe { &(*slot).taken });
        let outcome = job.run();
        // SAFETY: the slot belongs to the calling worker, which is running (this is one of
        // its jobs), so its `Arc` in the worker's frame keeps the slot alive.
        self.record(unsafe { &*slot }, outcome);
    }

    /// Counts a finished job and applies the error and panic policies.
    fn record(&self, slot: &WorkerSlot, outcome: Outcome) {
        let err = match outcome {
            Outcome::Completed => {
                WorkerSlot::bump(&slot.completed);
                return;
            }
            Outcome::Failed(e) => {
                WorkerSlot::bump(&slot.failed);
                JobError::Failed(e)
            }
            Outcome::Panicked(p) => {
                WorkerSlot::bump(&slot.panicked);
                match self.panic_policy {
                    PanicPolicy::Abort => {
                        eprintln!(
                            "goro::pool: a job panicked ({}); aborting (PanicPolicy::Abort)",
                            error::panic_message(&*p)
                        );
                        std::process::abort();
                    }
                    PanicPolicy::Resume => {
                        let msg = error::panic_message(&*p);
                        let mut first = lock(&self.panic);
                        if first.is_none() {
                            *first = Some(p);
                        }
                        drop(first);
                        JobError::Panicked(msg)
                    }
                    PanicPolicy::Error => JobError::Panicked(error::panic_message(&*p)),
                }
            }
        };
        if let Some(tx) = lock(&self.errors_tx).as_ref() {
            let _ = tx.send(err);
        }
        if self.error_policy == ErrorPolicy::FailFast {
            (self.cancel)();
        }
    }
}

fn spawn_worker(shared: &Arc<Shared>) {
    shared.live.add(1);
    let slot = shared.register();
    let s = Arc::clone(shared);
    let mut b = crate::Builder::new();
    if let Some(name) = &shared.name {
        b = b.name(name.clone());
    }
    let worker_slot = Arc::clone(&slot);
    let spawned = b.spawn(move || {
        worker(&s, worker_slot);
        s.live.done();
    });
    if let Err(e) = spawned {
        // The closure (and its `done`) was dropped unrun.
        shared.unregister(&slot);
        shared.workers.fetch_sub(1, Ordering::Relaxed);
        shared.live.done();
        panic!("goro::pool: cannot start a worker: {e}");
    }
}

/// A worker: takes jobs until the queue is closed and drained, or it is surplus.
fn worker(s: &Arc<Shared>, slot: Arc<WorkerSlot>) {
    CURRENT_POOL.with(|c| c.set((s.id, Arc::as_ptr(&slot))));
    work(s, &slot);
    CURRENT_POOL.with(|c| c.set((0, std::ptr::null())));
    s.unregister(&slot);
}

fn work(s: &Arc<Shared>, slot: &WorkerSlot) {
    loop {
        if s.workers.load(Ordering::Relaxed) > s.max.load(Ordering::Relaxed)
            && s.retire_above(s.max.load(Ordering::Relaxed))
        {
            // Shrunk by `resize`.
            return;
        }
        // A queued job is taken without reading the clock; waiting (and its bookkeeping)
        // is for an empty queue only, out of line.
        let job = match s.jobs_rx.try_recv() {
            Ok(job) => job,
            Err(_) => match wait_for_job(s, slot) {
                Waited::Job(job) => job,
                Waited::Again => continue,
                Waited::Exit => return,
            },
        };
        WorkerSlot::bump(&slot.taken);
        if s.ctx.err().is_some() {
            // The pool's context ended: queued jobs are cancelled, not run.
            job.cancel();
            WorkerSlot::bump(&slot.cancelled);
            continue;
        }
        slot.state.store(RUNNING, Ordering::Relaxed);
        let outcome = job.run();
        slot.state.store(BUSY, Ordering::Relaxed);
        if !matches!(outcome, Outcome::Completed) {
            s.record(slot, outcome);
        } else {
            WorkerSlot::bump(&slot.completed);
        }
    }
}

/// What an idle worker's wait gave.
enum Waited {
    Job(Job),
    /// Look again (a timeout below the floor, or a slot taken back).
    Again,
    /// Exit: idle too long above the floor, or the queue is closed and drained.
    Exit,
}

#[cold]
#[inline(never)]
fn wait_for_job(s: &Arc<Shared>, slot: &WorkerSlot) -> Waited {
    slot.state.store(IDLE, Ordering::Relaxed);
    // Workers above the floor time out when idle; the floor waits as long as it takes.
    let next = if s.workers.load(Ordering::Relaxed) > s.min {
        s.jobs_rx
            .recv_timeout(s.idle_timeout)
            .map_err(|e| e.is_timeout())
    } else {
        s.jobs_rx.recv().map_err(|_| false)
    };
    slot.state.store(BUSY, Ordering::Relaxed);
    // SeqCst fence: pairs with the one in `grow_if_needed` (see there).
    std::sync::atomic::fence(Ordering::SeqCst);
    match next {
        Ok(job) => {
            // Woken with more jobs behind this one: the submitters may have seen this
            // worker idle and started no other; start one if the limit allows.
            if !s.jobs_rx.is_empty() {
                s.grow_if_needed(0);
            }
            Waited::Job(job)
        }
        // Idle too long: exit if above the floor, else keep waiting.
        Err(true) => {
            if s.retire_above(s.min) {
                // A job may have arrived as we gave up the slot, with nobody to take it:
                // take the slot back if it is still free.
                if !s.jobs_rx.is_empty() && s.claim_slot() {
                    return Waited::Again;
                }
                return Waited::Exit;
            }
            Waited::Again
        }
        // Closed and drained.
        Err(false) => {
            s.workers.fetch_sub(1, Ordering::Relaxed);
            Waited::Exit
        }
    }
}

impl Shared {
    /// Takes a worker slot below the limit (for a new worker, or a retiring one that
    /// stays); false at the limit.
    fn claim_slot(&self) -> bool {
        let max = self.max.load(Ordering::Relaxed);
        let mut n = self.workers.load(Ordering::Relaxed);
        loop {
            if n >= max {
                return false;
            }
            match self
                .workers
                .compare_exchange_weak(n, n + 1, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(cur) => n = cur,
            }
        }
    }
}
