//! `Semaphore`: a weighted semaphore with FIFO waiters (x/sync's `semaphore.Weighted`).
//!
//! The state is a few numbers and a queue under one short lock: `size` (fixed), `cur`
//! (weight held now) and the waiters in arrival order. Each waiter owns a channel of
//! capacity 1, `ready`, and parks on it (as a channel receive, so that
//! [`Semaphore::acquire_ctx`] can also `select!` on the context's `done` channel). A grant
//! happens under the lock: the weight is added to `cur`, the waiter is removed from the
//! queue, and its `ready` gets a value. So "granted" and "still queued" exclude each other
//! under the lock, which is what a waiter that gives up checks:
//!
//! - still queued: remove itself; the waiters behind it may fit now, so grant again;
//! - no longer queued: it was granted just as it gave up; it gives the weight back (and
//!   grants again), and reports the context's error, as x/sync does.
//!
//! Grants are strictly FIFO: the queue is served from the front, and a front waiter that
//! does not fit stops the grants, even if smaller requests behind it would fit. A large
//! request is therefore never starved by a stream of small ones (think of a semaphore of `n`
//! used as a reader/writer lock: readers take 1, a writer takes `n`).
//!
//! The queue is a `BTreeMap` keyed by arrival number: front, insert and removal of a
//! cancelled waiter are all logarithmic, and it holds no allocation when empty.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex as StdMutex};

use crate::chan::{self, Receiver, Sender};
use crate::context::{Context, ContextError};

/// A semaphore of `size` units, acquired and released in any weight, served first come
/// first served.
///
/// Go: `golang.org/x/sync/semaphore.Weighted` (`NewWeighted(n)`, `Acquire(ctx, n)` as
/// [`acquire_ctx`](Self::acquire_ctx) or, with a context that never ends,
/// [`acquire`](Self::acquire), `TryAcquire(n)`, `Release(n)`). Waiting parks a goroutine
/// (its worker runs others) or blocks a thread. Waiters are granted in arrival order: a
/// request that does not fit blocks the smaller ones behind it, so large requests are not
/// starved.
///
/// Acquiring returns a [`SemaphorePermit`] that gives the units back when dropped (as
/// tokio's semaphore does), so a panic or an early `return` between acquiring and
/// releasing cannot leak them. Go's `defer sem.Release(n)` is that drop. For a permit to
/// move into a goroutine, acquire from an `Arc<Semaphore>` with the `_owned` variants
/// ([`acquire_owned`](Self::acquire_owned)...). Go's other style, releasing elsewhere
/// than where the units were acquired, is [`SemaphorePermit::forget`] then
/// [`release(n)`](Self::release).
///
/// ```
/// use goro::sync::{Semaphore, WaitGroup};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// // At most 3 of the 20 jobs run at once.
/// let sem = Arc::new(Semaphore::new(3));
/// let running = Arc::new(AtomicUsize::new(0));
/// let wg = WaitGroup::new();
/// for _ in 0..20 {
///     let (sem, running) = (sem.clone(), running.clone());
///     wg.go(move || {
///         let _permit = sem.acquire(1); // released at the end of the scope
///         assert!(running.fetch_add(1, Ordering::SeqCst) < 3);
///         goro::yield_now();
///         running.fetch_sub(1, Ordering::SeqCst);
///     });
/// }
/// wg.wait();
/// ```
pub struct Semaphore {
    size: u64,
    state: StdMutex<State>,
}

struct State {
    /// Weight held now, by granted acquirers.
    cur: u64,
    /// Waiting acquirers by arrival number; the first entry is the front of the line.
    waiters: BTreeMap<u64, Waiter>,
    next_id: u64,
}

struct Waiter {
    weight: u64,
    /// Gets one value when the weight is granted.
    ready: Sender<()>,
}

impl State {
    /// Grants waiters from the front while they fit; stops at the first that does not.
    fn grant(&mut self, size: u64) {
        while let Some(front) = self.waiters.first_entry() {
            if size - self.cur < front.get().weight {
                break;
            }
            let w = front.remove();
            self.cur += w.weight;
            // Capacity 1 and a single value: never full. The waiter keeps its receiver
            // until it has left the queue, so the channel is open.
            let _ = w.ready.try_send(());
        }
    }
}

impl Semaphore {
    /// A semaphore of `size` units, none held.
    ///
    /// Go: `semaphore.NewWeighted(size)`.
    ///
    /// ```
    /// static SEM: goro::sync::Semaphore = goro::sync::Semaphore::new(2); // `const`
    /// let _p = SEM.acquire(2);
    /// assert!(SEM.try_acquire(1).is_none());
    /// ```
    pub const fn new(size: u64) -> Semaphore {
        Semaphore {
            size,
            state: StdMutex::new(State {
                cur: 0,
                waiters: BTreeMap::new(),
                next_id: 0,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // User code never runs under this lock (release panics after unlocking), so a
        // poisoned lock still holds a consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The total number of units.
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(5);
    /// let _p = sem.acquire(2);
    /// assert_eq!((sem.size(), sem.available()), (5, 3));
    /// ```
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The units not held now (a snapshot: other goroutines may acquire or release them at
    /// any time). Free units may still not be acquirable at once while earlier waiters,
    /// asking for more, wait in line.
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(4);
    /// let _p = sem.acquire(3);
    /// assert_eq!(sem.available(), 1);
    /// ```
    pub fn available(&self) -> u64 {
        self.size - self.state().cur
    }

    /// Acquires `n` units, parking until they are free and every earlier waiter has been
    /// served; they are given back when the permit is dropped.
    ///
    /// Go: `sem.Acquire(context.Background(), n)` with `defer sem.Release(n)`. Asking for
    /// more than [`size`](Self::size) can never succeed: like x/sync with a context that
    /// never ends, the caller then waits forever (use [`acquire_ctx`](Self::acquire_ctx)
    /// with a cancellable context to bound it). Such a request does not queue, so it does
    /// not hold up others.
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(3);
    /// {
    ///     let permit = sem.acquire(2);
    ///     assert_eq!(permit.units(), 2);
    ///     assert_eq!(sem.available(), 1);
    /// } // released here, even if the block had panicked
    /// assert_eq!(sem.available(), 3);
    /// ```
    pub fn acquire(&self, n: u64) -> SemaphorePermit<'_> {
        self.acquire_units(n);
        SemaphorePermit { sem: self, n }
    }

    /// As [`acquire`](Self::acquire), from an `Arc`, with a permit that owns a reference to
    /// the semaphore (to move into a goroutine).
    ///
    /// ```
    /// use goro::sync::{Semaphore, WaitGroup};
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(Semaphore::new(2));
    /// let wg = WaitGroup::new();
    /// for i in 0..10 {
    ///     let permit = sem.acquire_owned(1); // at most 2 goroutines alive at once
    ///     wg.go(move || {
    ///         let _permit = permit;
    ///         println!("job {i}");
    ///     });
    /// }
    /// wg.wait();
    /// assert_eq!(sem.available(), 2);
    /// ```
    pub fn acquire_owned(self: &Arc<Self>, n: u64) -> OwnedSemaphorePermit {
        self.acquire_units(n);
        OwnedSemaphorePermit {
            sem: Arc::clone(self),
            n,
        }
    }

    fn acquire_units(&self, n: u64) {
        let ready = {
            let mut s = self.state();
            if self.size - s.cur >= n && s.waiters.is_empty() {
                s.cur += n;
                return;
            }
            if n > self.size {
                drop(s);
                wait_forever();
            }
            self.enqueue(&mut s, n).1
        };
        // The sender is dropped only after its value was sent (the semaphore outlives
        // this borrow), so this returns once the grant has happened.
        let _ = ready.recv();
    }

    /// Acquires `n` units, parking until they are granted or `ctx` ends, whichever comes
    /// first.
    ///
    /// Go: `sem.Acquire(ctx, n)`. Returns a permit holding the units (given back when it is
    /// dropped), or the context's error with nothing held. A context that has already ended fails at once, even if the
    /// units are free; units granted just as the context ends are given back, and the call
    /// fails. Asking for more than [`size`](Self::size) waits for the context to end, and
    /// does not hold up other waiters meanwhile.
    ///
    /// ```
    /// use goro::context::{self, ContextError};
    /// use goro::sync::Semaphore;
    /// use std::time::Duration;
    ///
    /// let sem = Semaphore::new(1);
    /// let held = sem.acquire(1);
    /// let (ctx, _cancel) = context::background().with_timeout(Duration::from_millis(10));
    /// assert_eq!(sem.acquire_ctx(&ctx, 1).unwrap_err(), ContextError::DeadlineExceeded);
    /// drop(held);
    /// assert!(sem.acquire_ctx(&context::background(), 1).is_ok());
    /// ```
    pub fn acquire_ctx(&self, ctx: &Context, n: u64) -> Result<SemaphorePermit<'_>, ContextError> {
        self.acquire_units_ctx(ctx, n)?;
        Ok(SemaphorePermit { sem: self, n })
    }

    /// As [`acquire_ctx`](Self::acquire_ctx), from an `Arc`, with a permit that owns a
    /// reference to the semaphore.
    ///
    /// ```
    /// use goro::context;
    /// use goro::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = sem.acquire_ctx_owned(&context::background(), 1).unwrap();
    /// goro::go(move || drop(permit)).join().unwrap();
    /// assert_eq!(sem.available(), 1);
    /// ```
    pub fn acquire_ctx_owned(
        self: &Arc<Self>,
        ctx: &Context,
        n: u64,
    ) -> Result<OwnedSemaphorePermit, ContextError> {
        self.acquire_units_ctx(ctx, n)?;
        Ok(OwnedSemaphorePermit {
            sem: Arc::clone(self),
            n,
        })
    }

    fn acquire_units_ctx(&self, ctx: &Context, n: u64) -> Result<(), ContextError> {
        let (id, ready) = {
            let mut s = self.state();
            // An ended context wins over free units: its end happened before this call.
            if let Some(e) = ctx.err() {
                return Err(e);
            }
            if self.size - s.cur >= n && s.waiters.is_empty() {
                s.cur += n;
                return Ok(());
            }
            if n > self.size {
                drop(s);
                let _ = ctx.done().recv();
                return Err(ended(ctx));
            }
            self.enqueue(&mut s, n)
        };
        let done = ctx.done();
        crate::select! {
            recv(ready) -> _ => {
                // Granted. If the context ended meanwhile, fail anyway, so that an ended
                // context is never reported as acquired.
                if let Some(e) = ctx.err() {
                    self.release(n);
                    return Err(e);
                }
                Ok(())
            }
            recv(done) -> _ => {
                let mut s = self.state();
                if s.waiters.remove(&id).is_none() {
                    // Granted between the context's end and this lock: give it back.
                    s.cur -= n;
                }
                // Waiters that queued behind us may fit now.
                s.grant(self.size);
                Err(ended(ctx))
            }
        }
    }

    /// Links a waiter for `n` units; returns its arrival number and `ready` receiver.
    fn enqueue(&self, s: &mut State, n: u64) -> (u64, Receiver<()>) {
        let (tx, rx) = chan::bounded(1);
        let id = s.next_id;
        s.next_id += 1;
        s.waiters.insert(
            id,
            Waiter {
                weight: n,
                ready: tx,
            },
        );
        (id, rx)
    }

    /// Acquires `n` units if they are free now and nobody is waiting; never waits.
    ///
    /// Go: `sem.TryAcquire(n)`, with `Some(permit)` for `true`.
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(2);
    /// let both = sem.try_acquire(2).unwrap();
    /// assert!(sem.try_acquire(1).is_none());
    /// drop(both);
    /// assert!(sem.try_acquire(1).is_some());
    /// ```
    pub fn try_acquire(&self, n: u64) -> Option<SemaphorePermit<'_>> {
        // `then`, not `then_some`: a permit made and dropped would release units.
        self.try_acquire_units(n)
            .then(|| SemaphorePermit { sem: self, n })
    }

    /// As [`try_acquire`](Self::try_acquire), from an `Arc`, with a permit that owns a
    /// reference to the semaphore.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(goro::sync::Semaphore::new(1));
    /// let permit = sem.try_acquire_owned(1).unwrap();
    /// assert!(sem.try_acquire_owned(1).is_none());
    /// drop(permit);
    /// assert!(sem.try_acquire_owned(1).is_some());
    /// ```
    pub fn try_acquire_owned(self: &Arc<Self>, n: u64) -> Option<OwnedSemaphorePermit> {
        self.try_acquire_units(n).then(|| OwnedSemaphorePermit {
            sem: Arc::clone(self),
            n,
        })
    }

    fn try_acquire_units(&self, n: u64) -> bool {
        let mut s = self.state();
        let ok = self.size - s.cur >= n && s.waiters.is_empty();
        if ok {
            s.cur += n;
        }
        ok
    }

    /// Releases `n` units, granting waiters from the front of the line while they fit.
    ///
    /// Go: `sem.Release(n)`. A dropped permit releases its units by itself; this is for
    /// units whose permit was [`forget`](SemaphorePermit::forget)-ten, Go's style of
    /// releasing elsewhere than where they were acquired.
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(1);
    /// sem.acquire(1).forget(); // held until released by hand
    /// assert_eq!(sem.available(), 0);
    /// sem.release(1);
    /// assert_eq!(sem.available(), 1);
    /// ```
    ///
    /// # Panics
    ///
    /// With `semaphore: released more than held` if `n` is more than the weight held now
    /// (nothing is released then).
    pub fn release(&self, n: u64) {
        let mut s = self.state();
        if n > s.cur {
            let held = s.cur;
            drop(s);
            panic!("semaphore: released more than held (released {n}, held {held})");
        }
        s.cur -= n;
        s.grant(self.size);
    }
}

/// The error of a context whose `done` channel is closed.
fn ended(ctx: &Context) -> ContextError {
    // A context stores its error before it closes `done`, so this is `Some`; a context that
    // ends has been cancelled in any case.
    ctx.err().unwrap_or(ContextError::Canceled)
}

/// Parks the caller for good: nothing will ever wake it for this request.
fn wait_forever() -> ! {
    let never = chan::never::<()>();
    loop {
        let _ = never.recv();
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state();
        f.debug_struct("Semaphore")
            .field("size", &self.size)
            .field("held", &s.cur)
            .field("waiters", &s.waiters.len())
            .finish()
    }
}

/// Units of a [`Semaphore`], held until the permit is dropped; made by
/// [`acquire`](Semaphore::acquire), [`try_acquire`](Semaphore::try_acquire) and
/// [`acquire_ctx`](Semaphore::acquire_ctx).
///
/// tokio: `SemaphorePermit`. Dropping it releases the units, during a panic's unwinding
/// too; [`forget`](Self::forget) keeps them held, for a later
/// [`Semaphore::release`].
///
/// ```
/// use goro::sync::Semaphore;
///
/// let sem = Semaphore::new(2);
/// let r = std::panic::catch_unwind(|| {
///     let _permit = sem.acquire(2);
///     panic!("a bug while holding the units");
/// });
/// assert!(r.is_err());
/// assert_eq!(sem.available(), 2); // given back by the unwinding
/// ```
#[must_use = "the units are released as soon as the permit is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    n: u64,
}

impl SemaphorePermit<'_> {
    /// The units this permit holds.
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(4);
    /// assert_eq!(sem.acquire(3).units(), 3);
    /// ```
    pub fn units(&self) -> u64 {
        self.n
    }

    /// Keeps the units held without the permit: they are released only by
    /// [`Semaphore::release`] (Go's `Acquire` and `Release` in different places).
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(1);
    /// sem.acquire(1).forget();
    /// assert!(sem.try_acquire(1).is_none());
    /// sem.release(1);
    /// assert!(sem.try_acquire(1).is_some());
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.n);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("units", &self.n)
            .finish_non_exhaustive()
    }
}

/// Units of a [`Semaphore`] shared through an `Arc`, held until the permit is dropped; made
/// by [`acquire_owned`](Semaphore::acquire_owned),
/// [`try_acquire_owned`](Semaphore::try_acquire_owned) and
/// [`acquire_ctx_owned`](Semaphore::acquire_ctx_owned). As [`SemaphorePermit`], but
/// `'static`: it can move into a goroutine.
///
/// tokio: `OwnedSemaphorePermit`.
///
/// ```
/// use goro::sync::Semaphore;
/// use std::sync::Arc;
///
/// let sem = Arc::new(Semaphore::new(1));
/// let permit = sem.acquire_owned(1);
/// let h = goro::go(move || permit.units());
/// assert_eq!(h.join().unwrap(), 1);
/// assert_eq!(sem.available(), 1); // dropped with the goroutine's closure
/// ```
#[must_use = "the units are released as soon as the permit is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    n: u64,
}

impl OwnedSemaphorePermit {
    /// The units this permit holds.
    ///
    /// ```
    /// let sem = std::sync::Arc::new(goro::sync::Semaphore::new(4));
    /// assert_eq!(sem.acquire_owned(3).units(), 3);
    /// ```
    pub fn units(&self) -> u64 {
        self.n
    }

    /// The semaphore the units belong to.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(goro::sync::Semaphore::new(4));
    /// let permit = sem.acquire_owned(1);
    /// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    /// assert_eq!(permit.semaphore().available(), 3);
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Keeps the units held without the permit: they are released only by
    /// [`Semaphore::release`].
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(goro::sync::Semaphore::new(1));
    /// sem.acquire_owned(1).forget();
    /// assert_eq!(sem.available(), 0);
    /// sem.release(1);
    /// assert_eq!(sem.available(), 1);
    /// ```
    pub fn forget(mut self) {
        // Dropped holding nothing: the `Arc` goes, the units stay held.
        self.n = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if self.n != 0 {
            self.sem.release(self.n);
        }
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("units", &self.n)
            .finish_non_exhaustive()
    }
}
