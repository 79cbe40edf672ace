//! Channel operations as futures: [`Sender::send_async`], [`Receiver::recv_async`], the
//! receiver's [`Stream`](RecvStream) and the sender's `Sink`.
//!
//! # How an async operation waits
//!
//! An async operation tries the channel as `try_send`/`try_recv` do: on a lock-free channel
//! its ring first, then under the lock; on a locked one straight under the lock, with the
//! flavour's own `send_attempt`/`recv_attempt`, which keep the lock when the operation has
//! to wait. That path is written for the futures rather than shared with `select`'s
//! flavour-generic calls (`Channel::send_now` and the rest): where every operation waits or
//! wakes (a ping-pong between two tasks), the flavour dispatches and the moves of the
//! completion record through return values were a quarter of the channel's instructions.
//!
//! If it has to wait, the operation links a [`Waiter`] into the channel's queue like a
//! blocked goroutine's, except that the waiter lives in a heap block of the future's
//! (`Slot`, taken at the first wait and kept for the next ones, so a stream takes one once)
//! rather than on a stack, and names the task's [`Waker`] as whom to wake
//! (`WaiterRef::Task`). Wakers treat it like any other waiter: they unlink it under the
//! channel lock, hand the value over through it (locked channels) or only notify it
//! (lock-free ones), publish its final state, and wake the task. Polled again, the future
//! reads that state; if it is still linked, it only swaps in the new waker (under the lock,
//! where no waker can hold the waiter), and if a waker has unlinked it but not yet
//! published, it waits the few instructions until it does, so it never returns `Pending`
//! without a waker that will wake it.
//!
//! A future that waited gives its slot to the channel when it ends (`SpareSlot`, one per
//! channel), and the next operation that has to wait takes it instead of allocating: where
//! every receive waits (ping-pong), this took an allocation and a free off each message.
//!
//! # Cancel safety
//!
//! A future may be dropped at any point. A dropped future never loses a value and never
//! makes one arrive twice:
//!
//! - **Still linked:** it unlinks its waiter under the lock. Nothing moved: a send keeps
//!   its value (dropped with the future), a receive got nothing.
//! - **A send whose value was taken** (`DONE`): the value was delivered; nothing to undo.
//! - **A receive handed a value** (`DONE`, locked channels): the value is in the future's
//!   slot, and no one else has it. It is given back to the channel (`Channel::give_back`):
//!   to the oldest waiting receiver, or to the front of the buffer, so the next receive gets
//!   it, ahead of every value sent after it. Its sender had already returned: to the
//!   senders this is as if the receiver took the value and another received it.
//! - **Notified** (`NOTIFIED`, lock-free channels): a value (or room) appeared for this
//!   operation, which will never look. The notification is passed on to the next waiter of
//!   the same direction (`Channel::pass_on`), so none waits while a value sits unclaimed.
//! - **Closed** (`CLOSED`): nothing moved.
//!
//! A future that completed has nothing in flight; dropping it does nothing.
//!
//! Async waiters share the queues with goroutines and threads, first come first served, so
//! goroutines, threads and tasks can all send and receive on one channel, and a parked
//! `select!` competes with them as with any other waiter.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::task::{Context, Poll, Waker};

use super::channel::Channel;
use super::core::Dir;
use super::flavor::locked::{self, Attempt};
use super::flavor::{Now, Outcome};
use super::waiter::{Waiter, DONE, NOTIFIED, WAITING};
use super::{Receiver, RecvError, SendError, Sender};
use crate::rt::park::WaiterRef;

/// The heap block of an async operation that waits: its waiter, and the place of its value
/// (a send's value, or a receive's destination), which the waiter points to on a locked
/// channel.
pub(crate) struct Slot<T> {
    waiter: Waiter,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Slot<T> {
    /// A new slot whose waiter wakes `waker`, for an operation on `chan`.
    #[cold]
    #[inline(never)]
    fn allocate(chan: &Channel<T>, waker: &Waker) -> NonNull<Slot<T>> {
        let slot = Box::new(Slot {
            waiter: Waiter::with_unparker(
                std::ptr::null_mut::<T>(),
                WaiterRef::Task(waker.clone()),
            ),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        });
        let p = NonNull::from(Box::leak(slot));
        // The waiter carries the value's place on a locked channel only (module docs
        // of `chan::waiter`).
        if chan.values_in_waiters() {
            // SAFETY: just allocated and not shared yet; only computes the address.
            let elem = unsafe { (*p.as_ptr()).value.get().cast::<T>() };
            // SAFETY: as above: nothing else reaches the block yet.
            unsafe { (*p.as_ptr()).waiter.set_elem(elem) };
        }
        p
    }
}

/// One async operation in flight on a channel: the waiting part that `SendFuture`,
/// `RecvFuture` and the stream and sink share. Not tied to a channel: each call is given
/// the one it works on, always the same.
struct Op<T> {
    /// Allocated at the first wait (a raw pointer, not a `Box`: wakers reach the block
    /// through pointers of their own while it is linked, which a `Box`'s uniqueness would
    /// forbid).
    slot: Option<NonNull<Slot<T>>>,
    /// Whether the waiter is in flight: linked, or completed and not yet looked at.
    waiting: bool,
    /// Whether the slot holds a value of ours: a send's value until it is taken or handed
    /// back, or a value received.
    full: bool,
}

// SAFETY: the slot is owned by the operation (wakers reach it only while it is linked or
// being completed, under the channel's protocol); values of `T: Send` move through it.
unsafe impl<T: Send> Send for Op<T> {}
// SAFETY: no method of `&Op` touches anything.
unsafe impl<T: Send> Sync for Op<T> {}

impl<T> Op<T> {
    const fn new() -> Op<T> {
        Op {
            slot: None,
            waiting: false,
            full: false,
        }
    }

    fn slot(&self) -> &Slot<T> {
        // SAFETY: called only once the slot is allocated; it lives until the `Op` is
        // dropped.
        unsafe { self.slot.expect("slot allocated").as_ref() }
    }

    /// Where the slot's value goes (taking the channel's spare slot, or allocating one, if
    /// needed). Called with the channel's lock held.
    #[inline]
    fn value_place(&mut self, chan: &Channel<T>, waker: &Waker) -> *mut T {
        if self.slot.is_none() {
            // SAFETY: every caller holds the channel's lock (the slow paths of `poll_recv`
            // and `poll_send`, which link the waiter next).
            let p = match unsafe { chan.spare.take() } {
                Some(p) => {
                    // SAFETY: the spare slot is ours alone now (`SpareSlot::take`); its
                    // waiter is reset and unlinked, with no unparker, and no waker reaches
                    // it.
                    unsafe {
                        (*p.as_ptr())
                            .waiter
                            .update_unparker(|u| *u = Some(WaiterRef::Task(waker.clone())))
                    };
                    p
                }
                None => Slot::allocate(chan, waker),
            };
            self.slot = Some(p);
        }
        self.slot().value.get().cast::<T>()
    }

    /// Readies the slot's waiter for a new wait that `waker` waits for. The waiter must
    /// not be in flight; the channel's lock is held (see `value_place`).
    #[inline]
    fn ready_waiter(&mut self, chan: &Channel<T>, waker: &Waker) -> &Waiter {
        debug_assert!(!self.waiting);
        let fresh = self.slot.is_none();
        self.value_place(chan, waker);
        let w = &self.slot().waiter;
        if !fresh {
            w.reset();
            // SAFETY: the waiter is not linked (its last wait was read to the end), so no
            // waker has it.
            unsafe { w.update_unparker(|u| set_waker(u, waker)) };
        }
        w
    }

    /// Polls a waiter in flight: its final state, or `None` if it is still linked (and
    /// now names `waker`).
    #[inline]
    fn poll_waiter(&mut self, chan: &Channel<T>, waker: &Waker) -> Option<u8> {
        let s = self.slot().waiter.state();
        if s == WAITING {
            return self.poll_waiter_linked(chan, waker);
        }
        self.waiting = false;
        Some(s)
    }

    /// `poll_waiter` when the waiter still read `WAITING`: still linked (then it now names
    /// `waker`), or unlinked by a waker about to publish its state.
    #[inline(never)]
    fn poll_waiter_linked(&mut self, chan: &Channel<T>, waker: &Waker) -> Option<u8> {
        let w = &self.slot().waiter;
        let mut s = w.state();
        if s == WAITING {
            chan.lock();
            let linked = w.is_linked();
            if linked {
                // SAFETY: we hold the lock and the waiter is linked.
                unsafe { w.update_unparker(|u| set_waker(u, waker)) };
            }
            // SAFETY: locked above.
            unsafe { chan.unlock() };
            if linked {
                return None;
            }
            // A waker unlinked it and is about to publish its state.
            s = settle(w);
        }
        self.waiting = false;
        Some(s)
    }

    /// Ends a wait that the future gives up (it is dropped): unlinks the waiter, or takes
    /// the final state a waker gave it first (module docs, "Cancel safety"). `None` if
    /// nothing was in flight or nothing happened to it.
    fn cancel(&mut self, chan: &Channel<T>, dir: Dir) -> Option<u8> {
        if !self.waiting {
            return None;
        }
        self.waiting = false;
        let w = &self.slot().waiter;
        if w.state() == WAITING {
            chan.lock();
            let linked = w.is_linked();
            // SAFETY: we hold the lock; on a lock-free channel this also withdraws the
            // waiting flag if the queue is left empty.
            unsafe { chan.unlink(Some(w), dir) };
            // SAFETY: locked above.
            unsafe { chan.unlock() };
            if linked {
                return None;
            }
            return Some(settle(w));
        }
        Some(w.state())
    }
}

impl<T> Op<T> {
    /// Gives the slot to `chan` for its next async wait (or frees it if the channel keeps
    /// one already), once nothing is in flight: the operation is over or cancelled. A value
    /// still in the slot (a send that never happened) is dropped.
    #[inline]
    fn recycle(&mut self, chan: &Channel<T>) {
        debug_assert!(!self.waiting);
        let Some(p) = self.slot.take() else { return };
        // SAFETY: the slot came from `Box::leak` in `value_place` (or a channel's spare),
        // and nothing else reaches it: its waiter is not in flight.
        let slot = unsafe { &*p.as_ptr() };
        if std::mem::take(&mut self.full) {
            // SAFETY: `full` said the place holds a value of ours, dropped once here.
            unsafe { (*slot.value.get()).assume_init_drop() };
        }
        slot.waiter.reset();
        // SAFETY: the waiter is not linked and its final state was read, so no waker has it
        // (the argument of `ready_waiter`).
        unsafe { slot.waiter.update_unparker(|u| *u = None) };
        if let Err(p) = chan.spare.put(p) {
            // SAFETY: as above; the channel did not take it, so it is still ours alone.
            drop(unsafe { Box::from_raw(p.as_ptr()) });
        }
    }
}

/// The slot a channel keeps for its next async wait: an async operation that waited gives
/// its slot back to the channel when it ends, and the next one to wait takes it, so traffic
/// where every receive waits (ping-pong) allocates nothing per message. One per channel:
/// operations waiting at the same time beyond the first allocate their own.
pub(crate) struct SpareSlot<T>(AtomicPtr<Slot<T>>);

impl<T> SpareSlot<T> {
    pub(crate) const fn new() -> SpareSlot<T> {
        SpareSlot(AtomicPtr::new(std::ptr::null_mut()))
    }

    /// Takes the spare slot, if there is one: then it is the caller's alone.
    ///
    /// # Safety
    ///
    /// The caller holds the channel's lock, so no other `take` runs meanwhile. A `put`
    /// only ever fills an empty spare, so nobody changes a full one between our load and
    /// our store: no read-modify-write is needed.
    unsafe fn take(&self) -> Option<NonNull<Slot<T>>> {
        // Acquire: pairs with the Release CAS in `put`, so the slot's reset contents are
        // visible.
        let p = NonNull::new(self.0.load(Ordering::Acquire))?;
        // Relaxed: publishes nothing (the slot is ours now); a `put` that reads it only
        // fills the spare with a slot of its own.
        self.0.store(std::ptr::null_mut(), Ordering::Relaxed);
        Some(p)
    }

    /// Keeps `p` (a reset slot, no value in it, no unparker) unless a spare is kept
    /// already; then hands it back.
    fn put(&self, p: NonNull<Slot<T>>) -> Result<(), NonNull<Slot<T>>> {
        // Release: pairs with the Acquire swap in `take`.
        self.0
            .compare_exchange(
                std::ptr::null_mut(),
                p.as_ptr(),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .map(|_| ())
            .map_err(|_| p)
    }
}

impl<T> Drop for SpareSlot<T> {
    fn drop(&mut self) {
        let p = *self.0.get_mut();
        if !p.is_null() {
            // SAFETY: a kept slot came from `Box::leak` and is owned by the channel alone;
            // it holds no value and no unparker.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

impl<T> Drop for Op<T> {
    fn drop(&mut self) {
        debug_assert!(
            !self.waiting,
            "an async channel operation dropped in flight"
        );
        if let Some(p) = self.slot.take() {
            // SAFETY: the slot came from `Box::leak` in `value_place`, and nothing else
            // reaches it any more: its waiter is not in flight.
            let slot = unsafe { Box::from_raw(p.as_ptr()) };
            if self.full {
                // SAFETY: `full` says the place holds a value of ours, dropped once here.
                unsafe { (*slot.value.get()).assume_init_drop() };
            }
        }
    }
}

/// Makes `u` name `waker`, unless it already names a waker that wakes the same task.
fn set_waker(u: &mut Option<WaiterRef>, waker: &Waker) {
    match u {
        Some(WaiterRef::Task(w)) if w.will_wake(waker) => {}
        _ => *u = Some(WaiterRef::Task(waker.clone())),
    }
}

/// The final state of a waiter that a waker has unlinked, which the waker publishes right
/// after releasing the channel lock: a few instructions away, unless its thread was
/// descheduled in between.
fn settle(w: &Waiter) -> u8 {
    let mut spins = 0u32;
    loop {
        let s = w.state();
        if s != WAITING {
            return s;
        }
        if spins < 64 {
            std::hint::spin_loop();
            spins += 1;
        } else {
            std::thread::yield_now();
        }
    }
}

/// One poll of an async receive (module docs).
#[inline]
fn poll_recv<T>(
    chan: &Channel<T>,
    op: &mut Op<T>,
    cx: &mut Context<'_>,
) -> Poll<Result<T, RecvError>> {
    chan.feed();
    if op.waiting {
        match op.poll_waiter(chan, cx.waker()) {
            None => return Poll::Pending,
            Some(DONE) => {
                // A sender handed the value over into the slot.
                // SAFETY: `DONE` on a receive means the place holds the value, which the
                // waker's Release publish (read by `state`) made visible; read out once.
                let v = unsafe { (*op.slot().value.get()).assume_init_read() };
                return Poll::Ready(Ok(v));
            }
            // Notified, or closed (a value handed back may still have come): look again.
            Some(_) => {}
        }
    }
    if let Some(c) = chan.locked() {
        return recv_locked(chan, c, op, cx);
    }
    let mut v = MaybeUninit::<T>::uninit();
    // SAFETY: `v` is valid for a write and stays in place until this returns.
    match unsafe { chan.try_recv_lock_free(v.as_mut_ptr()) } {
        // SAFETY: `Done` means the channel wrote a value there.
        Some(Outcome::Done) => return Poll::Ready(Ok(unsafe { v.assume_init() })),
        Some(_) => return Poll::Ready(Err(RecvError)),
        None => {}
    }
    poll_recv_slow(chan, op, cx, v)
}

/// The rest of `poll_recv` on a locked channel (`c`, the flavour of `chan`): receives, or
/// links the waiter.
#[inline(never)]
fn recv_locked<T>(
    chan: &Channel<T>,
    c: &locked::Channel<T>,
    op: &mut Op<T>,
    cx: &mut Context<'_>,
) -> Poll<Result<T, RecvError>> {
    let mut v = MaybeUninit::<T>::uninit();
    // SAFETY: `v` is valid for a write and stays in place until this returns.
    match unsafe { c.recv_attempt(v.as_mut_ptr()) } {
        // SAFETY: `Done` means the channel wrote a value there.
        Attempt::Done => Poll::Ready(Ok(unsafe { v.assume_init() })),
        Attempt::Closed => Poll::Ready(Err(RecvError)),
        // The lock is still held (`Attempt::Wait`): `link_recv` unlocks.
        Attempt::Wait => link_recv(chan, op, cx),
    }
}

/// The end of a receive that has to wait, with the channel's lock held (on either
/// flavour): links the waiter and unlocks.
#[inline]
fn link_recv<T>(
    chan: &Channel<T>,
    op: &mut Op<T>,
    cx: &mut Context<'_>,
) -> Poll<Result<T, RecvError>> {
    let w = op.ready_waiter(chan, cx.waker());
    // SAFETY: the caller holds the lock; the waiter stays in place (in its heap block) until
    // it is unlinked, by a waker or by `cancel`.
    unsafe { chan.link(w, Dir::Recv) };
    op.waiting = true;
    // SAFETY: as above.
    unsafe { chan.unlock() };
    Poll::Pending
}

/// The rest of `poll_recv` on a lock-free channel whose ring was empty: under the channel
/// lock, receive or link the waiter.
#[inline(never)]
fn poll_recv_slow<T>(
    chan: &Channel<T>,
    op: &mut Op<T>,
    cx: &mut Context<'_>,
    mut v: MaybeUninit<T>,
) -> Poll<Result<T, RecvError>> {
    chan.lock();
    // SAFETY: we hold the lock (all the calls up to `unlock`).
    unsafe { chan.announce(Dir::Recv) };
    // SAFETY: as above; `v` is valid for a write.
    let now = unsafe { chan.recv_now(v.as_mut_ptr()) };
    let (done, wake) = match now {
        // Locked above: `link_recv` unlocks.
        Now::Wait => return link_recv(chan, op, cx),
        Now::Done(wake) => (true, wake),
        Now::Closed => (false, None),
    };
    // SAFETY: we hold the lock; a lock-free channel's waiting flags are set right again.
    unsafe { chan.unlink(None, Dir::Recv) };
    // SAFETY: locked above.
    unsafe { chan.unlock() };
    if let Some(w) = wake {
        w.wake();
    }
    if done {
        // SAFETY: `Done` means the channel wrote a value there.
        Poll::Ready(Ok(unsafe { v.assume_init() }))
    } else {
        Poll::Ready(Err(RecvError))
    }
}

/// A dropped async receive (module docs, "Cancel safety").
#[inline]
fn cancel_recv<T>(chan: &Channel<T>, op: &mut Op<T>) {
    if op.waiting {
        cancel_recv_slow(chan, op);
    }
}

#[inline(never)]
fn cancel_recv_slow<T>(chan: &Channel<T>, op: &mut Op<T>) {
    match op.cancel(chan, Dir::Recv) {
        Some(DONE) => {
            let v = op.slot().value.get().cast::<T>();
            // SAFETY: the place holds the value handed over (`DONE`), which nobody else
            // owns; the channel takes it and the slot no longer counts it.
            unsafe { chan.give_back(v) };
        }
        Some(NOTIFIED) => chan.pass_on(Dir::Recv),
        _ => {}
    }
}

/// One poll of an async send of `value` (the future's, until it first waits; the slot's
/// from then on: `op.full`).
#[inline]
fn poll_send<T>(
    chan: &Channel<T>,
    op: &mut Op<T>,
    value: &mut Option<T>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), SendError<T>>> {
    if op.waiting {
        match op.poll_waiter(chan, cx.waker()) {
            None => return Poll::Pending,
            Some(DONE) => {
                // A receiver took the value out of the slot.
                op.full = false;
                return Poll::Ready(Ok(()));
            }
            // Notified (room appeared) or closed: look again.
            Some(_) => {}
        }
    }
    if value.is_none() && !op.full {
        panic!("goro: a send future polled after it completed");
    }
    // The value stays where it is (in `value`, or in the slot) until the channel moves it.
    let in_future = value.take().map(ManuallyDrop::new);
    let src = send_source(op, &in_future);
    if let Some(c) = chan.locked() {
        // SAFETY: `src` is a valid `T` we own and give up on `Done` only.
        return match unsafe { c.send_attempt(src) } {
            Attempt::Done => {
                op.full = false;
                Poll::Ready(Ok(()))
            }
            Attempt::Closed => Poll::Ready(Err(SendError(take_back(op, in_future)))),
            Attempt::Wait => link_send(chan, op, in_future, cx),
        };
    }
    // SAFETY: `src` is a valid `T` we own and give up on `Done` only.
    match unsafe { chan.try_send_lock_free(src) } {
        Some(Outcome::Done) => {
            op.full = false;
            Poll::Ready(Ok(()))
        }
        Some(_) => Poll::Ready(Err(SendError(take_back(op, in_future)))),
        None => poll_send_slow(chan, op, in_future, cx),
    }
}

/// Where the value of a send is: in `in_future` (moved out of the future's `value`), or
/// else in the slot.
#[inline]
fn send_source<T>(op: &Op<T>, in_future: &Option<ManuallyDrop<T>>) -> *const T {
    match in_future {
        Some(v) => &**v,
        None => op.slot().value.get().cast::<T>(),
    }
}

/// The value, taken back by the caller of a send that did not happen: from `in_future`
/// or from the slot.
fn take_back<T>(op: &mut Op<T>, in_future: Option<ManuallyDrop<T>>) -> T {
    match in_future {
        Some(v) => ManuallyDrop::into_inner(v),
        None => {
            op.full = false;
            // SAFETY: `full` said the slot holds our value; it leaves once.
            unsafe { (*op.slot().value.get()).assume_init_read() }
        }
    }
}

/// The end of a send that has to wait, with the channel's lock held (on either flavour):
/// moves the value into the slot if it is not there yet, links the waiter and unlocks.
#[inline(never)]
fn link_send<T>(
    chan: &Channel<T>,
    op: &mut Op<T>,
    in_future: Option<ManuallyDrop<T>>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), SendError<T>>> {
    if let Some(v) = in_future {
        // The value moves into the slot, where a receiver can take it.
        let place = op.value_place(chan, cx.waker());
        // SAFETY: the place is the slot's, empty (`full` is false), and no waker
        // reaches it before the waiter is linked below.
        unsafe { place.write(ManuallyDrop::into_inner(v)) };
        op.full = true;
    }
    let w = op.ready_waiter(chan, cx.waker());
    // SAFETY: the caller holds the lock; the waiter stays in place (in its heap block) until
    // it is unlinked, by a waker or by `cancel`.
    unsafe { chan.link(w, Dir::Send) };
    op.waiting = true;
    // SAFETY: as above.
    unsafe { chan.unlock() };
    Poll::Pending
}

/// The rest of `poll_send` on a lock-free channel whose ring was full: under the channel
/// lock, send or link the waiter.
#[inline(never)]
fn poll_send_slow<T>(
    chan: &Channel<T>,
    op: &mut Op<T>,
    in_future: Option<ManuallyDrop<T>>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), SendError<T>>> {
    // The value moved with `in_future`: where it is now.
    let src = send_source(op, &in_future);
    chan.lock();
    // SAFETY: we hold the lock (all the calls up to `unlock`).
    unsafe { chan.announce(Dir::Send) };
    // SAFETY: as above; `src` as above.
    let now = unsafe { chan.send_now(src) };
    let (done, wake) = match now {
        // Locked above: `link_send` unlocks.
        Now::Wait => return link_send(chan, op, in_future, cx),
        Now::Done(wake) => (true, wake),
        Now::Closed => (false, None),
    };
    // SAFETY: as in `poll_recv`.
    unsafe { chan.unlink(None, Dir::Send) };
    // SAFETY: locked above.
    unsafe { chan.unlock() };
    if let Some(w) = wake {
        w.wake();
    }
    if done {
        // The value moved into the channel: `in_future` (a `ManuallyDrop`) is not dropped,
        // and the slot no longer counts it.
        op.full = false;
        Poll::Ready(Ok(()))
    } else {
        Poll::Ready(Err(SendError(take_back(op, in_future))))
    }
}

/// The end of an async receive that waited at some point: cancels the wait if it is still
/// in flight, and gives the slot to the channel.
#[inline]
fn end_recv<T>(chan: &Channel<T>, op: &mut Op<T>) {
    cancel_recv(chan, op);
    op.recycle(chan);
}

/// The end of an async send that waited at some point: as [`end_recv`].
#[inline(never)]
fn end_send<T>(chan: &Channel<T>, op: &mut Op<T>) {
    cancel_send(chan, op);
    op.recycle(chan);
}

/// A dropped async send (module docs, "Cancel safety"). A value not taken stays in the
/// slot, dropped with it.
#[inline]
fn cancel_send<T>(chan: &Channel<T>, op: &mut Op<T>) {
    if op.waiting {
        cancel_send_slow(chan, op);
    }
}

#[inline(never)]
fn cancel_send_slow<T>(chan: &Channel<T>, op: &mut Op<T>) {
    match op.cancel(chan, Dir::Send) {
        // A receiver took it.
        Some(DONE) => op.full = false,
        Some(NOTIFIED) => chan.pass_on(Dir::Send),
        _ => {}
    }
}

/// The future of [`Sender::send_async`].
///
/// Cancel-safe: dropped before it completes, it either sent its value (a receiver has it)
/// or not (the value is dropped with the future); see the module docs of `chan` ("Async").
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T> {
    tx: &'a Sender<T>,
    value: Option<T>,
    op: Op<T>,
}

// The futures never pin their values: a value is moved in and out by pointer only while
// it stays in place (in the future until it waits, then in the heap slot).
impl<T> Unpin for SendFuture<'_, T> {}
impl<T> Unpin for RecvFuture<'_, T> {}
impl<T> Unpin for OwnedRecv<T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_send(&this.tx.chan, &mut this.op, &mut this.value, cx)
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        // An operation that never waited has no slot, and nothing to do.
        if self.op.slot.is_some() {
            end_send(&self.tx.chan, &mut self.op);
        }
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.op.waiting)
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::recv_async`].
///
/// Cancel-safe: dropped before it completes, it received nothing, or the value it was
/// handed goes back to the channel, ahead of the others (see the module docs of `chan`,
/// "Async").
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T> {
    rx: &'a Receiver<T>,
    op: Op<T>,
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Result<T, RecvError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_recv(&this.rx.chan, &mut this.op, cx)
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        // An operation that never waited has no slot, and nothing to do.
        if self.op.slot.is_some() {
            end_recv(&self.rx.chan, &mut self.op);
        }
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture")
            .field("waiting", &self.op.waiting)
            .finish_non_exhaustive()
    }
}

/// An owned async receive, for handles built on a channel (`pool::TaskHandle`,
/// `Context::done_async`).
pub(crate) struct OwnedRecv<T> {
    rx: Receiver<T>,
    op: Op<T>,
}

impl<T> OwnedRecv<T> {
    pub(crate) fn new(rx: Receiver<T>) -> OwnedRecv<T> {
        OwnedRecv { rx, op: Op::new() }
    }
}

impl<T> Future for OwnedRecv<T> {
    type Output = Result<T, RecvError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_recv(&this.rx.chan, &mut this.op, cx)
    }
}

impl<T> Drop for OwnedRecv<T> {
    fn drop(&mut self) {
        // An operation that never waited has no slot, and nothing to do.
        if self.op.slot.is_some() {
            end_recv(&self.rx.chan, &mut self.op);
        }
    }
}

impl<T> Sender<T> {
    /// Sends `v` from async code: the future completes once the channel took the value
    /// (as [`send`](Sender::send) returns), without blocking the executor's thread.
    ///
    /// Works from any executor, and beside goroutines and threads on the same channel. The
    /// future is cancel-safe: dropped early, it has either sent the value or not (the value
    /// is then dropped with it).
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let (tx, rx) = goro::chan::bounded(0);
    /// goro::go(move || assert_eq!(rx.recv(), Ok(7)));
    /// tx.send_async(7).await.unwrap();
    /// # });
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send`](Sender::send): the channel is closed; the value comes back.
    pub fn send_async(&self, v: T) -> SendFuture<'_, T> {
        SendFuture {
            tx: self,
            value: Some(v),
            op: Op::new(),
        }
    }
}

impl<T> Receiver<T> {
    /// Receives from async code: the future completes with the next value (as
    /// [`recv`](Receiver::recv) returns), without blocking the executor's thread.
    ///
    /// Works from any executor, and beside goroutines and threads on the same channel. The
    /// future is cancel-safe: dropped early, it has received nothing, or the value it was
    /// handed goes back to the channel for the next receive.
    ///
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let (tx, rx) = goro::chan::bounded(0);
    /// goro::go(move || tx.send("hi").unwrap());
    /// assert_eq!(rx.recv_async().await, Ok("hi"));
    /// # });
    /// ```
    ///
    /// # Errors
    ///
    /// As [`recv`](Receiver::recv): the channel is closed and drained.
    pub fn recv_async(&self) -> RecvFuture<'_, T> {
        RecvFuture {
            rx: self,
            op: Op::new(),
        }
    }
}

/// A receiver or sender, borrowed or owned (by a stream or a sink made with `into_*`).
#[cfg(any(feature = "futures-core", feature = "futures-sink"))]
enum Handle<'a, H> {
    Borrowed(&'a H),
    Owned(H),
}

#[cfg(any(feature = "futures-core", feature = "futures-sink"))]
impl<H> std::ops::Deref for Handle<'_, H> {
    type Target = H;

    fn deref(&self) -> &H {
        match self {
            Handle::Borrowed(h) => h,
            Handle::Owned(h) => h,
        }
    }
}

/// The receiver as a [`Stream`](futures_core::Stream) of its values, ending when the
/// channel is closed and drained: from [`Receiver::stream`] (borrowing) or
/// [`Receiver::into_stream`] (owning). Feature `futures-core`.
///
/// Cancel-safe as [`recv_async`](Receiver::recv_async): a stream dropped between values
/// loses none.
#[cfg(feature = "futures-core")]
#[must_use = "streams do nothing unless polled"]
pub struct RecvStream<'a, T> {
    rx: Handle<'a, Receiver<T>>,
    op: Op<T>,
    ended: bool,
}

#[cfg(feature = "futures-core")]
impl<T> Unpin for RecvStream<'_, T> {}

#[cfg(feature = "futures-core")]
impl<T> futures_core::Stream for RecvStream<'_, T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        poll_recv(&this.rx.chan, &mut this.op, cx).map(|r| match r {
            Ok(v) => Some(v),
            Err(RecvError) => {
                this.ended = true;
                None
            }
        })
    }
}

#[cfg(feature = "futures-core")]
impl<T> futures_core::FusedStream for RecvStream<'_, T> {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

#[cfg(feature = "futures-core")]
impl<T> Drop for RecvStream<'_, T> {
    fn drop(&mut self) {
        cancel_recv(&self.rx.chan, &mut self.op);
    }
}

#[cfg(feature = "futures-core")]
impl<T> fmt::Debug for RecvStream<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvStream")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "futures-core")]
impl<T> Receiver<T> {
    /// The values received, as a [`Stream`](futures_core::Stream) (Go: `for v := range ch`
    /// in async code). Feature `futures-core`.
    ///
    /// ```
    /// use futures::StreamExt;
    ///
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let (tx, rx) = goro::chan::bounded(1);
    /// goro::go(move || (1..=3).for_each(|i| tx.send(i).unwrap()));
    /// let got: Vec<i32> = rx.stream().collect().await;
    /// assert_eq!(got, [1, 2, 3]);
    /// # });
    /// ```
    pub fn stream(&self) -> RecvStream<'_, T> {
        RecvStream {
            rx: Handle::Borrowed(self),
            op: Op::new(),
            ended: false,
        }
    }

    /// As [`stream`](Receiver::stream), owning the receiver.
    ///
    /// ```
    /// use futures::StreamExt;
    ///
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let (tx, rx) = goro::chan::bounded(1);
    /// goro::go(move || (1..=3).for_each(|i| tx.send(i).unwrap()));
    /// let stream = rx.into_stream(); // can be moved into a task
    /// assert_eq!(stream.collect::<Vec<i32>>().await, [1, 2, 3]);
    /// # });
    /// ```
    pub fn into_stream(self) -> RecvStream<'static, T> {
        RecvStream {
            rx: Handle::Owned(self),
            op: Op::new(),
            ended: false,
        }
    }
}

/// The sender as a [`Sink`](futures_sink::Sink): from [`Sender::sink`] (borrowing) or
/// [`Sender::into_sink`] (owning). Feature `futures-sink`.
///
/// `start_send` tries to send at once; a value that has to wait is sent by the next
/// `poll_ready` or `poll_flush`, which complete once it is in the channel (or taken, on an
/// unbuffered one). `poll_close` flushes and leaves the channel open (other senders may
/// still use it): close it with [`Sender::close`] or by dropping every sender.
#[cfg(feature = "futures-sink")]
#[must_use = "sinks do nothing unless polled"]
pub struct SendSink<'a, T> {
    tx: Handle<'a, Sender<T>>,
    /// The value being sent, until it is in the slot (`op.full`).
    value: Option<T>,
    op: Op<T>,
}

#[cfg(feature = "futures-sink")]
impl<T> Unpin for SendSink<'_, T> {}

#[cfg(feature = "futures-sink")]
impl<T> SendSink<'_, T> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        if self.value.is_none() && !self.op.full {
            return Poll::Ready(Ok(()));
        }
        poll_send(&self.tx.chan, &mut self.op, &mut self.value, cx)
    }
}

#[cfg(feature = "futures-sink")]
impl<T> futures_sink::Sink<T> for SendSink<'_, T> {
    type Error = SendError<T>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().poll_pending(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Self::Error> {
        let this = self.get_mut();
        assert!(
            this.value.is_none() && !this.op.full,
            "goro: SendSink::start_send without poll_ready first"
        );
        match this.tx.try_send(item) {
            Ok(()) => Ok(()),
            Err(super::TrySendError::Closed(v)) => Err(SendError(v)),
            Err(super::TrySendError::Full(v)) => {
                this.value = Some(v);
                Ok(())
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().poll_pending(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().poll_pending(cx)
    }
}

#[cfg(feature = "futures-sink")]
impl<T> Drop for SendSink<'_, T> {
    fn drop(&mut self) {
        cancel_send(&self.tx.chan, &mut self.op);
    }
}

#[cfg(feature = "futures-sink")]
impl<T> fmt::Debug for SendSink<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendSink")
            .field("pending", &(self.value.is_some() || self.op.full))
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "futures-sink")]
impl<T> Sender<T> {
    /// The sender as a [`Sink`](futures_sink::Sink). Feature `futures-sink`.
    ///
    /// ```
    /// use futures::SinkExt;
    ///
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let (tx, rx) = goro::chan::bounded(0);
    /// let h = goro::go(move || rx.iter().sum::<i32>());
    /// let mut sink = tx.sink();
    /// for i in 1..=4 {
    ///     sink.send(i).await.unwrap();
    /// }
    /// drop(sink);
    /// drop(tx);
    /// assert_eq!(h.await.unwrap(), 10);
    /// # });
    /// ```
    pub fn sink(&self) -> SendSink<'_, T> {
        SendSink {
            tx: Handle::Borrowed(self),
            value: None,
            op: Op::new(),
        }
    }

    /// As [`sink`](Sender::sink), owning the sender.
    ///
    /// ```
    /// use futures::SinkExt;
    ///
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let (tx, rx) = goro::chan::bounded(0);
    /// let h = goro::go(move || rx.iter().sum::<i32>());
    /// let mut sink = tx.into_sink(); // can be moved into a task
    /// for i in 1..=4 {
    ///     sink.send(i).await.unwrap();
    /// }
    /// drop(sink); // the last sender: the channel closes
    /// assert_eq!(h.await.unwrap(), 10);
    /// # });
    /// ```
    pub fn into_sink(self) -> SendSink<'static, T> {
        SendSink {
            tx: Handle::Owned(self),
            value: None,
            op: Op::new(),
        }
    }
}
