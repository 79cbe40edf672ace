//! Configuring a pool: the [`Builder`] and the error and panic policies.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::report::Slots;
use super::{lock, worker, CloseOnDrop, Pool, Shared};
use crate::chan;
use crate::context::{self, Context};
use crate::sync::WaitGroup;

/// What the pool does with a job's error.
///
/// ```
/// use goro::pool::{ErrorPolicy, Pool};
///
/// let (release_tx, release) = goro::chan::bounded::<()>(0);
/// let pool = Pool::builder().max_workers(1).error_policy(ErrorPolicy::FailFast).build();
/// pool.submit(move || { release.recv().ok(); Err("bad input") }).unwrap();
/// pool.submit(|| ()).unwrap(); // queued behind the failing job
/// release_tx.send(()).unwrap();
/// let r = pool.wait();
/// assert_eq!((r.failed, r.completed, r.cancelled), (1, 0, 1));
/// ```
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
///
/// ```
/// use goro::pool::{PanicPolicy, Pool};
/// use std::panic::{catch_unwind, AssertUnwindSafe};
///
/// let pool = Pool::builder().panic_policy(PanicPolicy::Resume).build();
/// pool.submit(|| -> () { panic!("bug") }).unwrap();
/// let payload = catch_unwind(AssertUnwindSafe(|| pool.wait())).unwrap_err();
/// assert_eq!(payload.downcast_ref::<&str>(), Some(&"bug"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PanicPolicy {
    /// Count it as panicked and send [`JobError::Panicked`](super::JobError::Panicked) to
    /// [`Pool::errors`] (under [`ErrorPolicy::FailFast`] it also ends the pool, as an
    /// error does).
    #[default]
    Error,
    /// Count it, and make [`Pool::wait`] re-raise the first panic once the pool has
    /// finished (after every other job has run or been cancelled).
    Resume,
    /// Print it and abort the process, as an unrecovered panic in a Go goroutine does.
    Abort,
}

/// Configures a [`Pool`]; made by [`Pool::builder`].
///
/// ```
/// use goro::pool::Pool;
///
/// let pool = Pool::builder().max_workers(2).queue_capacity(8).name("resizer").build();
/// pool.submit(|| ()).unwrap();
/// assert_eq!(pool.wait().completed, 1);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    min_workers: usize,
    max_workers: usize,
    idle_timeout: Duration,
    queue_capacity: Option<usize>,
    errors_capacity: usize,
    error_policy: ErrorPolicy,
    panic_policy: PanicPolicy,
    context: Option<Context>,
    name: Option<String>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            min_workers: 0,
            max_workers: default_workers(),
            idle_timeout: Duration::from_secs(1),
            queue_capacity: None,
            errors_capacity: DEFAULT_ERRORS_CAPACITY,
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

/// How many unread errors [`Pool::errors`] keeps by default.
pub const DEFAULT_ERRORS_CAPACITY: usize = 1024;

fn next_pool_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Builder {
    /// Workers kept even when idle (default 0). Started with the pool.
    ///
    /// ```
    /// let pool = goro::pool::Pool::builder().min_workers(2).max_workers(4).build();
    /// assert_eq!(pool.workers(), 2); // started with the pool
    /// pool.wait();
    /// ```
    pub fn min_workers(mut self, n: usize) -> Builder {
        self.min_workers = n;
        self
    }

    /// The most workers at a time (default: [`maxprocs`](crate::maxprocs)). The pool
    /// starts a worker when a job is submitted and none is idle, up to this.
    ///
    /// ```
    /// let pool = goro::pool::Pool::builder().max_workers(3).build();
    /// assert_eq!(pool.workers(), 0); // none until there is work
    /// for _ in 0..10 {
    ///     pool.submit(|| ()).unwrap();
    /// }
    /// assert!(pool.workers() <= 3);
    /// assert_eq!(pool.wait().completed, 10);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Builder {
        self.max_workers = n;
        self
    }

    /// How long a worker above `min_workers` stays idle before it exits (default 1 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = goro::pool::Pool::builder().idle_timeout(Duration::from_millis(1)).build();
    /// pool.submit(|| ()).unwrap();
    /// while pool.workers() > 0 {
    ///     goro::sleep(Duration::from_millis(1)); // until the idle worker exits
    /// }
    /// assert_eq!(pool.completed(), 1);
    /// ```
    pub fn idle_timeout(mut self, d: Duration) -> Builder {
        self.idle_timeout = d;
        self
    }

    /// Bounds the job queue: `submit` blocks while `n` jobs wait (backpressure). Without
    /// it the queue is unbounded. `0` makes every submit a hand-off to an idle worker.
    ///
    /// ```
    /// let pool = goro::pool::Pool::builder().max_workers(1).queue_capacity(1).build();
    /// let (started_tx, started) = goro::chan::bounded::<()>(0);
    /// let ctx = pool.context();
    /// pool.submit(move || { started_tx.send(()).ok(); ctx.done().recv().ok(); }).unwrap();
    /// started.recv().unwrap(); // the one worker is busy
    /// pool.try_submit(|| ()).unwrap(); // takes the one place in the queue
    /// assert!(matches!(pool.try_submit(|| ()), Err(goro::pool::SubmitError::Full(_))));
    /// pool.stop();
    /// ```
    pub fn queue_capacity(mut self, n: usize) -> Builder {
        self.queue_capacity = Some(n);
        self
    }

    /// How many unread errors [`Pool::errors`] keeps (default
    /// [`DEFAULT_ERRORS_CAPACITY`], 1024). Once that many wait unread, the errors that
    /// follow are not kept but counted: [`Pool::errors_dropped`] and
    /// [`Report::errors_dropped`](super::Report::errors_dropped). A pool whose errors
    /// nobody reads thus holds a bounded number of them; `0` keeps none (an error is
    /// delivered only to a reader already waiting in `errors().recv()`).
    ///
    /// ```
    /// let pool = goro::pool::Pool::builder()
    ///     .max_workers(2)
    ///     .errors_capacity(3)
    ///     .build();
    /// for i in 0..5 {
    ///     pool.submit(move || Err(format!("job {i} failed"))).unwrap();
    /// }
    /// let report = pool.wait();
    /// assert_eq!(report.failed, 5);
    /// assert_eq!(pool.errors().iter().count(), 3); // the first three
    /// assert_eq!(report.errors_dropped, 2);
    /// ```
    pub fn errors_capacity(mut self, n: usize) -> Builder {
        self.errors_capacity = n;
        self
    }

    /// What a job's error does (default [`ErrorPolicy::Collect`]).
    ///
    /// ```
    /// use goro::pool::{ErrorPolicy, Pool};
    ///
    /// let pool = Pool::builder().error_policy(ErrorPolicy::Collect).build();
    /// pool.submit(|| Err("a")).unwrap();
    /// pool.submit(|| Err("b")).unwrap(); // the first error stopped nothing
    /// assert_eq!(pool.wait().failed, 2);
    /// ```
    pub fn error_policy(mut self, p: ErrorPolicy) -> Builder {
        self.error_policy = p;
        self
    }

    /// Shorthand for `error_policy(ErrorPolicy::FailFast)`.
    ///
    /// ```
    /// let pool = goro::pool::Pool::builder().fail_fast().build();
    /// pool.submit(|| Err("bad input")).unwrap();
    /// pool.context().done().recv().unwrap_err(); // ended by the error, before any wait
    /// assert_eq!(pool.wait().failed, 1);
    /// ```
    pub fn fail_fast(self) -> Builder {
        self.error_policy(ErrorPolicy::FailFast)
    }

    /// What a panicking job does (default [`PanicPolicy::Error`]).
    ///
    /// ```
    /// use goro::pool::{JobError, PanicPolicy, Pool};
    ///
    /// let pool = Pool::builder().panic_policy(PanicPolicy::Error).build();
    /// pool.submit(|| -> () { panic!("bug") }).unwrap();
    /// assert_eq!(pool.wait().panicked, 1);
    /// assert!(matches!(pool.errors().recv(), Ok(JobError::Panicked(msg)) if msg == "bug"));
    /// ```
    pub fn panic_policy(mut self, p: PanicPolicy) -> Builder {
        self.panic_policy = p;
        self
    }

    /// Binds the pool to `ctx`: when it ends, the pool takes no more jobs and cancels the
    /// queued ones. The pool's own context ([`Pool::context`]) is a child of it.
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    ///
    /// let (ctx, cancel) = context::background().with_cancel();
    /// let pool = goro::pool::Pool::builder().context(&ctx).build();
    /// cancel();
    /// pool.context().done().recv().unwrap_err(); // the pool's context ends with its parent
    /// assert_eq!(pool.context().err(), Some(ContextError::Canceled));
    /// ```
    pub fn context(mut self, ctx: &Context) -> Builder {
        self.context = Some(ctx.clone());
        self
    }

    /// Names the workers' goroutines (shown in panic messages).
    ///
    /// ```
    /// let pool = goro::pool::Pool::builder().name("thumbnailer").build();
    /// pool.submit(|| ()).unwrap();
    /// assert_eq!(pool.wait().completed, 1);
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Makes the pool and starts its `min_workers`.
    ///
    /// ```
    /// let pool = goro::pool::Pool::builder().min_workers(1).max_workers(2).build();
    /// assert_eq!(pool.workers(), 1);
    /// pool.wait();
    /// ```
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
        let (errors_tx, errors_rx) = chan::bounded(self.errors_capacity);
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
            errors_dropped: AtomicU64::new(0),
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
            worker::spawn_worker(&shared);
        }
        Pool {
            _handles: Arc::new(CloseOnDrop(Arc::clone(&shared))),
            shared,
        }
    }
}
