//! The functions a context hands back: `CancelFn`, `CancelCauseFn`, `StopFn`, and
//! `CancelGuard`.
//!
//! Each is a cheap, cloneable handle that dereferences to a `dyn Fn`, so it is called like
//! Go's function values: `cancel()`, `cancel(Some(cause))`, `stop()`.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::BoxError;

/// Cancels the context it came with; calling it again does nothing.
///
/// Go: `context.CancelFunc`, returned by [`with_cancel`](super::Context::with_cancel),
/// [`with_deadline`](super::Context::with_deadline) and
/// [`with_timeout`](super::Context::with_timeout). Call it as a function: `cancel()`. It is
/// `Clone + Send + Sync`, so several goroutines may hold it.
///
/// Dropping it does **not** cancel, as in Go. Until it is called (or the parent is cancelled,
/// or the deadline passes) the context stays registered in its parent, so call it once the
/// work under the context is over; [`guard`](Self::guard) does that at the end of a scope,
/// like Go's `defer cancel()`.
///
/// ```
/// use goro::context;
///
/// let (ctx, cancel) = context::background().with_cancel();
/// let worker = {
///     let ctx = ctx.clone();
///     goro::go(move || {
///         ctx.done().recv().unwrap_err(); // parks until the context ends
///         "stopped"
///     })
/// };
/// cancel();
/// assert_eq!(worker.join().unwrap(), "stopped");
/// ```
#[derive(Clone)]
#[must_use = "a context whose cancel function is dropped stays registered in its parent until the parent ends"]
pub struct CancelFn(Arc<dyn Fn() + Send + Sync>);

impl CancelFn {
    pub(super) fn new(f: impl Fn() + Send + Sync + 'static) -> CancelFn {
        CancelFn(Arc::new(f))
    }

    /// A guard that calls this function when it goes out of scope.
    ///
    /// Go: `defer cancel()`.
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    ///
    /// let parent = context::background();
    /// let ctx = {
    ///     let (ctx, cancel) = parent.with_cancel();
    ///     let _guard = cancel.guard();
    ///     ctx
    /// };
    /// assert_eq!(ctx.err(), Some(ContextError::Canceled));
    /// ```
    pub fn guard(self) -> CancelGuard {
        CancelGuard(self)
    }
}

impl Deref for CancelFn {
    type Target = dyn Fn() + Send + Sync;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for CancelFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CancelFn")
    }
}

/// Calls its [`CancelFn`] when dropped: Go's `defer cancel()`. Made by [`CancelFn::guard`].
#[must_use = "the guard cancels at once if it is not kept in a variable"]
#[derive(Debug)]
pub struct CancelGuard(CancelFn);

impl Drop for CancelGuard {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// Cancels the context it came with, recording why; calling it again does nothing.
///
/// Go: `context.CancelCauseFunc`, returned by
/// [`with_cancel_cause`](super::Context::with_cancel_cause). Call it as `cancel(None)` (the
/// cause is then `context canceled`, as for a plain cancel) or `cancel(Some(err.into()))`;
/// [`Context::cause`](super::Context::cause) returns the cause to the context and all its
/// descendants, while [`Context::err`](super::Context::err) still says
/// [`Canceled`](super::ContextError::Canceled).
///
/// ```
/// use goro::context::{self, ContextError};
///
/// let (ctx, cancel) = context::background().with_cancel_cause();
/// cancel(Some("disk full".into()));
/// assert_eq!(ctx.err(), Some(ContextError::Canceled));
/// assert_eq!(ctx.cause().unwrap().to_string(), "disk full");
/// ```
#[derive(Clone)]
#[must_use = "a context whose cancel function is dropped stays registered in its parent until the parent ends"]
pub struct CancelCauseFn(Arc<dyn Fn(Option<BoxError>) + Send + Sync>);

impl CancelCauseFn {
    pub(super) fn new(f: impl Fn(Option<BoxError>) + Send + Sync + 'static) -> CancelCauseFn {
        CancelCauseFn(Arc::new(f))
    }
}

impl Deref for CancelCauseFn {
    type Target = dyn Fn(Option<BoxError>) + Send + Sync;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for CancelCauseFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CancelCauseFn")
    }
}

/// Unregisters the function given to [`Context::after_func`](super::Context::after_func).
///
/// Go: the `stop func() bool` returned by `context.AfterFunc`. Call it as `stop()`: it
/// returns `true` if it kept the function from being started, `false` if the function has
/// already been started (the context ended) or `stop` was already called. It does not wait
/// for a started function to finish.
///
/// ```
/// use goro::{chan, context};
///
/// let (ctx, cancel) = context::background().with_cancel();
/// let (tx, rx) = chan::bounded(1);
/// let stop = ctx.after_func(move || tx.send("ran").unwrap());
/// assert!(stop()); // unregistered before the context ended
/// cancel();
/// assert_eq!(rx.recv(), Err(chan::RecvError)); // never ran: its sender was dropped
/// ```
#[derive(Clone)]
pub struct StopFn(Arc<dyn Fn() -> bool + Send + Sync>);

impl StopFn {
    pub(super) fn new(f: impl Fn() -> bool + Send + Sync + 'static) -> StopFn {
        StopFn(Arc::new(f))
    }
}

impl Deref for StopFn {
    type Target = dyn Fn() -> bool + Send + Sync;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for StopFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StopFn")
    }
}
