//! The kernel: goroutines, parking, and the M:N scheduler that runs goroutines on
//! `GORO_MAXPROCS` workers, each held by one thread at a time.
//!
//! # Layout
//!
//! Everything above this folder (`go`, `runtime`, channels, `time`, `sync`, `context`) uses
//! the kernel through a few calls: [`spawn`], `park::{park, TimedWait, WaiterRef, Unparker}`,
//! the timer calls ([`arm_callback`], [`timer_disarmed`]) and `goroutine::current`. Inside, the files need each
//! other, as Go's `proc.go`, `runtime2.go` and `park` need each other in one package:
//!
//! | file | what | uses |
//! |------|------|------|
//! | `config` | settings and their checks | `goroutine::stack` |
//! | `panic` | panic reports naming the goroutine | `goroutine` |
//! | `fork` | a forked child refuses to use the runtime | |
//! | `goroutine/` | the block, its coroutine and stack, locals, the join slot | `park::state`, `park::Unparker` |
//! | `park/` | waiting and waking (`state`: the token protocol) | `goroutine`, the scheduler |
//! | `mod`, `worker`, `queue`, `idle`, `timer` | the scheduler | `goroutine`, `park` |
//! | `thread`, `own`, `monitor` | threads apart from workers, the ownership word, the monitor that retakes workers | the scheduler |
//!
//! One cycle is essential: **park ↔ scheduler**. Waking a parked goroutine is scheduling it
//! (`Unparker::unpark` calls [`schedule`]), a deadline is a scheduler timer
//! (`park::TimedWait` calls [`arm_wait_timer`]), and a goroutine that must block its thread hands its
//! worker over (`worker::hand_off`); the scheduler in turn commits parks
//! (`park::state::Commit`) and its timers hold goroutines. `goroutine/` uses `park` only for
//! data it embeds: its park state (`park::state`, which imports nothing) and the `Unparker`
//! of the goroutine that joins it, woken when it completes.
//!
//! # Overview
//!
//! A worker (Go's P) is held by one thread (Go's M) at a time (`thread`); the monitor
//! (`monitor`) gives it to another thread when its goroutine blocks the thread or computes
//! for long, and `own` keeps the two threads off the worker's queue at the same time.
//!
//! Each worker owns a bounded local run queue (`queue`) and a `runnext` slot. A
//! goroutine made runnable by the goroutine running on a worker (woken, or newly spawned) goes
//! into that worker's `runnext`, so it runs next, on the same worker, with its data still in
//! cache: a ping-pong between two goroutines never leaves the worker. The goroutine it
//! displaces moves to the tail of the local queue. Goroutines made runnable from a plain
//! thread go to the global injector.
//!
//! A worker picks its next goroutine in this order (`worker::find_runnable`): every 7th turn
//! its thread's inbox of locked goroutines (`lock_os_thread`), every 61st turn the injector
//! (so it cannot be starved by local work; goroutines handing over to each other through
//! `runnext` share one turn for up to 16 switches, as Go's `inheritTime`),
//! due timers, `runnext`, the local queue, the injector, then it steals half of another
//! worker's queue, and finally sleeps (see `idle` for the sleep/wake protocol and `timer` for
//! how sleeping workers keep time).
//!
//! # Invariants
//!
//! - A goroutine's scheduler reference is in exactly one place: a run queue, a `runnext` slot,
//!   an inbox, the hands of the worker running it, or its park state (see `goroutine`).
//! - Only the thread owning a worker pushes to its local queue; thieves only take. The
//!   owner's pushes happen either in scheduler context or from the goroutine it is running
//!   (inside an `own` section, so never after the worker was retaken), never both at once.
//!   `runnext` is filled by a swap, which is also safe from a thread that has just lost the
//!   worker: the goroutine then runs next on the worker's new thread.
//! - `runnext` is meant to run as soon as the current goroutine parks, on the same worker.
//!   Filling it still notifies an idle worker (as any new work does), but a thief takes it
//!   only once it is *stale*: the owner has not scheduled anything for `RUNNEXT_GRACE` while
//!   it sat there (Go's 3 µs rule; 40 µs here, see `worker::RUNNEXT_GRACE`). A goroutine
//!   woken by one that then computes for long, or blocks its thread in a system call, thus
//!   moves to an idle worker instead of waiting. An idle worker that goes to sleep while
//!   another worker's `runnext` is occupied sleeps only for a nap (40 µs, doubling up to
//!   10 ms) and looks again, so a `runnext` left behind a blocked owner is always found,
//!   even when no spinning worker saw it go stale.
//!
//! # Rejected designs
//!
//! - A LIFO local queue: it keeps fewer goroutines alive in spawn-heavy trees, but starves old
//!   goroutines; FIFO plus `runnext` is Go's choice and keeps its fairness.
//! - A timer thread: every timer would cost two thread switches; workers keep time instead.
//! - Preallocating stacks at spawn: goroutines that have not run yet would each hold a stack.
//!   Stacks are taken at first run (see `goroutine::stack`).

pub(crate) mod config;
mod deadlock;
mod fork;
pub(crate) mod goroutine;
mod idle;
mod monitor;
#[cfg(feature = "net")]
pub(crate) mod netpoll;
mod own;
pub(crate) mod panic;
pub(crate) mod park;
mod queue;
pub(crate) mod rand;
#[cfg(feature = "net")]
mod readiness;
pub(crate) mod registry;
mod sigquit;
mod thread;
mod timer;
mod worker;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use config::Config;
use goroutine::stack::{GoroutineStack, Scavenge, StackPool};
use goroutine::GRef;
use idle::Idle;
use monitor::Monitor;
use queue::Injector;
use thread::Threads;
pub(crate) use timer::TimerCallback;
use timer::{Fire, Notice, Timers};
use worker::Worker;

pub(crate) struct Runtime {
    pub(crate) workers: Box<[Worker]>,
    pub(crate) injector: Injector,
    pub(crate) idle: Idle,
    pub(crate) timers: Timers,
    pub(crate) stacks: StackPool,
    pub(crate) threads: Threads,
    pub(crate) monitor: Monitor,
    next_id: AtomicU64,
    epoch: Instant,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, if it has started.
pub(crate) fn try_get() -> Option<&'static Runtime> {
    RUNTIME.get()
}

/// The runtime, started on first use.
#[inline]
pub(crate) fn get() -> &'static Runtime {
    match RUNTIME.get() {
        Some(rt) => rt,
        None => init(Config::from_env()).0,
    }
}

/// Starts the runtime with `config` unless it is already running. Returns it and whether this
/// call started it.
pub(crate) fn init(config: Config) -> (&'static Runtime, bool) {
    // Miri cannot run goroutines: their stacks are mappings with guard pages, switched to
    // with corosensei's inline assembly, and the overflow handler is a signal handler. Under
    // Miri only plain-thread use of goro is checked (`tests/miri.rs`), which must never
    // start the runtime: should it, fail plainly here rather than deep inside.
    if cfg!(miri) {
        panic!("goro: the goroutine runtime cannot run under Miri (plain threads only)");
    }
    let mut started = false;
    let sigquit = config.sigquit;
    let rt = RUNTIME.get_or_init(|| {
        started = true;
        Runtime::new(config)
    });
    if started {
        fork::watch();
        if sigquit {
            sigquit::install();
        }
        goroutine::overflow::install();
        panic::install_hook();
        for index in 0..rt.workers.len() {
            if let Err(e) = rt.threads.spawn(rt, Some((index, 0))) {
                panic!("goro: cannot start a worker thread: {e}");
            }
        }
        std::thread::Builder::new()
            .name("goro-monitor".to_string())
            .spawn(move || monitor::run(rt))
            .expect("goro: cannot start the monitor thread");
    }
    (rt, started)
}

impl Runtime {
    fn new(config: Config) -> Runtime {
        let n = config.maxprocs;
        Runtime {
            workers: (0..n).map(|_| Worker::new()).collect(),
            injector: Injector::new(),
            idle: Idle::new(n),
            timers: Timers::new(),
            stacks: StackPool::new(config.stack_size, n, arm_scavenger),
            threads: Threads::new(config.max_threads),
            monitor: Monitor::new(),
            next_id: AtomicU64::new(1),
            epoch: Instant::now(),
        }
    }

    /// Nanoseconds since the runtime started.
    pub(crate) fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// The instant `nanos` runtime nanoseconds after the start.
    pub(crate) fn instant_at(&self, nanos: u64) -> Instant {
        self.epoch + Duration::from_nanos(nanos)
    }

    pub(crate) fn maxprocs(&self) -> usize {
        self.workers.len()
    }

    /// Wakes an idle worker if work may be waiting and nobody is looking for it.
    pub(crate) fn notify_work(&self) {
        if let Some(w) = self.idle.notify_one() {
            self.workers[w].unpark_thread();
        }
    }

    /// Arms a timer that does `fire` at `deadline` (runtime nanoseconds).
    pub(crate) fn add_timer(&self, deadline: u64, fire: Fire) {
        match self.timers.add(deadline, fire) {
            Notice::Waiter(w) => self.workers[w].unpark_thread(),
            Notice::Idle => self.notify_work(),
            Notice::None => {}
        }
    }
}

/// Spawns a goroutine running `f`; returns a reference to it.
pub(crate) fn spawn<F, T>(
    name: Option<Box<str>>,
    stack_size: Option<usize>,
    created_at: &'static std::panic::Location<'static>,
    f: F,
) -> io::Result<GRef>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fork::check();
    preempt_point();
    let rt = get();
    let dedicated = match stack_size {
        Some(size) if size > rt.stacks.stack_size() => {
            Some(Box::new(GoroutineStack::dedicated(size)?))
        }
        _ => {
            rt.stacks.reserve()?;
            None
        }
    };
    let id = rt.next_id.fetch_add(1, Ordering::Relaxed);
    let (parent, scope) = match goroutine::current() {
        Some(p) => (p.id(), p.child_scope()),
        None => (0, crate::leak::thread_scope()),
    };
    if scope != 0 {
        crate::leak::started(scope);
    }
    let g = GRef::new(id, name, dedicated, (created_at, parent, scope), f);
    schedule(g.clone());
    Ok(g)
}

/// Makes `g` runnable. The caller owns its scheduler reference.
pub(crate) fn schedule(g: GRef) {
    let rt = get();
    match g.pinned_thread() {
        Some(id) => rt.threads.push_pinned(id, g),
        None => worker::schedule_here(rt, g),
    }
}

/// `lock_os_thread` for the running goroutine.
pub(crate) fn lock_current() {
    if let Some(g) = goroutine::current() {
        // SAFETY: `g` is the goroutine running this call.
        let first = unsafe { g.lock_thread() };
        if first {
            // Goroutines run only on runtime threads.
            let t = worker::current_thread().expect("a goroutine runs on a runtime thread");
            t.locked.fetch_add(1, Ordering::Relaxed);
            g.set_pinned(t.id);
        }
    }
}

/// `unlock_os_thread` for the running goroutine.
pub(crate) fn unlock_current() {
    if let Some(g) = goroutine::current() {
        // SAFETY: `g` is the goroutine running this call.
        if unsafe { g.unlock_thread() } {
            g.set_pinned(goroutine::NOT_PINNED);
            let t = worker::current_thread().expect("a goroutine runs on a runtime thread");
            t.locked.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// How `block_in_place` treats the calling thread (see [`begin_blocking`]).
pub(crate) enum Blocking {
    /// Not a goroutine holding a worker: nothing to do.
    Nothing,
    /// The worker was handed to another thread; the goroutine yields after the call, to get
    /// back in line for a worker.
    HandedOff,
    /// Nobody waits: the worker is kept and marked blocked for the monitor.
    Marked,
}

/// `block_in_place`, before the call.
pub(crate) fn begin_blocking() -> Blocking {
    if goroutine::current().is_none() {
        return Blocking::Nothing;
    }
    if worker::others_waiting() {
        if worker::hand_off() {
            return Blocking::HandedOff;
        }
        return Blocking::Nothing;
    }
    if worker::set_blocking(true) {
        Blocking::Marked
    } else {
        Blocking::Nothing
    }
}

/// `block_in_place`, after the call (or while unwinding from it).
pub(crate) fn end_blocking(how: Blocking) {
    match how {
        Blocking::Nothing => {}
        Blocking::Marked => {
            // The worker may have been retaken meanwhile; then there is no mark to clear
            // (`adopt` cleared it for the new owner).
            worker::set_blocking(false);
        }
        Blocking::HandedOff => {
            if !std::thread::panicking() {
                if let Some(g) = goroutine::current() {
                    park::yield_goroutine(g);
                }
            }
        }
    }
}

/// A point where a goroutine yields if it has computed for long (the monitor asked it to),
/// or if its thread lost its worker while it ran (see `worker::should_yield`): the start of
/// a spawn.
#[inline]
fn preempt_point() {
    if worker::should_yield() && !std::thread::panicking() {
        if let Some(g) = goroutine::current() {
            park::yield_goroutine(g);
        }
    }
}

/// Runtime nanoseconds of `t`.
fn nanos(rt: &Runtime, t: Instant) -> u64 {
    t.saturating_duration_since(rt.epoch)
        .as_nanos()
        .min(u128::from(timer::NEVER - 1)) as u64
}

/// Arms a timer that unparks `g` at `deadline` if it is still in its timed wait number
/// `wait` (see `park::TimedWait`).
pub(crate) fn arm_wait_timer(deadline: Instant, g: GRef, wait: u32) {
    fork::check();
    let rt = get();
    rt.add_timer(nanos(rt, deadline), Fire::Unpark(g, wait));
}

/// Arms a timer that calls `cb.fire(generation)` at `deadline` (see `time`).
pub(crate) fn arm_callback(deadline: Instant, cb: Arc<dyn TimerCallback>, generation: u64) {
    fork::check();
    let rt = get();
    rt.add_timer(nanos(rt, deadline), Fire::Call(cb, generation));
}

/// The stack scavenger's timer (see `goroutine::stack`, "Scavenging"): each firing is one
/// step of `StackPool::scavenge`, run by a worker in scheduler context like any timer, and
/// arms the next step while the pool says there may be more to release.
struct Scavenger;

impl TimerCallback for Scavenger {
    fn fire(self: Arc<Self>, _generation: u64) {
        let rt = get();
        let now = Instant::now();
        match rt.stacks.scavenge(now) {
            Scavenge::After(delay) => rt.add_timer(nanos(rt, now + delay), Fire::Call(self, 0)),
            Scavenge::Idle { released } if released >= TRIM_AFTER => {
                rt.injector.shrink();
                trim_heap();
            }
            Scavenge::Idle { .. } => {}
        }
    }

    fn is_live(&self, _generation: u64) -> bool {
        true
    }
}

/// Stacks released in one scavenger run above which the heap is trimmed too (see
/// `trim_heap`): the goroutines of a burst that large freed their blocks.
const TRIM_AFTER: usize = 4096;

/// Gives the free pages inside the C allocator's heaps back to the kernel (glibc's
/// `malloc_trim`). A burst's goroutine blocks (about 130 bytes each, allocated on every
/// worker's thread) are freed in an order that leaves no free space at the top of glibc's
/// per-thread arenas, which is all glibc returns on its own: after a burst of a million
/// goroutines, 120 MiB of freed blocks stayed resident, and one `malloc_trim(0)` (27 ms)
/// returned them. Other C libraries have no such call.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions; it takes each arena's lock itself.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Arms the scavenger's first step after `delay` (called by the stack pool).
fn arm_scavenger(delay: Duration) {
    let rt = get();
    rt.add_timer(
        nanos(rt, Instant::now() + delay),
        Fire::Call(Arc::new(Scavenger), 0),
    );
}

/// A timer armed earlier died before its deadline: a callback timer was stopped, reset or
/// lost its last receiver, or a timed wait ended early (see `timer::Timers::note_dead`).
pub(crate) fn timer_disarmed() {
    get().timers.note_dead();
}

/// How many entries the runtime's timer set holds, live or dead: what timers cost in memory,
/// for the tests that check it stays bounded (in `__private`).
pub fn timer_entries() -> usize {
    get().timers.len()
}
