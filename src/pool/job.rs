//! Jobs in the queue, and the handle of a job's result.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use super::error::{panic_message, TaskError};
use crate::chan::{self, Receiver, Sender};
use crate::context::BoxError;
use crate::inline_fn::{CallOnce, InlineFn};

/// What a job submitted with [`Pool::submit`](super::Pool::submit) may return: `()`, or
/// `Result<(), E>` for any error convertible into a boxed error (`String`, `&str`,
/// `std::io::Error`, any `std::error::Error`...). An `Err` counts as a failure, goes to
/// [`Pool::errors`](super::Pool::errors), and under
/// [`ErrorPolicy::FailFast`](super::ErrorPolicy) ends the pool.
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

/// A job of `submit_with_result`: its value goes to its [`TaskHandle`].
pub(super) struct WithResult<F, T> {
    pub(super) f: F,
    pub(super) tx: Sender<Result<T, TaskError>>,
}

impl<F, T> Queued for WithResult<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(self) -> Outcome {
        let WithResult { f, tx } = self;
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

/// The result of one job of [`Pool::submit_with_result`](super::Pool::submit_with_result).
///
/// Like a [`JoinHandle`](crate::JoinHandle) for a job that runs on a pool worker. Dropping
/// it does not cancel the job; its value is then dropped.
pub struct TaskHandle<T> {
    rx: Receiver<Result<T, TaskError>>,
}

impl<T: Send> TaskHandle<T> {
    pub(super) fn new() -> (TaskHandle<T>, Sender<Result<T, TaskError>>) {
        let (tx, rx) = chan::bounded(1);
        (TaskHandle { rx }, tx)
    }

    /// Waits for the job and returns its value, or why there is none: it panicked, or was
    /// cancelled before it ran (the pool's context ended, or [`stop`](super::Pool::stop)).
    pub fn wait(self) -> Result<T, TaskError> {
        // A closed channel without a value: the job was dropped unrun (the pool was
        // dropped with it queued), which for the caller is a cancellation.
        self.rx.recv().unwrap_or(Err(TaskError::Canceled))
    }

    /// Whether the job has finished (or was cancelled), so `wait` would not block.
    pub fn is_finished(&self) -> bool {
        !self.rx.is_empty() || self.rx.is_closed()
    }
}

/// Awaiting a `TaskHandle` waits for the job from async code, without blocking the
/// executor's thread, and gives what [`wait`](TaskHandle::wait) gives.
///
/// ```
/// use goro::pool::Pool;
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let pool = Pool::new(2);
/// let h = pool.submit_with_result(|| 6 * 7).unwrap();
/// assert_eq!(h.await.unwrap(), 42);
/// # });
/// ```
impl<T: Send> std::future::IntoFuture for TaskHandle<T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = TaskFuture<T>;

    fn into_future(self) -> TaskFuture<T> {
        TaskFuture {
            recv: chan::OwnedRecv::new(self.rx),
        }
    }
}

/// The future of an awaited [`TaskHandle`]. Dropping it does not cancel the job.
#[must_use = "futures do nothing unless polled"]
pub struct TaskFuture<T> {
    recv: chan::OwnedRecv<Result<T, TaskError>>,
}

impl<T> std::future::Future for TaskFuture<T> {
    type Output = Result<T, TaskError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        // As in `wait`: closed without a value means dropped unrun, a cancellation.
        std::pin::Pin::new(&mut self.recv)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(TaskError::Canceled)))
    }
}

impl<T> fmt::Debug for TaskFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskFuture").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle").finish_non_exhaustive()
    }
}
