//! Parked lock waiters, linked through their own stacks.
//!
//! # Overview
//!
//! Every goro lock that has to wait ends up here. A waiter builds a [`Waiter`] on its own
//! stack, pins it, links it into a [`WaitList`] under the lock that owns the list, releases
//! that lock and parks until the waiter is marked woken. A waker, holding the same lock,
//! unlinks the head waiter with [`WaitList::pop_front`], which hands back a [`Wake`] to
//! unpark after the lock is released. No allocation happens on either side: the list is
//! intrusive, and the waiter's frame is its node.
//!
//! # Invariants
//!
//! - A waiter is linked in at most one list, and only while its owner is parked in
//!   [`Waiter::wait`] (or about to be): the owner's frame outlives the link.
//! - `next` is read and written only by whoever has exclusive access to the list the
//!   waiter is in (the list's lock, or a list detached from its owner by `mem::take`).
//! - `unparker` is taken exactly once, by the waker that unlinks the waiter, before it
//!   sets `woken`.
//! - `woken` goes from false to true once, after the waiter has been unlinked and the waker
//!   has finished with it. From then on the owner may return and its frame may disappear:
//!   the waker touches nothing of the waiter after that store, and before it reaches the
//!   waiter only through the list's raw pointers (the rule in `rt::park`'s docs, "Handing
//!   a waiter over").
//!
//! # The wake-up, step by step
//!
//! ```text
//! owner                                   waker
//! -----                                   -----
//! 1. lock the list; push(&waiter); unlock
//!                                         2. lock the list; pop_front():
//!                                            a. unlink the waiter, read `next`
//!                                            b. take its `unparker`
//!                                            c. store woken = true (Release)
//!                                         3. unlock the list; unparker.unpark()
//! 4. park() until woken (Acquire), return
//! ```
//!
//! The owner cannot miss the wake-up: if step 3 runs before the owner parks, the unpark
//! leaves a token and `park` returns at once; the loop then sees `woken`. If the owner sees
//! `woken` early (between 2c and 3), it returns, and the late unpark only leaves a token
//! that a later `park` of the same goroutine or thread absorbs as a spurious wake-up, which
//! every park loop tolerates.
//!
//! # Rejected designs
//!
//! - A `VecDeque` of waiter pointers (as the channel queues use): it keeps its largest
//!   buffer forever, so a lock that once had 100,000 waiters would hold 800 KB. Linking
//!   through the waiters costs nothing when nobody waits.
//! - Allocating each waiter (`Arc`): one allocation per contended lock, for no gain, since a
//!   lock waiter never leaves its list on its own (no timeouts here; the semaphore, which
//!   can be cancelled, keeps its own queue).

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::rt::park::{self, Unparker};
use crate::rt::registry::Reason;

/// One parked goroutine or thread, living on its own stack while it waits.
pub(crate) struct Waiter {
    /// The next waiter in the list; guarded by the list's owner (module invariants).
    next: Cell<*const Waiter>,
    /// Who to wake; taken by the waker that unlinks this waiter.
    unparker: UnsafeCell<Option<Unparker>>,
    /// Set (Release) by the waker once it is done with this waiter.
    woken: AtomicBool,
    /// Whether this waiter was ever linked; touched only by its owner.
    linked: Cell<bool>,
    /// What it waits for, in a list shared by several things (`WaitList::pop_key`); 0
    /// in a list of its own.
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    key: usize,
    /// The list points at the waiter: it must not move.
    _pinned: PhantomPinned,
}

impl Waiter {
    /// A waiter for the calling goroutine or thread.
    pub(crate) fn new() -> Waiter {
        Waiter::keyed(0)
    }

    /// A waiter for the calling goroutine or thread, waiting for the thing named `key` in a
    /// list shared by several (see [`WaitList::pop_key`]; the sockets' turns use them).
    pub(crate) fn keyed(key: usize) -> Waiter {
        Waiter {
            next: Cell::new(ptr::null()),
            unparker: UnsafeCell::new(Some(Unparker::current())),
            woken: AtomicBool::new(false),
            linked: Cell::new(false),
            key,
            _pinned: PhantomPinned,
        }
    }

    /// Parks until a waker has unlinked this waiter.
    #[track_caller]
    pub(crate) fn wait(self: Pin<&Self>, reason: Reason) {
        let at = std::panic::Location::caller();
        // Acquire: pairs with the Release store in `WaitList::pop_front`, so everything the
        // waker did before waking us (handing over a lock) is visible after this returns.
        while !self.woken.load(Ordering::Acquire) {
            park::park_as(reason, at);
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        // A waiter leaving while still linked would leave a dangling pointer in the list.
        // `wait` only returns once woken, so this can only happen if a park unwound; there
        // is no safe way to continue then.
        // Relaxed: only a sanity check; nothing is read after it.
        if self.linked.get() && !self.woken.load(Ordering::Relaxed) {
            eprintln!("goro: a lock waiter was dropped while still queued; aborting");
            std::process::abort();
        }
    }
}

/// Wakes a waiter unlinked by [`WaitList::pop_front`]; call it after releasing the lock
/// that guards the list, to keep that critical section short.
#[must_use = "the waiter stays parked unless it is woken"]
pub(crate) struct Wake(Unparker);

impl Wake {
    pub(crate) fn wake(self) {
        self.0.unpark();
    }
}

/// A FIFO of parked waiters (that may also be entered at the front).
pub(crate) struct WaitList {
    head: *const Waiter,
    tail: *const Waiter,
}

// SAFETY: the list only holds pointers to waiters whose owners are parked until unlinked;
// they are dereferenced only by whoever has exclusive access to the list (module
// invariants), from whichever thread that is. The waiters' `Unparker`s are `Send`.
unsafe impl Send for WaitList {}

impl WaitList {
    pub(crate) const fn new() -> WaitList {
        WaitList {
            head: ptr::null(),
            tail: ptr::null(),
        }
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_null()
    }

    /// How many waiters are linked (walks the list).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let mut n = 0;
        let mut p = self.head;
        while !p.is_null() {
            n += 1;
            // SAFETY: linked waiters are valid while we have the list (module invariants).
            p = unsafe { (*p).next.get() };
        }
        n
    }

    /// Links `w` at the back.
    ///
    /// # Safety
    ///
    /// `w` is not in any list, and its owner calls [`Waiter::wait`] on it after releasing
    /// the lock that guards this list (so `w` stays valid until a waker unlinks it).
    pub(crate) unsafe fn push_back(&mut self, w: Pin<&Waiter>) {
        w.linked.set(true);
        w.next.set(ptr::null());
        let w: *const Waiter = &*w;
        if self.tail.is_null() {
            self.head = w;
        } else {
            // SAFETY: `tail` is a linked waiter (valid by this function's contract), and we
            // have exclusive access to the list.
            unsafe { (*self.tail).next.set(w) };
        }
        self.tail = w;
    }

    /// Links `w` at the front, ahead of every other waiter.
    ///
    /// # Safety
    ///
    /// As for [`push_back`](Self::push_back).
    pub(crate) unsafe fn push_front(&mut self, w: Pin<&Waiter>) {
        w.linked.set(true);
        w.next.set(self.head);
        let w: *const Waiter = &*w;
        if self.head.is_null() {
            self.tail = w;
        }
        self.head = w;
    }

    /// Unlinks the oldest waiter and marks it woken; the returned [`Wake`] unparks it.
    pub(crate) fn pop_front(&mut self) -> Option<Wake> {
        let w = self.head;
        if w.is_null() {
            return None;
        }
        // SAFETY: `w` is linked, so its owner is parked in `wait` and its frame is valid
        // until we mark it woken (module invariants); we have exclusive access to the list.
        unsafe {
            self.head = (*w).next.get();
            if self.head.is_null() {
                self.tail = ptr::null();
            }
            Some(Self::woken(w))
        }
    }

    /// Unlinks the oldest waiter whose key is `key` and marks it woken; the returned
    /// [`Wake`] unparks it, and the flag says whether another waiter with that key is
    /// still linked. For a list shared by several things (Go's `semtable`): it walks the
    /// waiters of the others.
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    pub(crate) fn pop_key(&mut self, key: usize) -> Option<(Wake, bool)> {
        let mut prev: *const Waiter = ptr::null();
        let mut w = self.head;
        // SAFETY: every waiter reached from `head` is linked, hence valid until we mark it
        // woken (module invariants), and we have exclusive access to the list.
        unsafe {
            while !w.is_null() && (*w).key != key {
                prev = w;
                w = (*w).next.get();
            }
            if w.is_null() {
                return None;
            }
            let next = (*w).next.get();
            if prev.is_null() {
                self.head = next;
            } else {
                (*prev).next.set(next);
            }
            if self.tail == w {
                self.tail = prev;
            }
            let mut rest = next;
            while !rest.is_null() && (*rest).key != key {
                rest = (*rest).next.get();
            }
            Some((Self::woken(w), !rest.is_null()))
        }
    }

    /// Takes the unparker of `w`, just unlinked, and marks it woken.
    ///
    /// # Safety
    ///
    /// `w` was linked until now (so it is valid, module invariants) and the caller has
    /// exclusive access to the list it was in; `w` is not touched again afterwards.
    unsafe fn woken(w: *const Waiter) -> Wake {
        // SAFETY: the unparker is taken only here, once, by the waker that unlinked `w`.
        let unparker =
            unsafe { (*(*w).unparker.get()).take() }.expect("a queued waiter has its unparker");
        // Release: pairs with the Acquire load in `Waiter::wait`. After this store the
        // owner may return: `w` must not be touched again.
        // SAFETY: the caller's contract; this is the last access.
        unsafe { (*w).woken.store(true, Ordering::Release) };
        Wake(unparker)
    }
}

impl Default for WaitList {
    fn default() -> WaitList {
        WaitList::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::sync::Arc;

    #[test]
    fn pop_key_takes_the_oldest_of_its_key() {
        let a1 = pin!(Waiter::keyed(1));
        let b1 = pin!(Waiter::keyed(2));
        let a2 = pin!(Waiter::keyed(1));
        let b2 = pin!(Waiter::keyed(2));
        let mut list = WaitList::new();
        // SAFETY: the waiters outlive the list's use of them; each is popped (woken) below
        // before it is dropped.
        unsafe {
            for w in [&a1, &b1, &a2, &b2] {
                list.push_back(w.as_ref());
            }
        }
        let woken = |w: &Pin<&mut Waiter>| w.woken.load(Ordering::Relaxed);
        assert!(list.pop_key(3).is_none());
        let (_, more) = list.pop_key(2).unwrap();
        assert!(more && woken(&b1) && !woken(&b2));
        let (_, more) = list.pop_key(2).unwrap();
        assert!(!more && woken(&b2));
        assert!(list.pop_key(2).is_none());
        // The tail moved back to `a2` when `b2` left: a new waiter links after it.
        let a3 = pin!(Waiter::keyed(1));
        // SAFETY: as above.
        unsafe { list.push_back(a3.as_ref()) };
        assert_eq!(list.len(), 3);
        let (_, more) = list.pop_key(1).unwrap();
        assert!(more && woken(&a1) && !woken(&a2));
        let (_, more) = list.pop_key(1).unwrap();
        assert!(more && woken(&a2));
        let (_, more) = list.pop_key(1).unwrap();
        assert!(!more && woken(&a3) && list.is_empty());
    }

    #[test]
    fn fifo_with_front_entry() {
        // Waiters of the calling thread; popping marks them woken without parking.
        let a = pin!(Waiter::new());
        let b = pin!(Waiter::new());
        let c = pin!(Waiter::new());
        let mut list = WaitList::new();
        // SAFETY: the waiters outlive the list's use of them; each is popped (woken) below
        // before it is dropped.
        unsafe {
            list.push_back(a.as_ref());
            list.push_back(b.as_ref());
            list.push_front(c.as_ref());
        }
        let order: Vec<bool> = [&a, &b, &c]
            .iter()
            .map(|w| w.woken.load(Ordering::Relaxed))
            .collect();
        assert_eq!(order, [false, false, false]);
        let _ = list.pop_front().unwrap();
        assert!(c.woken.load(Ordering::Relaxed) && !a.woken.load(Ordering::Relaxed));
        let _ = list.pop_front().unwrap();
        assert!(a.woken.load(Ordering::Relaxed) && !b.woken.load(Ordering::Relaxed));
        let _ = list.pop_front().unwrap();
        assert!(b.woken.load(Ordering::Relaxed));
        assert!(list.pop_front().is_none());
        assert!(list.is_empty());
    }

    #[test]
    fn wakes_a_parked_thread() {
        let list = Arc::new(std::sync::Mutex::new(WaitList::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let l2 = list.clone();
        let t = std::thread::spawn(move || {
            let w = pin!(Waiter::new());
            // SAFETY: `wait` follows, and returns only once the main thread popped `w`.
            unsafe { l2.lock().unwrap().push_back(w.as_ref()) };
            tx.send(()).unwrap();
            w.as_ref().wait(Reason::None);
        });
        rx.recv().unwrap();
        let wake = list
            .lock()
            .unwrap()
            .pop_front()
            .expect("the thread is queued");
        wake.wake();
        t.join().unwrap();
    }
}
