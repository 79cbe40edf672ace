//! Groups of goroutines working on one task: wait for all, get the first error, cancel the
//! rest.
//!
//! Go: `golang.org/x/sync/errgroup`. A [`Group`] starts functions returning
//! `Result<(), E>` in goroutines ([`go`](Group::go)), optionally at most `n` at a time
//! ([`set_limit`](Group::set_limit), [`try_go`](Group::try_go)), and [`wait`](Group::wait)s
//! for all of them, returning the first error. Made by
//! [`with_context`](Group::with_context), it also gives a [`Context`] that is cancelled as
//! soon as one function fails, so the others can stop early.
//!
//! | Go | goro |
//! |----|------|
//! | `var g errgroup.Group` | [`Group::new()`] |
//! | `g, ctx := errgroup.WithContext(ctx)` | `let (g, ctx) = Group::with_context(&ctx);` |
//! | `g.Go(func() error { ... })` | `g.go(move \|\| { ...; Ok(()) })` |
//! | `g.TryGo(f)`, `g.SetLimit(n)` | [`g.try_go(f)`](Group::try_go), [`g.set_limit(n)`](Group::set_limit) (`SetLimit(-1)`: [`remove_limit`](Group::remove_limit)) |
//! | `err := g.Wait()` | `g.wait()` → `Result<(), E>` |
//!
//! ```
//! use goro::group::Group;
//!
//! #[goro::main]
//! fn main() {
//!     let g = Group::new();
//!     for n in [1, 2, 3] {
//!         g.go(move || if n == 2 { Err(format!("task {n} failed")) } else { Ok(()) });
//!     }
//!     assert_eq!(g.wait(), Err("task 2 failed".to_string()));
//! }
//! ```
//!
//! # Differences from Go
//!
//! - A panic in a function does not end the process (goro catches goroutine panics): it
//!   cancels the group's context like an error, and [`wait`](Group::wait) resumes it once
//!   every function has returned, so it is not lost. (x/sync's errgroup lets the panic crash
//!   the program.)
//! - The error is moved out by the `wait` that returns it (`E` need not be `Clone`). Go's
//!   `Wait` returns the same first error again on every later call; here a later `wait`
//!   returns `Ok(())`, or the first error of the functions started since.
//! - `set_limit(0)` panics (Go accepts it and then blocks every `Go` forever).
//!
//! Built from goro's public API only: goroutines, a channel as the limiting semaphore,
//! [`WaitGroup`] and [`context`](crate::context).

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::chan::{self, Receiver, Sender, TrySendError};
use crate::context::{BoxError, CancelCauseFn, Context};
use crate::sync::WaitGroup;

/// A collection of goroutines working on subtasks of one task.
///
/// Go: `errgroup.Group`. Clones share the group (a task may start more tasks through a
/// clone). See the [module docs](self) for the differences from Go.
///
/// ```
/// use goro::group::Group;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let g = Group::<std::io::Error>::new();
/// g.set_limit(2); // at most two tasks at a time
/// let total = Arc::new(AtomicUsize::new(0));
/// for i in 1..=10 {
///     let total = total.clone();
///     g.go(move || {
///         total.fetch_add(i, Ordering::Relaxed);
///         Ok(())
///     });
/// }
/// g.wait().unwrap();
/// assert_eq!(total.load(Ordering::Relaxed), 55);
/// ```
pub struct Group<E> {
    inner: Arc<Inner<E>>,
}

struct Inner<E> {
    /// Counts the running tasks.
    wg: WaitGroup,
    /// The limiting semaphore, if a limit is set: a channel of that capacity holding one
    /// token per running task.
    limit: Mutex<Option<Limit>>,
    outcome: Mutex<Outcome<E>>,
    /// The group context's cancel function, for groups made by `with_context`.
    cancel: Option<CancelCauseFn>,
    /// Turns the first error into the cause of the group context's cancellation.
    to_cause: fn(&E) -> BoxError,
}

#[derive(Clone)]
struct Limit {
    n: usize,
    tx: Sender<()>,
    rx: Receiver<()>,
}

struct Outcome<E> {
    /// The first error not yet returned by `wait`.
    err: Option<E>,
    /// The first panic not yet resumed by `wait`.
    panic: Option<Box<dyn Any + Send + 'static>>,
}

impl<E: Send + 'static> Group<E> {
    /// A group with no limit and no context.
    ///
    /// Go: the zero `errgroup.Group`.
    ///
    /// ```
    /// let g = goro::group::Group::<String>::new();
    /// assert_eq!(g.limit(), None);
    /// assert_eq!(g.wait(), Ok(())); // no tasks: nothing to wait for
    /// ```
    pub fn new() -> Group<E> {
        Group::build(None, |_| "a task of the group failed".into())
    }

    /// A group and a child of `ctx` that is cancelled when a function of the group fails
    /// (with the error itself as its [`cause`](Context::cause)), panics, or when
    /// [`wait`](Self::wait) returns, whichever comes first.
    ///
    /// Go: `errgroup.WithContext(ctx)`. As in Go, the context's cause is the first error
    /// (`context.Cause(ctx) == err`): an error type `E` comes back from
    /// `ctx.cause().unwrap().downcast_ref::<E>()`, while [`wait`](Self::wait) returns the
    /// same error. Both need a copy, hence `E: Clone`; a string error (`&str`, `String`)
    /// gives a cause with its text. For an error type that is not `Clone`
    /// (`std::io::Error`), share it: `Group<Arc<io::Error>>` (an `Arc` of an error is an
    /// error, and its cause downcasts to the `Arc`).
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    /// use goro::group::Group;
    ///
    /// let (g, ctx) = Group::with_context(&context::background());
    /// let worker_ctx = ctx.clone();
    /// g.go(move || {
    ///     worker_ctx.done().recv().unwrap_err(); // parks until a sibling fails
    ///     Ok(())
    /// });
    /// g.go(|| Err("no route to host"));
    /// assert_eq!(g.wait(), Err("no route to host"));
    /// assert_eq!(ctx.err(), Some(ContextError::Canceled));
    /// assert_eq!(ctx.cause().unwrap().to_string(), "no route to host");
    /// ```
    ///
    /// With an error type of its own, the cause is that very error:
    ///
    /// ```
    /// use goro::context;
    /// use goro::group::Group;
    ///
    /// #[derive(Debug, Clone, PartialEq)]
    /// struct Timeout {
    ///     host: String,
    /// }
    /// impl std::fmt::Display for Timeout {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         write!(f, "{} timed out", self.host)
    ///     }
    /// }
    /// impl std::error::Error for Timeout {}
    ///
    /// let (g, ctx) = Group::with_context(&context::background());
    /// g.go(|| Err(Timeout { host: "db1".into() }));
    /// let err = g.wait().unwrap_err();
    /// let cause = ctx.cause().unwrap();
    /// assert_eq!(cause.downcast_ref::<Timeout>(), Some(&err));
    /// ```
    pub fn with_context(ctx: &Context) -> (Group<E>, Context)
    where
        E: Clone + Into<BoxError>,
    {
        let (ctx, cancel) = ctx.with_cancel_cause();
        let g = Group::build(Some(cancel), |e: &E| e.clone().into());
        (g, ctx)
    }

    /// As [`with_context`](Self::with_context), for an error that need not be `Clone`:
    /// the context's cause carries the error's text only.
    pub(crate) fn with_context_text(ctx: &Context) -> (Group<E>, Context)
    where
        E: fmt::Display,
    {
        let (ctx, cancel) = ctx.with_cancel_cause();
        let g = Group::build(Some(cancel), |e: &E| e.to_string().into());
        (g, ctx)
    }

    fn build(cancel: Option<CancelCauseFn>, to_cause: fn(&E) -> BoxError) -> Group<E> {
        Group {
            inner: Arc::new(Inner {
                wg: WaitGroup::new(),
                limit: Mutex::new(None),
                outcome: Mutex::new(Outcome {
                    err: None,
                    panic: None,
                }),
                cancel,
                to_cause,
            }),
        }
    }

    /// Runs `f` in a new goroutine of the group, first waiting, if a limit is set, until
    /// fewer than that many tasks are running.
    ///
    /// Go: `g.Go(f)`. The first error returned by a task is kept for
    /// [`wait`](Self::wait) (and cancels the group's context); later ones are dropped.
    ///
    /// ```
    /// let g = goro::group::Group::new();
    /// g.go(|| Ok(()));
    /// g.go(|| Err("disk full"));
    /// assert_eq!(g.wait(), Err("disk full"));
    /// ```
    #[track_caller]
    pub fn go<F>(&self, f: F)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let limit = self.inner.limit().clone();
        if let Some(limit) = &limit {
            // Blocks while `n` tokens are in: one per running task. Both ends are held by
            // the group, so the channel never closes.
            let _ = limit.tx.send(());
        }
        self.start(f, limit.map(|l| l.rx));
    }

    /// Runs `f` in a new goroutine of the group if that is possible without waiting for the
    /// limit; returns whether it did.
    ///
    /// Go: `g.TryGo(f)`. Without a limit it always starts `f` and returns `true`.
    ///
    /// ```
    /// let g = goro::group::Group::<String>::new();
    /// assert!(g.try_go(|| Ok(()))); // no limit: always started
    /// g.wait().unwrap();
    /// ```
    ///
    /// With a limit, see [`set_limit`](Self::set_limit).
    pub fn try_go<F>(&self, f: F) -> bool
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let limit = self.inner.limit().clone();
        if let Some(limit) = &limit {
            if let Err(TrySendError::Full(())) = limit.tx.try_send(()) {
                return false;
            }
        }
        self.start(f, limit.map(|l| l.rx));
        true
    }

    /// Limits the group to `n` tasks running at a time: [`go`](Self::go) then waits for a
    /// free place and [`try_go`](Self::try_go) fails without one.
    ///
    /// Go: `g.SetLimit(n)`.
    ///
    /// # Panics
    ///
    /// - If `n` is 0: no task could ever start (Go would block every `Go` forever).
    /// - If tasks started under the current limit are still running, as Go does:
    ///   `errgroup: modify limit while N goroutines in the group are still active`.
    ///
    /// ```
    /// let g = goro::group::Group::<String>::new();
    /// g.set_limit(1);
    /// let (tx, rx) = goro::chan::bounded::<()>(0);
    /// assert!(g.try_go(move || { rx.recv().ok(); Ok(()) }));
    /// assert!(!g.try_go(|| Ok(()))); // the one place is taken
    /// tx.send(()).unwrap();
    /// g.wait().unwrap();
    /// assert!(g.try_go(|| Ok(()))); // free again
    /// g.wait().unwrap();
    /// ```
    pub fn set_limit(&self, n: usize) {
        assert!(
            n > 0,
            "goro::group::Group::set_limit(0): no task could ever start \
             (use remove_limit() for no limit)"
        );
        self.replace_limit(Some(n));
    }

    /// Lets any number of tasks run at a time (the default).
    ///
    /// Go: `g.SetLimit(-1)`.
    ///
    /// # Panics
    ///
    /// As [`set_limit`](Self::set_limit), if tasks started under a limit are still running.
    ///
    /// ```
    /// let g = goro::group::Group::<String>::new();
    /// g.set_limit(1);
    /// g.remove_limit();
    /// assert_eq!(g.limit(), None);
    /// ```
    pub fn remove_limit(&self) {
        self.replace_limit(None);
    }

    fn replace_limit(&self, n: Option<usize>) {
        let mut limit = self.inner.limit();
        if let Some(active) = limit.as_ref().map(|l| l.tx.len()).filter(|&a| a != 0) {
            drop(limit);
            panic!(
                "errgroup: modify limit while {active} goroutines in the group are still active"
            );
        }
        *limit = n.map(|n| {
            let (tx, rx) = chan::bounded(n);
            Limit { n, tx, rx }
        });
    }

    /// The current limit, if one is set.
    ///
    /// ```
    /// let g = goro::group::Group::<String>::new();
    /// assert_eq!(g.limit(), None);
    /// g.set_limit(4);
    /// assert_eq!(g.limit(), Some(4));
    /// ```
    pub fn limit(&self) -> Option<usize> {
        self.inner.limit().as_ref().map(|l| l.n)
    }

    /// Waits until every task of the group has returned, cancels the group's context, and
    /// returns the first error.
    ///
    /// Go: `g.Wait()`.
    ///
    /// # Panics
    ///
    /// If a task panicked, with that task's panic payload (its message), once every task has
    /// returned.
    ///
    /// ```
    /// let g = goro::group::Group::new();
    /// g.go(|| Err("first"));
    /// assert_eq!(g.wait(), Err("first"));
    /// assert_eq!(g.wait(), Ok(())); // the error was moved out by the first wait
    /// ```
    pub fn wait(&self) -> Result<(), E> {
        self.inner.wg.wait();
        if let Some(cancel) = &self.inner.cancel {
            cancel(None);
        }
        let mut outcome = self.inner.outcome();
        if let Some(p) = outcome.panic.take() {
            drop(outcome);
            panic::resume_unwind(p);
        }
        match outcome.err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Starts `f`; `slot` is the receiver of the semaphore it took a token in, if any.
    fn start<F>(&self, f: F, slot: Option<Receiver<()>>)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        self.inner.wg.add(1);
        let inner = Arc::clone(&self.inner);
        crate::go(move || {
            match panic::catch_unwind(AssertUnwindSafe(f)) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => inner.failed(e),
                Err(p) => inner.panicked(p),
            }
            // Give the place back before `done`, so that once `wait` returns, every place
            // is free again (Go's order too).
            if let Some(rx) = slot {
                let _ = rx.try_recv();
            }
            inner.wg.done();
        });
    }
}

impl<E> Inner<E> {
    fn limit(&self) -> MutexGuard<'_, Option<Limit>> {
        self.limit.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn outcome(&self) -> MutexGuard<'_, Outcome<E>> {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn failed(&self, e: E) {
        let mut outcome = self.outcome();
        if outcome.err.is_some() {
            return;
        }
        let cause = self.cancel.as_ref().map(|_| (self.to_cause)(&e));
        outcome.err = Some(e);
        drop(outcome);
        if let (Some(cancel), Some(cause)) = (&self.cancel, cause) {
            cancel(Some(cause));
        }
    }

    fn panicked(&self, p: Box<dyn Any + Send + 'static>) {
        let message = panic_message(&*p).to_string();
        self.outcome().panic.get_or_insert(p);
        if let Some(cancel) = &self.cancel {
            cancel(Some(
                format!("a task of the group panicked: {message}").into(),
            ));
        }
    }
}

/// The message of a panic payload, if it has one.
fn panic_message(p: &(dyn Any + Send)) -> &str {
    if let Some(s) = p.downcast_ref::<&str>() {
        s
    } else if let Some(s) = p.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

impl<E: Send + 'static> Default for Group<E> {
    fn default() -> Group<E> {
        Group::new()
    }
}

impl<E> Clone for Group<E> {
    fn clone(&self) -> Group<E> {
        Group {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<E> fmt::Debug for Group<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("running", &self.inner.wg.count())
            .field("limit", &self.inner.limit().as_ref().map(|l| l.n))
            .finish()
    }
}
