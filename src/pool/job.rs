//! Jobs in the queue, and the handle of a job's result.

use std::any::Any;
use std::convert::Infallible;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::error::{panic_message, TaskError};
use crate::chan::{self, Receiver, Sender};
use crate::context::BoxError;
use crate::inline_fn::{CallOnce, InlineFn};

/// What a job submitted with [`Pool::submit`](super::Pool::submit) may return: `()`, or
/// `Result<(), E>` for any error convertible into a boxed error (`String`, `&str`,
/// `std::io::Error`, any `std::error::Error`...). An `Err` counts as a failure, goes to
/// [`Pool::errors`](super::Pool::errors), and under
/// [`ErrorPolicy::FailFast`](super::ErrorPolicy) ends the pool.
///
/// ```
/// let pool = goro::pool::Pool::new(2);
/// pool.submit(|| ()).unwrap(); // ()
/// pool.submit(|| "42".parse::<u32>().map(drop)).unwrap(); // Result<(), ParseIntError>
/// pool.submit(|| std::fs::metadata("/no/such/file").map(drop)).unwrap(); // io::Error
/// let r = pool.wait();
/// assert_eq!((r.completed, r.failed), (2, 1));
/// ```
pub trait JobResult: Send + 'static {
    /// The job's outcome as the pool records it.
    fn into_result(self) -> Result<(), BoxError>;
}

impl JobResult for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError> + Send + 'static> JobResult for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// How a job ended.
pub(super) enum Outcome {
    Completed,
    Failed(BoxError),
    /// It returned an error, handed to its [`TaskHandle`] (so not to `Pool::errors`).
    FailedToHandle,
    Panicked(Box<dyn Any + Send + 'static>),
    /// It did not run ([`Job::cancel`]).
    Cancelled,
}

/// A kind of queued job (the submitted closure, wrapped).
pub(super) trait Queued: Send + 'static {
    /// Runs the job, catching a panic.
    fn run(self) -> Outcome;
    /// The job will not run: tells whoever waits for its result.
    fn cancel(self);
}

/// A job waiting in the queue, type-erased into a value of fixed size that moves through
/// the channel. A job of up to two words (a closure capturing a few numbers, references or
/// `Arc`s: the common case) is stored in place, so submitting it allocates nothing; a
/// larger one is boxed ([`InlineFn`]).
pub(super) struct Job(InlineFn<Fate, Outcome>);

/// What a queued job is called for.
enum Fate {
    Run,
    Cancel,
}

/// A queued job as the queue holds it: called once, to run or to be cancelled.
struct Entry<Q>(Q);

impl<Q: Queued> CallOnce<Fate, Outcome> for Entry<Q> {
    fn call_once(self, fate: Fate) -> Outcome {
        match fate {
            Fate::Run => self.0.run(),
            Fate::Cancel => {
                self.0.cancel();
                Outcome::Cancelled
            }
        }
    }
}

impl Job {
    pub(super) fn new<Q: Queued>(q: Q) -> Job {
        Job(InlineFn::new(Entry(q)))
    }

    /// Runs the job.
    pub(super) fn run(self) -> Outcome {
        self.0.call(Fate::Run)
    }

    /// Cancels the job: it will not run.
    pub(super) fn cancel(self) {
        self.0.call(Fate::Cancel);
    }

    /// The job as its concrete type, for handing it back to its submitter.
    ///
    /// # Panics
    ///
    /// If the job is not a `Q` (a bug: jobs come back to the call that made them).
    pub(super) fn take<Q: Queued>(self) -> Q {
        match self.0.downcast::<Entry<Q>>() {
            Ok(Entry(q)) => q,
            Err(_) => panic!("a job comes back with the type it was sent with"),
        }
    }
}

/// A job of `submit`: its result is recorded by the pool only.
pub(super) struct Plain<F>(pub(super) F);

impl<F, R> Queued for Plain<F>
where
    F: FnOnce() -> R + Send + 'static,
    R: JobResult,
{
    fn run(self) -> Outcome {
        match panic::catch_unwind(AssertUnwindSafe(self.0)) {
            Ok(r) => match r.into_result() {
                Ok(()) => Outcome::Completed,
                Err(e) => Outcome::Failed(e),
            },
            Err(p) => Outcome::Panicked(p),
        }
    }

    fn cancel(self) {}
}

/// A job sent by `submit_ctx`, in a cell shared with the submitter, who takes it back if
/// its send loses to the context's end.
pub(super) struct Handback(pub(super) Arc<Mutex<Option<Job>>>);

impl Handback {
    fn take(&self) -> Job {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("a sent job stays in its cell until it runs")
    }
}

impl Queued for Handback {
    fn run(self) -> Outcome {
        self.take().run()
    }

    fn cancel(self) {
        self.take().cancel()
    }
}

/// A job of `submit_with_value`: its value goes to its [`TaskHandle`].
pub(super) struct WithValue<F, T> {
    pub(super) f: F,
    pub(super) tx: Sender<Result<T, TaskError>>,
}

impl<F, T> Queued for WithValue<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(self) -> Outcome {
        let WithValue { f, tx } = self;
        match panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => {
                // The handle may have been dropped: nobody wants the value then.
                let _ = tx.try_send(Ok(v));
                Outcome::Completed
            }
            Err(p) => {
                let _ = tx.try_send(Err(TaskError::Panicked(panic_message(&*p))));
                Outcome::Panicked(p)
            }
        }
    }

    fn cancel(self) {
        let _ = self.tx.try_send(Err(TaskError::Canceled));
    }
}

/// Where a job's result goes: to its [`TaskHandle`].
pub(super) type ResultSender<T, E> = Sender<Result<T, TaskError<E>>>;

/// A job of `submit_with_result`: its `Ok` value or its error goes to its [`TaskHandle`].
pub(super) struct WithResult<F, T, E> {
    pub(super) f: F,
    pub(super) tx: ResultSender<T, E>,
}

impl<F, T, E> Queued for WithResult<F, T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<BoxError> + Send + 'static,
{
    fn run(self) -> Outcome {
        let WithResult { f, tx } = self;
        match panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(v)) => {
                let _ = tx.try_send(Ok(v));
                Outcome::Completed
            }
            // The error goes to the handle, which has room for it (capacity 1, one value);
            // if the handle was dropped, nobody will read it there: it goes to
            // `Pool::errors` instead, as a `submit` job's error does.
            Ok(Err(e)) => match tx.try_send(Err(TaskError::Failed(e))) {
                Ok(()) => Outcome::FailedToHandle,
                Err(back) => match back.into_inner() {
                    Err(TaskError::Failed(e)) => Outcome::Failed(e.into()),
                    _ => unreachable!("the value handed back is the one sent"),
                },
            },
            Err(p) => {
                let _ = tx.try_send(Err(TaskError::Panicked(panic_message(&*p))));
                Outcome::Panicked(p)
            }
        }
    }

    fn cancel(self) {
        let _ = self.tx.try_send(Err(TaskError::Canceled));
    }
}

/// The result of one job of [`Pool::submit_with_result`](super::Pool::submit_with_result)
/// (`TaskHandle<T, E>`: the job returns `Result<T, E>`) or
/// [`Pool::submit_with_value`](super::Pool::submit_with_value) (`TaskHandle<T>`: the job
/// returns a `T`).
///
/// Like a [`JoinHandle`](crate::JoinHandle) for a job that runs on a pool worker, with the
/// same ways to wait: [`join`](Self::join), [`join_timeout`](Self::join_timeout),
/// [`join_deadline`](Self::join_deadline), and as a [`Future`](std::future::Future)
/// (`handle.await`, or `fut(&mut handle)` in a `select!`). Dropping it does not cancel the
/// job; its value is then dropped (and its error, if any, goes to
/// [`Pool::errors`](super::Pool::errors)).
///
/// ```
/// use goro::pool::{Pool, TaskError};
/// use std::time::Duration;
///
/// let pool = Pool::new(2);
/// let mut h = pool.submit_with_value(|| 6 * 7).unwrap();
/// let (_tx, quit) = goro::chan::bounded::<()>(0);
/// let got = goro::select! {
///     fut(&mut h) -> r => r,
///     recv(quit) -> _ => Err(TaskError::Canceled),
/// };
/// assert_eq!(got, Ok(42));
/// pool.wait();
/// ```
pub struct TaskHandle<T, E = Infallible> {
    rx: Receiver<Result<T, TaskError<E>>>,
    /// The async receive, made on the first poll. Once made, its waiter may be the one the
    /// value is handed to, so every later wait goes through it.
    recv: Option<chan::OwnedRecv<Result<T, TaskError<E>>>>,
    /// The result was taken (by a poll or a timed join).
    joined: bool,
}

impl<T: Send, E: Send> TaskHandle<T, E> {
    pub(super) fn new() -> (TaskHandle<T, E>, ResultSender<T, E>) {
        let (tx, rx) = chan::bounded(1);
        let h = TaskHandle {
            rx,
            recv: None,
            joined: false,
        };
        (h, tx)
    }

    /// Waits for the job and returns its value, or why there is none: it returned an error
    /// ([`TaskError::Failed`], for [`submit_with_result`](super::Pool::submit_with_result)),
    /// panicked, or was cancelled before it ran (the pool's context ended, or
    /// [`stop`](super::Pool::stop)).
    ///
    /// ```
    /// use goro::pool::{Pool, TaskError};
    ///
    /// let pool = Pool::new(2);
    /// let ok = pool.submit_with_result(|| "42".parse::<u32>()).unwrap();
    /// let bad = pool.submit_with_result(|| "x".parse::<u32>()).unwrap();
    /// assert_eq!(ok.join(), Ok(42));
    /// assert!(matches!(bad.join(), Err(TaskError::Failed(_))));
    /// pool.wait();
    /// ```
    ///
    /// # Panics
    ///
    /// If a timed join or a poll already returned the result.
    pub fn join(mut self) -> Result<T, TaskError<E>> {
        assert!(
            !self.joined,
            "goro: TaskHandle joined after its result was taken"
        );
        if self.recv.is_some() {
            return crate::block_on(&mut self);
        }
        // A closed channel without a value: the job was dropped unrun (the pool was
        // dropped with it queued), which for the caller is a cancellation.
        self.rx.recv().unwrap_or(Err(TaskError::Canceled))
    }

    /// Waits at most `timeout` for the job: `Some` with what [`join`](Self::join) gives if
    /// it ended in time, `None` if it is still queued or running (the handle is then still
    /// usable).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = goro::pool::Pool::new(1);
    /// let (tx, rx) = goro::chan::bounded::<()>(0);
    /// let mut h = pool.submit_with_value(move || rx.recv().is_ok()).unwrap();
    /// assert_eq!(h.join_timeout(Duration::from_millis(10)), None);
    /// tx.send(()).unwrap();
    /// assert_eq!(h.join_timeout(Duration::from_secs(30)), Some(Ok(true)));
    /// pool.wait();
    /// ```
    ///
    /// # Panics
    ///
    /// If an earlier join already returned the result.
    pub fn join_timeout(&mut self, timeout: Duration) -> Option<Result<T, TaskError<E>>> {
        assert!(
            !self.joined,
            "goro: TaskHandle joined after its result was taken"
        );
        if self.recv.is_some() {
            return crate::select! {
                fut(&mut *self) -> r => Some(r),
                default(timeout) => None,
            };
        }
        let r = match self.rx.recv_timeout(timeout) {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return None,
            Err(_) => Err(TaskError::Canceled),
        };
        self.joined = true;
        Some(r)
    }

    /// Waits for the job until `deadline` at the latest: as
    /// [`join_timeout`](Self::join_timeout), with an instant rather than a duration.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let pool = goro::pool::Pool::new(1);
    /// let mut h = pool.submit_with_value(|| 1 + 1).unwrap();
    /// let r = h.join_deadline(Instant::now() + Duration::from_secs(30));
    /// assert_eq!(r, Some(Ok(2)));
    /// pool.wait();
    /// ```
    ///
    /// # Panics
    ///
    /// If an earlier join already returned the result.
    pub fn join_deadline(&mut self, deadline: Instant) -> Option<Result<T, TaskError<E>>> {
        self.join_timeout(deadline.saturating_duration_since(Instant::now()))
    }

    /// Whether the job has ended (or was cancelled), so `join` would not block.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// let (tx, rx) = goro::chan::bounded::<()>(0);
    /// let h = pool.submit_with_value(move || rx.recv().is_ok()).unwrap();
    /// assert!(!h.is_finished()); // waiting on the channel
    /// tx.send(()).unwrap();
    /// assert!(h.join().unwrap());
    /// pool.wait();
    /// ```
    pub fn is_finished(&self) -> bool {
        !self.rx.is_empty() || self.rx.is_closed()
    }
}

/// Awaiting a `TaskHandle` (or polling `&mut handle`, as a `select!` `fut` case does) waits
/// for the job without blocking the executor's thread, and gives what
/// [`join`](TaskHandle::join) gives.
///
/// ```
/// use goro::pool::Pool;
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let pool = Pool::new(2);
/// let h = pool.submit_with_value(|| 6 * 7).unwrap();
/// assert_eq!(h.await.unwrap(), 42);
/// # });
/// ```
///
/// # Panics
///
/// Polled after it completed (or after a timed join returned the result).
impl<T: Send, E: Send> std::future::Future for TaskHandle<T, E> {
    type Output = Result<T, TaskError<E>>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = &mut *self;
        assert!(
            !this.joined,
            "goro: a TaskHandle polled after its result was taken"
        );
        let rx = &this.rx;
        let recv = this
            .recv
            .get_or_insert_with(|| chan::OwnedRecv::new(rx.clone()));
        // As in `join`: closed without a value means dropped unrun, a cancellation.
        let r = std::pin::Pin::new(recv).poll(cx);
        if r.is_ready() {
            this.joined = true;
        }
        r.map(|r| r.unwrap_or(Err(TaskError::Canceled)))
    }
}

impl<T, E> fmt::Debug for TaskHandle<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("joined", &self.joined)
            .finish_non_exhaustive()
    }
}
