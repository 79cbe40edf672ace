//! Submitting: queueing a job, waiting for room, and handing back a job not taken.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::job::{self, Job, JobResult, Plain, Queued, TaskHandle, WithResult, WithValue};
use super::{lock, Pool, Shared, SubmitError};
use crate::chan::{SendTimeoutError, TrySendError};
use crate::context::{BoxError, Context};

impl Pool {
    /// Queues `job`, waiting while a bounded queue is full. Fails (handing the job back)
    /// once the pool is closed or its context has ended.
    ///
    /// From inside one of this pool's own jobs, a full queue does not block, and a closed
    /// (but not cancelled) pool still takes the job: it runs at once in the calling worker
    /// (see "Nested submits" in the [module docs](super)).
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(2);
    /// pool.submit(|| println!("a job that cannot fail")).unwrap();
    /// pool.submit(|| Err("bad input")).unwrap();
    /// let r = pool.wait();
    /// assert_eq!((r.completed, r.failed), (1, 1));
    /// assert!(pool.submit(|| ()).unwrap_err().is_closed()); // finished
    /// ```
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
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// pool.try_submit(|| ()).unwrap(); // an unbounded queue is never full
    /// pool.close();
    /// assert!(pool.try_submit(|| ()).unwrap_err().is_closed());
    /// assert_eq!(pool.wait().completed, 1);
    /// ```
    pub fn try_submit<F, R>(&self, job: F) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: JobResult,
    {
        let r = self.enqueue(Job::new(Plain(job)), Wait::No);
        self.shared.handed_back(r, |p: Plain<F>| p.0)
    }

    /// Queues `job`, waiting at most `timeout` for room ([`SubmitError::Timeout`]).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = goro::pool::Pool::builder().queue_capacity(4).build();
    /// pool.submit_timeout(|| (), Duration::from_secs(30)).unwrap(); // room: no wait
    /// pool.close();
    /// let err = pool.submit_timeout(|| (), Duration::from_secs(30)).unwrap_err();
    /// assert!(err.is_closed());
    /// assert_eq!(pool.wait().completed, 1);
    /// ```
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
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = goro::pool::Pool::builder().queue_capacity(4).build();
    /// let (ctx, _cancel) = goro::context::background().with_timeout(Duration::from_secs(30));
    /// pool.submit_ctx(&ctx, || ()).unwrap();
    /// assert_eq!(pool.wait().completed, 1);
    /// ```
    pub fn submit_ctx<F, R>(&self, ctx: &Context, job: F) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: JobResult,
    {
        let r = self.enqueue(Job::new(Plain(job)), Wait::Ctx(ctx));
        self.shared.handed_back(r, |p: Plain<F>| p.0)
    }

    /// Queues a job that returns a `Result`, and returns a handle to it (waiting while a
    /// bounded queue is full): [`join`](TaskHandle::join) gives the job's own `Ok` value, or
    /// [`TaskError::Failed`](super::TaskError::Failed) with its error.
    ///
    /// As for [`submit`](Self::submit), an `Err` counts as a failed job (and, under
    /// [`ErrorPolicy::FailFast`](super::ErrorPolicy::FailFast), ends the pool); the error
    /// itself goes to the handle, or to [`errors()`](Self::errors) if the handle was
    /// dropped. A panic of the job reaches the handle as
    /// [`TaskError::Panicked`](super::TaskError::Panicked) and counts as a panicked job; a
    /// job cancelled before it ran gives [`TaskError::Canceled`](super::TaskError::Canceled).
    /// For a job that cannot fail, [`submit_with_value`](Self::submit_with_value).
    ///
    /// tokio: `spawn(f)` of a fallible task, whose `handle.await` is `Ok(Ok(v))`; here the
    /// two layers are one `Result`, with the job's error as one of its cases.
    ///
    /// ```
    /// use goro::pool::{Pool, TaskError};
    ///
    /// let pool = Pool::new(2);
    /// let h = pool.submit_with_result(|| "42".parse::<u32>()).unwrap();
    /// assert_eq!(h.join(), Ok(42));
    /// let h = pool.submit_with_result(|| "x".parse::<u32>()).unwrap();
    /// assert!(matches!(h.join(), Err(TaskError::Failed(_))));
    /// let report = pool.wait();
    /// assert_eq!((report.completed, report.failed), (1, 1));
    /// ```
    pub fn submit_with_result<F, T, E>(&self, job: F) -> Result<TaskHandle<T, E>, SubmitError<F>>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<BoxError> + Send + 'static,
    {
        let (handle, tx) = TaskHandle::new();
        let r = self.submit_job(Job::new(WithResult { f: job, tx }));
        self.shared
            .handed_back(r, |w: WithResult<F, T, E>| w.f)
            .map(|()| handle)
    }

    /// Queues a job that returns a value, and returns a handle to it (waiting while a
    /// bounded queue is full). Every value counts as completed, even a `Result`: for a job
    /// that can fail, [`submit_with_result`](Self::submit_with_result). A panic of the job
    /// reaches the handle as [`TaskError::Panicked`](super::TaskError::Panicked) and counts
    /// as a panicked job; a job cancelled before it ran gives
    /// [`TaskError::Canceled`](super::TaskError::Canceled).
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(2);
    /// let h = pool.submit_with_value(|| 6 * 7).unwrap();
    /// assert_eq!(h.join(), Ok(42));
    /// pool.wait();
    /// ```
    pub fn submit_with_value<F, T>(&self, job: F) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (handle, tx) = TaskHandle::new();
        let r = self.submit_job(Job::new(WithValue { f: job, tx }));
        self.shared
            .handed_back(r, |w: WithValue<F, T>| w.f)
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
}

/// How long `enqueue` may wait for room.
enum Wait<'a> {
    No,
    Forever,
    Until(Instant),
    Ctx(&'a Context),
}

impl Shared {
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
}
