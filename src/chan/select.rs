//! `select`: wait on several channel operations and run exactly one.
//!
//! The algorithm is Go's `selectgo` (`runtime/select.go`), in three passes over the cases:
//!
//! 1. Lock every case's channel, in address order (each channel once), and look for a case
//!    that can proceed, in a random order: the first found is performed and wins. Without
//!    one, a non-blocking select returns here (`default`).
//! 2. Link one waiter per case into its channel's queue, all sharing one [`Token`], unlock,
//!    and park until a waker claims the token for one case (or the deadline passes). A
//!    waker claims under its channel's lock and completes only the claimed waiter; waiters
//!    of a claimed token are skipped by everyone else.
//! 3. Lock every channel again and unlink the losing waiters. Holding all the locks, no claim
//!    can be in flight: an unclaimed token now means the deadline won.
//!
//! Ring channels (bounded, with the lock-free buffer of `ring.rs`) change without their
//! locks, so two things differ for them. Before linking in pass 2, the select announces its
//! waiters on them and looks at those cases once more (the flag protocol in `channel.rs`).
//! And their waiters carry no value: a claim only notifies, so a ring case that wins in
//! pass 3 performs its operation then, under the locks; if someone else took the value or
//! the room in between, they consumed what the notification announced, and the select
//! starts over from pass 1 (crossbeam-channel's selects retry the same way).
//!
//! Send values are evaluated once, before pass 1; a send case that does not win keeps its
//! value, which is dropped with the case. A `None` case (Go's nil channel) is never ready.

use std::time::Instant;

use super::channel::{RecvNow, SendNow};
use super::error::{RecvError, SendError};
use super::waiter::{Token, Waiter, Wake, CLOSED, DONE, NONE};
use super::{Receiver, Sender};
use crate::rt::park;

/// One case of a select, type-erased. Implemented by [`RecvCase`] and [`SendCase`].
#[doc(hidden)]
pub trait SelectCase {
    /// The channel's address (the lock order), or `None` for a nil case.
    fn channel(&self) -> Option<usize>;
    /// Takes the channel's lock.
    fn lock(&self);
    /// Releases the channel's lock.
    ///
    /// # Safety
    ///
    /// The lock is held by this select.
    unsafe fn unlock(&self);
    /// Pass 1: performs the operation if it can proceed now.
    ///
    /// # Safety
    ///
    /// The channel's lock is held by this select.
    unsafe fn try_now(&mut self, wake: &mut Option<Wake>) -> bool;
    /// Whether the channel has the ring flavour, whose buffer changes without its lock (see
    /// `channel.rs`): pass 2 must announce the waiter and look again before linking it.
    fn is_ring(&self) -> bool;
    /// Pass 2, for a ring channel: announces a waiter of this direction.
    ///
    /// # Safety
    ///
    /// The channel's lock is held by this select.
    unsafe fn announce(&self);
    /// Pass 2: links a waiter for case `index` of the select waiting on `token`.
    ///
    /// # Safety
    ///
    /// The channel's lock is held; `self` and `token` stay in place until `unlink`.
    unsafe fn link(&mut self, token: &Token, index: usize);
    /// Before pass 3, for the winning case: waits until its waker has published the
    /// waiter's final state (it does so after releasing the channel lock, see `waiter.rs`).
    fn wait_completed(&self);
    /// Pass 3: unlinks the waiter, or, for the winning case, takes its outcome. Returns
    /// true if the winner was only notified (a ring channel changed, or closed) and must
    /// try its operation again. Also makes the channel's waiting flags true again, for a
    /// ring channel, so it is called after an announcement even when nothing was linked.
    ///
    /// # Safety
    ///
    /// The channel's lock is held by this select.
    unsafe fn unlink(&mut self, won: bool) -> bool;
}

/// A receive case (`recv(rx) -> v => ...`).
#[doc(hidden)]
pub struct RecvCase<'a, T> {
    rx: Option<&'a Receiver<T>>,
    waiter: Option<Waiter<T>>,
    result: Option<Result<T, RecvError>>,
}

/// A send case (`send(tx, v) -> r => ...`).
#[doc(hidden)]
pub struct SendCase<'a, T> {
    tx: Option<&'a Sender<T>>,
    value: Option<T>,
    waiter: Option<Waiter<T>>,
    result: Option<Result<(), SendError<T>>>,
}

impl<'a, T> RecvCase<'a, T> {
    pub fn new(rx: Option<&'a Receiver<T>>) -> Self {
        RecvCase {
            rx,
            waiter: None,
            result: None,
        }
    }

    /// The outcome of the winning case.
    pub fn take_result(&mut self) -> Result<T, RecvError> {
        self.result.take().expect("the select chose this case")
    }
}

impl<'a, T> SendCase<'a, T> {
    pub fn new(tx: Option<&'a Sender<T>>, value: T) -> Self {
        SendCase {
            tx,
            value: Some(value),
            waiter: None,
            result: None,
        }
    }

    /// The outcome of the winning case.
    pub fn take_result(&mut self) -> Result<(), SendError<T>> {
        self.result.take().expect("the select chose this case")
    }
}

impl<T> SelectCase for RecvCase<'_, T> {
    fn channel(&self) -> Option<usize> {
        self.rx.map(|r| r.chan_addr())
    }

    fn lock(&self) {
        if let Some(r) = self.rx {
            r.chan.raw_lock();
        }
    }

    unsafe fn unlock(&self) {
        if let Some(r) = self.rx {
            // SAFETY: the caller holds the lock.
            unsafe { r.chan.raw_unlock() };
        }
    }

    unsafe fn try_now(&mut self, wake_out: &mut Option<Wake>) -> bool {
        let Some(r) = self.rx else { return false };
        // SAFETY: the caller holds the lock, and no other reference into the state is alive.
        let st = unsafe { r.chan.state_mut() };
        match r.chan.recv_now(st) {
            RecvNow::Done(v, wake) => {
                *wake_out = wake;
                self.result = Some(Ok(v));
                true
            }
            RecvNow::Closed => {
                self.result = Some(Err(RecvError));
                true
            }
            RecvNow::Wait => false,
        }
    }

    fn is_ring(&self) -> bool {
        self.rx.is_some_and(|r| r.chan.is_ring())
    }

    unsafe fn announce(&self) {
        if let Some(r) = self.rx {
            r.chan.announce(true);
        }
    }

    unsafe fn link(&mut self, token: &Token, index: usize) {
        let Some(r) = self.rx else { return };
        let w = self.waiter.insert(Waiter::for_select(None, token, index));
        // SAFETY: the caller holds the lock; `self` (and so `w`) stays in place until
        // `unlink` removes it or a waker unlinks it, both under the lock.
        unsafe { r.chan.state_mut().recvq.push(w) };
    }

    fn wait_completed(&self) {
        if let Some(w) = self.waiter.as_ref() {
            w.completed();
        }
    }

    unsafe fn unlink(&mut self, won: bool) -> bool {
        let Some(r) = self.rx else { return false };
        // SAFETY: the caller holds the lock.
        let st = unsafe { r.chan.state_mut() };
        let mut retry = false;
        // The waiter is unlinked by its address: look at it in place, drop it after.
        if let Some(w) = self.waiter.as_ref() {
            if !won {
                st.recvq.remove(w);
            } else if r.chan.is_ring() {
                // Notified, or closed: the value (or the close) is in the ring.
                retry = true;
            } else {
                self.result = Some(match w.state() {
                    DONE => Ok(w.take().expect("a completed receiver holds its value")),
                    CLOSED => Err(RecvError),
                    s => unreachable!("winning waiter in state {s}"),
                });
            }
        }
        self.waiter = None;
        r.chan.sync_flags(st);
        retry
    }
}

impl<T> SelectCase for SendCase<'_, T> {
    fn channel(&self) -> Option<usize> {
        self.tx.map(|t| t.chan_addr())
    }

    fn lock(&self) {
        if let Some(t) = self.tx {
            t.chan.raw_lock();
        }
    }

    unsafe fn unlock(&self) {
        if let Some(t) = self.tx {
            // SAFETY: the caller holds the lock.
            unsafe { t.chan.raw_unlock() };
        }
    }

    unsafe fn try_now(&mut self, wake_out: &mut Option<Wake>) -> bool {
        let Some(t) = self.tx else { return false };
        let v = self
            .value
            .take()
            .expect("a send case holds its value until it runs");
        // SAFETY: the caller holds the lock, and no other reference into the state is alive.
        let st = unsafe { t.chan.state_mut() };
        match t.chan.send_now(st, v) {
            SendNow::Done(wake) => {
                *wake_out = wake;
                self.result = Some(Ok(()));
                true
            }
            SendNow::Closed(v) => {
                self.result = Some(Err(SendError(v)));
                true
            }
            SendNow::Wait(v) => {
                self.value = Some(v);
                false
            }
        }
    }

    fn is_ring(&self) -> bool {
        self.tx.is_some_and(|t| t.chan.is_ring())
    }

    unsafe fn announce(&self) {
        if let Some(t) = self.tx {
            t.chan.announce(false);
        }
    }

    unsafe fn link(&mut self, token: &Token, index: usize) {
        let Some(t) = self.tx else { return };
        // A ring channel's waiter carries no value: the case keeps it for its next try.
        let value = if t.chan.is_ring() {
            None
        } else {
            self.value.take()
        };
        let w = self.waiter.insert(Waiter::for_select(value, token, index));
        // SAFETY: as for `RecvCase::link`.
        unsafe { t.chan.state_mut().sendq.push(w) };
    }

    fn wait_completed(&self) {
        if let Some(w) = self.waiter.as_ref() {
            w.completed();
        }
    }

    unsafe fn unlink(&mut self, won: bool) -> bool {
        let Some(t) = self.tx else { return false };
        // SAFETY: the caller holds the lock.
        let st = unsafe { t.chan.state_mut() };
        let mut retry = false;
        // The waiter is unlinked by its address: look at it in place, drop it after.
        if let Some(w) = self.waiter.as_ref() {
            if !won {
                st.sendq.remove(w);
                // The losing value stays with the case and is dropped with it, never sent.
                if let Some(v) = w.take() {
                    self.value = Some(v);
                }
            } else if t.chan.is_ring() {
                // Notified of room, or closed: the case still holds its value; try again.
                retry = true;
            } else {
                self.result = Some(match w.state() {
                    DONE => Ok(()),
                    CLOSED => Err(SendError(
                        w.take().expect("a sender woken by close keeps its value"),
                    )),
                    s => unreachable!("winning waiter in state {s}"),
                });
            }
        }
        self.waiter = None;
        t.chan.sync_flags(st);
        retry
    }
}

/// How long a select may wait.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Wait {
    /// Until a case is ready.
    Forever,
    /// Not at all (`default`).
    Never,
    /// Until the deadline (`default(timeout)`).
    Until(Instant),
}

/// Runs a select over `cases`; returns the index of the case that ran, or `None` if none
/// could run in time (the `default` branch).
#[doc(hidden)]
pub fn select(cases: &mut [&mut dyn SelectCase], wait: Wait) -> Option<usize> {
    // Small selects keep their bookkeeping on the stack.
    const INLINE: usize = 8;
    let n = cases.len();
    let (mut locks_inline, mut order_inline) = ([(0usize, 0usize); INLINE], [0usize; INLINE]);
    let (mut locks_heap, mut order_heap) = (Vec::new(), Vec::new());
    let (locks, order): (&mut [(usize, usize)], &mut [usize]) = if n <= INLINE {
        (&mut locks_inline[..n], &mut order_inline[..n])
    } else {
        locks_heap.resize(n, (0, 0));
        order_heap.resize(n, 0);
        (&mut locks_heap[..], &mut order_heap[..])
    };
    // Lock order: by channel address, each channel once.
    let mut nlocks = 0;
    for (i, c) in cases.iter().enumerate() {
        if let Some(a) = c.channel() {
            locks[nlocks] = (a, i);
            nlocks += 1;
        }
    }
    let locks = &mut locks[..nlocks];
    locks.sort_unstable();
    let mut distinct = 0;
    for k in 0..locks.len() {
        if k == 0 || locks[k].0 != locks[distinct - 1].0 {
            locks[distinct] = locks[k];
            distinct += 1;
        }
    }
    let locks = &locks[..distinct];
    // Poll order: random, for Go's fairness among ready cases.
    for (k, o) in order.iter_mut().enumerate() {
        *o = k;
    }
    shuffle(order);

    let lock_all = |cases: &mut [&mut dyn SelectCase]| {
        for &(_, i) in locks {
            cases[i].lock();
        }
    };
    let unlock_all = |cases: &mut [&mut dyn SelectCase]| {
        for &(_, i) in locks.iter().rev() {
            // SAFETY: locked by `lock_all` just before.
            unsafe { cases[i].unlock() };
        }
    };

    loop {
        // Pass 1: a case that can proceed now.
        let mut wake = None;
        lock_all(cases);
        for &i in order.iter() {
            // SAFETY: every channel of the select is locked.
            if unsafe { cases[i].try_now(&mut wake) } {
                unlock_all(cases);
                if let Some(w) = wake {
                    w.wake();
                }
                return Some(i);
            }
        }
        let deadline = match wait {
            Wait::Never => {
                unlock_all(cases);
                return None;
            }
            Wait::Forever => None,
            Wait::Until(d) => Some(d),
        };

        // Pass 2: wait on every case. Ring channels change without their locks, so
        // announce the waiters there first, then look at those cases once more (the flag
        // protocol in `channel.rs`).
        let mut rings = false;
        for case in cases.iter() {
            if case.is_ring() {
                // SAFETY: every channel is locked.
                unsafe { case.announce() };
                rings = true;
            }
        }
        if rings {
            for &i in order.iter() {
                // SAFETY: every channel is locked.
                if cases[i].is_ring() && unsafe { cases[i].try_now(&mut wake) } {
                    for case in cases.iter_mut() {
                        // SAFETY: every channel is locked; nothing is linked, this only
                        // withdraws the announcements.
                        unsafe { case.unlink(false) };
                    }
                    unlock_all(cases);
                    if let Some(w) = wake {
                        w.wake();
                    }
                    return Some(i);
                }
            }
        }
        let token = Token::new();
        for (i, case) in cases.iter_mut().enumerate() {
            // SAFETY: every channel is locked; the cases and the token live in this frame
            // and its caller's until pass 3 has unlinked every waiter.
            unsafe { case.link(&token, i) };
        }
        unlock_all(cases);
        let mut armed = false;
        while token.selected() == NONE {
            match deadline {
                None => park::park(),
                Some(d) => {
                    if Instant::now() >= d {
                        break;
                    }
                    park::park_until(d, &mut armed);
                }
            }
        }

        // A timed-out select claims its own token, so no case can win from now on; if a
        // case won first, its waker publishes the outcome after unlocking: wait for it.
        let winner = if token.selected() == NONE && token.time_out() {
            NONE
        } else {
            let winner = token.selected();
            cases[winner].wait_completed();
            winner
        };

        // Pass 3: unlink the losers; holding every lock, no claim is in flight any more.
        lock_all(cases);
        let mut retry = false;
        for (i, case) in cases.iter_mut().enumerate() {
            // SAFETY: every channel is locked.
            retry |= unsafe { case.unlink(i == winner) };
        }
        if retry {
            // A ring case was notified: try it first, as the notification is for it. If
            // someone else took the value (or the room) meanwhile, they consumed what the
            // notification announced, and the select starts over.
            // SAFETY: every channel is locked.
            let done = unsafe { cases[winner].try_now(&mut wake) };
            unlock_all(cases);
            if let Some(w) = wake {
                w.wake();
            }
            if done {
                return Some(winner);
            }
            continue;
        }
        unlock_all(cases);
        return (winner != NONE).then_some(winner);
    }
}

/// Shuffles `v` (Fisher-Yates) with a per-thread xorshift generator.
fn shuffle(v: &mut [usize]) {
    for i in (1..v.len()).rev() {
        let j = (next_random() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

#[inline(never)]
fn next_random() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            // Seed from the address of a local and the time: distinct per thread and run.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            x = (t ^ (&x as *const u64 as u64)) | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}

/// What `recv(...)` in `select!` accepts: a receiver, a reference to one, or an `Option` of
/// either (`None` is Go's nil channel, never ready).
#[doc(hidden)]
pub trait SelectRecv<'a, T> {
    fn select_receiver(self) -> Option<&'a Receiver<T>>;
}

impl<'a, T> SelectRecv<'a, T> for &'a Receiver<T> {
    fn select_receiver(self) -> Option<&'a Receiver<T>> {
        Some(self)
    }
}

impl<'a, T> SelectRecv<'a, T> for &&'a Receiver<T> {
    fn select_receiver(self) -> Option<&'a Receiver<T>> {
        Some(*self)
    }
}

impl<'a, T> SelectRecv<'a, T> for &Option<&'a Receiver<T>> {
    fn select_receiver(self) -> Option<&'a Receiver<T>> {
        *self
    }
}

impl<'a, T> SelectRecv<'a, T> for &'a Option<Receiver<T>> {
    fn select_receiver(self) -> Option<&'a Receiver<T>> {
        self.as_ref()
    }
}

/// What `send(...)` in `select!` accepts; see [`SelectRecv`].
#[doc(hidden)]
pub trait SelectSend<'a, T> {
    fn select_sender(self) -> Option<&'a Sender<T>>;
}

impl<'a, T> SelectSend<'a, T> for &'a Sender<T> {
    fn select_sender(self) -> Option<&'a Sender<T>> {
        Some(self)
    }
}

impl<'a, T> SelectSend<'a, T> for &&'a Sender<T> {
    fn select_sender(self) -> Option<&'a Sender<T>> {
        Some(*self)
    }
}

impl<'a, T> SelectSend<'a, T> for &Option<&'a Sender<T>> {
    fn select_sender(self) -> Option<&'a Sender<T>> {
        *self
    }
}

impl<'a, T> SelectSend<'a, T> for &'a Option<Sender<T>> {
    fn select_sender(self) -> Option<&'a Sender<T>> {
        self.as_ref()
    }
}

/// A select whose cases are chosen at run time.
///
/// Go: `reflect.Select`. Add cases with [`recv`](Select::recv) and [`send`](Select::send)
/// (each returns its case's index), then run the select once with [`select`](Select::select),
/// [`try_select`](Select::try_select) or [`select_timeout`](Select::select_timeout); the
/// [`Selected`] case hands out its outcome. The semantics are those of
/// [`select!`](crate::select): random choice among ready cases, exactly one case takes effect.
///
/// ```
/// use goro::chan::{self, Select};
///
/// let chans: Vec<_> = (0..5).map(|_| chan::bounded::<usize>(1)).collect();
/// chans[3].0.send(42).unwrap();
///
/// let mut sel = Select::new();
/// for (_, rx) in &chans {
///     sel.recv(rx);
/// }
/// let op = sel.select();
/// assert_eq!(op.index(), 3);
/// assert_eq!(op.recv::<usize>(), Ok(42));
/// ```
#[derive(Default)]
pub struct Select<'a> {
    cases: Vec<Box<dyn DynCase + 'a>>,
}

/// The case a [`Select`] ran.
pub struct Selected<'a> {
    index: usize,
    case: Box<dyn DynCase + 'a>,
}

/// A case whose outcome can be taken without knowing its type statically.
trait DynCase: SelectCase {
    fn outcome(&mut self) -> Box<dyn std::any::Any>;
}

impl<T: 'static> DynCase for RecvCase<'_, T> {
    fn outcome(&mut self) -> Box<dyn std::any::Any> {
        Box::new(self.take_result())
    }
}

impl<T: 'static> DynCase for SendCase<'_, T> {
    fn outcome(&mut self) -> Box<dyn std::any::Any> {
        Box::new(self.take_result())
    }
}

impl<'a> Select<'a> {
    /// An empty select.
    pub fn new() -> Select<'a> {
        Select { cases: Vec::new() }
    }

    /// Adds a receive case; returns its index.
    pub fn recv<T: Send + 'static>(&mut self, rx: &'a Receiver<T>) -> usize {
        self.cases.push(Box::new(RecvCase::new(Some(rx))));
        self.cases.len() - 1
    }

    /// Adds a send case for `value`; returns its index. If the case is not chosen, the value
    /// is dropped, never sent.
    pub fn send<T: Send + 'static>(&mut self, tx: &'a Sender<T>, value: T) -> usize {
        self.cases.push(Box::new(SendCase::new(Some(tx), value)));
        self.cases.len() - 1
    }

    /// Waits until a case can proceed and runs it. With no case at all, waits forever.
    pub fn select(self) -> Selected<'a> {
        self.run(Wait::Forever)
            .expect("a blocking select returns a case")
    }

    /// Runs a case that can proceed now, if any (Go: `select` with `default`).
    pub fn try_select(self) -> Option<Selected<'a>> {
        self.run(Wait::Never)
    }

    /// Waits at most `timeout` for a case that can proceed, and runs it.
    pub fn select_timeout(self, timeout: std::time::Duration) -> Option<Selected<'a>> {
        self.run(super::__wait_for(timeout))
    }

    /// Waits until `deadline` at the latest for a case that can proceed, and runs it.
    pub fn select_deadline(self, deadline: Instant) -> Option<Selected<'a>> {
        self.run(Wait::Until(deadline))
    }

    fn run(mut self, wait: Wait) -> Option<Selected<'a>> {
        let mut list: Vec<&mut dyn SelectCase> = self
            .cases
            .iter_mut()
            .map(|c| &mut **c as &mut dyn SelectCase)
            .collect();
        let index = select(&mut list, wait)?;
        drop(list);
        Some(Selected {
            index,
            case: self.cases.swap_remove(index),
        })
    }
}

impl Selected<'_> {
    /// The index of the case that ran, as returned when it was added.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The outcome of a receive case.
    ///
    /// # Panics
    ///
    /// If the case is not a receive of a `T`.
    pub fn recv<T: 'static>(mut self) -> Result<T, RecvError> {
        match self.case.outcome().downcast::<Result<T, RecvError>>() {
            Ok(r) => *r,
            Err(_) => panic!(
                "Selected::recv: case {} is not a receive of {}",
                self.index,
                std::any::type_name::<T>()
            ),
        }
    }

    /// The outcome of a send case (`Err` hands the value back if the channel was closed).
    ///
    /// # Panics
    ///
    /// If the case is not a send of a `T`.
    pub fn send<T: 'static>(mut self) -> Result<(), SendError<T>> {
        match self.case.outcome().downcast::<Result<(), SendError<T>>>() {
            Ok(r) => *r,
            Err(_) => panic!(
                "Selected::send: case {} is not a send of {}",
                self.index,
                std::any::type_name::<T>()
            ),
        }
    }
}

impl std::fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select")
            .field("cases", &self.cases.len())
            .finish()
    }
}

impl std::fmt::Debug for Selected<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selected")
            .field("index", &self.index)
            .finish()
    }
}
