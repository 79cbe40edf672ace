//! The lock-free flavour: bounded channels of capacity 2 and more whose buffer fits in
//! `RING_MAX_BYTES` keep it in a lock-free [`Ring`], so a send or receive that need not
//! wait does not take the channel lock, unless the other side has waiters to notify.
//!
//! Capacity 1 has the locked flavour: a one-slot ring is full or empty nearly all the time,
//! so most operations wait, and a wait here costs a look at the ring, the lock, a second
//! look and a notification, where the locked flavour hands the value straight over. A
//! ping-pong of two goroutines over two channels of capacity 1 (`pingpong1` in
//! `benchmarks/`) ran 1,785 million instructions as a ring and 1,163 million locked (one
//! worker), and took 174 ns per round trip locked against 256 ns as a ring on two workers.
//!
//! Values only ever travel through the ring, and waiters carry none: a blocked operation is
//! *notified* (`NOTIFIED`) by an operation that changed the ring, and looks again. The lock
//! guards only the queues.
//!
//! # No lost wake-up
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

use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

use super::super::core::{Core, Dir, State, WaitEnd};
use super::super::ring::{PopError, PushError, Ring};
use super::super::waiter::{Waiter, Wake};
use super::{Block, Now, Outcome};

/// The largest buffer given this flavour, in bytes of slots: a ring allocates its whole
/// capacity up front, so beyond this the locked flavour (which allocates only what is
/// buffered) is used.
const RING_MAX_BYTES: usize = 1 << 20;

pub(crate) struct Channel<T> {
    /// The queues; the lock-free flavour keeps nothing else under the lock.
    core: Core<T, ()>,
    /// Boxed: its two padded indices would otherwise make every channel, unbuffered ones
    /// included, several cache lines long.
    ring: Box<Ring<T>>,
    /// Whether receivers (senders) may be linked in `recvq` (`sendq`), so an operation
    /// that changed the ring must take the lock and notify one (module docs).
    recv_waiting: AtomicBool,
    send_waiting: AtomicBool,
}

impl<T> Channel<T> {
    /// A channel of capacity `cap`, if this flavour suits it (module docs: 2 and more, up
    /// to `RING_MAX_BYTES` of slots).
    pub(crate) fn new(cap: usize) -> Option<Channel<T>> {
        (cap >= 2 && cap <= RING_MAX_BYTES / Ring::<T>::slot_bytes()).then(|| Channel {
            core: Core::new(()),
            ring: Box::new(Ring::new(cap)),
            recv_waiting: AtomicBool::new(false),
            send_waiting: AtomicBool::new(false),
        })
    }

    pub(crate) fn core(&self) -> &Core<T, ()> {
        &self.core
    }

    pub(crate) fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    pub(crate) fn len(&self) -> usize {
        self.ring.len()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.ring.is_closed()
    }

    /// Changes whenever the ring does (`Ring::version`).
    pub(crate) fn version(&self) -> usize {
        self.ring.version()
    }

    fn flag(&self, dir: Dir) -> &AtomicBool {
        match dir {
            Dir::Recv => &self.recv_waiting,
            Dir::Send => &self.send_waiting,
        }
    }

    /// Under the lock: announces a waiter of direction `dir` before the last look at the
    /// ring (the flag protocol in the module docs).
    pub(crate) fn announce(&self, dir: Dir) {
        // SeqCst: pairs with the SeqCst load in `notify` (module docs).
        self.flag(dir).store(true, Ordering::SeqCst);
    }

    /// Under the lock: makes the waiting flags say again whether the queues hold waiters,
    /// after waiters were linked or unlinked (or an announcement withdrawn).
    pub(crate) fn sync_flags(&self, st: &State<T, ()>) {
        // Relaxed, and only when the value changes: the protocol rests on the SeqCst store
        // of `announce` (which precedes linking a waiter, under the lock) and the SeqCst
        // loads in `notify`. A `true` written here means a waiter is linked, whose
        // announcement came earlier; a `false` means none is, and any later announcement
        // happens under the lock after this store, so it comes later in the flag's
        // modification order and is the one a SeqCst load must see.
        let set = |flag: &AtomicBool, v: bool| {
            if flag.load(Ordering::Relaxed) != v {
                flag.store(v, Ordering::Relaxed);
            }
        };
        set(&self.recv_waiting, !st.recvq.is_empty());
        set(&self.send_waiting, !st.sendq.is_empty());
    }

    /// Under the lock: notifies the oldest waiter of direction `dir`, if any.
    fn notify_locked(&self, st: &mut State<T, ()>, dir: Dir) -> Option<Wake> {
        let wake = st.queue(dir).pop_notify();
        self.sync_flags(st);
        wake
    }

    /// Without the lock, after a push (pop): notifies a waiting receiver (sender) if the
    /// flag says there may be one.
    #[inline]
    fn notify(&self, dir: Dir) {
        // SeqCst: ordered after the ring's SeqCst CAS that made the change; pairs with the
        // SeqCst store in `announce` (module docs).
        if self.flag(dir).load(Ordering::SeqCst) {
            self.notify_slow(dir);
        }
    }

    #[cold]
    #[inline(never)]
    fn notify_slow(&self, dir: Dir) {
        let mut st = self.core.lock();
        let wake = self.notify_locked(&mut st, dir);
        drop(st);
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// A send that does not wait and takes no lock unless it has a waiter to notify: the
    /// fast path of async sends (`chan::future`). `None` if the ring is full.
    ///
    /// # Safety
    ///
    /// As for `Ring::push`: `v` is a valid `T` the caller owns, and gives up on `Done`.
    #[inline]
    pub(crate) unsafe fn try_send(&self, v: *const T) -> Option<Outcome> {
        // SAFETY: the caller's contract is the ring's.
        match unsafe { self.ring.push(v) } {
            Ok(()) => {
                self.notify(Dir::Recv);
                Some(Outcome::Done)
            }
            Err(PushError::Closed) => Some(Outcome::Closed),
            Err(PushError::Full) => None,
        }
    }

    /// The receiving twin of `try_send`. `None` if the ring is empty.
    ///
    /// # Safety
    ///
    /// As for `Ring::pop`: `dst` is valid for writing a `T`, written on `Done` only.
    #[inline]
    pub(crate) unsafe fn try_recv(&self, dst: *mut T) -> Option<Outcome> {
        // SAFETY: the caller's contract is the ring's.
        match unsafe { self.ring.pop(dst) } {
            Ok(()) => {
                self.notify(Dir::Send);
                Some(Outcome::Done)
            }
            Err(PopError::Closed) => Some(Outcome::Closed),
            Err(PopError::Empty) => None,
        }
    }

    /// A send that must not wait, under the lock.
    ///
    /// # Safety
    ///
    /// As for `Ring::push`: `v` is a valid `T` the caller owns, and gives up on `Done`.
    #[inline]
    pub(crate) unsafe fn send_now(&self, st: &mut State<T, ()>, v: *const T) -> Now {
        // SAFETY: the caller's contract is the ring's.
        match unsafe { self.ring.push(v) } {
            Ok(()) => Now::Done(self.notify_locked(st, Dir::Recv)),
            Err(PushError::Full) => Now::Wait,
            Err(PushError::Closed) => Now::Closed,
        }
    }

    /// A receive that must not wait, under the lock.
    ///
    /// # Safety
    ///
    /// As for `Ring::pop`: `dst` is valid for writing a `T`, written on `Done` only.
    #[inline]
    pub(crate) unsafe fn recv_now(&self, st: &mut State<T, ()>, dst: *mut T) -> Now {
        // SAFETY: the caller's contract is the ring's.
        match unsafe { self.ring.pop(dst) } {
            Ok(()) => Now::Done(self.notify_locked(st, Dir::Send)),
            Err(PopError::Empty) => Now::Wait,
            Err(PopError::Closed) => Now::Closed,
        }
    }

    /// A send: push without the lock; to wait, announce, look again and link a value-less
    /// waiter under the lock, and push again once notified (or once the deadline passed
    /// just as a notification came, so that it is not lost).
    ///
    /// # Safety
    ///
    /// `v` points to a valid `T` the caller owns; on `Outcome::Done` the value has moved
    /// into the channel and the caller must not drop or use it any more. On any other
    /// outcome it was not touched.
    #[track_caller]
    pub(crate) unsafe fn send(&self, v: *const T, block: Block) -> Outcome {
        loop {
            // SAFETY: the function's contract.
            match unsafe { self.ring.push(v) } {
                Ok(()) => {
                    self.notify(Dir::Recv);
                    return Outcome::Done;
                }
                Err(PushError::Closed) => return Outcome::Closed,
                Err(PushError::Full) => {}
            }
            let Some(deadline) = block.deadline() else {
                return Outcome::TimedOut;
            };
            let mut st = self.core.lock();
            self.announce(Dir::Send);
            // SAFETY: the function's contract.
            match unsafe { self.send_now(&mut st, v) } {
                Now::Done(wake) => {
                    self.sync_flags(&st);
                    drop(st);
                    if let Some(w) = wake {
                        w.wake();
                    }
                    return Outcome::Done;
                }
                Now::Closed => {
                    self.sync_flags(&st);
                    return Outcome::Closed;
                }
                Now::Wait => {}
            }
            let w = Waiter::new(ptr::null_mut::<T>());
            // SAFETY: `w` is unlinked before this iteration ends: by a waker, or by
            // `Core::wait` when it times out.
            unsafe { st.sendq.push(&w) };
            drop(st);
            let end = self
                .core
                .wait(&w, Dir::Send, deadline, |st| self.sync_flags(st));
            if end == WaitEnd::TimedOut {
                return Outcome::TimedOut;
            }
            // Notified (room appeared) or closed: look again.
        }
    }

    /// A receive into `dst`; mirrors `send`.
    ///
    /// # Safety
    ///
    /// `dst` is valid for writing a `T`; it is written (without dropping what was there) on
    /// `Outcome::Done` only.
    #[track_caller]
    pub(crate) unsafe fn recv(&self, dst: *mut T, block: Block) -> Outcome {
        loop {
            // SAFETY: the function's contract.
            match unsafe { self.ring.pop(dst) } {
                Ok(()) => {
                    self.notify(Dir::Send);
                    return Outcome::Done;
                }
                Err(PopError::Closed) => return Outcome::Closed,
                Err(PopError::Empty) => {}
            }
            let Some(deadline) = block.deadline() else {
                return Outcome::TimedOut;
            };
            let mut st = self.core.lock();
            self.announce(Dir::Recv);
            // SAFETY: the function's contract.
            match unsafe { self.recv_now(&mut st, dst) } {
                Now::Done(wake) => {
                    self.sync_flags(&st);
                    drop(st);
                    if let Some(w) = wake {
                        w.wake();
                    }
                    return Outcome::Done;
                }
                Now::Closed => {
                    self.sync_flags(&st);
                    return Outcome::Closed;
                }
                Now::Wait => {}
            }
            let w = Waiter::new(ptr::null_mut::<T>());
            // SAFETY: as in `send`.
            unsafe { st.recvq.push(&w) };
            drop(st);
            let end = self
                .core
                .wait(&w, Dir::Recv, deadline, |st| self.sync_flags(st));
            if end == WaitEnd::TimedOut {
                return Outcome::TimedOut;
            }
            // Notified (a value arrived) or closed: look again.
        }
    }

    /// Passes a notification on: an async operation of direction `dir` that was notified
    /// (a value or room appeared for it) and then dropped without looking at the ring
    /// wakes the next waiter of its direction in its place (`chan::future`), so that what
    /// the notification announced is not left unclaimed while others wait.
    pub(crate) fn pass_on(&self, dir: Dir) {
        let mut st = self.core.lock();
        let wake = self.notify_locked(&mut st, dir);
        drop(st);
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// Closes the channel: wakes every waiter; returns false if it was already closed.
    pub(crate) fn close(&self) -> bool {
        self.core.close(|st| {
            self.ring.close();
            self.sync_flags(st);
        })
    }
}
