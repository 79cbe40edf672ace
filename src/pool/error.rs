//! The errors of the pool: why a job was not taken, how a job failed, why a result is
//! missing.

use std::any::Any;
use std::convert::Infallible;
use std::error::Error;
use std::fmt;

use crate::context::BoxError;

/// Why [`Pool::submit`](super::Pool::submit) and its variants did not take a job. The job
/// comes back in every case ([`into_job`](Self::into_job)), so nothing is silently lost.
///
/// ```
/// use goro::pool::{Pool, SubmitError};
///
/// let pool = Pool::new(1);
/// pool.close();
/// match pool.try_submit(|| println!("never runs here")) {
///     Err(SubmitError::Closed(job)) => job(), // the job comes back: run it here
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(pool.wait().dropped, 1);
/// ```
pub enum SubmitError<F> {
    /// The queue is full ([`try_submit`](super::Pool::try_submit)).
    Full(F),
    /// The queue stayed full until the timeout
    /// ([`submit_timeout`](super::Pool::submit_timeout)).
    Timeout(F),
    /// The caller's context ended while waiting for room
    /// ([`submit_ctx`](super::Pool::submit_ctx)).
    Canceled(F),
    /// The pool takes no more jobs: it was closed, or its context ended.
    Closed(F),
}

impl<F> SubmitError<F> {
    /// The job that was not taken.
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// pool.close();
    /// let data = vec![1, 2, 3];
    /// let job = pool.submit(move || assert_eq!(data.len(), 3)).unwrap_err().into_job();
    /// job(); // run it here instead
    /// ```
    pub fn into_job(self) -> F {
        match self {
            SubmitError::Full(f)
            | SubmitError::Timeout(f)
            | SubmitError::Canceled(f)
            | SubmitError::Closed(f) => f,
        }
    }

    /// Whether the pool is closed for good (as opposed to full for now).
    ///
    /// ```
    /// let pool = goro::pool::Pool::new(1);
    /// pool.wait();
    /// assert!(pool.submit(|| ()).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, SubmitError::Closed(_))
    }
}

impl<F> fmt::Debug for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SubmitError::Full(_) => "Full",
            SubmitError::Timeout(_) => "Timeout",
            SubmitError::Canceled(_) => "Canceled",
            SubmitError::Closed(_) => "Closed",
        };
        write!(f, "{name}(..)")
    }
}

impl<F> fmt::Display for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SubmitError::Full(_) => "submitting on a full pool queue",
            SubmitError::Timeout(_) => "timed out submitting on a full pool queue",
            SubmitError::Canceled(_) => "context ended while submitting to a pool",
            SubmitError::Closed(_) => "submitting to a closed pool",
        })
    }
}

impl<F> Error for SubmitError<F> {}

/// How a job failed: what [`Pool::errors`](super::Pool::errors) delivers.
///
/// ```
/// use goro::pool::Pool;
///
/// let pool = Pool::new(1);
/// pool.submit(|| Err("disk full")).unwrap();
/// pool.submit(|| -> () { panic!("bug") }).unwrap();
/// pool.wait();
/// let errs: Vec<String> = pool.errors().iter().map(|e| e.to_string()).collect();
/// assert_eq!(errs, ["job failed: disk full", "job panicked: bug"]);
/// ```
#[derive(Debug)]
pub enum JobError {
    /// The job returned an error.
    Failed(BoxError),
    /// The job panicked (with the panic policy [`PanicPolicy::Error`](super::PanicPolicy));
    /// the panic's message.
    Panicked(String),
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Failed(e) => write!(f, "job failed: {e}"),
            JobError::Panicked(msg) => write!(f, "job panicked: {msg}"),
        }
    }
}

impl Error for JobError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            JobError::Failed(e) => Some(&**e),
            JobError::Panicked(_) => None,
        }
    }
}

/// Why a [`TaskHandle`](super::TaskHandle) has no value.
///
/// `E` is the job's error type for a job of
/// [`submit_with_result`](super::Pool::submit_with_result); for a job of
/// [`submit_with_value`](super::Pool::submit_with_value) it is
/// [`Infallible`](std::convert::Infallible) (the default), so there is no `Failed` case to
/// match.
///
/// ```
/// use goro::pool::{Pool, TaskError};
///
/// let pool = Pool::new(1);
/// let h = pool.submit_with_result(|| Err::<u32, _>("no route to host")).unwrap();
/// match h.join() {
///     Ok(v) => println!("got {v}"),
///     Err(TaskError::Failed(e)) => assert_eq!(e, "no route to host"),
///     Err(TaskError::Panicked(msg)) => panic!("the job panicked: {msg}"),
///     Err(TaskError::Canceled) => panic!("the pool was stopped"),
/// }
/// assert_eq!(pool.wait().failed, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError<E = Infallible> {
    /// The job returned this error.
    Failed(E),
    /// The job panicked; the panic's message.
    Panicked(String),
    /// The job was cancelled before it ran (the pool's context ended, or `stop`).
    Canceled,
}

impl<E> TaskError<E> {
    /// The job's own error, if it returned one (not if it panicked or was cancelled).
    ///
    /// ```
    /// use goro::pool::{Pool, TaskError};
    ///
    /// let pool = Pool::new(1);
    /// let h = pool.submit_with_result(|| Err::<u32, _>("timeout")).unwrap();
    /// assert_eq!(h.join().unwrap_err().into_failed(), Some("timeout"));
    /// assert_eq!(TaskError::<&str>::Canceled.into_failed(), None);
    /// pool.wait();
    /// ```
    pub fn into_failed(self) -> Option<E> {
        match self {
            TaskError::Failed(e) => Some(e),
            _ => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for TaskError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Failed(e) => write!(f, "task failed: {e}"),
            TaskError::Panicked(msg) => write!(f, "task panicked: {msg}"),
            TaskError::Canceled => f.write_str("task canceled before it ran"),
        }
    }
}

impl<E: Error + 'static> Error for TaskError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            TaskError::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// The message of a panic payload (`&str` or `String`), as std's hook prints it.
pub(super) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}
