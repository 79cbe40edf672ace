//! `Once` and `OnceLock<T>`: run an initialisation exactly once, parking the goroutines
//! that arrive while it runs.
//!
//! Both are Go's `sync.Once` layout: a `done` flag read on the fast path, and a
//! [`RawMutex`] that the first caller holds while it runs the function. Callers arriving
//! meanwhile park on that mutex (so they do not spin or block their worker); when they get
//! it, `done` is set and they return. The flag is stored (Release) before the mutex is
//! unlocked, and read (Acquire) on the fast path, so whatever the function wrote is visible
//! to every caller that returns.
//!
//! They differ when the function panics. [`Once`] does what Go does: the panic propagates
//! to the caller that ran the function, and the `Once` counts as done anyway, so later calls
//! return at once. [`OnceLock`] cannot: it has no value to give, so it stays empty, and the
//! next caller runs its own function (std's `OnceLock` does the same).

use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, Ordering};

use super::raw_mutex::RawMutex;
use crate::rt::registry::Reason;

/// Unlocks a `RawMutex` when dropped, on return or unwind.
struct Unlock<'a>(&'a RawMutex);

impl Drop for Unlock<'_> {
    fn drop(&mut self) {
        // SAFETY: an `Unlock` is made only right after its lock was taken.
        unsafe { self.0.unlock() };
    }
}

/// Runs a function exactly once, however many goroutines and threads ask.
///
/// Go: `sync.Once`. Callers that arrive while the function runs park until it has
/// finished, then return without running theirs.
///
/// If the function panics, the panic reaches the caller that ran it, and the `Once` is
/// done all the same, as in Go: later calls do not run their function. (std's `Once`
/// poisons instead.) Calling `call_once` on the same `Once` from inside the function
/// deadlocks, as in Go.
///
/// ```
/// use goro::sync::{Once, WaitGroup};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// static INIT: Once = Once::new();
/// static RUNS: AtomicUsize = AtomicUsize::new(0);
///
/// let wg = WaitGroup::new();
/// for _ in 0..10 {
///     wg.go(|| INIT.call_once(|| {
///         RUNS.fetch_add(1, Ordering::Relaxed);
///     }));
/// }
/// wg.wait();
/// assert_eq!(RUNS.load(Ordering::Relaxed), 1);
/// assert!(INIT.is_completed());
/// ```
pub struct Once {
    done: AtomicBool,
    lock: RawMutex,
}

/// Sets the `done` flag when dropped: Go's `defer o.done.Store(1)`.
struct MarkDone<'a>(&'a AtomicBool);

impl Drop for MarkDone<'_> {
    fn drop(&mut self) {
        // Release: pairs with the Acquire load in `call_once` and `is_completed`.
        self.0.store(true, Ordering::Release);
    }
}

impl Once {
    /// A `Once` that has not run. `const`, so it can initialise a `static`.
    ///
    /// ```
    /// use goro::sync::Once;
    ///
    /// static INIT: Once = Once::new();
    /// let mut runs = 0;
    /// INIT.call_once(|| runs += 1);
    /// INIT.call_once(|| runs += 1);
    /// assert_eq!(runs, 1);
    /// ```
    pub const fn new() -> Once {
        Once {
            done: AtomicBool::new(false),
            lock: RawMutex::new(),
        }
    }

    /// Runs `f` if no call on this `Once` has run one yet; otherwise waits until that run
    /// has finished, and returns.
    ///
    /// Go: `once.Do(f)`. When this returns, the function has run (or panicked), and what it
    /// wrote is visible to the caller.
    ///
    /// ```
    /// let once = goro::sync::Once::new();
    /// let mut calls = 0;
    /// once.call_once(|| calls += 1);
    /// once.call_once(|| calls += 1);
    /// assert_eq!(calls, 1);
    /// ```
    #[track_caller]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        // Acquire: pairs with the Release store of `MarkDone`.
        if !self.done.load(Ordering::Acquire) {
            self.call_once_slow(f);
        }
    }

    #[cold]
    #[track_caller]
    fn call_once_slow<F: FnOnce()>(&self, f: F) {
        self.lock.lock_as(Reason::OnceWait);
        let _unlock = Unlock(&self.lock);
        // Relaxed: `done` is only set under the lock, which we hold.
        if !self.done.load(Ordering::Relaxed) {
            // Dropped before `_unlock`, also when `f` panics: done, then unlocked.
            let _done = MarkDone(&self.done);
            f();
        }
    }

    /// Whether a call has finished running (or panicking in) its function.
    ///
    /// ```
    /// let once = goro::sync::Once::new();
    /// assert!(!once.is_completed());
    /// once.call_once(|| {});
    /// assert!(once.is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        // Acquire: pairs with the Release store of `MarkDone`.
        self.done.load(Ordering::Acquire)
    }
}

impl Default for Once {
    fn default() -> Once {
        Once::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("completed", &self.is_completed())
            .finish()
    }
}

/// A cell written at most once, whose concurrent initialisers park instead of spinning.
///
/// Go: `sync.OnceValue(f)`, or a `sync.Once` next to the variable it initialises. The API
/// is std's `OnceLock`: [`get_or_init`](Self::get_or_init) runs the first caller's
/// function while later callers park until the value is there.
///
/// If the function panics, the panic reaches its caller, the cell stays empty, and the next
/// caller runs its own function. (Go's `OnceValue` re-panics on every later call; a Rust
/// panic payload cannot be cloned.) Initialising the same cell from inside its own
/// initialiser deadlocks.
///
/// ```
/// use goro::sync::OnceLock;
///
/// static CONFIG: OnceLock<String> = OnceLock::new();
///
/// let handles: Vec<_> = (0..4)
///     .map(|_| goro::go(|| CONFIG.get_or_init(|| "loaded once".to_string()).len()))
///     .collect();
/// for h in handles {
///     assert_eq!(h.join().unwrap(), 11);
/// }
/// assert_eq!(CONFIG.get().map(String::as_str), Some("loaded once"));
/// ```
pub struct OnceLock<T> {
    done: AtomicBool,
    lock: RawMutex,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written once, under the lock, before `done` is published; after
// that it is only shared (`&T` on many threads: `T: Sync`), and the thread that writes it
// may not be the one that drops it (`T: Send`). The same bounds as std's `OnceLock`.
unsafe impl<T: Send + Sync> Sync for OnceLock<T> {}

impl<T> OnceLock<T> {
    /// An empty cell. `const`, so it can initialise a `static`.
    ///
    /// ```
    /// use goro::sync::OnceLock;
    ///
    /// static CONFIG: OnceLock<String> = OnceLock::new();
    /// assert_eq!(CONFIG.get_or_init(|| "debug".into()), "debug");
    /// assert_eq!(CONFIG.get_or_init(|| "release".into()), "debug");
    /// ```
    pub const fn new() -> OnceLock<T> {
        OnceLock {
            done: AtomicBool::new(false),
            lock: RawMutex::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The value, if it has been set.
    ///
    /// ```
    /// let cell = goro::sync::OnceLock::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set(7).unwrap();
    /// assert_eq!(cell.get(), Some(&7));
    /// ```
    pub fn get(&self) -> Option<&T> {
        // Acquire: pairs with the Release store in `initialize`.
        if self.done.load(Ordering::Acquire) {
            // SAFETY: `done` is set only after the value was written, and it is never
            // written again while shared.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }

    /// The value, through a unique borrow.
    ///
    /// ```
    /// let mut cell = goro::sync::OnceLock::from(1);
    /// *cell.get_mut().unwrap() += 1;
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if *self.done.get_mut() {
            // SAFETY: `done` says the value is initialised; `&mut self` is unique.
            Some(unsafe { self.value.get_mut().assume_init_mut() })
        } else {
            None
        }
    }

    /// Sets the value if the cell is empty; otherwise hands `value` back. Waits if another
    /// caller is initialising the cell.
    ///
    /// ```
    /// let cell = goro::sync::OnceLock::new();
    /// assert_eq!(cell.set(1), Ok(()));
    /// assert_eq!(cell.set(2), Err(2));
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        self.get_or_init(|| value.take().expect("taken once"));
        match value {
            None => Ok(()),
            Some(v) => Err(v),
        }
    }

    /// The value, running `f` to produce it if the cell is empty. Callers arriving while
    /// another caller's `f` runs park until it has finished.
    ///
    /// Go: calling the function returned by `sync.OnceValue(f)`.
    ///
    /// ```
    /// let cell = goro::sync::OnceLock::new();
    /// assert_eq!(*cell.get_or_init(|| 7), 7);
    /// assert_eq!(*cell.get_or_init(|| 8), 7);
    /// ```
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        if let Some(v) = self.get() {
            return v;
        }
        self.initialize(f);
        self.get().expect("initialised under the lock")
    }

    #[cold]
    fn initialize<F: FnOnce() -> T>(&self, f: F) {
        self.lock.lock_as(Reason::OnceWait);
        let _unlock = Unlock(&self.lock);
        // Relaxed: `done` is only set under the lock, which we hold.
        if !self.done.load(Ordering::Relaxed) {
            let value = f();
            // SAFETY: the cell is empty (`done` is clear) and we hold the lock, so nobody
            // else writes or reads the value now.
            unsafe { (*self.value.get()).write(value) };
            // Release: pairs with the Acquire load in `get`.
            self.done.store(true, Ordering::Release);
        }
    }

    /// Takes the value out, leaving the cell empty.
    ///
    /// ```
    /// let mut cell = goro::sync::OnceLock::from("v");
    /// assert_eq!(cell.take(), Some("v"));
    /// assert_eq!(cell.get(), None); // empty again: it can be set anew
    /// ```
    pub fn take(&mut self) -> Option<T> {
        if std::mem::replace(self.done.get_mut(), false) {
            // SAFETY: `done` said the value is initialised; clearing it first means it is
            // neither read nor dropped again.
            Some(unsafe { self.value.get_mut().assume_init_read() })
        } else {
            None
        }
    }

    /// Consumes the cell and returns its value, if set.
    ///
    /// ```
    /// let cell = goro::sync::OnceLock::new();
    /// cell.set(String::from("x")).unwrap();
    /// assert_eq!(cell.into_inner().as_deref(), Some("x"));
    /// ```
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }
}

impl<T> Drop for OnceLock<T> {
    fn drop(&mut self) {
        if *self.done.get_mut() {
            // SAFETY: `done` says the value is initialised, and it is dropped only here.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

impl<T> Default for OnceLock<T> {
    fn default() -> OnceLock<T> {
        OnceLock::new()
    }
}

impl<T> From<T> for OnceLock<T> {
    fn from(value: T) -> OnceLock<T> {
        let cell = OnceLock::new();
        let _ = cell.set(value);
        cell
    }
}

impl<T: Clone> Clone for OnceLock<T> {
    fn clone(&self) -> OnceLock<T> {
        match self.get() {
            Some(v) => OnceLock::from(v.clone()),
            None => OnceLock::new(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("OnceLock");
        match self.get() {
            Some(v) => d.field(v),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::Arc;

    #[test]
    fn once_lock_drops_its_value_once() {
        let v = Arc::new(());
        let cell = OnceLock::new();
        cell.set(v.clone()).unwrap();
        assert_eq!(Arc::strong_count(&v), 2);
        let mut cell2 = OnceLock::new();
        cell2.set(v.clone()).unwrap();
        assert!(cell2.take().is_some());
        assert!(cell2.get().is_none());
        drop(cell2);
        assert_eq!(Arc::strong_count(&v), 2);
        drop(cell);
        assert_eq!(Arc::strong_count(&v), 1);
    }

    #[test]
    fn once_lock_panicking_initialiser_leaves_it_empty() {
        let cell: OnceLock<u32> = OnceLock::new();
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            cell.get_or_init(|| panic!("init failed"));
        }));
        assert!(r.is_err());
        assert!(cell.get().is_none());
        assert!(!cell.lock.is_locked(), "the lock is released on unwind");
        assert_eq!(*cell.get_or_init(|| 3), 3);
    }
}
