//! The channel: a buffer and two queues of blocked operations under one lock, as Go's
//! `hchan` (`runtime/chan.go`), with a lock-free buffer for bounded channels.
//!
//! # Two flavours
//!
//! - **Locked** (capacity 0, unbounded, very large capacities, timer channels): the buffer
//!   (`State::buf`) lives under the lock with the queues, and a blocked operation is
//!   completed by its counterpart, which moves the value through the waiter (Go's direct
//!   hand-off).
//! - **Ring** (`1 <= cap`, buffer of at most `RING_MAX_BYTES`): the buffer is a lock-free
//!   [`Ring`]; values only ever travel through it, and waiters carry none. A blocked
//!   operation is *notified* (`NOTIFIED`) by an operation that changed the ring, and looks
//!   again. The lock then guards only the queues, so a send or receive that need not wait
//!   does not take it, unless the other side has waiters to notify.
//!
//! # Invariants of the locked flavour (under the lock)
//!
//! - Receivers wait only while the buffer is empty: a waiting receiver and a buffered value
//!   never coexist.
//! - Senders wait only while the buffer is full (always, for capacity 0): a waiting sender
//!   and free buffer space never coexist.
//! - Once `closed`, nobody waits: `close` completes every waiter, and new operations fail
//!   (sends at once; receives once the buffer is drained).
//!
//! So a send first hands its value to a waiting receiver, else buffers it, else waits; a
//! receive first takes from the buffer (refilling it from the oldest waiting sender, which
//! keeps FIFO order), else takes a waiting sender's value directly (capacity 0), else waits.
//! Every value is moved under the lock, so it is received exactly once or stays in the
//! buffer (dropped with the channel), or comes back to its sender in an error.
//!
//! # No lost wake-up in the ring flavour
//!
//! A receiver about to wait takes the lock, sets `recv_waiting` (SeqCst), looks at the ring
//! once more, and only then links its waiter and unlocks. A sender pushes with a SeqCst CAS
//! on the ring's tail, then loads `recv_waiting` (SeqCst); if set, it takes the lock and
//! notifies the oldest receiver. In the single total order of SeqCst operations, either the
//! sender's load comes after the flag store (it sees the flag, and by the time it holds the
//! lock the waiter is linked), or the receiver's last look (behind a SeqCst fence in
//! `Ring::pop`) comes after the sender's CAS and finds the value. Senders waiting for room
//! mirror this with `send_waiting`. The flags are rewritten under the lock whenever a queue
//! changes (`sync_flags`), so they are false again once nobody waits, and a notified
//! waiter that finds the ring raced away by someone else simply waits again: whoever took
//! the value or the room consumed what the notification announced.
//!
//! The lock is a raw futex lock (`lock.rs`) rather than `std::sync::Mutex`, because `select`
//! holds the locks of all its channels at once, in address order, as Go's `selectgo` does
//! (see `select`).

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use super::lock::RawLock;
use super::ring::{PopError, PushError, Ring};

use super::error::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use super::waiter::{Queue, Waiter, Wake, Wakes, CLOSED, DONE};

/// The largest buffer given the ring flavour, in bytes of slots: a ring allocates its whole
/// capacity up front, so beyond this the locked flavour (which allocates only what is
/// buffered) is used.
const RING_MAX_BYTES: usize = 1 << 20;

pub(crate) struct Channel<T> {
    lock: RawLock,
    state: UnsafeCell<State<T>>,
    /// Capacity (`usize::MAX` for an unbounded channel, which never fills).
    cap: usize,
    unbounded: bool,
    /// A timer's channel (see `new_timer`).
    timer: bool,
    /// Mirror of `State::closed`, for `is_closed` without the lock.
    closed: AtomicBool,
    /// Mirror of the buffer's length, for `len` without the lock (locked flavour).
    len: AtomicUsize,
    /// The lock-free buffer of the ring flavour (module docs); boxed, as its two padded
    /// indices would otherwise make every channel, unbuffered ones included, several cache
    /// lines long.
    ring: Option<Box<Ring<T>>>,
    /// Ring flavour: whether receivers (senders) may be linked in `recvq` (`sendq`), so an
    /// operation that changed the ring must take the lock and notify one (module docs).
    recv_waiting: AtomicBool,
    send_waiting: AtomicBool,
    pub(crate) senders: AtomicUsize,
    pub(crate) receivers: AtomicUsize,
}

// SAFETY: `state` is only reached under `lock` (see `Locked`); values of `T: Send` move
// between threads through it.
unsafe impl<T: Send> Sync for Channel<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Channel<T> {}

pub(crate) struct State<T> {
    buf: VecDeque<T>,
    closed: bool,
    pub(crate) recvq: Queue<T>,
    pub(crate) sendq: Queue<T>,
}

/// How long an operation may block.
#[derive(Clone, Copy)]
pub(crate) enum Block {
    No,
    Forever,
    Until(Instant),
}

/// What a send can do right now, under the lock.
pub(crate) enum SendNow<T> {
    /// Sent (handed to a receiver, who must be woken, or buffered).
    Done(Option<Wake>),
    /// The channel is closed: the value comes back.
    Closed(T),
    /// It would have to wait: the value comes back.
    Wait(T),
}

/// What a receive can do right now, under the lock.
pub(crate) enum RecvNow<T> {
    /// Received (a sender may have to be woken).
    Done(T, Option<Wake>),
    /// Closed and drained.
    Closed,
    /// It would have to wait.
    Wait,
}

/// The channel's state while its lock is held; unlocks on drop.
pub(crate) struct Locked<'a, T> {
    chan: &'a Channel<T>,
}

impl<T> std::ops::Deref for Locked<'_, T> {
    type Target = State<T>;

    fn deref(&self) -> &State<T> {
        // SAFETY: we hold the lock.
        unsafe { &*self.chan.state.get() }
    }
}

impl<T> std::ops::DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut State<T> {
        // SAFETY: we hold the lock.
        unsafe { &mut *self.chan.state.get() }
    }
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        // SAFETY: a `Locked` exists only while its thread holds the lock.
        unsafe { self.chan.lock.unlock() };
    }
}

impl<T> Channel<T> {
    /// A channel of capacity `cap`, or unbounded for `None`.
    pub(crate) fn new(cap: Option<usize>, senders: usize) -> Channel<T> {
        let ring = cap
            .filter(|&c| c >= 1 && c <= RING_MAX_BYTES / Ring::<T>::slot_bytes())
            .map(|c| Box::new(Ring::new(c)));
        Channel::with_ring(cap, senders, ring)
    }

    fn with_ring(cap: Option<usize>, senders: usize, ring: Option<Box<Ring<T>>>) -> Channel<T> {
        Channel {
            lock: RawLock::new(),
            state: UnsafeCell::new(State {
                // Never preallocate: a huge capacity costs only what is buffered.
                buf: VecDeque::new(),
                closed: false,
                recvq: Queue::new(),
                sendq: Queue::new(),
            }),
            cap: cap.unwrap_or(usize::MAX),
            unbounded: cap.is_none(),
            timer: false,
            closed: AtomicBool::new(false),
            len: AtomicUsize::new(0),
            ring,
            recv_waiting: AtomicBool::new(false),
            send_waiting: AtomicBool::new(false),
            senders: AtomicUsize::new(senders),
            receivers: AtomicUsize::new(1),
        }
    }

    /// The channel of a `time::Timer` or `Ticker`, as Go 1.23 has them: it holds the one
    /// pending value internally but reports length and capacity 0, and dropping its sender
    /// does not close it (a receiver left waiting after the value waits forever, as in Go;
    /// dropping every receiver still closes it, which stops the timer).
    pub(crate) fn new_timer() -> Channel<T> {
        let mut c = Channel::with_ring(Some(1), 2, None);
        c.timer = true;
        c
    }

    pub(crate) fn lock(&self) -> Locked<'_, T> {
        self.lock.lock();
        Locked { chan: self }
    }

    /// Takes the lock for `select`, which releases it with `raw_unlock`.
    pub(crate) fn raw_lock(&self) {
        self.lock.lock();
    }

    /// # Safety
    ///
    /// The caller holds the lock (taken with `raw_lock`).
    pub(crate) unsafe fn raw_unlock(&self) {
        // SAFETY: the caller holds the lock.
        unsafe { self.lock.unlock() };
    }

    /// The state, for `select` while it holds the lock.
    ///
    /// # Safety
    ///
    /// The caller holds the lock and has no other reference into the state.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn state_mut(&self) -> &mut State<T> {
        // SAFETY: the caller holds the lock.
        unsafe { &mut *self.state.get() }
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        if self.timer {
            return Some(0);
        }
        (!self.unbounded).then_some(self.cap)
    }

    pub(crate) fn len(&self) -> usize {
        if self.timer {
            return 0;
        }
        match &self.ring {
            Some(r) => r.len(),
            None => self.len.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        match &self.ring {
            Some(r) => r.is_closed(),
            // Acquire: pairs with the Release store in `close`.
            None => self.closed.load(Ordering::Acquire),
        }
    }

    /// Whether this channel has the ring flavour (module docs).
    pub(crate) fn is_ring(&self) -> bool {
        self.ring.is_some()
    }

    /// Ring flavour, under the lock: announces a waiting receiver (or sender) before the
    /// last look at the ring (the flag protocol in the module docs).
    pub(crate) fn announce(&self, receiver: bool) {
        let flag = if receiver {
            &self.recv_waiting
        } else {
            &self.send_waiting
        };
        // SeqCst: pairs with the SeqCst loads in `notify_*` (module docs).
        flag.store(true, Ordering::SeqCst);
    }

    /// Ring flavour, under the lock: makes the waiting flags say again whether the queues
    /// hold waiters, after waiters were linked or unlinked (or an announcement withdrawn).
    pub(crate) fn sync_flags(&self, st: &State<T>) {
        if self.ring.is_some() {
            // Relaxed, and only when the value changes: the protocol rests on the SeqCst
            // store of `announce` (which precedes linking a waiter, under the lock) and the
            // SeqCst loads in `notify`. A `true` written here means a waiter is linked, whose
            // announcement came earlier; a `false` means none is, and any later
            // announcement happens under the lock after this store, so it comes later in
            // the flag's modification order and is the one a SeqCst load must see.
            let set = |flag: &AtomicBool, v: bool| {
                if flag.load(Ordering::Relaxed) != v {
                    flag.store(v, Ordering::Relaxed);
                }
            };
            set(&self.recv_waiting, !st.recvq.is_empty());
            set(&self.send_waiting, !st.sendq.is_empty());
        }
    }

    /// Ring flavour, under the lock: notifies the oldest waiting receiver (after a push) or
    /// sender (after a pop), if any.
    fn notify_locked(&self, st: &mut State<T>, receiver: bool) -> Option<Wake> {
        let q = if receiver {
            &mut st.recvq
        } else {
            &mut st.sendq
        };
        let wake = q.pop_notify();
        self.sync_flags(st);
        wake
    }

    /// Ring flavour, without the lock: after a push (pop), notifies a waiting receiver
    /// (sender) if the flag says there may be one.
    fn notify(&self, receiver: bool) {
        let flag = if receiver {
            &self.recv_waiting
        } else {
            &self.send_waiting
        };
        // SeqCst: ordered after the ring's SeqCst CAS that made the change; pairs with the
        // SeqCst store in `announce` (module docs).
        if flag.load(Ordering::SeqCst) {
            let mut st = self.lock();
            let wake = self.notify_locked(&mut st, receiver);
            drop(st);
            if let Some(w) = wake {
                w.wake();
            }
        }
    }

    /// A send that must not wait, under the lock.
    pub(crate) fn send_now(&self, st: &mut State<T>, v: T) -> SendNow<T> {
        if let Some(ring) = &self.ring {
            return match ring.push(v) {
                Ok(()) => SendNow::Done(self.notify_locked(st, true)),
                Err(PushError::Full(v)) => SendNow::Wait(v),
                Err(PushError::Closed(v)) => SendNow::Closed(v),
            };
        }
        if st.closed {
            return SendNow::Closed(v);
        }
        let v = match st.recvq.pop_receiver(v) {
            Ok(wake) => return SendNow::Done(Some(wake)),
            Err(v) => v,
        };
        if st.buf.len() < self.cap {
            st.buf.push_back(v);
            self.len.store(st.buf.len(), Ordering::Relaxed);
            return SendNow::Done(None);
        }
        SendNow::Wait(v)
    }

    /// A receive that must not wait, under the lock.
    pub(crate) fn recv_now(&self, st: &mut State<T>) -> RecvNow<T> {
        if let Some(ring) = &self.ring {
            return match ring.pop() {
                Ok(v) => RecvNow::Done(v, self.notify_locked(st, false)),
                Err(PopError::Empty) => RecvNow::Wait,
                Err(PopError::Closed) => RecvNow::Closed,
            };
        }
        if let Some(v) = st.buf.pop_front() {
            // Room in the buffer: the oldest blocked sender moves its value in.
            let wake = st.sendq.pop_sender().map(|(sv, wake)| {
                st.buf.push_back(sv);
                wake
            });
            self.len.store(st.buf.len(), Ordering::Relaxed);
            return RecvNow::Done(v, wake);
        }
        if let Some((v, wake)) = st.sendq.pop_sender() {
            return RecvNow::Done(v, Some(wake));
        }
        if st.closed {
            return RecvNow::Closed;
        }
        RecvNow::Wait
    }

    pub(crate) fn send(&self, v: T, block: Block) -> Result<(), SendTimeoutError<T>> {
        match &self.ring {
            Some(ring) => self.ring_send(ring, v, block),
            None => self.locked_send(v, block),
        }
    }

    pub(crate) fn recv(&self, block: Block) -> Result<T, RecvTimeoutError> {
        match &self.ring {
            Some(ring) => self.ring_recv(ring, block),
            None => self.locked_recv(block),
        }
    }

    /// A send on a ring channel: push without the lock; to wait, announce, look again and
    /// link a value-less waiter under the lock, and push again once notified.
    fn ring_send(&self, ring: &Ring<T>, mut v: T, block: Block) -> Result<(), SendTimeoutError<T>> {
        loop {
            match ring.push(v) {
                Ok(()) => {
                    self.notify(true);
                    return Ok(());
                }
                Err(PushError::Closed(v)) => return Err(SendTimeoutError::Closed(v)),
                Err(PushError::Full(back)) => v = back,
            }
            let deadline = match block {
                Block::No => return Err(SendTimeoutError::Timeout(v)),
                Block::Forever => None,
                Block::Until(d) => Some(d),
            };
            let mut st = self.lock();
            self.announce(false);
            v = match self.send_now(&mut st, v) {
                SendNow::Done(wake) => {
                    self.sync_flags(&st);
                    drop(st);
                    if let Some(w) = wake {
                        w.wake();
                    }
                    return Ok(());
                }
                SendNow::Closed(v) => {
                    self.sync_flags(&st);
                    return Err(SendTimeoutError::Closed(v));
                }
                SendNow::Wait(v) => v,
            };
            let w = Waiter::new(None);
            // SAFETY: `w` is unlinked before this iteration ends: by a waker, or below.
            unsafe { st.sendq.push(&w) };
            drop(st);
            if w.wait(deadline).is_some() {
                // Notified (room appeared) or closed: look again.
                continue;
            }
            let mut st = self.lock();
            let linked = st.sendq.remove(&w);
            self.sync_flags(&st);
            drop(st);
            if linked {
                return Err(SendTimeoutError::Timeout(v));
            }
            // Notified (or closed) just as the deadline passed: once the waker is done with
            // the waiter, use the room it announced, so that the notification is not lost.
            w.completed();
            return match ring.push(v) {
                Ok(()) => {
                    self.notify(true);
                    Ok(())
                }
                Err(PushError::Full(v)) => Err(SendTimeoutError::Timeout(v)),
                Err(PushError::Closed(v)) => Err(SendTimeoutError::Closed(v)),
            };
        }
    }

    /// A receive on a ring channel; mirrors `ring_send`.
    fn ring_recv(&self, ring: &Ring<T>, block: Block) -> Result<T, RecvTimeoutError> {
        loop {
            match ring.pop() {
                Ok(v) => {
                    self.notify(false);
                    return Ok(v);
                }
                Err(PopError::Closed) => return Err(RecvTimeoutError::Closed),
                Err(PopError::Empty) => {}
            }
            let deadline = match block {
                Block::No => return Err(RecvTimeoutError::Timeout),
                Block::Forever => None,
                Block::Until(d) => Some(d),
            };
            let mut st = self.lock();
            self.announce(true);
            match self.recv_now(&mut st) {
                RecvNow::Done(v, wake) => {
                    self.sync_flags(&st);
                    drop(st);
                    if let Some(w) = wake {
                        w.wake();
                    }
                    return Ok(v);
                }
                RecvNow::Closed => {
                    self.sync_flags(&st);
                    return Err(RecvTimeoutError::Closed);
                }
                RecvNow::Wait => {}
            }
            let w = Waiter::new(None);
            // SAFETY: `w` is unlinked before this iteration ends: by a waker, or below.
            unsafe { st.recvq.push(&w) };
            drop(st);
            if w.wait(deadline).is_some() {
                // Notified (a value arrived) or closed: look again.
                continue;
            }
            let mut st = self.lock();
            let linked = st.recvq.remove(&w);
            self.sync_flags(&st);
            drop(st);
            if linked {
                return Err(RecvTimeoutError::Timeout);
            }
            // Notified (or closed) just as the deadline passed: once the waker is done with
            // the waiter, take the value it announced, so that the notification is not lost.
            w.completed();
            return match ring.pop() {
                Ok(v) => {
                    self.notify(false);
                    Ok(v)
                }
                Err(PopError::Empty) => Err(RecvTimeoutError::Timeout),
                Err(PopError::Closed) => Err(RecvTimeoutError::Closed),
            };
        }
    }

    fn locked_send(&self, v: T, block: Block) -> Result<(), SendTimeoutError<T>> {
        let mut st = self.lock();
        let v = match self.send_now(&mut st, v) {
            SendNow::Done(wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                return Ok(());
            }
            SendNow::Closed(v) => return Err(SendTimeoutError::Closed(v)),
            SendNow::Wait(v) => v,
        };
        let deadline = match block {
            Block::No => return Err(SendTimeoutError::Timeout(v)),
            Block::Forever => None,
            Block::Until(d) => Some(d),
        };
        let w = Waiter::new(Some(v));
        // SAFETY: `w` is unlinked before this function returns: by a waker, or below.
        unsafe { st.sendq.push(&w) };
        drop(st);
        let state = match w.wait(deadline) {
            Some(s) => s,
            None => {
                let mut st = self.lock();
                if st.sendq.remove(&w) {
                    drop(st);
                    let v = w.take().expect("an unlinked sender keeps its value");
                    return Err(SendTimeoutError::Timeout(v));
                }
                drop(st);
                w.completed()
            }
        };
        match state {
            DONE => Ok(()),
            CLOSED => Err(SendTimeoutError::Closed(
                w.take().expect("a sender woken by close keeps its value"),
            )),
            s => unreachable!("waiter state {s}"),
        }
    }

    fn locked_recv(&self, block: Block) -> Result<T, RecvTimeoutError> {
        let mut st = self.lock();
        match self.recv_now(&mut st) {
            RecvNow::Done(v, wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                return Ok(v);
            }
            RecvNow::Closed => return Err(RecvTimeoutError::Closed),
            RecvNow::Wait => {}
        }
        let deadline = match block {
            Block::No => return Err(RecvTimeoutError::Timeout),
            Block::Forever => None,
            Block::Until(d) => Some(d),
        };
        let w = Waiter::new(None);
        // SAFETY: `w` is unlinked before this function returns: by a waker, or below.
        unsafe { st.recvq.push(&w) };
        drop(st);
        let state = match w.wait(deadline) {
            Some(s) => s,
            None => {
                let mut st = self.lock();
                if st.recvq.remove(&w) {
                    return Err(RecvTimeoutError::Timeout);
                }
                drop(st);
                w.completed()
            }
        };
        match state {
            DONE => Ok(w.take().expect("a completed receiver holds its value")),
            CLOSED => Err(RecvTimeoutError::Closed),
            s => unreachable!("waiter state {s}"),
        }
    }

    pub(crate) fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        self.send(v, Block::No).map_err(|e| match e {
            SendTimeoutError::Timeout(v) => TrySendError::Full(v),
            SendTimeoutError::Closed(v) => TrySendError::Closed(v),
        })
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        self.recv(Block::No).map_err(|e| match e {
            RecvTimeoutError::Timeout => TryRecvError::Empty,
            RecvTimeoutError::Closed => TryRecvError::Closed,
        })
    }

    /// Closes the channel: wakes every waiter; returns false if it was already closed.
    pub(crate) fn close(&self) -> bool {
        let mut wakes = Wakes::new();
        {
            let mut st = self.lock();
            if st.closed {
                return false;
            }
            st.closed = true;
            if let Some(ring) = &self.ring {
                ring.close();
            }
            // Release: pairs with the Acquire load in `is_closed`.
            self.closed.store(true, Ordering::Release);
            let State { recvq, sendq, .. } = &mut *st;
            recvq.close_all(&mut wakes);
            sendq.close_all(&mut wakes);
            self.sync_flags(&st);
        }
        wakes.wake_all();
        true
    }
}
