//! Cancellation: the state of a cancellable context and the protocol that ends a tree of
//! them.
//!
//! # Overview
//!
//! Every context made by `with_cancel`, `with_cancel_cause`, `with_deadline` or
//! `with_timeout` owns a [`Canceller`]. Value and `without_cancel` contexts own none: they
//! read `done`, `err` and `cause` from their *scope*, the nearest ancestor that has one (or
//! none at all below `background`, `todo` and `without_cancel`, which are never done).
//!
//! A canceller holds, under one mutex, the context's cause, its done channel (made on first
//! use, as Go makes it lazily), the *registry* of what must end with it, and the timer of a
//! deadline. The registry maps an entry key to either a child context (a cancellable node
//! whose scope is this one) or an `after_func` callback. The error itself is also kept in an
//! atomic byte so that `err()`, which loops poll, takes no lock.
//!
//! # Invariants
//!
//! 1. The error byte goes from 0 (not done) to a [`ContextError`] once, under the mutex, and
//!    never changes again; `cause` is set in the same critical section.
//! 2. The done channel, once made, is closed in that same critical section; a `done()` call
//!    after it gets an already closed channel. So whoever sees the channel closed sees the
//!    error (the close happens after the store, under the lock the reader of `cause` takes).
//! 3. A registry entry exists only while its owner is not done. Ending a canceller takes the
//!    whole registry out in the critical section of step 1; `attach` refuses new entries
//!    after it. So an entry is either taken by the cancellation (and run or cancelled) or
//!    removed by its owner (`detach`), never both: that is what makes `StopFn` exact.
//! 4. The registry holds its children strongly. A child reaches its parent through its
//!    `parent` chain too, so parent and child keep each other alive until one of them is
//!    cancelled: the child's cancel removes it (step 4 below), the parent's takes it.
//!    A child whose cancel function is dropped unused therefore lives as long as its parent
//!    does, unless the parent ends: Go's "lost cancel" leak, documented on `CancelFn`.
//! 5. A deadline's timer reaches its node only through a slot that the cancellation empties
//!    (step 3), so a stopped timer that the runtime has not swept yet keeps nothing alive.
//!
//! # Cancelling (`cancel`)
//!
//! 1. Lock the node; if it is done already, stop (someone else ended it and its subtree).
//! 2. Store the error and cause, close the done channel, take the registry and the timer out;
//!    unlock.
//! 3. Stop the timer. For each taken entry: a child context is pushed on a work list and
//!    ended the same way, with the same error and cause; an `after_func` callback is started
//!    in its own goroutine. The work list (not recursion) keeps a chain of 10,000 nested
//!    contexts from overflowing a goroutine's fixed stack. Every descendant is ended before
//!    `cancel` returns, as in Go.
//! 4. If the cancel came from the node's own cancel function or timer, remove the node from
//!    its parent scope's registry, so a long-lived parent does not accumulate finished
//!    children. A descendant ended by step 3 needs no removal: its entry was taken.
//!
//! Races, step by step:
//!
//! * *A child is created while its parent is being cancelled.* `attach` locks the parent: if
//!   step 2 ran first, `attach` sees the error and the new child is cancelled at once with
//!   the parent's error and cause; otherwise the entry is in the registry step 2 takes.
//! * *A child cancels itself while its parent cancels it.* Whichever locks the child first
//!   ends it; the other finds it done (step 1). The child's `detach` on the parent finds its
//!   entry either present (removed) or already taken: both are fine.
//! * *`StopFn` against cancellation.* `stop` and step 2 both take the parent's lock; `stop`
//!   returns `true` exactly when it removed the entry, so the callback then never runs.
//! * *A deadline fires while the context is cancelled by hand.* The timer callback goes
//!   through step 1 like everybody else and finds the node done.
//!
//! Lock order: a canceller's mutex is never held while another canceller's mutex is taken or
//! a goroutine is started. Two leaf locks may be taken under it: a channel's (closing the
//! done channel) and a timer's (`set_timer` arms the deadline's timer under the node's lock,
//! so that a cancellation cannot slip between the check and the arming). A timer's callback
//! runs in a new goroutine, never inline, so it cannot re-enter the lock.
//!
//! # Rejected designs
//!
//! * *A goroutine or thread per context waiting on its parent's done channel*: costs a
//!   goroutine per context and makes cancellation asynchronous; Go does this only for foreign
//!   `Context` implementations, which goro does not have.
//! * *Weak references in the registry, children removing themselves when dropped*: a child
//!   dropped while somebody still holds its done channel or an `after_func` on it would then
//!   miss its parent's cancellation, which Go guarantees.
//! * *Recursion over the tree*, as Go does: goroutine stacks here do not grow.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::node::Node;
use super::{Cause, ContextError};
use crate::chan::{self, Receiver, Sender};
use crate::time::Timer;

/// The cancellation state of one cancellable context.
pub(super) struct Canceller {
    /// This context's key in its parent scope's registry.
    key: u64,
    /// 0 while not done, else `ContextError::code`. Written once, under `state` (Release);
    /// read without the lock (Acquire), which pairs with that store.
    err: AtomicU8,
    state: Mutex<State>,
}

struct State {
    /// The cause given with the cancellation, if any; `None` once ended means the error
    /// itself is the cause (made on demand by `cause`, so that ending a large tree of
    /// contexts does not count references on one shared cause from every thread).
    cause: Option<Cause>,
    /// The done channel, once somebody asked for it. The receiver is kept so that the
    /// channel stays open when every receiver handed out has been dropped. Closed, and kept,
    /// once the context ends: the handles go with the context rather than being dropped
    /// by the canceller, right while the woken waiter is using the channel.
    done: Option<(Sender<()>, Receiver<()>)>,
    /// What ends with this context: its cancellable children and its `after_func` callbacks.
    /// Keys grow with creation, so a cancellation walks the children in the order they were
    /// made, which is mostly the order of their memory: far fewer cache and TLB misses than
    /// a hash map's random order when a parent has many children.
    registry: BTreeMap<u64, Entry>,
    /// The deadline's timer and the slot its callback reads the node from.
    timer: Option<(Timer, Arc<TimerSlot>)>,
}

/// What a timer's callback cancels; emptied when the context ends some other way, so a
/// stopped timer waiting to be swept by the runtime does not keep the context alive.
pub(super) type TimerSlot = Mutex<Option<Arc<Node>>>;

/// One registry entry.
pub(super) enum Entry {
    /// A cancellable child context.
    Child(Arc<Node>),
    /// A callback of `after_func`, to start in its own goroutine.
    Func(Box<dyn FnOnce() + Send + 'static>),
}

/// What `attach` returns when the canceller is already done.
pub(super) struct AlreadyDone {
    pub(super) entry: Entry,
    pub(super) err: ContextError,
    pub(super) cause: Option<Cause>,
}

impl Canceller {
    pub(super) fn new() -> Canceller {
        Canceller {
            key: next_key(),
            err: AtomicU8::new(0),
            state: Mutex::new(State {
                cause: None,
                done: None,
                registry: BTreeMap::new(),
                timer: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics under this lock; should a panic poison it, the state is still
        // consistent (every update is a single assignment).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn err(&self) -> Option<ContextError> {
        // Acquire: pairs with the Release store in `finish`.
        ContextError::from_code(self.err.load(Ordering::Acquire))
    }

    /// The cause, once ended.
    pub(super) fn cause(&self) -> Option<Cause> {
        let err = self.err()?;
        Some(self.lock().cause.clone().unwrap_or_else(|| Arc::new(err)))
    }

    /// The done channel: made on first use, closed when the context ends.
    pub(super) fn done(&self) -> Receiver<()> {
        let mut st = self.lock();
        if self.err.load(Ordering::Relaxed) != 0 {
            return closed();
        }
        let (_, rx) = st.done.get_or_insert_with(|| chan::bounded(0));
        rx.clone()
    }

    /// Adds `entry` to the registry under `key`, or hands it back if the context is done.
    pub(super) fn attach(&self, key: u64, entry: Entry) -> Result<(), AlreadyDone> {
        let mut st = self.lock();
        match ContextError::from_code(self.err.load(Ordering::Relaxed)) {
            Some(err) => Err(AlreadyDone {
                entry,
                err,
                cause: st.cause.clone(),
            }),
            None => {
                st.registry.insert(key, entry);
                Ok(())
            }
        }
    }

    /// Removes the entry under `key`, if it is still registered.
    pub(super) fn detach(&self, key: u64) -> Option<Entry> {
        let mut st = self.lock();
        // A B-tree gives its nodes back as it shrinks: a parent that once had many
        // children at a time does not keep their memory.
        st.registry.remove(&key)
    }

    /// How many entries are registered (children and `after_func` callbacks).
    pub(super) fn registered(&self) -> usize {
        self.lock().registry.len()
    }

    /// Arms the deadline's timer with `arm` and keeps it, unless the context is done
    /// already (then nothing is armed).
    pub(super) fn set_timer(&self, arm: impl FnOnce() -> (Timer, Arc<TimerSlot>)) {
        let mut st = self.lock();
        if self.err.load(Ordering::Relaxed) == 0 {
            st.timer = Some(arm());
        }
    }

    /// Steps 1 and 2 of the protocol: ends this canceller, or returns `None` if it had ended
    /// already.
    fn finish(&self, err: ContextError, cause: &Option<Cause>) -> Option<Ended> {
        let mut st = self.lock();
        if self.err.load(Ordering::Relaxed) != 0 {
            return None;
        }
        // Release: pairs with the Acquire load in `err`.
        self.err.store(err.code(), Ordering::Release);
        st.cause = cause.clone();
        if let Some((tx, _)) = &st.done {
            tx.close();
        }
        let registry = std::mem::take(&mut st.registry);
        let timer = st.timer.take();
        drop(st);
        Some(Ended { registry, timer })
    }
}

/// What `finish` took out of a canceller, to be dealt with outside its lock.
struct Ended {
    registry: BTreeMap<u64, Entry>,
    timer: Option<(Timer, Arc<TimerSlot>)>,
}

impl Drop for Canceller {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        // A context dropped before it ended, with its done channel made. Nothing can cancel
        // it any more (a registered child is kept alive by its parent, a pending deadline by
        // its timer), so in Go its channel would simply never be closed. Here dropping the
        // last sender would close it, and a receiver somebody still holds would report the
        // context done. So when receivers are still out the sender is leaked instead, and
        // they wait forever, as Go's would.
        if let Some((tx, rx)) = st.done.take() {
            drop(rx);
            if !tx.is_closed() {
                std::mem::forget(tx);
            }
        }
    }
}

/// A closed channel: the done channel of a context that ended before anyone asked for it.
fn closed() -> Receiver<()> {
    static CLOSED: OnceLock<Receiver<()>> = OnceLock::new();
    CLOSED
        .get_or_init(|| {
            let (tx, rx) = chan::bounded(0);
            tx.close();
            rx
        })
        .clone()
}

/// A fresh registry key: children and `after_func` callbacks share one numbering.
pub(super) fn next_key() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Canceller {
    /// This context's key in its parent scope's registry.
    pub(super) fn key(&self) -> u64 {
        self.key
    }
}

/// Ends `node` and every descendant with `err` and `cause` (the protocol above). `detach`
/// removes `node` from its parent scope's registry (step 4); a parent cancelling its
/// children passes `false`, it has taken them already.
pub(super) fn cancel(node: &Arc<Node>, err: ContextError, cause: Option<Cause>, detach: bool) {
    // Already ended (the common case for a child's own cancel function, called after its
    // parent ended it): nothing to do, and no cause to allocate. `finish` decides under the
    // lock; this only skips the work when the answer is already known.
    if node.canceller().is_none_or(|c| c.err().is_some()) {
        return;
    }
    let Some(ended) = node.canceller().and_then(|c| c.finish(err, &cause)) else {
        return;
    };
    let mut work: Vec<Arc<Node>> = Vec::new();
    settle(ended, &mut work);
    // Newest first: the reverse of creation order, still the order of their memory.
    while let Some(child) = work.pop() {
        if let Some(ended) = child.canceller().and_then(|c| c.finish(err, &cause)) {
            settle(ended, &mut work);
        }
    }
    if detach {
        if let Some(parent) = node.parent_scope() {
            if let Some(c) = parent.canceller() {
                if let Some(me) = node.canceller() {
                    c.detach(me.key());
                }
            }
        }
    }
}

/// Step 3 for one ended node: stop its timer, queue its children, start its callbacks.
fn settle(ended: Ended, work: &mut Vec<Arc<Node>>) {
    if let Some((timer, slot)) = ended.timer {
        timer.stop();
        let node = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(node);
    }
    for (_, entry) in ended.registry {
        match entry {
            Entry::Child(node) => work.push(node),
            Entry::Func(f) => start(f),
        }
    }
}

/// Starts an `after_func` callback in its own goroutine.
pub(super) fn start(f: Box<dyn FnOnce() + Send + 'static>) {
    drop(crate::go(f));
}
