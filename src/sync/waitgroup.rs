//! `WaitGroup`: wait for a collection of goroutines to finish.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::rt::park::{self, Unparker};

/// Waits for a collection of goroutines to finish.
///
/// Go: `sync.WaitGroup`. [`add`](Self::add) raises the counter, [`done`](Self::done) lowers
/// it, and [`wait`](Self::wait) parks until it is zero. Clones share one counter, so each
/// goroutine gets its own clone instead of Go's `&wg`. [`go`](Self::go) is Go 1.25's
/// `wg.Go(f)`: `add(1)`, then run `f` in a new goroutine that calls `done` when `f` returns.
///
/// Waiting parks a goroutine without blocking its worker, and blocks a plain thread. A
/// `WaitGroup` may be reused once its counter has reached zero.
///
/// ```
/// use goro::sync::WaitGroup;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let wg = WaitGroup::new();
/// let total = Arc::new(AtomicUsize::new(0));
/// for i in 1..=3 {
///     wg.add(1);
///     let (wg, total) = (wg.clone(), total.clone());
///     goro::go(move || {
///         total.fetch_add(i, Ordering::Relaxed);
///         wg.done();
///     });
/// }
/// wg.wait();
/// assert_eq!(total.load(Ordering::Relaxed), 6);
/// ```
#[derive(Clone, Default)]
pub struct WaitGroup {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The counter. Release on every decrement, Acquire in `wait`: what a goroutine did
    /// before `done` is visible after `wait` returns.
    count: AtomicUsize,
    /// Bumped (under the `waiters` lock, Release) each time the counter reaches zero with
    /// waiters registered; a waiter parks until it differs from the value it registered
    /// under (Acquire).
    generation: AtomicU64,
    waiters: Mutex<Waiters>,
}

#[derive(Default)]
struct Waiters {
    list: Vec<Unparker>,
    /// The first panic of a goroutine started by `go`, for `wait` to resume.
    panic: Option<Box<dyn Any + Send + 'static>>,
}

impl WaitGroup {
    /// A `WaitGroup` with counter zero.
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// assert_eq!(wg.count(), 0);
    /// wg.wait(); // returns at once
    /// ```
    pub fn new() -> WaitGroup {
        WaitGroup::default()
    }

    /// Adds `n` to the counter.
    ///
    /// Go: `wg.Add(n)` (lowering the counter is [`done`](Self::done)).
    ///
    /// # Panics
    ///
    /// If the counter would overflow `usize`.
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.add(3); // before the goroutines start, as in Go
    /// for _ in 0..3 {
    ///     let wg = wg.clone();
    ///     goro::go(move || wg.done());
    /// }
    /// wg.wait();
    /// assert_eq!(wg.count(), 0);
    /// ```
    pub fn add(&self, n: usize) {
        let prev = self.inner.count.fetch_add(n, Ordering::Relaxed);
        if prev.checked_add(n).is_none() {
            self.inner.count.fetch_sub(n, Ordering::Relaxed);
            panic!("sync: WaitGroup counter overflow");
        }
    }

    /// Subtracts one from the counter, waking every waiter when it reaches zero.
    ///
    /// Go: `wg.Done()`.
    ///
    /// # Panics
    ///
    /// With `sync: negative WaitGroup counter` if the counter is already zero.
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.add(1);
    /// let wg2 = wg.clone();
    /// goro::go(move || wg2.done());
    /// wg.wait();
    /// assert_eq!(wg.count(), 0);
    /// ```
    pub fn done(&self) {
        // Release: pairs with the Acquire loads in `wait`.
        let prev = self
            .inner
            .count
            .fetch_update(Ordering::Release, Ordering::Relaxed, |c| c.checked_sub(1));
        match prev {
            Err(_) => panic!("sync: negative WaitGroup counter"),
            Ok(1) => self.wake_all(),
            Ok(_) => {}
        }
    }

    /// The current counter (a snapshot, for diagnostics).
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.add(2);
    /// wg.done();
    /// assert_eq!(wg.count(), 1);
    /// ```
    pub fn count(&self) -> usize {
        self.inner.count.load(Ordering::Relaxed)
    }

    fn wake_all(&self) {
        let list = {
            let mut w = self.inner.waiters.lock().unwrap_or_else(|e| e.into_inner());
            if w.list.is_empty() {
                return;
            }
            // Release: pairs with the Acquire load in `wait`.
            self.inner.generation.fetch_add(1, Ordering::Release);
            std::mem::take(&mut w.list)
        };
        for w in list {
            w.unpark();
        }
    }

    /// Parks until the counter is zero.
    ///
    /// Go: `wg.Wait()`.
    ///
    /// # Panics
    ///
    /// If a goroutine started by [`go`](Self::go) panicked, the first `wait` to return after
    /// it resumes that panic here, so the failure is not lost.
    ///
    /// ```
    /// use goro::sync::{Mutex, WaitGroup};
    /// use std::sync::Arc;
    ///
    /// let wg = WaitGroup::new();
    /// let results = Arc::new(Mutex::new(Vec::new()));
    /// for i in 0..3 {
    ///     let results = results.clone();
    ///     wg.go(move || results.lock().push(i));
    /// }
    /// wg.wait(); // every goroutine has finished
    /// assert_eq!(results.lock().len(), 3);
    /// ```
    #[track_caller]
    pub fn wait(&self) {
        // Acquire: pairs with the Release decrement in `done`.
        if self.inner.count.load(Ordering::Acquire) != 0 {
            let registered = {
                let mut w = self.inner.waiters.lock().unwrap_or_else(|e| e.into_inner());
                // Re-check under the lock: `done` bumps the generation and empties the list
                // under the same lock after the counter reaches zero, so a waiter registered
                // here always sees the bump.
                if self.inner.count.load(Ordering::Acquire) == 0 {
                    None
                } else {
                    w.list.push(Unparker::current());
                    Some(self.inner.generation.load(Ordering::Relaxed))
                }
            };
            if let Some(gen) = registered {
                let at = std::panic::Location::caller();
                while self.inner.generation.load(Ordering::Acquire) == gen {
                    park::park_as(crate::rt::registry::Reason::WaitGroupWait, at);
                }
            }
        }
        let payload = {
            let mut w = self.inner.waiters.lock().unwrap_or_else(|e| e.into_inner());
            w.panic.take()
        };
        if let Some(p) = payload {
            panic::resume_unwind(p);
        }
    }

    /// Runs `f` in a new goroutine counted by this group.
    ///
    /// Go: `wg.Go(f)` (Go 1.25): `add(1)`, then `done` when `f` returns. If `f` panics, the
    /// panic is reported on stderr, the counter still goes down, and `wait` resumes it.
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// for i in 0..3 {
    ///     wg.go(move || println!("worker {i} done"));
    /// }
    /// wg.wait();
    /// ```
    #[track_caller]
    pub fn go<F>(&self, f: F)
    where
        F: FnOnce() + Send + 'static,
    {
        self.add(1);
        let wg = self.clone();
        crate::go(move || {
            if let Err(p) = panic::catch_unwind(AssertUnwindSafe(f)) {
                let mut w = wg.inner.waiters.lock().unwrap_or_else(|e| e.into_inner());
                w.panic.get_or_insert(p);
            }
            wg.done();
        });
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}
