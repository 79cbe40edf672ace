//! Contexts: cancellation, deadlines and request-scoped values that flow down a tree of
//! goroutines.
//!
//! Go: package `context`. A [`Context`] is a cheap, cloneable handle (`Clone + Send + Sync`)
//! passed to the goroutines doing a piece of work. Whoever made it can end it; every
//! goroutine holding it sees that through [`done`](Context::done), a channel that is closed
//! when the context ends (ready in [`select!`](crate::select) and for `recv`), and through
//! [`err`](Context::err), which then says why.
//!
//! | Go | goro |
//! |----|------|
//! | `context.Background()`, `context.TODO()` | [`background()`], [`todo()`] |
//! | `ctx, cancel := context.WithCancel(parent)` | `let (ctx, cancel) = parent.with_cancel();` → [`CancelFn`] |
//! | `context.WithTimeout(parent, d)`, `WithDeadline(parent, t)` | [`parent.with_timeout(d)`](Context::with_timeout), [`with_deadline(t)`](Context::with_deadline) |
//! | `context.WithCancelCause(parent)`, `context.Cause(ctx)` | [`with_cancel_cause`](Context::with_cancel_cause) → [`CancelCauseFn`], [`ctx.cause()`](Context::cause) |
//! | `WithDeadlineCause`, `WithTimeoutCause` | [`with_deadline_cause`](Context::with_deadline_cause), [`with_timeout_cause`](Context::with_timeout_cause) |
//! | `context.WithValue(parent, key, v)`, `ctx.Value(key)` | [`parent.with_value(&KEY, v)`](Context::with_value), [`ctx.value(&KEY)`](Context::value) with a [`Key`] |
//! | `context.WithoutCancel(parent)` | [`parent.without_cancel()`](Context::without_cancel) |
//! | `context.AfterFunc(ctx, f)` → `stop` | [`ctx.after_func(f)`](Context::after_func) → [`StopFn`] |
//! | `<-ctx.Done()`, `case <-ctx.Done():` | `ctx.done().recv()`, `recv(ctx.done()) -> _ =>` in [`select!`](crate::select) |
//! | `ctx.Err()`, `ctx.Deadline()` | [`ctx.err()`](Context::err) → `Option<`[`ContextError`]`>`, [`ctx.deadline()`](Context::deadline) |
//! | `defer cancel()` | `let _guard = cancel.guard();` ([`CancelGuard`]) |
//!
//! ```
//! use goro::context::{self, ContextError};
//! use std::time::Duration;
//!
//! #[goro::main]
//! fn main() {
//!     let (ctx, cancel) = context::background().with_timeout(Duration::from_millis(20));
//!     let _guard = cancel.guard(); // defer cancel()
//!     let (_tx, results) = goro::chan::bounded::<&str>(0); // a result that never comes
//!     goro::select! {
//!         recv(results) -> r => println!("got {r:?}"),
//!         recv(ctx.done()) -> _ => println!("gave up: {}", ctx.err().unwrap()),
//!     }
//!     assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
//! }
//! ```
//!
//! # Semantics
//!
//! As Go's: cancelling a context ends it and every context derived from it, all before the
//! cancel function returns; ending a child never reaches its parent; a child's deadline is
//! never later than its parent's; the first cancellation wins and later ones do nothing.
//! Deadlines use the runtime's timers (no thread or goroutine per context), and a timer is
//! stopped when its context is cancelled early.
//!
//! A cancelled context (or one whose deadline passed) is removed from its parent at once, so
//! a long-lived parent does not grow with its short-lived children. A context whose cancel
//! function is never called, and whose parent is never cancelled, stays registered in that
//! parent as long as the parent lives: always call the cancel function (or keep a
//! [`CancelGuard`]) when the work is over, as Go's `go vet` insists.
//!
//! Differences from Go: `done()` of a never-ending context is [`chan::never()`](crate::chan::never)
//! (Go's nil channel); values are keyed by typed [`Key`]s rather than by any comparable
//! value; `Context` is one concrete type, not an interface.

mod cancel;
mod error;
mod func;
mod key;
pub(crate) mod node;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cancel::{cancel, start, Canceller, Entry};
pub use error::{BoxError, Cause, ContextError};
pub use func::{CancelCauseFn, CancelFn, CancelGuard, StopFn};
pub use key::Key;
use node::{cancel_fn, root, Kind, Node};

use crate::chan::{self, Receiver};

/// A cancellation signal, an optional deadline and a set of values, shared by the goroutines
/// working on one task.
///
/// Go: `context.Context`. Start from [`background()`], derive children with the `with_*`
/// methods, hand clones to goroutines (a clone is one reference-count increment), and watch
/// [`done`](Self::done) or poll [`err`](Self::err) in them.
///
/// ```
/// use goro::context;
///
/// let (ctx, cancel) = context::background().with_cancel();
/// let (child, _child_cancel) = ctx.with_cancel();
/// cancel();
/// assert!(child.err().is_some()); // cancelling a parent ends its children at once
/// ```
#[derive(Clone)]
pub struct Context {
    node: Arc<Node>,
}

/// The root context: never cancelled, no deadline, no values.
///
/// Go: `context.Background()`. Its [`done`](Context::done) channel never becomes ready.
///
/// ```
/// let ctx = goro::context::background();
/// assert_eq!(ctx.err(), None);
/// assert_eq!(ctx.deadline(), None);
/// ```
pub fn background() -> Context {
    static BACKGROUND: OnceLock<Context> = OnceLock::new();
    BACKGROUND.get_or_init(|| root(Kind::Background)).clone()
}

/// A root context for code that does not know yet which context to use.
///
/// Go: `context.TODO()`. Behaves as [`background()`]; only its `Debug` output differs.
///
/// ```
/// let ctx = goro::context::todo();
/// assert_eq!((ctx.err(), ctx.deadline()), (None, None));
/// assert_eq!(format!("{ctx:?}"), "context.TODO");
/// ```
pub fn todo() -> Context {
    static TODO: OnceLock<Context> = OnceLock::new();
    TODO.get_or_init(|| root(Kind::Todo)).clone()
}

impl Context {
    /// The nearest cancellable context, this one included, if any.
    fn scope(&self) -> Option<&Arc<Node>> {
        match self.node.kind {
            Kind::Cancel { .. } => Some(&self.node),
            _ => self.node.scope.as_ref(),
        }
    }

    /// A child that ends when `cancel` is called or when this context ends, whichever comes
    /// first.
    ///
    /// Go: `context.WithCancel(parent)`. Call `cancel()` once the work is over, even if it
    /// succeeded: that releases the child from this context (see [`CancelFn`]).
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    ///
    /// let parent = context::background();
    /// let (ctx, cancel) = parent.with_cancel();
    /// cancel();
    /// assert_eq!(ctx.err(), Some(ContextError::Canceled));
    /// assert_eq!(parent.err(), None); // a child's cancel never reaches its parent
    /// ```
    pub fn with_cancel(&self) -> (Context, CancelFn) {
        let node = self.child("WithCancel", self.node.deadline);
        let cancel = cancel_fn(&node);
        (Context { node }, cancel)
    }

    /// A child that is cancelled with a cause: `cancel(Some(err))` ends it, and
    /// [`cause`](Self::cause) then returns `err` for it and its descendants.
    ///
    /// Go: `context.WithCancelCause(parent)`. `cancel(None)` records
    /// [`ContextError::Canceled`] as the cause.
    ///
    /// ```
    /// use goro::context;
    ///
    /// let (ctx, cancel) = context::background().with_cancel_cause();
    /// let (child, _cancel_child) = ctx.with_cancel();
    /// cancel(Some("shutting down".into()));
    /// assert_eq!(child.cause().unwrap().to_string(), "shutting down");
    /// ```
    pub fn with_cancel_cause(&self) -> (Context, CancelCauseFn) {
        let node = self.child("WithCancel", self.node.deadline);
        let target = Arc::clone(&node);
        let cancel = CancelCauseFn::new(move |cause: Option<BoxError>| {
            cancel(
                &target,
                ContextError::Canceled,
                cause.map(Cause::from),
                true,
            )
        });
        (Context { node }, cancel)
    }

    /// A child that ends at `deadline` at the latest, with
    /// [`ContextError::DeadlineExceeded`].
    ///
    /// Go: `context.WithDeadline(parent, t)`. If this context's deadline is earlier, the
    /// child keeps that one (and no timer is armed). A deadline already past gives a child
    /// that is done at once. Call `cancel()` when the work finishes early: that stops the
    /// timer.
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    /// use std::time::Instant;
    ///
    /// let (ctx, _cancel) = context::background().with_deadline(Instant::now());
    /// assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    /// ```
    pub fn with_deadline(&self, deadline: Instant) -> (Context, CancelFn) {
        self.deadline_child(deadline, None)
    }

    /// [`with_deadline`](Self::with_deadline), with the cause that [`cause`](Self::cause)
    /// reports if the deadline passes.
    ///
    /// Go: `context.WithDeadlineCause(parent, t, cause)`. A `cancel()` before the deadline
    /// records [`ContextError::Canceled`] as usual.
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    /// use std::time::{Duration, Instant};
    ///
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// let (ctx, _cancel) = context::background().with_deadline_cause(deadline, "too slow");
    /// ctx.done().recv().unwrap_err(); // done closes when the deadline passes
    /// assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    /// assert_eq!(ctx.cause().unwrap().to_string(), "too slow");
    /// ```
    pub fn with_deadline_cause(
        &self,
        deadline: Instant,
        cause: impl Into<BoxError>,
    ) -> (Context, CancelFn) {
        self.deadline_child(deadline, Some(Cause::from(cause.into())))
    }

    /// A child that ends after `timeout` at the latest.
    ///
    /// Go: `context.WithTimeout(parent, d)`, that is `with_deadline(now + d)`. A zero timeout
    /// gives a child that is done at once, with [`ContextError::DeadlineExceeded`]; a timeout
    /// too long to represent means no deadline.
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    /// use std::time::Duration;
    ///
    /// let (ctx, cancel) = context::background().with_timeout(Duration::from_millis(5));
    /// ctx.done().recv().unwrap_err(); // closed when the timeout passes
    /// assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    /// cancel(); // does nothing now, but releases nothing twice either
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> (Context, CancelFn) {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.with_deadline(deadline),
            None => self.with_cancel(),
        }
    }

    /// [`with_timeout`](Self::with_timeout), with the cause that [`cause`](Self::cause)
    /// reports if the timeout passes.
    ///
    /// Go: `context.WithTimeoutCause(parent, d, cause)`.
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    /// use std::time::Duration;
    ///
    /// let (ctx, _cancel) = context::background().with_timeout_cause(Duration::ZERO, "too slow");
    /// assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    /// assert_eq!(ctx.cause().unwrap().to_string(), "too slow");
    /// ```
    pub fn with_timeout_cause(
        &self,
        timeout: Duration,
        cause: impl Into<BoxError>,
    ) -> (Context, CancelFn) {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.with_deadline_cause(deadline, cause),
            None => self.with_cancel(),
        }
    }

    /// A child carrying `value` under `key`, in addition to everything this context carries.
    ///
    /// Go: `context.WithValue(parent, key, value)`. Meant for request-scoped data (a request
    /// id, credentials), not for optional parameters. The child is cancelled exactly when
    /// this context is.
    ///
    /// ```
    /// use goro::context::{self, Key};
    ///
    /// static USER: Key<String> = Key::new("user");
    ///
    /// let ctx = context::background().with_value(&USER, "gopher".to_string());
    /// let (child, _cancel) = ctx.with_cancel();
    /// assert_eq!(child.value(&USER).map(String::as_str), Some("gopher"));
    /// ```
    pub fn with_value<V>(&self, key: &'static Key<V>, value: V) -> Context
    where
        V: Send + Sync + 'static,
    {
        Context {
            node: Arc::new(Node {
                parent: Some(self.clone()),
                scope: self.scope().cloned(),
                deadline: self.node.deadline,
                kind: Kind::Value {
                    key: key.id(),
                    name: key.name(),
                    value: Box::new(value),
                },
            }),
        }
    }

    /// A child that keeps this context's values but is never cancelled: no deadline, `done`
    /// never ready, `err` and `cause` always `None`.
    ///
    /// Go: `context.WithoutCancel(parent)`. For work that must outlive the request that
    /// started it (a log flush, a cleanup).
    ///
    /// ```
    /// use goro::context;
    ///
    /// let (ctx, cancel) = context::background().with_cancel();
    /// let detached = ctx.without_cancel();
    /// cancel();
    /// assert_eq!(detached.err(), None);
    /// ```
    pub fn without_cancel(&self) -> Context {
        Context {
            node: Arc::new(Node {
                parent: Some(self.clone()),
                scope: None,
                deadline: None,
                kind: Kind::WithoutCancel,
            }),
        }
    }

    /// A channel that is closed when this context ends: `recv` on it parks until then (and
    /// then returns `Err`), and `recv(ctx.done())` is ready in a [`select!`](crate::select)
    /// from that moment on.
    ///
    /// Go: `ctx.Done()`. For [`background()`] and the like it is
    /// [`chan::never()`](crate::chan::never), never ready (Go's nil channel). Nothing is ever
    /// sent on it.
    ///
    /// ```
    /// use goro::context;
    ///
    /// let (ctx, cancel) = context::background().with_cancel();
    /// let done = ctx.done();
    /// assert!(done.try_recv().is_err() && !done.is_closed());
    /// cancel();
    /// assert!(done.is_closed());
    /// ```
    pub fn done(&self) -> Receiver<()> {
        match self.scope().and_then(|n| n.canceller()) {
            Some(c) => c.done(),
            None => chan::never(),
        }
    }

    /// A future that completes when this context ends: [`done`](Context::done) for async
    /// code, which waits without blocking the executor's thread.
    ///
    /// tokio-util: `CancellationToken::cancelled`. For [`background()`] and the like it
    /// never completes.
    ///
    /// ```
    /// use goro::context;
    ///
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let (ctx, cancel) = context::background().with_cancel();
    /// goro::go(move || cancel());
    /// ctx.done_async().await;
    /// assert!(ctx.err().is_some());
    /// # });
    /// ```
    pub fn done_async(&self) -> Done {
        Done {
            recv: chan::OwnedRecv::new(self.done()),
        }
    }

    /// `None` while the context is live; once it has ended, why:
    /// [`Canceled`](ContextError::Canceled) or
    /// [`DeadlineExceeded`](ContextError::DeadlineExceeded). It never changes after that.
    ///
    /// Go: `ctx.Err()`. Takes no lock: fine to poll in a loop.
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    ///
    /// let (ctx, cancel) = context::background().with_cancel();
    /// assert_eq!(ctx.err(), None);
    /// cancel();
    /// assert_eq!(ctx.err(), Some(ContextError::Canceled));
    /// ```
    pub fn err(&self) -> Option<ContextError> {
        self.scope()
            .and_then(|n| n.canceller())
            .and_then(Canceller::err)
    }

    /// Why the context ended: the cause given to a [`CancelCauseFn`] or to
    /// [`with_deadline_cause`](Self::with_deadline_cause), taken from whichever ancestor
    /// ended it, or else the [`ContextError`] itself. `None` while the context is live.
    ///
    /// Go: `context.Cause(ctx)`.
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    ///
    /// let (ctx, cancel) = context::background().with_cancel();
    /// assert!(ctx.cause().is_none());
    /// cancel();
    /// let cause = ctx.cause().unwrap();
    /// assert_eq!(cause.downcast_ref::<ContextError>(), Some(&ContextError::Canceled));
    /// ```
    pub fn cause(&self) -> Option<Cause> {
        self.scope().and_then(|n| n.canceller())?.cause()
    }

    /// When the context ends at the latest, if it has a deadline.
    ///
    /// Go: `ctx.Deadline()`.
    ///
    /// ```
    /// use goro::context;
    /// use std::time::{Duration, Instant};
    ///
    /// let deadline = Instant::now() + Duration::from_secs(60);
    /// let (ctx, _cancel) = context::background().with_deadline(deadline);
    /// assert_eq!(ctx.deadline(), Some(deadline));
    /// assert_eq!(context::background().deadline(), None);
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.node.deadline
    }

    /// The value carried under `key` by this context or the nearest ancestor carrying one.
    ///
    /// Go: `ctx.Value(key).(T)`. The lookup walks up the chain of contexts, so keep chains
    /// of values short.
    ///
    /// ```
    /// use goro::context::{self, Key};
    ///
    /// static USER: Key<String> = Key::new("user");
    /// let ctx = context::background().with_value(&USER, "ana".to_string());
    /// let (child, _cancel) = ctx.with_cancel(); // values are inherited
    /// assert_eq!(child.value(&USER).map(String::as_str), Some("ana"));
    /// assert_eq!(context::background().value(&USER), None);
    /// ```
    pub fn value<V: 'static>(&self, key: &Key<V>) -> Option<&V> {
        let id = key.id();
        let mut ctx = self;
        loop {
            if let Kind::Value { key, value, .. } = &ctx.node.kind {
                if *key == id {
                    return value.downcast_ref();
                }
            }
            ctx = ctx.node.parent.as_ref()?;
        }
    }

    /// Arranges for `f` to run in its own goroutine once this context ends (at once if it
    /// has ended already). The returned [`StopFn`] unregisters `f`: `stop()` is `true` if
    /// that kept `f` from being started.
    ///
    /// Go: `context.AfterFunc(ctx, f)`. For a context that never ends, `f` never runs (and
    /// is dropped at once).
    ///
    /// ```
    /// use goro::{chan, context};
    ///
    /// let (ctx, cancel) = context::background().with_cancel();
    /// let (tx, rx) = chan::bounded(1);
    /// let _stop = ctx.after_func(move || tx.send("cleaned up").unwrap());
    /// cancel();
    /// assert_eq!(rx.recv(), Ok("cleaned up"));
    ///
    /// let (ctx, _cancel) = context::background().with_cancel();
    /// let stop = ctx.after_func(|| unreachable!());
    /// assert!(stop());  // unregistered before the context ended: never runs
    /// assert!(!stop()); // already stopped
    /// ```
    pub fn after_func<F>(&self, f: F) -> StopFn
    where
        F: FnOnce() + Send + 'static,
    {
        let Some(scope) = self.scope() else {
            drop(f);
            let stopped = AtomicBool::new(false);
            return StopFn::new(move || !stopped.swap(true, Ordering::Relaxed));
        };
        let key = cancel::next_key();
        let registered = scope
            .canceller()
            .map(|c| c.attach(key, Entry::Func(Box::new(f))));
        match registered {
            Some(Err(done)) => {
                if let Entry::Func(f) = done.entry {
                    start(f);
                }
                StopFn::new(|| false)
            }
            _ => {
                let scope = Arc::clone(scope);
                StopFn::new(move || scope.canceller().is_some_and(|c| c.detach(key).is_some()))
            }
        }
    }
}

impl Default for Context {
    /// [`background()`].
    fn default() -> Context {
        background()
    }
}

impl fmt::Debug for Context {
    /// Go's `String()` of a context: the chain of constructors, root first, as in
    /// `context.Background.WithCancel.WithValue(user)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        let mut ctx = Some(self);
        while let Some(c) = ctx {
            names.push(match &c.node.kind {
                Kind::Background => "context.Background".to_string(),
                Kind::Todo => "context.TODO".to_string(),
                Kind::Cancel { label, .. } => (*label).to_string(),
                Kind::Value { name, .. } => format!("WithValue({name})"),
                Kind::WithoutCancel => "WithoutCancel".to_string(),
            });
            ctx = c.node.parent.as_ref();
        }
        names.reverse();
        f.write_str(&names.join("."))
    }
}

/// The future of [`Context::done_async`]: completes when the context ends.
#[must_use = "futures do nothing unless polled"]
pub struct Done {
    recv: chan::OwnedRecv<()>,
}

impl std::future::Future for Done {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        // Nothing is ever sent on `done`: it completes only by closing.
        std::pin::Pin::new(&mut self.recv).poll(cx).map(|_| ())
    }
}

impl fmt::Debug for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Done").finish_non_exhaustive()
    }
}
