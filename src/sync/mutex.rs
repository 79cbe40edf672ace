//! `Mutex<T>`: a mutual exclusion lock that parks goroutines, over [`RawMutex`] (Go's
//! algorithm, in `raw_mutex.rs`).

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use super::raw_mutex::RawMutex;

/// A mutual exclusion lock protecting a `T`, that parks goroutines while they wait.
///
/// Go: `sync.Mutex`. [`lock`](Self::lock) returns a guard; dropping the guard is Go's
/// `mu.Unlock()` (Go's `defer mu.Unlock()` is the end of the guard's scope). A goroutine
/// waiting for the lock is parked, so its worker thread runs other goroutines meanwhile; a
/// plain thread waiting for it is blocked. The guard may be held across any blocking call
/// (a channel operation, `sleep`, `join`), which `std::sync::Mutex` must not be in a
/// goroutine.
///
/// **Fairness** follows Go: normally a running locker may take the lock ahead of a parked
/// one (fast), but a waiter that has waited more than 1 ms switches the lock to a handoff
/// mode in which each unlock passes the lock to the oldest waiter, so nobody waits forever.
///
/// **No poisoning**: a panic while the lock is held unlocks it (as the guard drops) and
/// leaves no mark, as in Go and `parking_lot`; `lock` returns the guard directly.
///
/// **Not reentrant**: locking again from the holder deadlocks, as in Go.
///
/// The guard is `Send` (for `T: Send`): as in Go, a lock is not owned by a goroutine, so a
/// guard may be handed to another goroutine or thread and dropped there.
///
/// ```
/// use goro::sync::{Mutex, WaitGroup};
/// use std::sync::Arc;
///
/// let counter = Arc::new(Mutex::new(0));
/// let wg = WaitGroup::new();
/// for _ in 0..100 {
///     let counter = counter.clone();
///     wg.go(move || *counter.lock() += 1);
/// }
/// wg.wait();
/// assert_eq!(*counter.lock(), 100);
/// ```
pub struct Mutex<T: ?Sized> {
    raw: RawMutex,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `T` to one holder at a time, from any thread, so `T`
// must be `Send` (as for `std::sync::Mutex`); the lock state itself is thread-safe.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Holds a [`Mutex`] locked; gives access to the data; unlocks when dropped.
///
/// Go: the stretch between `mu.Lock()` and `mu.Unlock()`.
#[must_use = "the Mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    pub(super) mutex: &'a Mutex<T>,
    /// The guard is `Send`/`Sync` only through the impls below.
    _not_auto: PhantomData<*const ()>,
}

// SAFETY: sending the guard moves exclusive access to `T` (needs `T: Send`) and the duty to
// unlock, which any thread may do (the lock is not owned by a thread, as in Go).
unsafe impl<T: ?Sized + Send> Send for MutexGuard<'_, T> {}
// SAFETY: a shared guard only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`. `const`, so it can initialise a `static`.
    ///
    /// Go: `var mu sync.Mutex` next to the data it guards.
    ///
    /// ```
    /// use goro::sync::Mutex;
    ///
    /// static HITS: Mutex<u32> = Mutex::new(0); // `const`: fits a static
    /// *HITS.lock() += 1;
    /// assert_eq!(*HITS.lock(), 1);
    /// ```
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            raw: RawMutex::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the data.
    ///
    /// ```
    /// let m = goro::sync::Mutex::new(vec![1]);
    /// m.lock().push(2);
    /// assert_eq!(m.into_inner(), [1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, parking the calling goroutine (or blocking the calling thread) until
    /// it is free.
    ///
    /// Go: `mu.Lock()`.
    ///
    /// ```
    /// let m = goro::sync::Mutex::new(vec![1]);
    /// m.lock().push(2);
    /// assert_eq!(*m.lock(), [1, 2]);
    /// ```
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.raw.lock();
        MutexGuard {
            mutex: self,
            _not_auto: PhantomData,
        }
    }

    /// Locks the mutex if it is free now.
    ///
    /// Go: `mu.TryLock()`. Returns `None` if it is held (or being handed to a waiter).
    ///
    /// ```
    /// let m = goro::sync::Mutex::new(1);
    /// let held = m.lock();
    /// assert!(m.try_lock().is_none());
    /// drop(held);
    /// assert_eq!(*m.try_lock().unwrap(), 1);
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.raw.try_lock().then(|| MutexGuard {
            mutex: self,
            _not_auto: PhantomData,
        })
    }

    /// Whether the mutex is held now (a snapshot, for diagnostics).
    ///
    /// ```
    /// let m = goro::sync::Mutex::new(());
    /// let guard = m.lock();
    /// assert!(m.is_locked());
    /// drop(guard);
    /// assert!(!m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// The data, through a unique borrow: no locking needed.
    ///
    /// ```
    /// let mut m = goro::sync::Mutex::new(1);
    /// *m.get_mut() += 1; // `&mut self`: nobody else can hold the lock
    /// assert_eq!(*m.lock(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard holds (for `Cond::wait`).
    pub(super) fn mutex(guard: &Self) -> &'a Mutex<T> {
        guard.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock: no other access to the data exists.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, and `&mut self` makes this the only access
        // through it.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the guard holds the lock and gives it up here, once.
        unsafe { self.mutex.raw.unlock() };
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn threads_leave_the_state_clean() {
        let m = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        *m.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*m.lock(), 80_000);
        assert_eq!(m.raw.state(), 0, "no waiter, flag or lock left");
    }
}
