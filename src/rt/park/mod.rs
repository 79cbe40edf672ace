//! Park and unpark: the single way anything in goro waits.
//!
//! The waiting context is either a goroutine or a plain OS thread:
//!
//! - a goroutine parks by switching back to its worker, which commits the park only after the
//!   switch (see [`state`] for the protocol); the worker thread goes on running others;
//! - a thread parks with `std::thread::park`, which blocks it.
//!
//! Both follow the same token contract: [`Unparker::unpark`] leaves one token, [`park`]
//! consumes a token or waits for one, tokens do not accumulate, and `park` may return
//! spuriously. Every blocking primitive is written as "register an `Unparker` where the
//! waker will find it, then park in a loop until the condition holds", and works unchanged
//! for both kinds of waiter.
//!
//! # Handing a waiter over
//!
//! The waiters of channels and locks live on their owners' stacks (`chan::waiter`,
//! `sync::waiter`), and the rule for touching one from the waking side is:
//!
//! **A waiter may free itself as soon as it observes completion; a waker only touches it
//! through raw pointers, and never after the publishing store.**
//!
//! The publishing store is the one (Release) that makes the waiter's condition true: its
//! state word, or its `woken` flag. Its owner may see it at once, return, and pop the frame
//! that held the waiter, while the waker is still inside the function that made the store.
//! So a waker copies out everything it needs afterwards (whom to unpark) before that store,
//! and reaches the waiter through raw pointers, never through a reference passed as a
//! function argument: Rust asserts such a reference valid until the function returns (it is
//! *protected*, the `Arc::drop` problem of rust-lang/rust#55005), and freeing its pointee
//! earlier is undefined behaviour even if it is never read again. That is why
//! [`WaiterRef::wake_with`] takes `*const WaiterRef` rather than `&self`. The store itself
//! goes through a `&` to the atomic, which is allowed: a shared reference to an
//! `UnsafeCell` (every atomic is one) is not protected that way, exactly as for the count
//! that `Arc::drop` decrements. `miri/tests/miri.rs` checks this under Miri, from plain
//! threads (goroutines cannot run under Miri).

pub(crate) mod state;

use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::goroutine::{self, GRef, Suspend, NOT_PINNED};
use super::registry::Reason;
use state::Unpark;

/// A handle that wakes one parked goroutine or thread, or an async task.
#[derive(Clone)]
pub(crate) enum Unparker {
    Goroutine(GRef),
    Thread(Arc<PlainThread>),
    /// An async task waiting on a goro event (`JoinHandle`'s future): wakes whatever waker
    /// the task left last.
    Task(Arc<WakerSlot>),
}

/// The waker of an async task that waits on a goro event, replaced each time the task is
/// polled with another one.
pub(crate) struct WakerSlot {
    waker: Mutex<Option<std::task::Waker>>,
}

impl WakerSlot {
    pub(crate) fn new(w: &std::task::Waker) -> WakerSlot {
        WakerSlot {
            waker: Mutex::new(Some(w.clone())),
        }
    }

    /// Keeps `w` as the waker to wake, unless it wakes the same task as the one kept.
    pub(crate) fn set(&self, w: &std::task::Waker) {
        let mut slot = self.waker.lock().unwrap_or_else(|e| e.into_inner());
        match &*slot {
            Some(old) if old.will_wake(w) => {}
            _ => *slot = Some(w.clone()),
        }
    }

    fn wake(&self) {
        let w = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

impl Unparker {
    /// The unparker of the calling context, which is about to wait.
    pub(crate) fn current() -> Unparker {
        match goroutine::current_ref() {
            Some(g) => Unparker::Goroutine(g),
            None => {
                check_thread_may_block("a blocking goro operation");
                Unparker::Thread(PlainThread::current())
            }
        }
    }

    /// The unparker of the calling context, which may not wait at all (a `select!` with
    /// futures and `default`): no check that a plain thread may block.
    pub(crate) fn current_unchecked() -> Unparker {
        match goroutine::current_ref() {
            Some(g) => Unparker::Goroutine(g),
            None => Unparker::Thread(PlainThread::current()),
        }
    }

    /// Leaves a wake-up token for the waiter, making it runnable if it was parked.
    pub(crate) fn unpark(&self) {
        match self {
            Unparker::Goroutine(g) => match g.park.unpark() {
                Unpark::Schedule => {
                    // SAFETY: winning the PARKED -> NOTIFIED swap hands us the scheduler
                    // reference the worker forgot when it committed the park; rebuild it
                    // from the pointer (the same allocation `g` points to).
                    let owned = unsafe { GRef::from_raw(g.as_ptr()) };
                    crate::rt::schedule(owned);
                }
                Unpark::Noop => {
                    // SeqCst fence: pairs with the one in `park_blocking_thread` (a store
                    // then a load on each side): either it sees our token, or we see that it
                    // blocks its thread and wake the thread.
                    fence(Ordering::SeqCst);
                    let slot = g.blocking.load(Ordering::Relaxed);
                    if slot != NOT_PINNED {
                        blocked_threads().unpark(slot);
                    }
                }
            },
            Unparker::Thread(t) => t.unpark(),
            Unparker::Task(slot) => slot.wake(),
        }
    }
}

/// Called by a plain thread about to wait in goro, before anything of the wait is
/// registered: with the `tokio` feature, panics if the thread is running a tokio
/// runtime's async tasks, where blocking would stall every task of that thread (tokio
/// panics the same way for a nested `block_on`). `what` names the operation.
///
/// tokio has no public way to ask whether a thread is one of its workers, so this asks
/// whether the code runs with a task budget (`tokio::task::consume_budget`): async tasks,
/// and the future of a runtime's `block_on`, run with one (128 units per poll), while
/// `spawn_blocking` and `block_in_place` turn it off, and threads outside any runtime
/// have none. Spending the rest of the budget to find out costs nothing: a thread that
/// has one is about to panic. Code that opted out of budgeting (`tokio::task::unconstrained`)
/// and other executors are not detected.
#[inline]
pub(crate) fn check_thread_may_block(what: &str) {
    #[cfg(feature = "tokio")]
    if runs_tokio_tasks() {
        panic!(
            "goro: {what} was called on a thread that runs tokio tasks; it would block the \
             thread and stall every task on it. From async code use the async forms \
             (`send_async`, `recv_async`, `.await` on a goroutine's `JoinHandle` or a pool's \
             `TaskHandle`, `Context::done_async`, a `fut(...)` case in `select!`), or make the \
             call in `tokio::task::spawn_blocking` or a goroutine"
        );
    }
    #[cfg(not(feature = "tokio"))]
    let _ = what;
}

/// Whether the calling thread is polling a tokio task (`check_thread_may_block`).
#[cfg(feature = "tokio")]
#[cold]
fn runs_tokio_tasks() -> bool {
    use std::future::Future;
    if tokio::runtime::Handle::try_current().is_err() {
        return false;
    }
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    // A budget has at most 128 units: the 129th unit is refused if there is a budget.
    for _ in 0..=128 {
        let consume = std::pin::pin!(tokio::task::consume_budget());
        if consume.poll(&mut cx).is_pending() {
            return true;
        }
    }
    false
}

/// A plain thread (not a goroutine) that waits in goro, as its wakers see it: its handle,
/// and what the deadlock detector (`rt::deadlock`) needs to know whether it is blocked.
///
/// # Counting blocked threads
///
/// `BLOCKED` counts plain threads parked in an untimed goro wait with no wake-up on its way;
/// `ACTIVITY` moves whenever one stops counting. The count must never include a thread that
/// is about to run, so a wake-up that comes before the thread counts itself must be seen by
/// it, and one that comes after must uncount it. Hence `token`, goro's own mirror of the
/// thread's park token:
///
/// - the thread counts itself (`BLOCKED += 1`, `parked = true`), then swaps `token` out: if
///   it was set, a wake-up came, and it uncounts itself and returns without parking;
/// - a waker sets `token`, then swaps `parked` out: if it was set, it uncounts the thread;
///   then it unparks the thread.
///
/// All SeqCst: in their single order, either the thread's swap of `token` comes after the
/// waker's store (the thread sees it), or the waker's swap of `parked` comes after the
/// thread's store (the waker uncounts it). A thread that returns from `park` uncounts
/// itself if no waker did; a token it did not consume stays for its next wait, which then
/// returns at once (a spurious return, which every caller tolerates).
pub(crate) struct PlainThread {
    thread: Thread,
    parked: AtomicBool,
    token: AtomicBool,
}

/// Plain threads blocked in an untimed goro wait (`PlainThread`). SeqCst throughout.
static BLOCKED: AtomicUsize = AtomicUsize::new(0);
/// Moves each time a plain thread stops counting as blocked. SeqCst throughout.
static ACTIVITY: AtomicU64 = AtomicU64::new(0);

/// How many plain threads are blocked in goro (`rt::deadlock`).
pub(crate) fn plain_blocked() -> usize {
    BLOCKED.load(Ordering::SeqCst)
}

/// The count that moves whenever a blocked plain thread stops being blocked.
pub(crate) fn plain_activity() -> u64 {
    ACTIVITY.load(Ordering::SeqCst)
}

impl PlainThread {
    fn current() -> Arc<PlainThread> {
        fn new() -> Arc<PlainThread> {
            Arc::new(PlainThread {
                thread: std::thread::current(),
                parked: AtomicBool::new(false),
                token: AtomicBool::new(false),
            })
        }
        thread_local! {
            static ME: Arc<PlainThread> = new();
        }
        // A thread may wait in goro from a thread-local's destructor, after `ME` is gone:
        // it then gets a fresh record at each call, so its waker and its park may use two.
        // The count stays balanced (each record uncounts what it counted), but the thread
        // may count as blocked for a moment after its wake-up, which only a deadlock of the
        // whole program in that moment could mistake for one.
        ME.try_with(Arc::clone).unwrap_or_else(|_| new())
    }

    /// Stops counting the thread as blocked, if it was (by the thread or a waker).
    fn uncount(&self) {
        if self.parked.swap(false, Ordering::SeqCst) {
            BLOCKED.fetch_sub(1, Ordering::SeqCst);
            ACTIVITY.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Wakes the thread (type docs).
    fn unpark(&self) {
        self.token.store(true, Ordering::SeqCst);
        self.uncount();
        self.thread.unpark();
    }

    /// Blocks the calling thread (this one) until a wake-up, counted as blocked (type
    /// docs). May return spuriously.
    fn park(&self) {
        BLOCKED.fetch_add(1, Ordering::SeqCst);
        self.parked.store(true, Ordering::SeqCst);
        if self.token.swap(false, Ordering::SeqCst) {
            self.uncount();
            return;
        }
        // Every goroutine may be asleep now, with this thread the last one that could have
        // woken one: let the deadlock detector look again.
        crate::rt::deadlock::thread_blocked();
        std::thread::park();
        self.uncount();
    }
}

/// The calling goroutine or thread, held by a blocked operation's waiter without taking a
/// reference: a goroutine is alive while it waits on the waiter that holds this, and its
/// waker ends the wait through [`WaiterRef::wake_with`], so the waiting path costs no
/// reference-count traffic of its own.
pub(crate) enum WaiterRef {
    Goroutine(*const goroutine::Goroutine),
    Thread(Arc<PlainThread>),
    /// An async task (`chan::future`): its waker, woken once the waiter's state is
    /// published.
    Task(std::task::Waker),
}

// SAFETY: the goroutine pointer is only used while the goroutine is blocked on the waiter
// holding this (see the type's docs); a `Thread` is `Send`.
unsafe impl Send for WaiterRef {}
// SAFETY: as above; `wake_with` only reads.
unsafe impl Sync for WaiterRef {}

impl WaiterRef {
    /// The calling context.
    pub(crate) fn current() -> WaiterRef {
        match goroutine::current() {
            Some(g) => WaiterRef::Goroutine(g),
            None => {
                check_thread_may_block("a blocking channel operation");
                WaiterRef::Thread(PlainThread::current())
            }
        }
    }

    /// Takes an async task's waker out of a waiter's unparker (`slot`), for a waker that
    /// unlinked the waiter under its channel's lock: woken by value afterwards, it needs no
    /// clone. Goroutines and threads stay in place, woken through `wake_with`.
    #[inline]
    pub(crate) fn take_waker(slot: &mut Option<WaiterRef>) -> Option<std::task::Waker> {
        match slot {
            Some(WaiterRef::Task(_)) => match slot.take() {
                Some(WaiterRef::Task(w)) => Some(w),
                _ => unreachable!("the unparker was just seen to be a task's"),
            },
            _ => None,
        }
    }

    /// Ends the wait: runs `publish`, which makes the waiter's condition true (after which
    /// the waiter may return and free what `this` points into), and wakes the waiter.
    ///
    /// `this` is a raw pointer, not `&self`, on purpose: a reference argument is asserted
    /// valid for the whole call, but the waiter may free the `WaiterRef` (its stack frame)
    /// while `publish` is still returning. Everything needed after `publish` is copied out
    /// of `*this` first (module docs, "Handing a waiter over").
    ///
    /// A goroutine that is already parked is claimed first (its park token is left, which
    /// hands the waker its scheduler reference), so it cannot run before `publish` and is
    /// then scheduled with no reference-count traffic; one that is still running gets a
    /// counted reference before `publish`, so that waking it stays safe if it returns at
    /// once.
    ///
    /// # Safety
    ///
    /// `this` points to a live `WaiterRef` whose waiter is still inside the wait this
    /// belongs to, and leaves it only once `publish` has run; nothing else ends the wait.
    pub(crate) unsafe fn wake_with(this: *const WaiterRef, publish: impl FnOnce()) {
        // Copy out before `publish`: the goroutine's pointer (the goroutine itself outlives
        // the frame holding `*this`, see below), or a counted handle to the thread. The
        // shared reference lives only for this statement.
        // SAFETY: `*this` is valid until `publish` runs (the caller's contract).
        let target = match unsafe { &*this } {
            WaiterRef::Goroutine(g) => Ok(*g),
            WaiterRef::Thread(t) => Err(Ok(t.clone())),
            WaiterRef::Task(w) => Err(Err(w.clone())),
        };
        match target {
            Ok(g) => {
                // SAFETY: the goroutine is alive: it waits until `publish` runs. The
                // reference to its park state ends before `publish`.
                let unpark = unsafe { (*g).park.unpark() };
                match unpark {
                    Unpark::Schedule => {
                        // SAFETY: winning the PARKED -> NOTIFIED swap hands us the scheduler
                        // reference its worker forgot when it committed the park.
                        let owned = unsafe { GRef::from_raw(g) };
                        // It cannot run until scheduled, so it sees `publish` when it does.
                        publish();
                        crate::rt::schedule(owned);
                    }
                    Unpark::Noop => {
                        // Running (or about to park): it may consume the token we left, see
                        // its condition still false and park again, or see `publish` and
                        // return. Hold a reference across `publish`, then wake it for real.
                        // SAFETY: alive until `publish`, as above.
                        let u = Unparker::Goroutine(unsafe { GRef::clone_raw(g) });
                        publish();
                        u.unpark();
                    }
                }
            }
            Err(Ok(t)) => {
                publish();
                t.unpark();
            }
            Err(Err(w)) => {
                publish();
                w.wake();
            }
        }
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unparker::Goroutine(g) => write!(f, "Unparker(goroutine {})", g.id()),
            Unparker::Thread(t) => write!(f, "Unparker({:?})", t.thread.id()),
            Unparker::Task(_) => write!(f, "Unparker(async task)"),
        }
    }
}

/// Waits for a token in the calling context (module docs), recording why and where a
/// goroutine waits (`rt::registry`): `at` is the user's call of the blocking operation.
/// May return spuriously.
pub(crate) fn park_as(reason: Reason, at: &'static Location<'static>) {
    match goroutine::current() {
        Some(g) => {
            g.note_wait(reason, at);
            park_goroutine(g)
        }
        None => {
            crate::rt::fork::check();
            PlainThread::current().park()
        }
    }
}

/// A wait with a deadline: the timed form of [`park_as`], for as long as the value lives.
///
/// A goroutine's first [`park_as`](Self::park_as) arms one runtime timer, which carries the
/// number of the goroutine's current timed wait (its `timed_wait`); a thread parks with a
/// timeout and arms nothing. Dropping the `TimedWait` ends the wait: it bumps the number, so
/// that a timer still pending is dead (it wakes nobody and the next sweep frees it, see
/// `rt::timer`), and counts that timer dead if the deadline has not come (a due timer is
/// taken by a worker at its next look anyway). Being the drop, that cannot be forgotten.
///
/// A goroutine is in one timed wait at a time: nothing between a `TimedWait`'s creation and
/// its drop starts another. Were one nested, the inner's end would kill the outer's timer,
/// and the outer would arm a new one at its next park (it arms whenever the number moved).
pub(crate) struct TimedWait {
    deadline: Instant,
    /// The wait number the armed timer carries, once one is armed.
    armed: Option<u32>,
    /// The wait belongs to the goroutine or thread that made it.
    _here: PhantomData<*const ()>,
}

impl TimedWait {
    pub(crate) fn new(deadline: Instant) -> TimedWait {
        TimedWait {
            deadline,
            armed: None,
            _here: PhantomData,
        }
    }

    /// Parks until woken, or until about the deadline, recording why and where the
    /// goroutine waits (as [`park_as`]); returns `false` at once, without parking, if the
    /// deadline has passed. May return early or spuriously: callers re-check their
    /// condition.
    pub(crate) fn park_as(&mut self, reason: Reason, at: &'static Location<'static>) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        match goroutine::current() {
            Some(g) => {
                g.note_wait(reason, at);
                // Relaxed: only this goroutine writes its `timed_wait`.
                let wait = g.timed_wait.load(Ordering::Relaxed);
                if self.armed != Some(wait) {
                    self.armed = Some(wait);
                    let me = goroutine::current_ref().expect("running in a goroutine");
                    crate::rt::arm_wait_timer(self.deadline, me, wait);
                }
                park_goroutine(g);
            }
            None => std::thread::park_timeout(self.deadline - now),
        }
        true
    }
}

impl Drop for TimedWait {
    fn drop(&mut self) {
        let Some(wait) = self.armed else {
            return;
        };
        let Some(g) = goroutine::current() else {
            return;
        };
        // Relaxed: only this goroutine writes it; workers read it as a hint, and a sweep
        // that must see it is ordered after it by the timer set's lock, which
        // `timer_disarmed` takes next (`rt::timer`, invariant 2).
        if g.timed_wait.load(Ordering::Relaxed) != wait {
            // A nested wait ended this number already (type docs).
            return;
        }
        g.timed_wait.store(wait.wrapping_add(1), Ordering::Relaxed);
        if Instant::now() < self.deadline {
            crate::rt::timer_disarmed();
        }
    }
}

fn park_goroutine(g: &goroutine::Goroutine) {
    if g.park.try_consume() {
        return;
    }
    if std::thread::panicking() {
        return park_blocking_thread(g);
    }
    g.suspend(Suspend::Park);
    // Running again: take the token that woke us (or that aborted the park).
    g.park.consume();
}

/// Parks a goroutine that is unwinding by blocking its thread.
///
/// The standard library counts panics in progress per thread. A goroutine that switched out
/// mid-unwind would leave its thread's count raised for the goroutines that run there next
/// (they would see `std::thread::panicking()` and poison every `std::sync::Mutex` they
/// unlock), and it could finish unwinding on another thread, whose count would then go
/// below zero. So it keeps its thread until it has stopped unwinding, as a plain thread
/// would, and the thread's worker is handed to a new thread first (Go hands its P over
/// the same way around a blocking system call), so the program keeps its parallelism and
/// the goroutine it waits for can run.
fn park_blocking_thread(g: &goroutine::Goroutine) {
    super::worker::hand_off();
    // The waker finds this thread through the goroutine's `blocking` slot.
    let slot = blocked_threads().insert(std::thread::current());
    g.blocking.store(slot, Ordering::Relaxed);
    // SeqCst fence: pairs with the one in `Unparker::unpark` (see there).
    fence(Ordering::SeqCst);
    while !g.park.try_consume() {
        std::thread::park();
    }
    g.blocking.store(NOT_PINNED, Ordering::Relaxed);
    blocked_threads().remove(slot);
}

/// Parks the calling goroutine or thread for at least `d` (`time::sleep`).
#[track_caller]
pub(crate) fn sleep(d: Duration) {
    let at = Location::caller();
    if d.is_zero() {
        return;
    }
    if goroutine::current().is_none() {
        check_thread_may_block("goro::sleep");
        std::thread::sleep(d);
        return;
    }
    let Some(deadline) = Instant::now().checked_add(d) else {
        // Beyond what the clock can represent: no timer would ever fire.
        loop {
            park_as(Reason::Sleep, at);
        }
    };
    let mut wait = TimedWait::new(deadline);
    while wait.park_as(Reason::Sleep, at) {}
}

/// Switches out the current goroutine and queues it behind the runnable ones.
pub(crate) fn yield_goroutine(g: &goroutine::Goroutine) {
    if std::thread::panicking() {
        // Stay on this thread while unwinding (see `park_blocking_thread`).
        std::thread::yield_now();
        return;
    }
    g.suspend(Suspend::Yield);
}

/// Threads blocked by a goroutine waiting while it unwinds, so that its waker can unpark
/// the right thread (see `park_blocking_thread`).
struct BlockedThreads {
    slots: Mutex<Vec<Option<Thread>>>,
}

impl BlockedThreads {
    /// Records `t`; returns its slot.
    fn insert(&self, t: Thread) -> u32 {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let i = match slots.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                slots.push(None);
                slots.len() - 1
            }
        };
        slots[i] = Some(t);
        i as u32
    }

    fn remove(&self, slot: u32) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots[slot as usize] = None;
    }

    /// Unparks the thread in `slot`, if any. A slot reused by another thread since only
    /// causes that thread a spurious wake-up, which its park loop tolerates.
    fn unpark(&self, slot: u32) {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(Some(t)) = slots.get(slot as usize) {
            t.unpark();
        }
    }
}

fn blocked_threads() -> &'static BlockedThreads {
    static BLOCKED: BlockedThreads = BlockedThreads {
        slots: Mutex::new(Vec::new()),
    };
    &BLOCKED
}
