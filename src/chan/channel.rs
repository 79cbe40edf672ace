//! The channel behind a `Sender`/`Receiver` pair: its handle counts and its flavour.
//!
//! Each flavour (`flavor/`) owns a `Core` (the lock, the waiter queues, closing) and its
//! buffer; this type only dispatches. `select` reaches the flavours through the few calls
//! at the end (lock, poll, link, unlink), which is where the flavours' protocols differ:
//! values travel through the waiters of a locked channel, and never through those of a
//! lock-free one, whose waiters are only notified.
//!
//! Values go in and out by pointer (`*const T` to send, `*mut T` to receive), never by
//! value: see "How values move" in `chan/mod.rs`.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Weak};

use super::core::Dir;
use super::flavor::{locked, lockfree, Block, Now, Outcome};
use super::waiter::Waiter;

pub(crate) struct Channel<T> {
    pub(crate) senders: AtomicUsize,
    pub(crate) receivers: AtomicUsize,
    /// For a channel fed by goro itself (`chan::internal`), what feeds it; its buffer is
    /// then out of sight (length and capacity read 0). `None` for every user channel.
    feeder: Option<Weak<dyn Feeder>>,
    /// Made by `chan::never`: every such channel counts as the same one (`same_channel`),
    /// as every nil channel is the same value in Go.
    pub(crate) never: bool,
    flavor: Flavor<T>,
    /// The heap slot kept for the next async operation that waits (`chan::future`).
    pub(crate) spare: super::future::SpareSlot<T>,
}

/// What feeds an internal channel (a timer): asked to deliver a value that is due before
/// anyone looks at the channel, and told when the channel's last receiver is dropped, after
/// which nothing it sends can ever be received.
pub(crate) trait Feeder: Send + Sync {
    /// Called before every receive, `try_recv` and select that looks at the channel, without
    /// the channel's lock (the feeder sends through the channel, which takes it): delivers
    /// the value now if it is due and not delivered yet (a timer whose deadline has passed
    /// fires in place, Go's `maybeRunChan`), so an expired timer is ready whether or not a
    /// worker has fired it yet.
    fn deliver_due(self: Arc<Self>);
    /// Called once, by the thread that dropped the last receiver, before the channel closes.
    fn receivers_gone(&self);
}

/// `Channel::feed`'s work on an internal channel, kept out of the receive paths of user
/// channels.
#[cold]
#[inline(never)]
fn deliver_due(feeder: &Weak<dyn Feeder>) {
    // A feeder that is gone has nothing armed: a timer is kept alive by its handle or by
    // the runtime's entry for its arming.
    if let Some(feeder) = feeder.upgrade() {
        feeder.deliver_due();
    }
}

enum Flavor<T> {
    Locked(locked::Channel<T>),
    LockFree(lockfree::Channel<T>),
}

/// Runs `$body` with `$c` bound to the channel's flavour, whichever it is.
macro_rules! dispatch {
    ($self:expr, $c:ident => $body:expr) => {
        match &$self.flavor {
            Flavor::Locked($c) => $body,
            Flavor::LockFree($c) => $body,
        }
    };
}

impl<T> Channel<T> {
    /// A channel of capacity `cap`, or unbounded for `None`, with `senders` senders.
    pub(crate) fn new(cap: Option<usize>, senders: usize) -> Channel<T> {
        let flavor = match cap.and_then(lockfree::Channel::new) {
            Some(c) => Flavor::LockFree(c),
            None => Flavor::Locked(locked::Channel::new(cap)),
        };
        Channel {
            senders: AtomicUsize::new(senders),
            receivers: AtomicUsize::new(1),
            feeder: None,
            never: false,
            flavor,
            spare: super::future::SpareSlot::new(),
        }
    }

    /// A locked channel of capacity `cap` fed by `feeder`, whose buffer is out of sight (see
    /// `chan::internal`).
    pub(crate) fn internal(cap: usize, senders: usize, feeder: Weak<dyn Feeder>) -> Channel<T> {
        Channel {
            senders: AtomicUsize::new(senders),
            receivers: AtomicUsize::new(1),
            feeder: Some(feeder),
            never: false,
            flavor: Flavor::Locked(locked::Channel::new(Some(cap))),
            spare: super::future::SpareSlot::new(),
        }
    }

    /// Before a receive looks at the channel: has the feeder, if there is one, deliver what is
    /// due (`Feeder::deliver_due`). On a user channel this is one test of a field next to
    /// the flavour's tag, which the receive reads anyway; the feeder's part is out of line.
    #[inline]
    pub(crate) fn feed(&self) {
        if let Some(feeder) = &self.feeder {
            deliver_due(feeder);
        }
    }

    /// The last receiver is gone: tells the feeder, if there is one and it still exists.
    pub(crate) fn receivers_gone(&self) {
        if let Some(feeder) = self.feeder.as_ref().and_then(Weak::upgrade) {
            feeder.receivers_gone();
        }
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        if self.feeder.is_some() {
            return Some(0);
        }
        match &self.flavor {
            Flavor::Locked(c) => c.capacity(),
            Flavor::LockFree(c) => Some(c.capacity()),
        }
    }

    pub(crate) fn len(&self) -> usize {
        if self.feeder.is_some() {
            return 0;
        }
        dispatch!(self, c => c.len())
    }

    pub(crate) fn is_closed(&self) -> bool {
        dispatch!(self, c => c.is_closed())
    }

    /// Sends the value at `v` (see `chan/mod.rs`, "How values move").
    ///
    /// # Safety
    ///
    /// `v` points to a valid `T` the caller owns, which stays in place until this returns;
    /// on `Outcome::Done` the value has moved into the channel (or to a receiver) and the
    /// caller must not drop or use it any more. On any other outcome it was not touched.
    #[inline]
    #[track_caller]
    pub(crate) unsafe fn send(&self, v: *const T, block: Block) -> Outcome {
        // SAFETY: the function's contract is the flavours'.
        dispatch!(self, c => unsafe { c.send(v, block) })
    }

    /// Receives a value into `dst`, after the feeder (if any) delivered what is due.
    ///
    /// # Safety
    ///
    /// `dst` is valid for writing a `T` and stays in place until this returns; it is
    /// written (without dropping what was there) on `Outcome::Done` only.
    #[inline]
    #[track_caller]
    pub(crate) unsafe fn recv(&self, dst: *mut T, block: Block) -> Outcome {
        self.feed();
        // SAFETY: the caller's contract.
        unsafe { self.recv_unfed(dst, block) }
    }

    /// Receives without asking the feeder first: for the feeder itself, which calls this
    /// under its own lock to discard an undelivered value (`Feeder::deliver_due` would take
    /// that lock again).
    ///
    /// # Safety
    ///
    /// As [`Channel::recv`].
    #[inline]
    #[track_caller]
    pub(crate) unsafe fn recv_unfed(&self, dst: *mut T, block: Block) -> Outcome {
        // SAFETY: the function's contract is the flavours'.
        dispatch!(self, c => unsafe { c.recv(dst, block) })
    }

    /// What an async operation that was dropped after its waiter completed must do so
    /// that nothing is lost (`chan::future`): a receive handed a value puts it back
    /// (`give_back`); an operation only notified passes the notification on (`pass_on`).
    ///
    /// # Safety
    ///
    /// For a value handed back, `v` points to a valid `T` the caller owns and gives up.
    pub(crate) unsafe fn give_back(&self, v: *const T) {
        match &self.flavor {
            // SAFETY: the caller's contract.
            Flavor::Locked(c) => unsafe { c.give_back(v) },
            Flavor::LockFree(_) => unreachable!("lock-free channels hand no value to waiters"),
        }
    }

    /// See `give_back`: a notification of direction `dir` passed on. Locked channels
    /// notify nobody.
    pub(crate) fn pass_on(&self, dir: Dir) {
        if let Flavor::LockFree(c) = &self.flavor {
            c.pass_on(dir);
        }
    }

    /// The locked flavour, if this channel has it (the async operations' direct path).
    #[inline]
    pub(crate) fn locked(&self) -> Option<&locked::Channel<T>> {
        match &self.flavor {
            Flavor::Locked(c) => Some(c),
            Flavor::LockFree(_) => None,
        }
    }

    /// On a lock-free channel, a send that neither waits nor locks unless it must notify
    /// (`lockfree::Channel::try_send`); `None` if it would wait, or if the channel is locked
    /// (the caller then takes its lock).
    ///
    /// # Safety
    ///
    /// As for `send`, with `Block::No`.
    #[inline]
    pub(crate) unsafe fn try_send_lock_free(&self, v: *const T) -> Option<Outcome> {
        match &self.flavor {
            // SAFETY: the caller's contract.
            Flavor::LockFree(c) => unsafe { c.try_send(v) },
            Flavor::Locked(_) => None,
        }
    }

    /// The receiving twin of `try_send_lock_free` (without the feeder: only internal
    /// channels have one, and they are locked).
    ///
    /// # Safety
    ///
    /// As for `recv`, with `Block::No`.
    #[inline]
    pub(crate) unsafe fn try_recv_lock_free(&self, dst: *mut T) -> Option<Outcome> {
        match &self.flavor {
            // SAFETY: the caller's contract.
            Flavor::LockFree(c) => unsafe { c.try_recv(dst) },
            Flavor::Locked(_) => None,
        }
    }

    /// Closes the channel: wakes every waiter; returns false if it was already closed.
    pub(crate) fn close(&self) -> bool {
        dispatch!(self, c => c.close())
    }

    // What `select` needs. Every call but `lock` requires the lock to be held by the
    // caller, taken with `lock`, and no other reference into the channel's state alive.

    /// Takes the channel lock, which the select releases with `unlock`.
    pub(crate) fn lock(&self) {
        dispatch!(self, c => c.core().raw_lock())
    }

    /// # Safety
    ///
    /// The caller holds the lock (taken with `lock`).
    pub(crate) unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock.
        dispatch!(self, c => unsafe { c.core().raw_unlock() })
    }

    /// For a lock-free channel, a number that changes whenever its buffer does (a value
    /// sent or received without the lock, or the close: `Ring::version`); `None` for a
    /// locked channel, which does not change while its lock is held.
    pub(crate) fn version(&self) -> Option<usize> {
        match &self.flavor {
            Flavor::Locked(_) => None,
            Flavor::LockFree(c) => Some(c.version()),
        }
    }

    /// Whether blocked operations hand values over through their waiters (locked), rather
    /// than being only notified to look at the buffer again (lock-free).
    pub(crate) fn values_in_waiters(&self) -> bool {
        matches!(self.flavor, Flavor::Locked(_))
    }

    /// A send of the value at `v` that must not wait.
    ///
    /// # Safety
    ///
    /// See above: the caller holds the lock. And as for `send`: `v` is a valid `T` the
    /// caller owns, and gives up on `Now::Done`.
    #[inline]
    pub(crate) unsafe fn send_now(&self, v: *const T) -> Now {
        // SAFETY: the caller holds the lock and no other reference into the state; the
        // value's contract is the flavours'.
        dispatch!(self, c => unsafe { c.send_now(c.core().state_mut(), v) })
    }

    /// A receive into `dst` that must not wait.
    ///
    /// # Safety
    ///
    /// The caller holds the lock. And as for `recv`: `dst` is valid for writing a `T`,
    /// written on `Now::Done` only.
    #[inline]
    pub(crate) unsafe fn recv_now(&self, dst: *mut T) -> Now {
        // SAFETY: the caller holds the lock and no other reference into the state; the
        // destination's contract is the flavours'.
        dispatch!(self, c => unsafe { c.recv_now(c.core().state_mut(), dst) })
    }

    /// Before linking a waiter of direction `dir`: a lock-free channel changes without its
    /// lock, so it is told a waiter is coming (its flag protocol), and the select must look
    /// at the case once more before linking it. Returns whether it must.
    ///
    /// # Safety
    ///
    /// The caller holds the lock.
    pub(crate) unsafe fn announce(&self, dir: Dir) -> bool {
        match &self.flavor {
            Flavor::Locked(_) => false,
            Flavor::LockFree(c) => {
                c.announce(dir);
                true
            }
        }
    }

    /// Links `w` into the queue of direction `dir`.
    ///
    /// # Safety
    ///
    /// The caller holds the lock; `w` is not linked and stays in place until `unlink`
    /// removes it or a waker does, both under the lock.
    pub(crate) unsafe fn link(&self, w: &Waiter, dir: Dir) {
        // SAFETY: the caller holds the lock, and `w` outlives its time in the queue.
        dispatch!(self, c => unsafe { c.core().state_mut().queue(dir).push(w) })
    }

    /// Unlinks `w` if it is given and still linked; for a lock-free channel, also makes
    /// its waiting flags true again (which withdraws an `announce` that linked nothing).
    ///
    /// # Safety
    ///
    /// The caller holds the lock.
    pub(crate) unsafe fn unlink(&self, w: Option<&Waiter>, dir: Dir) {
        match &self.flavor {
            Flavor::Locked(c) => {
                if let Some(w) = w {
                    // SAFETY: the caller holds the lock.
                    unsafe { c.core().state_mut() }.queue(dir).remove(w);
                }
            }
            Flavor::LockFree(c) => {
                // SAFETY: the caller holds the lock.
                let st = unsafe { c.core().state_mut() };
                if let Some(w) = w {
                    st.queue(dir).remove(w);
                }
                c.sync_flags(st);
            }
        }
    }
}
