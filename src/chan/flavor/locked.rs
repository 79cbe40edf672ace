//! The locked flavour: Go's `hchan` (`runtime/chan.go`), the buffer under the channel lock
//! with the queues, and values handed directly between a blocked operation and its
//! counterpart. Channels of capacity 0, unbounded ones and those whose buffer would be too
//! large to allocate up front have it.
//!
//! # Invariants (under the lock)
//!
//! - Receivers wait only while the buffer is empty: a waiting receiver and a buffered value
//!   never coexist.
//! - Senders wait only while the buffer is full (always, for capacity 0): a waiting sender
//!   and free buffer space never coexist. The buffer may hold one value more than its
//!   capacity (one, for capacity 0) after an async receive that was dropped handed its
//!   value back (`give_back`); receivers take that value first.
//! - Once `closed`, nobody waits: `close` completes every waiter, and new operations fail
//!   (sends at once; receives once the buffer is drained).
//!
//! So a send first hands its value to a waiting receiver, else buffers it, else waits; a
//! receive first takes from the buffer (refilling it from the oldest waiting sender, which
//! keeps FIFO order), else takes a waiting sender's value directly (capacity 0), else waits.
//! Every value is moved under the lock, so it is received exactly once or stays in the
//! buffer (dropped with the channel), or comes back to its sender in an error.

use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::super::core::{Core, Dir, State, WaitEnd};
use super::super::waiter::{Waiter, CLOSED, DONE};
use super::{Block, Now, Outcome};

/// What an async operation's attempt under the lock came to (`send_attempt`,
/// `recv_attempt`, for `chan::future`).
pub(crate) enum Attempt {
    /// The value moved (and the counterpart it went to or came from is woken); the lock is
    /// released.
    Done,
    /// The channel is closed (and, for a receive, drained): nothing moved; the lock is
    /// released.
    Closed,
    /// It has to wait: nothing moved, and the lock is still held for the caller to link
    /// its waiter.
    Wait,
}

pub(crate) struct Channel<T> {
    core: Core<T, Buffer<T>>,
    /// Capacity, or `None` for an unbounded channel (which never fills).
    cap: Option<usize>,
    /// Mirror of `State::closed`, for `is_closed` without the lock.
    closed: AtomicBool,
    /// Mirror of the buffer's length, for `len` without the lock.
    len: AtomicUsize,
}

impl<T> Channel<T> {
    /// A channel of capacity `cap`, or unbounded for `None`.
    pub(crate) fn new(cap: Option<usize>) -> Channel<T> {
        Channel {
            // Never preallocate: a huge capacity costs only what is buffered.
            core: Core::new(Buffer::new()),
            cap,
            closed: AtomicBool::new(false),
            len: AtomicUsize::new(0),
        }
    }

    pub(crate) fn core(&self) -> &Core<T, Buffer<T>> {
        &self.core
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.cap
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub(crate) fn is_closed(&self) -> bool {
        // Acquire: pairs with the Release store in `close`.
        self.closed.load(Ordering::Acquire)
    }

    /// A send that must not wait, under the lock: hands the value to the oldest waiting
    /// receiver (one copy, into its destination), else buffers it.
    ///
    /// # Safety
    ///
    /// `v` points to a valid `T` the caller owns; on `Now::Done` the value has moved and the
    /// caller must not drop or use it any more; otherwise it was not touched.
    #[inline]
    pub(crate) unsafe fn send_now(&self, st: &mut State<T, Buffer<T>>, v: *const T) -> Now {
        if st.closed {
            return Now::Closed;
        }
        if let Some((dst, wake)) = st.recvq.pop_receiver() {
            // SAFETY: `dst` is the destination of a receiver that was linked until now, in
            // its frame, which stays valid until `wake` runs (after this); nobody else
            // touches it meanwhile (we hold the lock). `v` is ours to give up (contract),
            // and lies in another frame than `dst`.
            unsafe { ptr::copy_nonoverlapping(v, dst, 1) };
            return Now::Done(Some(wake));
        }
        if self.cap.is_none_or(|cap| st.buf.len() < cap) {
            // SAFETY: the caller gives the value up (contract): it is moved in once.
            unsafe { st.buf.push_from(v) };
            self.len.store(st.buf.len(), Ordering::Relaxed);
            return Now::Done(None);
        }
        Now::Wait
    }

    /// A receive that must not wait, under the lock: takes the oldest buffered value
    /// (refilling the buffer from the oldest waiting sender), else the value of a waiting
    /// sender directly (one copy, from its frame).
    ///
    /// # Safety
    ///
    /// `dst` is valid for writing a `T`; it is written (without dropping what was there)
    /// on `Now::Done` only.
    #[inline]
    pub(crate) unsafe fn recv_now(&self, st: &mut State<T, Buffer<T>>, dst: *mut T) -> Now {
        // SAFETY: `dst` is valid for a write (contract).
        if unsafe { st.buf.pop_into(dst) } {
            // Room in the buffer: the oldest blocked sender moves its value in. (Unless the
            // buffer is still full: it holds a value handed back, see `give_back`.)
            let room = self.cap.is_none_or(|cap| st.buf.len() < cap);
            let wake = room
                .then(|| st.sendq.pop_sender())
                .flatten()
                .map(|(src, wake)| {
                    // SAFETY: `src` is the value of a sender that was linked until now, valid
                    // until `wake` runs; the sender gives it up with the `DONE` that `wake`
                    // publishes, so it is moved out exactly once, here.
                    unsafe { st.buf.push_from(src) };
                    wake
                });
            self.len.store(st.buf.len(), Ordering::Relaxed);
            return Now::Done(wake);
        }
        if let Some((src, wake)) = st.sendq.pop_sender() {
            // SAFETY: as above for `src`; `dst` is valid for a write (contract), in another
            // frame.
            unsafe { ptr::copy_nonoverlapping(src, dst, 1) };
            return Now::Done(Some(wake));
        }
        if st.closed {
            return Now::Closed;
        }
        Now::Wait
    }

    /// An async send's attempt: sends the value at `v` as `send_now` does, and wakes the
    /// receiver it went to. On `Attempt::Wait` the lock is still held, for the caller to
    /// link its waiter and unlock; otherwise it is released.
    ///
    /// `send_now`'s steps are written out here rather than called: returning its `Now`
    /// (with the `Wake` inside) and matching it cost 13 instructions a send (callgrind),
    /// in the inlined fast path of every `send_async` on a locked channel.
    ///
    /// # Safety
    ///
    /// As for `send_now`; the caller does not hold the lock.
    #[inline]
    pub(crate) unsafe fn send_attempt(&self, v: *const T) -> Attempt {
        self.core.raw_lock();
        // SAFETY: locked just above; no other reference into the state.
        let st = unsafe { self.core.state_mut() };
        if st.closed {
            // SAFETY: locked above.
            unsafe { self.core.raw_unlock() };
            return Attempt::Closed;
        }
        if let Some((dst, wake)) = st.recvq.pop_receiver() {
            // SAFETY: as in `send_now`.
            unsafe { ptr::copy_nonoverlapping(v, dst, 1) };
            // SAFETY: locked above.
            unsafe { self.core.raw_unlock() };
            wake.wake();
            return Attempt::Done;
        }
        if self.cap.is_none_or(|cap| st.buf.len() < cap) {
            // SAFETY: the caller gives the value up (contract): it is moved in once.
            unsafe { st.buf.push_from(v) };
            self.len.store(st.buf.len(), Ordering::Relaxed);
            // SAFETY: locked above.
            unsafe { self.core.raw_unlock() };
            return Attempt::Done;
        }
        Attempt::Wait
    }

    /// The receiving twin of `send_attempt`.
    ///
    /// # Safety
    ///
    /// As for `recv_now`; the caller does not hold the lock.
    #[inline]
    pub(crate) unsafe fn recv_attempt(&self, dst: *mut T) -> Attempt {
        self.core.raw_lock();
        // SAFETY: locked just above; no other reference into the state.
        let st = unsafe { self.core.state_mut() };
        // Nothing buffered, no sender waiting, open: the usual case of a receive that
        // waits, decided before `recv_now`'s moves of a value and a wake-up.
        if st.buf.len() == 0 && st.sendq.is_empty() && !st.closed {
            return Attempt::Wait;
        }
        // SAFETY: the caller's contract.
        match unsafe { self.recv_now(st, dst) } {
            Now::Done(wake) => {
                // SAFETY: locked above.
                unsafe { self.core.raw_unlock() };
                if let Some(w) = wake {
                    w.wake();
                }
                Attempt::Done
            }
            Now::Closed => {
                // SAFETY: locked above.
                unsafe { self.core.raw_unlock() };
                Attempt::Closed
            }
            Now::Wait => Attempt::Wait,
        }
    }

    /// A send of the value at `v`.
    ///
    /// # Safety
    ///
    /// `v` points to a valid `T` the caller owns, which stays in place until this returns;
    /// on `Outcome::Done` the value has moved and the caller must not drop or use it any
    /// more. On any other outcome it was not touched.
    #[track_caller]
    pub(crate) unsafe fn send(&self, v: *const T, block: Block) -> Outcome {
        let mut st = self.core.lock();
        // SAFETY: the function's contract.
        match unsafe { self.send_now(&mut st, v) } {
            Now::Done(wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                return Outcome::Done;
            }
            Now::Closed => return Outcome::Closed,
            Now::Wait => {}
        }
        let Some(deadline) = block.deadline() else {
            return Outcome::TimedOut;
        };
        // A receiver moves the value out through the waiter, and only reads through it.
        let w = Waiter::new(v.cast_mut());
        // SAFETY: `w` is unlinked before this function returns: by a waker, or by
        // `Core::wait` when it times out.
        unsafe { st.sendq.push(&w) };
        drop(st);
        match self.core.wait(&w, Dir::Send, deadline, |_| {}) {
            // A receiver took the value.
            WaitEnd::Completed(DONE) => Outcome::Done,
            // Closed, or given up: nobody touched it.
            WaitEnd::Completed(CLOSED) => Outcome::Closed,
            WaitEnd::TimedOut => Outcome::TimedOut,
            WaitEnd::Completed(s) => unreachable!("waiter state {s}"),
        }
    }

    /// A receive into `dst`.
    ///
    /// # Safety
    ///
    /// `dst` is valid for writing a `T` and stays in place until this returns; it is
    /// written (without dropping what was there) on `Outcome::Done` only.
    #[track_caller]
    pub(crate) unsafe fn recv(&self, dst: *mut T, block: Block) -> Outcome {
        let mut st = self.core.lock();
        // SAFETY: the function's contract.
        match unsafe { self.recv_now(&mut st, dst) } {
            Now::Done(wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                return Outcome::Done;
            }
            Now::Closed => return Outcome::Closed,
            Now::Wait => {}
        }
        let Some(deadline) = block.deadline() else {
            return Outcome::TimedOut;
        };
        // A sender writes the value straight into `dst` through the waiter.
        let w = Waiter::new(dst);
        // SAFETY: as in `send`.
        unsafe { st.recvq.push(&w) };
        drop(st);
        match self.core.wait(&w, Dir::Recv, deadline, |_| {}) {
            WaitEnd::Completed(DONE) => Outcome::Done,
            WaitEnd::Completed(CLOSED) => Outcome::Closed,
            WaitEnd::TimedOut => Outcome::TimedOut,
            WaitEnd::Completed(s) => unreachable!("waiter state {s}"),
        }
    }

    /// Puts back a value that was received but never reached its receiver (an async
    /// receive dropped after a sender handed it the value, see `chan::future`): it goes to
    /// the oldest waiting receiver, else to the front of the buffer, ahead of every value
    /// sent after it, even if that makes the buffer hold one value more than its capacity
    /// (so a sender finds it full, and receivers take it first). Returns the receiver's
    /// wake-up, to run once the caller has released nothing: this takes and releases the
    /// lock itself.
    ///
    /// # Safety
    ///
    /// `v` points to a valid `T` that the caller owns and gives up.
    pub(crate) unsafe fn give_back(&self, v: *const T) {
        let mut st = self.core.lock();
        if let Some((dst, wake)) = st.recvq.pop_receiver() {
            // SAFETY: as in `send_now`: `dst` is a linked receiver's destination, valid
            // until `wake` runs; `v` is ours to give up (contract).
            unsafe { ptr::copy_nonoverlapping(v, dst, 1) };
            drop(st);
            wake.wake();
            return;
        }
        // SAFETY: the caller gives the value up (contract): it is moved in once.
        unsafe { st.buf.push_front_from(v) };
        self.len.store(st.buf.len(), Ordering::Relaxed);
    }

    /// Closes the channel: wakes every waiter; returns false if it was already closed.
    pub(crate) fn close(&self) -> bool {
        self.core.close(|_| {
            // Release: pairs with the Acquire load in `is_closed`.
            self.closed.store(true, Ordering::Release)
        })
    }
}

/// A buffer keeps up to this many slots however empty it gets (`Buffer::pop_into`).
const SHRINK_ABOVE: usize = 1024;

/// The buffer of a locked channel: a FIFO whose values go in and out by pointer, so that a
/// value is copied once on the way in (from the sender's place) and once on the way out
/// (into the receiver's), never through a temporary on the stack as `push_back(v)` and
/// `pop_front()` of a `VecDeque<T>` would.
pub(crate) struct Buffer<T> {
    /// Every element holds a value: `MaybeUninit` only lets one be written into and read
    /// out of its place in the deque.
    q: VecDeque<MaybeUninit<T>>,
}

impl<T> Buffer<T> {
    fn new() -> Buffer<T> {
        Buffer { q: VecDeque::new() }
    }

    fn len(&self) -> usize {
        self.q.len()
    }

    /// Moves the value at `src` in at the back.
    ///
    /// # Safety
    ///
    /// `src` points to a valid `T` that the caller owns and gives up, outside the buffer.
    #[inline]
    unsafe fn push_from(&mut self, src: *const T) {
        // An uninitialised element (nothing is copied), then the value into its place.
        self.q.push_back(MaybeUninit::uninit());
        let back = self.q.back_mut().expect("an element was just pushed");
        // SAFETY: `src` is a valid `T` (contract) and `back` a place for one in the deque,
        // so they do not overlap.
        unsafe { ptr::copy_nonoverlapping(src, back.as_mut_ptr(), 1) };
    }

    /// Moves the value at `src` in at the front (a value handed back, `give_back`).
    ///
    /// # Safety
    ///
    /// As for `push_from`.
    unsafe fn push_front_from(&mut self, src: *const T) {
        self.q.push_front(MaybeUninit::uninit());
        let front = self.q.front_mut().expect("an element was just pushed");
        // SAFETY: as in `push_from`.
        unsafe { ptr::copy_nonoverlapping(src, front.as_mut_ptr(), 1) };
    }

    /// Moves the oldest value to `dst`; false (nothing written) if the buffer is empty.
    ///
    /// # Safety
    ///
    /// `dst` is valid for writing a `T`, outside the buffer; what it held is not dropped.
    #[inline]
    unsafe fn pop_into(&mut self, dst: *mut T) -> bool {
        let Some(front) = self.q.front() else {
            return false;
        };
        // SAFETY: every element holds a value (the field's invariant); `dst` is valid for a
        // write and outside the buffer (contract). The element is removed right after, so
        // the value is moved out exactly once; the bytes `pop_front` returns are no value
        // any more (a `MaybeUninit` drops nothing).
        unsafe { ptr::copy_nonoverlapping(front.as_ptr(), dst, 1) };
        self.q.pop_front();
        // Give memory back as the buffer drains, as crossbeam's list flavour frees its
        // blocks: an unbounded channel that once held a million values should not keep
        // room for them. Halving once a quarter is used leaves room to double before the
        // next growth, so each value moved by a shrink was paid for by a receive.
        let cap = self.q.capacity();
        if cap > SHRINK_ABOVE && self.q.len() <= cap / 4 {
            self.q.shrink_to(cap / 2);
        }
        true
    }
}

impl<T> Drop for Buffer<T> {
    fn drop(&mut self) {
        // Values sent and never received are dropped with the channel; if one's `Drop`
        // panics, the rest are dropped while unwinding (as `Vec` and the ring do).
        struct Rest<'a, T>(&'a mut VecDeque<MaybeUninit<T>>);
        impl<T> Rest<'_, T> {
            fn drop_all(&mut self) {
                while let Some(mut v) = self.0.pop_front() {
                    // SAFETY: every element holds a value (the field's invariant), popped
                    // before it is dropped, so dropped once.
                    unsafe { v.assume_init_drop() };
                }
            }
        }
        impl<T> Drop for Rest<'_, T> {
            fn drop(&mut self) {
                self.drop_all();
            }
        }
        Rest(&mut self.q).drop_all();
    }
}
