//! Synchronisation primitives that park goroutines instead of blocking worker threads.
//!
//! Go: package `sync` (and `golang.org/x/sync/semaphore`).
//!
//! | Go | goro |
//! |----|------|
//! | `var mu sync.Mutex`; `mu.Lock()` … `mu.Unlock()` | [`Mutex<T>`]: `let g = mu.lock();` … `drop(g)` (or end of scope) |
//! | `mu.TryLock()` | [`Mutex::try_lock`] → `Option<MutexGuard>` |
//! | `sync.RWMutex`: `RLock`/`RUnlock`, `Lock`/`Unlock` | [`RwLock<T>`]: [`read`](RwLock::read), [`write`](RwLock::write) |
//! | `rw.TryRLock()`, `rw.TryLock()` | [`RwLock::try_read`], [`RwLock::try_write`] |
//! | `sync.Once`, `once.Do(f)` | [`Once`], [`Once::call_once`] |
//! | `sync.OnceValue(f)` | [`OnceLock<T>`], [`OnceLock::get_or_init`] |
//! | `sync.NewCond(&mu)`, `c.Wait()`, `c.Signal()`, `c.Broadcast()` | [`Cond`]: [`wait(guard)`](Cond::wait), [`signal`](Cond::signal), [`broadcast`](Cond::broadcast) |
//! | `semaphore.NewWeighted(n)` (x/sync) | [`Semaphore::new(n)`](Semaphore::new) |
//! | `sem.Acquire(ctx, n)`, `TryAcquire`, `Release` | [`Semaphore::acquire_ctx`], [`try_acquire`](Semaphore::try_acquire): a [`SemaphorePermit`] that releases on drop; [`forget`](SemaphorePermit::forget) then [`release`](Semaphore::release) to release elsewhere |
//! | `sem.Acquire(context.Background(), n)` + `defer sem.Release(n)` | [`Semaphore::acquire`] (the permit's drop) |
//! | `sync.WaitGroup` | [`WaitGroup`] |
//!
//! What they share:
//!
//! - **Waiting parks the goroutine**, never its worker thread: while one goroutine waits
//!   for a lock, its worker runs the others, even with `GORO_MAXPROCS=1`. From a plain OS
//!   thread the same calls block that thread, so one lock can be shared by goroutines and
//!   threads. A contended lock spins for a few microseconds at most before it parks.
//! - **Guards may be held across blocking calls** (channel operations, `sleep`, `join`,
//!   another lock), unlike `std::sync::MutexGuard` in a goroutine, which must not cross a
//!   park (it may be released on another thread). Guards are `Send`: as in Go, a lock does
//!   not belong to the goroutine that took it.
//! - **No poisoning**: a panic while a guard is held releases the lock, as Go's
//!   `defer mu.Unlock()` would; `lock` returns the guard directly.
//! - **Fairness as in Go**: [`Mutex`] lets running lockers overtake parked ones until a
//!   waiter has waited 1 ms, then hands the lock over in arrival order; [`RwLock`] stops new
//!   readers once a writer waits; [`Semaphore`] serves waiters strictly in order.
//! - Unlocking a lock that is not held, Go's fatal error, cannot be written: only a guard
//!   unlocks.

mod cond;
mod mutex;
mod once;
mod raw_mutex;
mod rwlock;
mod sema;
mod semaphore;
pub(crate) mod waiter;
mod waitgroup;

pub use cond::Cond;
pub use mutex::{Mutex, MutexGuard};
pub use once::{Once, OnceLock};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};
pub use waitgroup::WaitGroup;
