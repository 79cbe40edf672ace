//! `select`: wait on several channel operations and run exactly one.
//!
//! The algorithm is Go's `selectgo` (`runtime/select.go`), in named passes over the cases,
//! each a function below:
//!
//! - [`lock_order`]: the channels sorted by address, each once, so that every select takes
//!   the locks of shared channels in the same order; and a random poll order, for Go's
//!   fairness among ready cases (`select_biased!` keeps the cases' own order instead).
//!   Before any lock, a timer channel's timer that is due delivers its value
//!   (`Channel::feed`), so an expired timer is a ready case.
//! - Pass 1, [`poll`]: with every channel locked, look for a case that can proceed, in poll
//!   order: the first found is performed and wins. Without one, a non-blocking select
//!   returns here (`default`), once [`settle`] has made sure that no case was ready at one
//!   instant (lock-free channels change under the poll).
//! - Pass 2, [`enqueue`]: link one waiter per case into its channel's queue, all sharing one
//!   [`Token`], and unlock. The waiters live in an array of `select`'s own frame, not in
//!   the cases: wakers write to them (state, queue links) through the queue's pointers,
//!   which must not descend from the `&mut` reborrows of the cases that the passes keep
//!   taking (Miri's Tree Borrows model retires such a pointer when its parent is read
//!   again through another reborrow).
//! - [`park_until_claimed`]: park until a waker claims the token for one case (or the
//!   deadline passes). A waker claims under its channel's lock and completes only the
//!   claimed waiter; waiters of a claimed token are skipped by everyone else.
//! - Pass 3, [`dequeue`]: lock every channel again and unlink the losing waiters. Holding
//!   all the locks, no claim can be in flight: an unclaimed token now means the deadline
//!   won.
//!
//! Lock-free channels (bounded, with the ring buffer of `ring.rs`) change without their
//! locks, so two things differ for them. Before linking in pass 2, the select announces its
//! waiters on them and polls once more (the flag protocol in `flavor/lockfree.rs`). And
//! their waiters carry no value: a claim only notifies, so a lock-free case that wins
//! performs its operation in pass 3, under the locks; if someone else took the value or the
//! room in between, they consumed what the notification announced, and the select starts
//! over from pass 1 (crossbeam-channel's selects retry the same way).
//!
//! Send values are evaluated once, before pass 1; a send case that does not win keeps its
//! value, which is dropped with the case. A `None` case (Go's nil channel) is never ready.
//!
//! The other files: `case.rs` (the cases and their sealed protocol), `dynamic.rs`
//! ([`Select`], a select built at run time), `arg.rs` and `macros.rs` (`select!`).

mod arg;
mod case;
mod dynamic;
mod macros;

use std::mem::MaybeUninit;
use std::panic::{self as std_panic, AssertUnwindSafe, Location};
use std::ptr;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Instant;

use super::waiter::{Token, Waiter, Wake, NONE, REPOLL};
use super::AbortOnUnwind;
use crate::future::Signal;
use crate::rt::registry::Reason;
use crate::rt::{park, rand};
pub use arg::{wait_for, SelectFuture, SelectPeel, SelectRecv, SelectSend};
pub use case::{FutCase, RecvCase, SelectCase, SendCase};
pub use dynamic::{Select, Selected};

/// How long a select may wait.
#[derive(Debug, Clone, Copy)]
pub enum Wait {
    /// Until a case is ready.
    Forever,
    /// Not at all (`default`).
    Never,
    /// Until the deadline (`default(timeout)`).
    Until(Instant),
}

/// Small selects keep their bookkeeping on the stack.
const INLINE: usize = 8;

/// Runs a select over `cases`; returns the index of the case that ran, or `None` if none
/// could run in time (the `default` branch).
#[track_caller]
pub fn select(cases: &mut [&mut dyn SelectCase], wait: Wait) -> Option<usize> {
    run::<false>(cases, wait)
}

/// [`select`], but ready cases are tried in their order rather than a random one
/// (`select_biased!`).
#[track_caller]
pub fn select_biased(cases: &mut [&mut dyn SelectCase], wait: Wait) -> Option<usize> {
    run::<true>(cases, wait)
}

/// The select, one copy per order, so that `select`'s has no flag to test. The passes are
/// `#[inline(always)]` so that each copy has them inlined, as `select` had with a single
/// caller (left to itself the compiler called them out of line: under cachegrind, a loop
/// of sends and 4-case selects with a ready case ran 18 more instructions per select than
/// before `select_biased`; with this, 14, all register allocation).
#[inline(always)]
#[track_caller]
fn run<const BIASED: bool>(cases: &mut [&mut dyn SelectCase], wait: Wait) -> Option<usize> {
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
    // The cases' waiters (`SelectCase::link`): uninitialized until pass 2 builds them, and
    // reached only through `waiters`, taken once here.
    let mut waiters_inline = MaybeUninit::<[Waiter; INLINE]>::uninit();
    let mut waiters_heap: Vec<Waiter> = Vec::new();
    let waiters: *mut Waiter = if n <= INLINE {
        ptr::addr_of_mut!(waiters_inline).cast()
    } else {
        waiters_heap.reserve_exact(n);
        waiters_heap.as_mut_ptr()
    };
    let (locks, futures) = lock_order(cases, locks, order, BIASED);
    let sel = Locks { locks, waiters };
    // A send case's value may be moved out by a receiver while the case still says it
    // holds it (until pass 3 reads the waiter's state): no panic may unwind from here into
    // the case's drop. Only goro's own code runs here (the cases are sealed), but for the
    // futures of future cases, which are polled between the passes, when nothing is in
    // flight, and whose panics are caught and resumed only past the guard.
    let guard = AbortOnUnwind;
    let chosen = if futures {
        passes_with_futures(cases, order, sel, wait)
    } else {
        Ok(passes(cases, order, sel, wait))
    };
    std::mem::forget(guard);
    match chosen {
        Ok(chosen) => chosen,
        Err(panic) => std_panic::resume_unwind(panic),
    }
}

/// The passes of `select`, until a case ran or the wait is over.
#[inline(always)]
#[track_caller]
fn passes(
    cases: &mut [&mut dyn SelectCase],
    order: &[usize],
    sel: Locks,
    wait: Wait,
) -> Option<usize> {
    loop {
        sel.lock_all(cases);
        if let Some(i) = poll(cases, order, &sel) {
            return Some(i);
        }
        let deadline = match wait {
            Wait::Never => {
                let chosen = settle(cases, order, &sel);
                if chosen.is_none() {
                    sel.unlock_all(cases);
                }
                return chosen;
            }
            Wait::Forever => None,
            Wait::Until(d) => Some(d),
        };
        let token = Token::new();
        if let Some(i) = enqueue(cases, order, &sel, &token) {
            return Some(i);
        }
        let winner = park_until_claimed(cases, &sel, &token, deadline, None);
        match dequeue(cases, &sel, winner) {
            Dequeued::Won(i) => return Some(i),
            Dequeued::TimedOut => return None,
            Dequeued::Again => continue,
        }
    }
}

/// A panic from a future case's `poll`, to resume once the select is out of its passes.
type Panic = Box<dyn std::any::Any + Send>;

/// `passes` for a select with future cases (`fut(f)` in `select!`).
///
/// Futures are polled without any channel lock held (a future may use the same channels,
/// or run any code), all of them in poll order, either before pass 1 or right after it:
/// before if the first case in poll order is a future, so that with random poll order
/// every case is equally likely to be looked at first (Go's fairness, extended to futures),
/// and a biased select looks at its cases in their order. Channels looked at before the
/// futures are looked at again after, under the locks that pass 2 needs held since the
/// last look. The futures' waker (`Signal`) unparks the select; a parked select that finds
/// it woken claims its token for no case (`Token::repoll`), unlinks its waiters and looks
/// at every case again.
#[inline(never)]
#[track_caller]
fn passes_with_futures(
    cases: &mut [&mut dyn SelectCase],
    order: &[usize],
    sel: Locks,
    wait: Wait,
) -> Result<Option<usize>, Panic> {
    let signal = Signal::current(!matches!(wait, Wait::Never));
    let waker = Waker::from(Arc::clone(&signal));
    let futures_first = order.first().is_some_and(|&i| cases[i].is_future());
    loop {
        if futures_first {
            if let Some(i) = poll_futures(cases, order, &signal, &waker)? {
                return Ok(Some(i));
            }
        }
        sel.lock_all(cases);
        if let Some(i) = poll(cases, order, &sel) {
            return Ok(Some(i));
        }
        if !futures_first {
            sel.unlock_all(cases);
            if let Some(i) = poll_futures(cases, order, &signal, &waker)? {
                return Ok(Some(i));
            }
            sel.lock_all(cases);
            if let Some(i) = poll(cases, order, &sel) {
                return Ok(Some(i));
            }
        }
        let deadline = match wait {
            Wait::Never => {
                let chosen = settle(cases, order, &sel);
                if chosen.is_none() {
                    sel.unlock_all(cases);
                }
                return Ok(chosen);
            }
            Wait::Forever => None,
            Wait::Until(d) => Some(d),
        };
        let token = Token::new();
        if let Some(i) = enqueue(cases, order, &sel, &token) {
            return Ok(Some(i));
        }
        let winner = park_until_claimed(cases, &sel, &token, deadline, Some(&signal));
        match dequeue(cases, &sel, winner) {
            Dequeued::Won(REPOLL) | Dequeued::Again => continue,
            Dequeued::Won(i) => return Ok(Some(i)),
            Dequeued::TimedOut => return Ok(None),
        }
    }
}

/// Polls every future case in poll order, no lock held; returns the first that is ready.
/// Clears the signal first: a wake-up from here on makes the next park return.
fn poll_futures(
    cases: &mut [&mut dyn SelectCase],
    order: &[usize],
    signal: &Signal,
    waker: &Waker,
) -> Result<Option<usize>, Panic> {
    signal.take();
    let mut cx = Context::from_waker(waker);
    for &i in order {
        if cases[i].is_future() {
            let ready =
                std_panic::catch_unwind(AssertUnwindSafe(|| cases[i].poll_future(&mut cx)))?;
            if ready {
                return Ok(Some(i));
            }
        }
    }
    Ok(None)
}

/// The locks of a select's channels: `(address, case index)` in address order, each
/// channel once; and where its cases' waiters go.
struct Locks<'a> {
    locks: &'a [(usize, usize)],
    /// The storage for the cases' waiters, one per case (`SelectCase::link`).
    waiters: *mut Waiter,
}

impl Locks<'_> {
    /// Where case `i`'s waiter goes.
    fn waiter(&self, i: usize) -> *mut Waiter {
        // In bounds: there is room for one waiter per case.
        self.waiters.wrapping_add(i)
    }

    fn lock_all(&self, cases: &mut [&mut dyn SelectCase]) {
        for &(_, i) in self.locks {
            cases[i].lock();
        }
    }

    /// Releases what `lock_all` took.
    fn unlock_all(&self, cases: &mut [&mut dyn SelectCase]) {
        for &(_, i) in self.locks.iter().rev() {
            // SAFETY: locked by `lock_all`, as every caller does first.
            unsafe { cases[i].unlock() };
        }
    }
}

/// Fills `locks` with the channels in lock order (by address, each once) and returns the
/// used part, and whether any case is a future; fills `order` with a random poll order, or
/// the cases' own order if `biased`.
/// Each case is prepared first, before any lock is taken: a timer channel whose timer is
/// due gets its value now.
#[inline(always)]
fn lock_order<'a>(
    cases: &[&mut dyn SelectCase],
    locks: &'a mut [(usize, usize)],
    order: &mut [usize],
    biased: bool,
) -> (&'a [(usize, usize)], bool) {
    let mut nlocks = 0;
    let mut futures = false;
    for (i, c) in cases.iter().enumerate() {
        if let Some(a) = c.prepare() {
            locks[nlocks] = (a, i);
            nlocks += 1;
        } else if c.is_future() {
            futures = true;
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
    // Fisher-Yates over the identity.
    for (k, o) in order.iter_mut().enumerate() {
        *o = k;
    }
    if !biased {
        for i in (1..order.len()).rev() {
            order.swap(i, rand::below(i + 1));
        }
    }
    (&locks[..distinct], futures)
}

/// Performs the first case in `order` that can proceed; if one did, unlocks and wakes its
/// counterpart, and returns it.
///
/// Inlined, as the passes are (`run`): called out of line from pass 1, the select of the
/// `select4` benchmark ran about 30 more instructions per message under cachegrind.
#[inline(always)]
fn try_order(cases: &mut [&mut dyn SelectCase], order: &[usize], sel: &Locks) -> Option<usize> {
    let mut wake: Option<Wake> = None;
    for &i in order {
        // SAFETY: every channel of the select is locked (callers' precondition).
        if unsafe { cases[i].try_now(&mut wake) } {
            sel.unlock_all(cases);
            if let Some(w) = wake {
                w.wake();
            }
            return Some(i);
        }
    }
    None
}

/// Pass 1, with every channel locked: runs a case that can proceed now, if any (then the
/// locks are released). Otherwise the locks stay held.
#[inline(always)]
fn poll(cases: &mut [&mut dyn SelectCase], order: &[usize], sel: &Locks) -> Option<usize> {
    try_order(cases, order, sel)
}

/// How many more polls a non-blocking select makes while its lock-free channels keep
/// changing under it (`settle`).
const SETTLE_POLLS: usize = 64;

/// After a pass 1 that found no case ready, with every channel locked, in a select that
/// does not wait: makes "none was ready" true at one instant, or runs a case that is ready
/// now. Returns the case that ran (the locks are then released), or `None` (still held).
///
/// Locked channels cannot change while their locks are held, so pass 1 saw them all at
/// once. Lock-free ones change without their locks, and pass 1 looks at the cases one after
/// another: a value can arrive on a case already looked at, and the last value of a case
/// not yet looked at can be taken, so that no case looked ready although one always was.
/// So the select reads the lock-free channels' versions (`Ring::version`), polls again, and
/// reads them again: equal readings mean that none of them changed during the second poll,
/// which saw each as it was at any instant in between, and there "none ready" held. If one
/// changed, it polls again, up to `SETTLE_POLLS` times (each time another thread sent or
/// received on one of the channels), and then answers with its last poll.
///
/// Cost: nothing on the path that finds a ready case, and nothing more for selects without
/// a lock-free case; otherwise one more poll and two readings of two indices per lock-free
/// case when nothing is ready (crossbeam-channel's selects also look again before giving
/// up).
fn settle(cases: &mut [&mut dyn SelectCase], order: &[usize], sel: &Locks) -> Option<usize> {
    let versions = |cases: &[&mut dyn SelectCase]| {
        let mut lock_free = false;
        let mut sum = 0usize;
        for c in cases.iter() {
            if let Some(v) = c.version() {
                lock_free = true;
                sum = sum.wrapping_add(v);
            }
        }
        lock_free.then_some(sum)
    };
    for _ in 0..SETTLE_POLLS {
        // No lock-free case: pass 1 saw every channel at once.
        let before = versions(cases)?;
        if let Some(i) = try_order(cases, order, sel) {
            return Some(i);
        }
        if versions(cases) == Some(before) {
            return None;
        }
    }
    None
}

/// Pass 2, with every channel locked: announces the waiters to lock-free channels and polls
/// once more if there are any (a case that proceeds then wins, with every announcement
/// withdrawn), then links a waiter per case on `token` and unlocks.
#[inline(always)]
fn enqueue(
    cases: &mut [&mut dyn SelectCase],
    order: &[usize],
    sel: &Locks,
    token: &Token,
) -> Option<usize> {
    let mut again = false;
    for case in cases.iter() {
        // SAFETY: every channel is locked.
        again |= unsafe { case.announce() };
    }
    if again {
        // Only lock-free channels can have changed since pass 1, but polling every case is
        // as correct (the others answer as they did) and keeps no list of which.
        let mut wake: Option<Wake> = None;
        for &i in order {
            // SAFETY: every channel is locked.
            if unsafe { cases[i].try_now(&mut wake) } {
                for (j, case) in cases.iter_mut().enumerate() {
                    // SAFETY: every channel is locked; nothing is linked, this only
                    // withdraws the announcements.
                    unsafe { case.unlink(false, sel.waiter(j)) };
                }
                sel.unlock_all(cases);
                if let Some(w) = wake {
                    w.wake();
                }
                return Some(i);
            }
        }
    }
    // In poll order, as Go's pass 2 links in an order drawn from its poll order: cases on
    // one channel then queue in random order, so a counterpart that comes later is as
    // likely to complete any of them (Go's `TestPseudoRandomSend`). A biased select's
    // order is its own, so its first case queues first.
    for &i in order {
        // SAFETY: every channel is locked; the waiters' storage is `select`'s, with no
        // waiter built in it (pass 3 drops them), and it, the cases and the token stay in
        // `select`'s frame and its caller's until pass 3 has unlinked every waiter.
        unsafe { cases[i].link(token, i, sel.waiter(i)) };
    }
    sel.unlock_all(cases);
    None
}

/// Parks until a case claims `token`, `deadline` passes, or `futures` (the waker of the
/// select's future cases, if it has any) is woken. Returns the winning case, `NONE` if the
/// deadline won, or `REPOLL` if a future was woken: the select then claims its own token,
/// so no case can win from then on. A winner's waker publishes the outcome after
/// unlocking; this waits for it.
#[inline(always)]
#[track_caller]
fn park_until_claimed(
    cases: &mut [&mut dyn SelectCase],
    sel: &Locks,
    token: &Token,
    deadline: Option<Instant>,
    futures: Option<&Signal>,
) -> usize {
    let at = Location::caller();
    let reason = if cases.is_empty() {
        Reason::SelectNoCases
    } else {
        Reason::Select
    };
    let mut timed = deadline.map(park::TimedWait::new);
    let woken = || futures.is_some_and(Signal::is_woken);
    while token.selected() == NONE && !woken() {
        match &mut timed {
            None => park::park_as(reason, at),
            Some(t) => {
                if !t.park_as(reason, at) {
                    break;
                }
            }
        }
    }
    // The wait is over (only a winner's publication may be left to wait for): retire its
    // timer now.
    drop(timed);
    if token.selected() == NONE {
        if woken() {
            if token.repoll() {
                return REPOLL;
            }
        } else if token.time_out() {
            return NONE;
        }
    }
    let winner = token.selected();
    // SAFETY: the winner's waiter was linked in pass 2 at this place, and is unlinked only
    // in pass 3.
    unsafe { cases[winner].wait_completed(sel.waiter(winner)) };
    winner
}

/// What pass 3 decided.
enum Dequeued {
    /// The case ran.
    Won(usize),
    /// The deadline passed first.
    TimedOut,
    /// A lock-free case was notified, but someone else consumed the change: start over.
    Again,
}

/// Pass 3: locks every channel, unlinks the losers (holding every lock, no claim is in
/// flight any more), and finishes the winner; unlocks.
#[inline(always)]
fn dequeue(cases: &mut [&mut dyn SelectCase], sel: &Locks, winner: usize) -> Dequeued {
    sel.lock_all(cases);
    let mut retry = false;
    for (i, case) in cases.iter_mut().enumerate() {
        // SAFETY: every channel is locked; the waiter, if any, was linked in pass 2 there.
        retry |= unsafe { case.unlink(i == winner, sel.waiter(i)) };
    }
    if retry {
        // A lock-free case was notified: try it first, as the notification is for it. If
        // someone else took the value (or the room) meanwhile, they consumed what the
        // notification announced, and the select starts over.
        return match try_order(cases, &[winner], sel) {
            Some(i) => Dequeued::Won(i),
            None => {
                sel.unlock_all(cases);
                Dequeued::Again
            }
        };
    }
    sel.unlock_all(cases);
    if winner == NONE {
        Dequeued::TimedOut
    } else {
        Dequeued::Won(winner)
    }
}
