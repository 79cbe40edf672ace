//! Blocked channel operations: [`Waiter`] and its queue.
//!
//! A goroutine (or thread) that must block on a channel builds a `Waiter` on its own stack,
//! links it into the channel's queue under the channel lock, unlocks, and parks until the
//! waiter's `state` leaves `WAITING`. The waker, holding the channel lock, unlinks it and
//! moves the value through `elem` (Go's `sudog.elem`: a pointer to the sender's value or to
//! the receiver's destination, both in the blocked operation's own frame, so the value is
//! copied once, from stack to stack); after unlocking, it publishes the final `state` (Release)
//! and unparks the waiter ([`Wake`]). Publishing outside the lock keeps the wake-up's
//! atomic work on the goroutine off the channel's critical section. Once `state` is set the
//! waiter may return and its stack frame is gone, so the waker touches nothing of it after
//! that store, and reaches it through raw pointers only (the rule in `rt::park`'s docs,
//! "Handing a waiter over"; `WaiterRef::wake_with` also keeps the goroutine itself
//! reachable).
//!
//! So a waiter that is no longer linked is not done until its `state` says so: one that
//! gives up (a deadline) takes the channel lock and unlinks itself; if it finds itself
//! already unlinked, a waker has it, and it waits for the state the waker is about to
//! publish ([`Waiter::completed`]). Either way no pointer to the waiter survives its return.
//!
//! A `select` links one waiter per case, all sharing one [`Token`]. A waker that unlinks
//! such a waiter must first *claim* the token (CAS `selected` from `NONE` to the waiter's
//! case): only the first claim wins, so exactly one case of a select takes effect. A waiter
//! whose token another case has claimed is dropped from the queue and skipped; its select
//! unlinks the rest itself.
//!
//! On a lock-free channel (see `flavor/lockfree.rs`) values never travel through waiters: a
//! waker only completes a waiter as `NOTIFIED`, and the waiter looks at the buffer again.
//!
//! `tests/loom_waiter.rs` model-checks these queues (plain and select waiters, wakers,
//! close) with loom.

use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::ptr;
use std::time::Instant;

// Through the loom seam (`crate::loom`): the model test `tests/loom_waiter.rs` compiles this
// file on its own with loom's atomics, and with its own stand-in for `rt::park`.
use crate::loom::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use crate::rt::park::{self, WaiterRef};
use crate::rt::registry::Reason;

/// Still linked in a queue.
pub(crate) const WAITING: u8 = 0;
/// The operation happened (a value was handed over).
pub(crate) const DONE: u8 = 1;
/// The channel was closed under the waiter.
pub(crate) const CLOSED: u8 = 2;
/// The channel's buffer changed (a value arrived, or room appeared): a waiter of a ring
/// channel, which carries no value, looks again.
pub(crate) const NOTIFIED: u8 = 3;

/// No case of the select has been chosen yet.
pub(crate) const NONE: usize = usize::MAX;
/// The select's deadline passed first: no case can be chosen any more.
const TIMED_OUT: usize = usize::MAX - 1;
/// A future case of the select was woken first: the select looks at every case again
/// (`select::passes_with_futures`).
pub(crate) const REPOLL: usize = usize::MAX - 2;

/// The shared state of one blocked `select`: which case won.
pub struct Token {
    selected: AtomicUsize,
    /// The selecting goroutine or thread; shared by all its waiters.
    unparker: WaiterRef,
}

impl Token {
    pub(crate) fn new() -> Token {
        Token {
            selected: AtomicUsize::new(NONE),
            unparker: WaiterRef::current(),
        }
    }

    /// Claims the select for `case`; false if another case (or the timeout) has it.
    #[inline]
    pub(crate) fn claim(&self, case: usize) -> bool {
        // AcqRel: the winner's claim is ordered before the completion it makes next, and
        // after a losing claimer's view of the select; pairs with `selected`.
        self.selected
            .compare_exchange(NONE, case, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Ends a select whose deadline passed: claims it for no case, so that no waker can
    /// choose one from now on. False if a case won first.
    pub(crate) fn time_out(&self) -> bool {
        self.claim(TIMED_OUT)
    }

    /// Ends a select's wait because one of its futures was woken: claims it for no case
    /// (`REPOLL`), so that no waker can choose one until the select looks again. False if
    /// a case won first.
    pub(crate) fn repoll(&self) -> bool {
        self.claim(REPOLL)
    }

    /// The winning case, `NONE`, or an internal value once timed out (`time_out`).
    pub(crate) fn selected(&self) -> usize {
        // Acquire: pairs with the AcqRel CAS in `claim`.
        self.selected.load(Ordering::Acquire)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("selected", &self.selected())
            .finish()
    }
}

/// One blocked send or receive, of a channel of any element type (`elem` is typed by the
/// queue it is linked in, `Queue<T>`): a select keeps its cases' waiters in one array of
/// its own frame, whatever their channels carry.
pub struct Waiter {
    /// Who to wake; `None` for a select's waiter, which wakes through its token. Written
    /// at creation, and by the owner of an async waiter while it is linked, under the
    /// channel lock (`replace_unparker`); read by a waker that has unlinked it.
    unparker: UnsafeCell<Option<WaiterRef>>,
    /// The select this waiter belongs to (null for a plain operation), and its case.
    token: *const Token,
    case: usize,
    /// Go's `sudog.elem`: a sender's value, which the receiver moves out; or the receiver's
    /// destination, which the sender fills. It points into the blocked operation's frame,
    /// which outlives the waiter. The waker touches it only while the waiter is linked
    /// (under the channel lock); the owner only once `state` says it is not. Null for a
    /// waiter of a lock-free channel, which carries no value.
    elem: *mut (),
    state: AtomicU8,
    /// The queue links (an intrusive list: linking a waiter allocates nothing), and whether
    /// it is linked. Touched only under the channel lock.
    prev: Cell<*const Waiter>,
    next: Cell<*const Waiter>,
    linked: Cell<bool>,
}

impl Waiter {
    /// A waiter for a plain operation whose value is at (or goes to) `elem`; see the field.
    pub(crate) fn new<T>(elem: *mut T) -> Waiter {
        Waiter::with_unparker(elem, WaiterRef::current())
    }

    /// A waiter for a plain operation that `who` waits for (an async task's waker, see
    /// `chan::future`).
    pub(crate) fn with_unparker<T>(elem: *mut T, who: WaiterRef) -> Waiter {
        Waiter {
            unparker: UnsafeCell::new(Some(who)),
            token: std::ptr::null(),
            case: 0,
            elem: elem.cast(),
            state: AtomicU8::new(WAITING),
            prev: Cell::new(ptr::null()),
            next: Cell::new(ptr::null()),
            linked: Cell::new(false),
        }
    }

    /// A waiter for case `case` of a select waiting on `token`, which must outlive it.
    pub(crate) fn for_select<T>(elem: *mut T, token: &Token, case: usize) -> Waiter {
        Waiter {
            unparker: UnsafeCell::new(None),
            token,
            case,
            elem: elem.cast(),
            state: AtomicU8::new(WAITING),
            prev: Cell::new(ptr::null()),
            next: Cell::new(ptr::null()),
            linked: Cell::new(false),
        }
    }

    /// Claims this waiter's select, if it belongs to one; plain waiters always succeed.
    #[inline]
    fn claim(&self) -> bool {
        // SAFETY: a select's token outlives its linked waiters (it unlinks them all, under
        // the channel locks, before it returns).
        self.token.is_null() || unsafe { (*self.token).claim(self.case) }
    }

    /// Points the waiter at its value's place, before it is ever linked (an async waiter
    /// whose place is in the same heap block, known only once the block is allocated).
    pub(crate) fn set_elem<T>(&mut self, elem: *mut T) {
        debug_assert!(!self.linked.get());
        self.elem = elem.cast();
    }

    /// Whether the waiter is linked in a queue. Only meaningful under the channel lock.
    #[inline]
    pub(crate) fn is_linked(&self) -> bool {
        self.linked.get()
    }

    /// Replaces who to wake, with `update` on the current one (an async waiter's owner,
    /// polled again with another waker).
    ///
    /// # Safety
    ///
    /// The caller holds the channel lock and the waiter is linked (`is_linked`), so no waker
    /// has it or reads its unparker.
    pub(crate) unsafe fn update_unparker(&self, update: impl FnOnce(&mut Option<WaiterRef>)) {
        // SAFETY: wakers read the unparker only after unlinking the waiter under the lock,
        // which they cannot do while we hold it; the owner is the only other user.
        update(unsafe { &mut *self.unparker.get() });
    }

    /// Resets a waiter that is not linked and whose state was read, for another wait (an
    /// async operation keeps one allocation across waits).
    #[inline]
    pub(crate) fn reset(&self) {
        debug_assert!(!self.linked.get());
        // Relaxed: nobody else reaches an unlinked waiter whose final state was read; the
        // lock taken to link it again publishes the reset.
        self.state.store(WAITING, Ordering::Relaxed);
    }

    /// The final state, once the waiter is no longer linked (or `WAITING`).
    #[inline]
    pub(crate) fn state(&self) -> u8 {
        // Acquire: pairs with the Release store in `Wake::wake`, making what the waker did
        // through `elem` visible.
        self.state.load(Ordering::Acquire)
    }

    /// Parks until a waker completes this waiter, or `deadline` passes. Returns the final
    /// state, or `None` on timeout; the caller must then unlink the waiter under the lock.
    #[track_caller]
    pub(crate) fn wait(&self, deadline: Option<Instant>, reason: Reason) -> Option<u8> {
        let at = Location::caller();
        // Dropped on return, which retires its timer if the wait ended early.
        let mut timed = deadline.map(park::TimedWait::new);
        loop {
            let s = self.state();
            if s != WAITING {
                return Some(s);
            }
            match &mut timed {
                None => park::park_as(reason, at),
                Some(t) => {
                    if !t.park_as(reason, at) {
                        return None;
                    }
                }
            }
        }
    }

    /// The final state of a waiter that a waker has unlinked (the waiter found itself no
    /// longer linked, under the lock): waits for the waker to publish it, which it does
    /// right after releasing the lock, then unparks us.
    #[track_caller]
    pub(crate) fn completed(&self, reason: Reason) -> u8 {
        self.wait(None, reason)
            .expect("waiting without a deadline ends only when completed")
    }
}

impl fmt::Debug for Waiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("select", &!self.token.is_null())
            .field("state", &self.state())
            .finish()
    }
}

/// The completion of a waiter that was unlinked under the channel lock: run after the lock
/// is released, it publishes the waiter's final state and unparks it (module docs). Every
/// `Wake` must be run: until then its waiter cannot return.
#[must_use = "a waiter stays blocked until its Wake runs"]
pub struct Wake {
    whom: Whom,
    /// The waiter's `state`, and what to store there.
    state: *const AtomicU8,
    value: u8,
}

/// Whom a `Wake` wakes.
enum Whom {
    /// An async task, by its waker, taken out of the waiter under the lock
    /// (`WaiterRef::take_waker`): woken by value, with no clone, and nothing of the waiter
    /// is read after the store.
    Task(std::task::Waker),
    /// The waiting goroutine or thread, in place: in the waiter, or in its select's token.
    InPlace(*const WaiterRef),
}

impl Wake {
    #[inline]
    pub(crate) fn wake(self) {
        let (state, value) = (self.state, self.value);
        match self.whom {
            Whom::Task(waker) => {
                // SAFETY: as below; the waker was moved out of the waiter, so nothing of
                // the waiter is read after the store.
                unsafe { (*state).store(value, Ordering::Release) };
                waker.wake();
            }
            // SAFETY: the waiter (and its select's token) stay valid until `state` leaves
            // WAITING, which only the closure below does: its owner is still waiting (a
            // waiter that finds itself unlinked waits for this store, see
            // `Waiter::completed`). `wake_with` takes `who` as a raw pointer and reads it
            // before running the closure, never after: the store frees the waiter's frame,
            // `who` and `state` included.
            Whom::InPlace(who) => unsafe {
                WaiterRef::wake_with(who, || {
                    // Release: pairs with the Acquire load in `Waiter::state`, making what
                    // the waker did through `elem` visible; after this store the waiter may
                    // return. The `&AtomicU8` that `store` takes covers only an
                    // `UnsafeCell`, which the aliasing rules do not require to stay
                    // allocated until `store` returns (as for the count in `Arc::drop`);
                    // nothing is read through it after the store.
                    (*state).store(value, Ordering::Release)
                })
            },
        }
    }
}

impl fmt::Debug for Wake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wake").field("state", &self.value).finish()
    }
}

/// Wake-ups collected under a channel lock, to run after it is released. The first few are
/// kept inline: a close usually finds one or two waiters, and should not allocate for them.
pub(crate) struct Wakes {
    inline: [Option<Wake>; 4],
    len: usize,
    more: Vec<Wake>,
}

impl Wakes {
    pub(crate) fn new() -> Wakes {
        Wakes {
            inline: [None, None, None, None],
            len: 0,
            more: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, w: Wake) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = Some(w),
            None => self.more.push(w),
        }
        self.len += 1;
    }

    /// Runs every wake-up, in the order they were pushed.
    pub(crate) fn wake_all(self) {
        for w in self.inline.into_iter().flatten().chain(self.more) {
            w.wake();
        }
    }
}

/// A FIFO of blocked waiters, guarded by the channel lock: an intrusive doubly linked list
/// through the waiters themselves (Go's `waitq` of sudogs), so linking allocates nothing and
/// unlinking a waiter that gives up is O(1).
pub(crate) struct Queue<T> {
    head: *const Waiter,
    tail: *const Waiter,
    /// The waiters' `elem`s point at `T`s.
    elem: PhantomData<*mut T>,
}

// SAFETY: the pointers are only dereferenced under the channel lock, while the waiters they
// point to are linked (see the module docs); `T: Send` values move through their `elem`s.
unsafe impl<T: Send> Send for Queue<T> {}

impl<T> Queue<T> {
    pub(crate) const fn new() -> Queue<T> {
        Queue {
            head: ptr::null(),
            tail: ptr::null(),
            elem: PhantomData,
        }
    }

    /// Links `w` at the back.
    ///
    /// # Safety
    ///
    /// `w` is not linked, and stays valid until it is unlinked: by a waker (`pop_*`,
    /// `close_all`) or by itself (`remove`), both under the channel lock, before the waiter
    /// returns.
    pub(crate) unsafe fn push(&mut self, w: &Waiter) {
        debug_assert!(!w.linked.get(), "a waiter is linked once at a time");
        w.prev.set(self.tail);
        w.next.set(ptr::null());
        w.linked.set(true);
        if self.tail.is_null() {
            self.head = w;
        } else {
            // SAFETY: the tail is a linked waiter, valid (see above); we hold the lock.
            unsafe { (*self.tail).next.set(w) };
        }
        self.tail = w;
    }

    /// Unlinks `w` if it is still linked (in this queue); returns whether it was.
    #[inline]
    pub(crate) fn remove(&mut self, w: &Waiter) -> bool {
        if !w.linked.get() {
            return false;
        }
        let (prev, next) = (w.prev.get(), w.next.get());
        if prev.is_null() {
            self.head = next;
        } else {
            // SAFETY: a linked waiter's neighbours are linked waiters, valid; we hold the
            // lock.
            unsafe { (*prev).next.set(next) };
        }
        if next.is_null() {
            self.tail = prev;
        } else {
            // SAFETY: as above.
            unsafe { (*next).prev.set(prev) };
        }
        w.linked.set(false);
        true
    }

    /// Unlinks the oldest waiter.
    #[inline]
    fn pop_front(&mut self) -> Option<*const Waiter> {
        let w = self.head;
        if w.is_null() {
            return None;
        }
        // SAFETY: linked waiters are valid (see `push`); we hold the channel lock.
        self.remove(unsafe { &*w });
        Some(w)
    }

    /// Unlinks the oldest waiter that can still be completed: a plain one, or one whose
    /// select this claims. Waiters of selects already decided are dropped from the queue.
    ///
    /// The waiter returned was linked until now, so it is valid; the caller uses it only
    /// until it completes it (`complete`), after which its owner may return.
    #[inline]
    fn pop_claimed<'w>(&mut self) -> Option<&'w Waiter> {
        while let Some(w) = self.pop_front() {
            // SAFETY: just unlinked under the lock, so still valid: its owner returns only
            // after `complete` (or after unlinking itself, which it can no longer do).
            let w = unsafe { &*w };
            if w.claim() {
                return Some(w);
            }
        }
        None
    }

    /// Completes the oldest waiting sender: returns where its value is, which the caller
    /// must move out (`ptr::read`, exactly once) before it runs the `Wake`, and while it
    /// still holds the lock. From then on the sender no longer owns the value.
    #[inline]
    pub(crate) fn pop_sender(&mut self) -> Option<(*mut T, Wake)> {
        let w = self.pop_claimed()?;
        debug_assert!(!w.elem.is_null(), "a blocked sender points at its value");
        Some((w.elem.cast(), complete(w, DONE)))
    }

    /// Completes the oldest waiting receiver: returns its destination, which the caller
    /// must fill (`ptr::write`, exactly once) before it runs the `Wake`, and while it still
    /// holds the lock.
    #[inline]
    pub(crate) fn pop_receiver(&mut self) -> Option<(*mut T, Wake)> {
        let w = self.pop_claimed()?;
        debug_assert!(
            !w.elem.is_null(),
            "a blocked receiver points at its destination"
        );
        Some((w.elem.cast(), complete(w, DONE)))
    }

    /// Completes the oldest waiter that can be as `NOTIFIED` (it looks at the buffer again).
    pub(crate) fn pop_notify(&mut self) -> Option<Wake> {
        let w = self.pop_claimed()?;
        Some(complete(w, NOTIFIED))
    }

    /// Whether no waiter is linked (decided selects' waiters still count until dropped).
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_null()
    }

    /// Completes every waiter that can be as `CLOSED` (senders keep their values, to hand
    /// back); waiters of decided selects are just dropped from the queue.
    pub(crate) fn close_all(&mut self, wakes: &mut Wakes) {
        while let Some(w) = self.pop_claimed() {
            wakes.push(complete(w, CLOSED));
        }
    }
}

/// The completion of an unlinked waiter, to run once the lock is released (`Wake`).
#[inline]
fn complete(w: &Waiter, state: u8) -> Wake {
    // SAFETY: the waiter was just unlinked under the lock we hold; its owner changes the
    // unparker only while it is linked (`update_unparker`), so this access races with
    // nothing, and the owner looks at it again only after the state is published.
    let slot = unsafe { &mut *w.unparker.get() };
    let whom = match WaiterRef::take_waker(slot) {
        Some(waker) => Whom::Task(waker),
        None => Whom::InPlace(match slot {
            Some(u) => u,
            // SAFETY: a select's token outlives its linked waiters (see `Waiter::claim`),
            // and its select waits for the winning waiter's state before returning.
            None => unsafe { &(*w.token).unparker },
        }),
    };
    Wake {
        whom,
        state: &w.state,
        value: state,
    }
}
