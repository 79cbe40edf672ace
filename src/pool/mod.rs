//! A worker pool: a bounded number of goroutines running submitted jobs.
//!
//! Go programmers write the article's worker pool by hand (a `jobs` channel, N goroutines
//! ranging over it, a `WaitGroup`, a `results` channel), then add its production variations
//! one by one, or reach for libraries (ants, pond, conc). [`Pool`] has them all in one type,
//! built from goro's public API (goroutines, channels, `select!`,
//! [`context`](crate::context)):
//!
//! | need | Go, by hand or with a library | goro |
//! |------|-------------------------------|------|
//! | N workers ranging over `jobs` | `for w := 1; w <= n; w++ { go worker(jobs) }` | [`Pool::new(n)`](Pool::new) + [`submit`](Pool::submit) |
//! | dynamic pools | ants / pond `NewPool(max)` | [`Pool::builder()`](Pool::builder)`.min_workers(a).max_workers(b).idle_timeout(d)`, [`resize`](Pool::resize) |
//! | backpressure | `jobs := make(chan Job, n)` | [`queue_capacity(n)`](Builder::queue_capacity): `submit` blocks while full; [`try_submit`](Pool::try_submit), [`submit_timeout`](Pool::submit_timeout), [`submit_ctx`](Pool::submit_ctx) |
//! | results | `results <- r` | [`submit_with_result`](Pool::submit_with_result) (a job returning `Result`) or [`submit_with_value`](Pool::submit_with_value) → [`TaskHandle`] ([`join`](TaskHandle::join), [`join_timeout`](TaskHandle::join_timeout), `select!`, `.await`), [`map`](Pool::map) (in order), [`map_unordered`](Pool::map_unordered) |
//! | errChan | `errs <- err` | jobs return `Result`; [`errors()`](Pool::errors) (bounded, with a count of the errors it did not keep); [`ErrorPolicy::FailFast`] cancels the rest |
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
//! ```
//!
//! # Life of a job
//!
//! A submitted job waits in the queue (a goro channel; unbounded unless
//! [`queue_capacity`](Builder::queue_capacity) bounds it), is taken by an idle worker, and
//! ends *completed* (it returned `()`, `Ok`, or, for
//! [`submit_with_value`](Pool::submit_with_value), any value), *failed* (it returned `Err`),
//! *panicked*, or, if the pool's context ended before a worker took it, *cancelled* without
//! running.
//! A job the pool did not take (full queue, timeout, closed pool) is handed back in the
//! [`SubmitError`] and counted as *dropped*. After [`wait`](Pool::wait),
//! `submitted == completed + failed + panicked + cancelled`.
//!
//! # What a job costs
//!
//! A closure given to [`submit`](Pool::submit) that captures at most two words (a few
//! numbers, references or `Arc`s) waits in the queue in place, with no allocation; a larger
//! one is boxed. Each worker counts its jobs in counters of its own, so a submit updates no
//! counter shared with the workers, and a pool at its `max_workers` (a fixed pool, always)
//! reads no worker's state when a job is submitted.
//!
//! # Errors and panics
//!
//! A job's error is counted and sent to [`errors()`](Pool::errors) (the article's
//! `errChan`; bounded by [`errors_capacity`](Builder::errors_capacity), with the errors it
//! could not keep counted in [`errors_dropped`](Pool::errors_dropped); closed when the pool
//! has finished), or, for a [`submit_with_result`](Pool::submit_with_result) job, to its
//! [`TaskHandle`]. With [`ErrorPolicy::FailFast`]
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

// Where things are: this file has `Pool` and the state its handles and workers share;
// `builder.rs` configures and starts a pool; `submit.rs` puts a job in the queue (or hands
// it back); `worker.rs` is the worker loop and the dynamic sizing; `report.rs` the
// per-worker counters and the `Report` summed from them; `job.rs` a job as it waits in the
// queue (an `InlineFn`), and the handle of its result; `map.rs` the batched `map`;
// `error.rs` the errors.

mod builder;
mod error;
mod job;
mod map;
mod report;
mod submit;
mod worker;

pub use builder::{Builder, ErrorPolicy, PanicPolicy, DEFAULT_ERRORS_CAPACITY};
pub use error::{JobError, SubmitError, TaskError};
pub use job::{JobResult, TaskHandle};
pub use map::{Map, MapUnordered};
pub use report::Report;

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::chan::{Receiver, Sender};
use crate::context::{CancelFn, Context, StopFn};
use crate::sync::WaitGroup;
use job::Job;
use report::Slots;

/// A pool of worker goroutines; see the [module docs](self).
///
/// Clones share the pool (a job may hold one to submit more work). The pool finishes when
/// [`wait`](Self::wait) or [`stop`](Self::stop) is called; dropping every handle without
/// either closes it, and its workers finish the queued jobs on their own.
///
/// ```
/// let pool = goro::pool::Pool::new(2);
/// let handle = pool.clone();
/// pool.submit(move || handle.submit(|| ()).unwrap()).unwrap(); // a job submitting more
/// assert_eq!(pool.wait().completed, 2);
/// ```
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
    /// Shared by the handles only (not the workers): the last one dropped closes the pool.
    _handles: Arc<CloseOnDrop>,
}

/// What the handles and the workers of a pool share.
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
    /// Errors not kept by a full `errors()` channel.
    errors_dropped: AtomicU64,
    /// The first panic, for `PanicPolicy::Resume`.
    panic: Mutex<Option<Box<dyn Any + Send + 'static>>>,
}

/// Closes the pool when the last `Pool` handle is dropped.
struct CloseOnDrop(Arc<Shared>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.jobs_tx.close();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while these locks are held.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pool {
    /// A pool of exactly `workers` workers, started now, with an unbounded queue.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(3);
    /// assert_eq!(pool.workers(), 3); // all started now
    /// pool.submit(|| ()).unwrap();
    /// assert_eq!(pool.wait().completed, 1);
    /// ```
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
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(4);
    /// let mut squares: Vec<u64> = pool
    ///     .map_unordered(1..=5u64, |x| x * x)
    ///     .map(Result::unwrap)
    ///     .collect();
    /// squares.sort_unstable();
    /// assert_eq!(squares, [1, 4, 9, 16, 25]);
    /// ```
    pub fn map_unordered<I, F, T>(&self, items: I, f: F) -> MapUnordered<I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        MapUnordered::new(self.clone(), items.into_iter(), f)
    }

    /// Stops taking jobs; the queued ones still run. Submitters blocked on a full queue
    /// get their jobs back ([`SubmitError::Closed`]). Idempotent.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// pool.submit(|| ()).unwrap();
    /// pool.close();
    /// assert!(pool.submit(|| ()).unwrap_err().is_closed());
    /// assert_eq!(pool.wait().completed, 1); // the queued job still ran
    /// ```
    pub fn close(&self) {
        self.shared.jobs_tx.close();
    }

    /// Closes the pool, waits until every queued job has run (or been cancelled) and every
    /// worker has exited, and reports what happened. The pool's context ends, and
    /// [`errors()`](Self::errors) closes once its buffered errors are read.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(2);
    /// for _ in 0..3 {
    ///     pool.submit(|| ()).unwrap();
    /// }
    /// let report = pool.wait();
    /// assert_eq!((report.submitted, report.completed), (3, 3));
    /// assert!(pool.context().err().is_some()); // the pool's context ended
    /// ```
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
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// let (started_tx, started) = goro::chan::bounded::<()>(0);
    /// let ctx = pool.context();
    /// pool.submit(move || { started_tx.send(()).ok(); ctx.done().recv().ok(); }).unwrap();
    /// started.recv().unwrap(); // a job runs until the pool stops
    /// pool.submit(|| ()).unwrap(); // queued: will not run
    /// let r = pool.stop();
    /// assert_eq!((r.completed, r.cancelled), (1, 1));
    /// ```
    pub fn stop(&self) -> Report {
        (self.shared.cancel)();
        self.wait()
    }

    /// Changes the most workers at a time, even while busy. Growing starts workers for
    /// queued jobs at once; shrinking lets surplus workers exit as they finish their job.
    ///
    /// ```
    /// let pool = goro::pool::Pool::builder().max_workers(1).build();
    /// pool.resize(4);
    /// for _ in 0..8 {
    ///     pool.submit(|| ()).unwrap();
    /// }
    /// assert!(pool.workers() <= 4);
    /// assert_eq!(pool.wait().completed, 8);
    /// ```
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
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// let ctx = pool.context();
    /// assert_eq!(ctx.err(), None);
    /// pool.wait();
    /// assert!(ctx.err().is_some()); // ended when the pool finished
    /// ```
    pub fn context(&self) -> Context {
        self.shared.ctx.clone()
    }

    /// The errors of failed and panicked jobs, as they happen (the article's `errChan`);
    /// closed when the pool has finished ([`wait`](Self::wait)), so a `for` loop over it
    /// ends.
    ///
    /// Bounded: it keeps at most [`errors_capacity`](Builder::errors_capacity) unread
    /// errors (1024 by default), the oldest; while it is full, newer errors are counted in
    /// [`errors_dropped`](Self::errors_dropped) instead (a worker never waits for a
    /// reader). The error of a [`submit_with_result`](Self::submit_with_result) job goes
    /// to its [`TaskHandle`] rather than here (here only if the handle was dropped);
    /// panics come here in every case.
    ///
    /// ```
    /// use goro::pool::{JobError, Pool};
    ///
    /// let pool = Pool::new(2);
    /// pool.submit(|| Err("disk full")).unwrap();
    /// pool.wait();
    /// let errs: Vec<JobError> = pool.errors().iter().collect();
    /// assert_eq!(errs.len(), 1);
    /// assert_eq!(errs[0].to_string(), "job failed: disk full");
    /// assert_eq!(pool.errors_dropped(), 0);
    /// ```
    pub fn errors(&self) -> Receiver<JobError> {
        self.shared.errors_rx.clone()
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
