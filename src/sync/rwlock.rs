//! `RwLock<T>`: a reader/writer lock that parks goroutines, with writer preference.
//!
//! # Overview
//!
//! The design of Go's `sync.RWMutex`: a [`RawMutex`] that writers take among themselves,
//! two semaphores (one that a writer sleeps on while readers drain, one that readers sleep
//! on while a writer is pending or holds the lock), and two counters:
//!
//! - `readers`: the number of readers holding or waiting for the lock, minus
//!   [`MAX_READERS`] while a writer is pending or holds it. Its sign says whether a writer
//!   is in; taking a read lock is one `fetch_add` when it is not.
//! - `departing`: how many of the readers that held the lock when the pending writer
//!   arrived have not left yet. The last of them to leave wakes the writer.
//!
//! # The protocol
//!
//! `read`: add 1 to `readers`. If the result is negative, a writer is pending or holds the
//! lock: park on `reader_sem` until its `write` unlock releases us.
//!
//! read unlock: subtract 1 from `readers`. If the result is negative, a writer is waiting
//! for the readers that were in when it arrived: subtract 1 from `departing`, and if that
//! reaches 0, release `writer_sem`.
//!
//! `write`:
//! 1. take the writer mutex (one writer at a time; it is fair, see `mutex.rs`);
//! 2. subtract `MAX_READERS` from `readers`: from now on new readers park. The value it
//!    had is the number `r` of readers still inside;
//! 3. if `r > 0`, add `r` to `departing`; if the sum is not 0, park on `writer_sem`.
//!
//! write unlock:
//! 1. add `MAX_READERS` back to `readers`; the result `r` is the number of readers that
//!    arrived while we held the lock and are parked (or about to park) on `reader_sem`;
//! 2. release `r` tokens of `reader_sem`;
//! 3. unlock the writer mutex.
//!
//! # The races, both sides
//!
//! - *A reader leaves between the writer's step 2 and step 3.* Its subtraction makes
//!   `readers` negative, so it subtracts 1 from `departing` before the writer adds `r`;
//!   `departing` is briefly negative, and the writer's addition lands on 0 for the last
//!   one: the writer does not park. If the writer's addition comes first, the last reader's
//!   subtraction lands on 0 and releases `writer_sem`, whose token waits for the writer if
//!   it has not parked yet.
//! - *A reader arrives after the writer's unlock step 1 but before step 2.* `readers` is
//!   positive again: it enters without parking. It was not counted in `r`.
//! - *A reader counted in `r` has not parked on `reader_sem` yet.* Its token waits for it.
//! - *A second writer arrives while readers that the first writer released are inside.*
//!   It holds the writer mutex after the first writer's step 3, and its step 2 counts
//!   those readers: it waits for them. So readers released by a writer run before the next
//!   writer, and a steady stream of writers cannot starve readers; a pending writer blocks
//!   new readers, so a steady stream of readers cannot starve writers.
//!
//! Memory ordering: every read unlock subtracts with Release, and the writer's step 2 is an
//! Acquire read-modify-write of the same counter (all changes to it are read-modify-writes,
//! so it synchronises with every earlier reader); readers still inside then hand over
//! through `departing` (AcqRel) and `writer_sem`. The write unlock adds with Release, which
//! later readers' Acquire addition reads; parked readers are handed over by `reader_sem`.
//!
//! # Rejected designs
//!
//! - Reader preference (readers enter whenever no writer *holds* the lock): simple, but a
//!   steady stream of overlapping readers starves writers forever.
//! - One state word with reader count and writer bits (std's futex `RwLock`): that lock
//!   blocks threads; the parking version would need its own queueing of readers and writers,
//!   while Go's split reuses the fair mutex and the semaphore.
//!
//! A consequence of writer preference, as in Go: taking a read lock while already holding
//! one can deadlock if a writer arrives in between. Do not nest read locks.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI64, Ordering};

use super::raw_mutex::RawMutex;
use super::sema::Sema;
use crate::rt::registry::Reason;

/// The offset a writer subtracts from `readers`; also the bound on readers.
const MAX_READERS: i64 = 1 << 62;
/// Readers beyond this can only come from leaked guards (`mem::forget`) by the quintillion;
/// stop before the count could reach the writer's offset.
const READERS_LIMIT: i64 = MAX_READERS / 2;

/// A reader/writer lock protecting a `T`, that parks goroutines while they wait.
///
/// Go: `sync.RWMutex`. Any number of readers ([`read`](Self::read)) or one writer
/// ([`write`](Self::write)) at a time; dropping a guard is Go's `RUnlock` / `Unlock`.
/// Waiting parks a goroutine (its worker runs other goroutines) or blocks a thread, and
/// guards may be held across blocking calls.
///
/// **Writer preference**, as in Go: once a writer waits, new readers wait too, until that
/// writer has had its turn; readers that arrived during a writer's turn go in before the
/// next writer. So neither side starves. It follows that a goroutine must not take a read
/// lock while it already holds one: a writer arriving in between would deadlock both.
///
/// **No poisoning**, not reentrant, guards are `Send` (see [`Mutex`](super::Mutex)).
///
/// ```
/// use goro::sync::RwLock;
/// use std::sync::Arc;
///
/// let config = Arc::new(RwLock::new(String::from("v1")));
/// let readers: Vec<_> = (0..4)
///     .map(|_| {
///         let config = config.clone();
///         goro::go(move || config.read().len())
///     })
///     .collect();
/// config.write().push_str("-patched");
/// for r in readers {
///     let n = r.join().unwrap();
///     assert!(n == 2 || n == 10);
/// }
/// assert_eq!(*config.read(), "v1-patched");
/// ```
pub struct RwLock<T: ?Sized> {
    writer: RawMutex,
    writer_sem: Sema,
    reader_sem: Sema,
    readers: AtomicI64,
    departing: AtomicI64,
    data: UnsafeCell<T>,
}

// SAFETY: readers on several threads share `&T` (needs `T: Sync`); a writer on any thread
// gets `&mut T` (needs `T: Send`), as for `std::sync::RwLock`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Shared access to an [`RwLock`]'s data; releases the read lock when dropped.
///
/// Go: the stretch between `rw.RLock()` and `rw.RUnlock()`.
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _not_auto: PhantomData<*const ()>,
}

/// Exclusive access to an [`RwLock`]'s data; releases the write lock when dropped.
///
/// Go: the stretch between `rw.Lock()` and `rw.Unlock()`.
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _not_auto: PhantomData<*const ()>,
}

// SAFETY: a guard sent to another thread uses the lock from there (the lock is `Sync` for
// these bounds) and releases it there; the lock is not owned by a thread.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: a shared read guard only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: as for the read guard; the writer's `&mut T` moves with it (`T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: a shared write guard only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`. `const`, so it can initialise a `static`.
    ///
    /// ```
    /// use goro::sync::RwLock;
    ///
    /// static TABLE: RwLock<Vec<u32>> = RwLock::new(Vec::new());
    /// TABLE.write().push(1);
    /// assert_eq!(TABLE.read().len(), 1);
    /// ```
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            writer: RawMutex::new(),
            writer_sem: Sema::new(),
            reader_sem: Sema::new(),
            readers: AtomicI64::new(0),
            departing: AtomicI64::new(0),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the data.
    ///
    /// ```
    /// let lock = goro::sync::RwLock::new(String::from("a"));
    /// lock.write().push('b');
    /// assert_eq!(lock.into_inner(), "ab");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Takes a read lock, parking while a writer holds the lock or waits for it.
    ///
    /// Go: `rw.RLock()`.
    ///
    /// ```
    /// let rw = goro::sync::RwLock::new(5);
    /// let (a, b) = (rw.read(), rw.read());
    /// assert_eq!(*a + *b, 10);
    /// ```
    #[track_caller]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        // Acquire: pairs with the Release addition in `write_unlock`: the last writer's
        // changes are visible to a reader that enters without parking.
        let r = self.readers.fetch_add(1, Ordering::Acquire) + 1;
        check_readers(r);
        if r < 0 {
            // A writer is pending or inside; its unlock releases one token per reader
            // counted while it was there, this one included.
            self.reader_sem.acquire(false, Reason::RwLockRLock);
        }
        RwLockReadGuard {
            lock: self,
            _not_auto: PhantomData,
        }
    }

    /// Takes a read lock if that needs no waiting (no writer holds or waits for it).
    ///
    /// Go: `rw.TryRLock()`.
    ///
    /// ```
    /// let lock = goro::sync::RwLock::new(0);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_some()); // readers share the lock
    /// drop(r);
    /// let w = lock.write();
    /// assert!(lock.try_read().is_none());
    /// drop(w);
    /// ```
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let mut r = self.readers.load(Ordering::Relaxed);
        loop {
            if r < 0 {
                return None;
            }
            check_readers(r + 1);
            // Acquire: as in `read`.
            match self
                .readers
                .compare_exchange_weak(r, r + 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => {
                    return Some(RwLockReadGuard {
                        lock: self,
                        _not_auto: PhantomData,
                    })
                }
                Err(cur) => r = cur,
            }
        }
    }

    /// Takes the write lock, parking until no other writer holds it and every reader
    /// inside has left. New readers wait from the moment this call starts waiting for
    /// readers.
    ///
    /// Go: `rw.Lock()`.
    ///
    /// ```
    /// let rw = goro::sync::RwLock::new(vec![1]);
    /// rw.write().push(2);
    /// assert_eq!(*rw.read(), [1, 2]);
    /// ```
    #[track_caller]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.writer.lock_as(Reason::RwLockLock);
        // AcqRel: Release orders our taking of the writer mutex before readers that see the
        // negative count; Acquire pairs with the Release subtraction of every reader that
        // already left.
        let r = self.readers.fetch_sub(MAX_READERS, Ordering::AcqRel);
        // AcqRel: Acquire pairs with the Release subtractions of readers that left after
        // our subtraction above (if ours lands on 0, they are all gone); Release lets the
        // last departing reader's Acquire see it.
        if r != 0 && self.departing.fetch_add(r, Ordering::AcqRel) + r != 0 {
            self.writer_sem.acquire(false, Reason::RwLockLock);
        }
        RwLockWriteGuard {
            lock: self,
            _not_auto: PhantomData,
        }
    }

    /// Takes the write lock if that needs no waiting (no reader or writer inside, no
    /// writer waiting).
    ///
    /// Go: `rw.TryLock()`.
    ///
    /// ```
    /// let lock = goro::sync::RwLock::new(0);
    /// let r = lock.read();
    /// assert!(lock.try_write().is_none()); // a reader is inside
    /// drop(r);
    /// *lock.try_write().unwrap() = 1;
    /// assert_eq!(*lock.read(), 1);
    /// ```
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        if !self.writer.try_lock() {
            return None;
        }
        // Acquire: as the subtraction in `write`, for a lock with no reader inside.
        if self
            .readers
            .compare_exchange(0, -MAX_READERS, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // SAFETY: taken by `try_lock` just above.
            unsafe { self.writer.unlock() };
            return None;
        }
        Some(RwLockWriteGuard {
            lock: self,
            _not_auto: PhantomData,
        })
    }

    /// Whether a writer holds the lock or waits for readers to leave (a snapshot).
    ///
    /// ```
    /// let lock = goro::sync::RwLock::new(());
    /// let r = lock.read();
    /// assert!(!lock.is_locked_exclusive());
    /// drop(r);
    /// let w = lock.write();
    /// assert!(lock.is_locked_exclusive());
    /// drop(w);
    /// ```
    pub fn is_locked_exclusive(&self) -> bool {
        self.readers.load(Ordering::Relaxed) < 0
    }

    /// The data, through a unique borrow: no locking needed.
    ///
    /// ```
    /// let mut lock = goro::sync::RwLock::new(1);
    /// *lock.get_mut() += 1; // `&mut self`: no locking needed
    /// assert_eq!(*lock.read(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    fn read_unlock(&self) {
        // Release: pairs with the Acquire subtraction in `write` (and its `departing`).
        let r = self.readers.fetch_sub(1, Ordering::Release) - 1;
        if r < 0 {
            self.read_unlock_slow(r);
        }
    }

    #[cold]
    fn read_unlock_slow(&self, r: i64) {
        debug_assert!(
            r != -1 && r != -MAX_READERS - 1,
            "goro: read unlock of unlocked RwLock"
        );
        // A writer waits for the readers that were inside when it came; we are one.
        // AcqRel: Release pairs with the writer's Acquire addition, or with the last
        // departing reader's Acquire; Acquire lets the last one pass every other reader's
        // release on to the writer through `writer_sem`.
        if self.departing.fetch_sub(1, Ordering::AcqRel) - 1 == 0 {
            self.writer_sem.release();
        }
    }

    /// # Safety
    ///
    /// The write lock is held and given up here.
    unsafe fn write_unlock(&self) {
        // Release: pairs with the Acquire addition in `read` of readers that enter after
        // this; readers parked meanwhile are handed over by `reader_sem`.
        let r = self.readers.fetch_add(MAX_READERS, Ordering::Release) + MAX_READERS;
        debug_assert!(
            (0..READERS_LIMIT).contains(&r),
            "goro: write unlock of unlocked RwLock"
        );
        for _ in 0..r {
            self.reader_sem.release();
        }
        // SAFETY: the writer mutex was taken by `write`/`try_write` for this guard.
        unsafe { self.writer.unlock() };
    }
}

/// Aborts if the reader count (`r` after an increment) left the range leaked guards
/// could ever reach in practice: past it, the count would run into the writer's offset.
#[inline]
fn check_readers(r: i64) {
    let readers = if r < 0 { r + MAX_READERS } else { r };
    if readers >= READERS_LIMIT {
        too_many_readers();
    }
}

#[cold]
fn too_many_readers() -> ! {
    eprintln!("goro: RwLock reader count overflow (leaked read guards); aborting");
    std::process::abort();
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: a read lock is held: only shared access to the data exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.read_unlock();
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the write lock is held: no other access to the data exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the write lock is held, and `&mut self` makes this the only access.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the guard holds the write lock and gives it up here, once.
        unsafe { self.lock.write_unlock() };
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_after_uncontended_use() {
        let rw = RwLock::new(());
        {
            let _a = rw.read();
            let _b = rw.try_read().unwrap();
            assert_eq!(rw.readers.load(Ordering::Relaxed), 2);
            assert!(rw.try_write().is_none());
        }
        {
            let _w = rw.write();
            assert_eq!(rw.readers.load(Ordering::Relaxed), -MAX_READERS);
            assert!(rw.try_read().is_none());
            assert!(rw.try_write().is_none());
            assert!(rw.is_locked_exclusive());
        }
        assert_eq!(rw.readers.load(Ordering::Relaxed), 0);
        assert_eq!(rw.departing.load(Ordering::Relaxed), 0);
        assert!(!rw.writer.is_locked());
    }

    #[test]
    fn pending_writer_blocks_try_read() {
        // A reader is inside; a writer thread waits for it; new readers must not enter.
        let rw = std::sync::Arc::new(RwLock::new(0));
        let r = rw.read();
        let rw2 = rw.clone();
        let t = std::thread::spawn(move || *rw2.write() += 1);
        while !rw.is_locked_exclusive() {
            std::thread::yield_now();
        }
        assert!(rw.try_read().is_none());
        drop(r);
        t.join().unwrap();
        assert_eq!(*rw.read(), 1);
        assert_eq!(rw.departing.load(Ordering::Relaxed), 0);
    }
}
