//! `ContextError`: why a context ended.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Why a context is done: the value of [`Context::err`](super::Context::err).
///
/// Go: `context.Canceled` and `context.DeadlineExceeded`, displayed with Go's texts.
///
/// ```
/// use goro::context::{self, ContextError};
///
/// let (ctx, cancel) = context::background().with_cancel();
/// assert_eq!(ctx.err(), None);
/// cancel();
/// assert_eq!(ctx.err(), Some(ContextError::Canceled));
/// assert_eq!(ctx.err().unwrap().to_string(), "context canceled");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContextError {
    /// The context was cancelled: its cancel function ran, or its parent's did.
    ///
    /// Go: `context.Canceled` (`context canceled`).
    Canceled,
    /// The context's deadline passed.
    ///
    /// Go: `context.DeadlineExceeded` (`context deadline exceeded`).
    DeadlineExceeded,
}

impl ContextError {
    /// Whether this is [`DeadlineExceeded`](Self::DeadlineExceeded).
    ///
    /// Go: the `Timeout() bool` method of `context.DeadlineExceeded`.
    ///
    /// ```
    /// use goro::context;
    /// use std::time::Duration;
    ///
    /// let (ctx, _cancel) = context::background().with_timeout(Duration::ZERO);
    /// assert!(ctx.err().unwrap().is_timeout());
    /// ```
    pub fn is_timeout(self) -> bool {
        self == ContextError::DeadlineExceeded
    }

    /// The byte stored in a context's error word: 0 is "not done".
    pub(super) fn code(self) -> u8 {
        match self {
            ContextError::Canceled => 1,
            ContextError::DeadlineExceeded => 2,
        }
    }

    pub(super) fn from_code(code: u8) -> Option<ContextError> {
        match code {
            1 => Some(ContextError::Canceled),
            2 => Some(ContextError::DeadlineExceeded),
            _ => None,
        }
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContextError::Canceled => "context canceled",
            ContextError::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl Error for ContextError {}

/// The error a context was cancelled with, as [`Context::cause`](super::Context::cause)
/// returns it: shared, so every descendant reports the same value.
///
/// Go: the `error` given to a `CancelCauseFunc`, or `WithDeadlineCause`'s cause. Downcast it
/// to the concrete type with `cause.downcast_ref::<T>()`.
pub type Cause = Arc<dyn Error + Send + Sync + 'static>;

/// An owned error to cancel a context with: what a [`CancelCauseFn`](super::CancelCauseFn)
/// and [`Context::with_deadline_cause`](super::Context::with_deadline_cause) take.
///
/// Anything that is `Error + Send + Sync` converts with `.into()`, and so do `&str` and
/// `String`.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;
