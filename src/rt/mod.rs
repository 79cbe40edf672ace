//! The runtime: an M:N scheduler running goroutines on `GORO_MAXPROCS` worker threads.
//!
//! # Overview
//!
//! Each worker thread owns a bounded local run queue (`queue`) and a `runnext` slot. A
//! goroutine made runnable by the goroutine running on a worker (woken, or newly spawned) goes
//! into that worker's `runnext`, so it runs next, on the same worker, with its data still in
//! cache: a ping-pong between two goroutines never leaves the worker. The goroutine it
//! displaces moves to the tail of the local queue. Goroutines made runnable from a plain
//! thread go to the global injector.
//!
//! A worker picks its next goroutine in this order (`worker::find_runnable`): its pinned inbox
//! (`lock_os_thread`), every 61st time the injector (so it cannot be starved by local work),
//! due timers, `runnext`, the local queue, the injector, then it steals half of another
//! worker's queue, and finally sleeps (see `idle` for the sleep/wake protocol and `timer` for
//! how sleeping workers keep time).
//!
//! # Invariants
//!
//! - A goroutine's scheduler reference is in exactly one place: a run queue, a `runnext` slot,
//!   an inbox, the hands of the worker running it, or its park state (see `goroutine`).
//! - Only the owning worker pushes to its local queue and fills its `runnext`; thieves only
//!   take. The owner's pushes happen either in scheduler context or from the goroutine it is
//!   running, never both at once.
//! - `runnext` is meant to run as soon as the current goroutine parks, on the same worker.
//!   Filling it still notifies an idle worker (as any new work does), but a thief takes it
//!   only once it is *stale*: the owner has not scheduled anything for `RUNNEXT_GRACE` while
//!   it sat there (Go's 3 µs rule; 40 µs here, see `worker::RUNNEXT_GRACE`). A goroutine
//!   woken by one that then computes for long, or blocks its thread in a system call, thus
//!   moves to an idle worker instead of waiting.
//!
//! # Rejected designs
//!
//! - A LIFO local queue: it keeps fewer goroutines alive in spawn-heavy trees, but starves old
//!   goroutines; FIFO plus `runnext` is Go's choice and keeps its fairness.
//! - A timer thread: every timer would cost two thread switches; workers keep time instead.
//! - Preallocating stacks at spawn: goroutines that have not run yet would each hold a stack.
//!   Stacks are taken at first run (see `goroutine::stack`).

pub(crate) mod idle;
pub(crate) mod queue;
pub(crate) mod timer;
pub(crate) mod worker;

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crate::goroutine::stack::{GoroutineStack, StackPool, DEFAULT_STACK_SIZE, MIN_STACK_SIZE};
use crate::goroutine::{self, GRef, Goroutine};
use crate::park::Unparker;
use idle::Idle;
use queue::{Injector, LocalQueue};
pub(crate) use timer::TimerCallback;
use timer::{Fire, Notice, Timers};

/// Settings fixed when the runtime starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) maxprocs: usize,
    pub(crate) stack_size: usize,
}

impl Config {
    /// The configuration from the environment (`GORO_MAXPROCS`), with defaults.
    ///
    /// # Panics
    ///
    /// On a bad `GORO_MAXPROCS`, with a message naming it: the runtime starts on first use,
    /// where there is no caller to hand an error to.
    pub(crate) fn from_env() -> Config {
        Config::try_from_env().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The configuration from the environment, or what is wrong with it.
    pub(crate) fn try_from_env() -> Result<Config, String> {
        let maxprocs = match std::env::var("GORO_MAXPROCS") {
            // Set but empty counts as unset, as with most environment settings.
            Ok(v) if v.trim().is_empty() => default_maxprocs(),
            Ok(v) => parse_maxprocs(&v)?,
            Err(std::env::VarError::NotPresent) => default_maxprocs(),
            Err(std::env::VarError::NotUnicode(v)) => {
                return Err(format!(
                    "goro: GORO_MAXPROCS must be a positive integer, got {v:?}"
                ))
            }
        };
        Ok(Config {
            maxprocs,
            stack_size: DEFAULT_STACK_SIZE,
        })
    }
}

pub(crate) fn default_maxprocs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Largest accepted worker count; more is surely a typo.
pub(crate) const MAX_PROCS: usize = 4096;

pub(crate) fn parse_maxprocs(v: &str) -> Result<usize, String> {
    match v.trim().parse::<usize>() {
        Ok(0) => Err("goro: GORO_MAXPROCS must be a positive integer, got 0".to_string()),
        Ok(n) if n > MAX_PROCS => Err(format!(
            "goro: GORO_MAXPROCS={n} is more than the supported maximum of {MAX_PROCS}"
        )),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "goro: GORO_MAXPROCS must be a positive integer, got {v:?}"
        )),
    }
}

/// Checks a requested stack size, returning the usable size to map.
pub(crate) fn check_stack_size(size: usize) -> io::Result<usize> {
    if size < MIN_STACK_SIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "goro: stack size of {size} bytes is below the minimum of {MIN_STACK_SIZE} bytes"
            ),
        ));
    }
    crate::goroutine::stack::round_to_pages(size).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("goro: stack size of {size} bytes is too large"),
        )
    })
}

/// The shared half of a worker, visible to every thread.
pub(crate) struct Worker {
    pub(crate) queue: LocalQueue,
    /// The goroutine to run next on this worker; owns a scheduler reference when non-null.
    pub(crate) runnext: AtomicPtr<Goroutine>,
    /// The owner's scheduling count, published for thieves deciding whether `runnext` is
    /// stale (see the module docs). Relaxed: a heuristic, not a synchronisation.
    pub(crate) sched_tick: AtomicU32,
    /// Goroutines pinned to this worker's thread; never stolen.
    pinned: Mutex<VecDeque<GRef>>,
    /// Mirrors `!pinned.is_empty()`. SeqCst for the idle protocol (see `idle`).
    has_pinned: AtomicBool,
    /// The thread running this worker (replaced when a worker is handed off, see
    /// `worker::hand_off`).
    thread: Mutex<Option<Thread>>,
}

impl Worker {
    fn new() -> Worker {
        Worker {
            queue: LocalQueue::new(),
            runnext: AtomicPtr::new(std::ptr::null_mut()),
            sched_tick: AtomicU32::new(0),
            pinned: Mutex::new(VecDeque::new()),
            has_pinned: AtomicBool::new(false),
            thread: Mutex::new(None),
        }
    }

    pub(crate) fn unpark_thread(&self) {
        let t = self.thread.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = &*t {
            t.unpark();
        }
    }

    fn set_thread(&self, t: Thread) {
        *self.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
    }

    /// Takes the `runnext` goroutine, if any.
    pub(crate) fn take_runnext(&self) -> Option<GRef> {
        // Acquire: pairs with the Release half of the swap in `schedule` that filled it, so
        // the taker sees the goroutine's state.
        let p = self.runnext.swap(std::ptr::null_mut(), Ordering::Acquire);
        // SAFETY: a non-null runnext owns a scheduler reference (module invariants), which
        // the swap transferred to us.
        (!p.is_null()).then(|| unsafe { GRef::from_raw(p) })
    }

    pub(crate) fn pop_pinned(&self) -> Option<GRef> {
        if !self.has_pinned.load(Ordering::SeqCst) {
            return None;
        }
        let mut q = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        let g = q.pop_front();
        self.has_pinned.store(!q.is_empty(), Ordering::SeqCst);
        g
    }

    pub(crate) fn has_pinned(&self) -> bool {
        self.has_pinned.load(Ordering::SeqCst)
    }

    fn push_pinned(&self, g: GRef) {
        let mut q = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        q.push_back(g);
        self.has_pinned.store(true, Ordering::SeqCst);
        drop(q);
        // The worker may be asleep; thread parking keeps the token if it is not yet.
        self.unpark_thread();
    }
}

pub(crate) struct Runtime {
    pub(crate) workers: Box<[Worker]>,
    pub(crate) injector: Injector,
    pub(crate) idle: Idle,
    pub(crate) timers: Timers,
    pub(crate) stacks: StackPool,
    live: AtomicUsize,
    next_id: AtomicU64,
    epoch: Instant,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

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
    let mut started = false;
    let rt = RUNTIME.get_or_init(|| {
        started = true;
        Runtime::new(config)
    });
    if started {
        crate::goroutine::overflow::install();
        crate::go::install_panic_hook();
        for index in 0..rt.workers.len() {
            std::thread::Builder::new()
                .name(format!("goro-worker-{index}"))
                .spawn(move || worker::run(rt, index))
                .expect("goro: cannot start a worker thread");
        }
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
            stacks: StackPool::new(config.stack_size, n),
            live: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            epoch: Instant::now(),
        }
    }

    /// Nanoseconds since the runtime started.
    pub(crate) fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    pub(crate) fn maxprocs(&self) -> usize {
        self.workers.len()
    }

    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Wakes an idle worker if work may be waiting and nobody is looking for it.
    pub(crate) fn notify_work(&self) {
        if let Some(w) = self.idle.notify_one() {
            self.workers[w].unpark_thread();
        }
    }

    /// Arms a timer that unparks `waker` at `deadline` (runtime nanoseconds).
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
    f: F,
) -> io::Result<GRef>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
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
    rt.live.fetch_add(1, Ordering::Relaxed);
    let g = GRef::new(id, name, dedicated, f);
    schedule(g.clone());
    Ok(g)
}

/// Called by every goroutine just before it signals its completion: drops its locals and
/// stops counting it as live.
pub(crate) fn goroutine_exiting() {
    if let Some(g) = goroutine::current() {
        let locals = g.locals();
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            goroutine::local::destroy(locals)
        }))
        .is_err()
        {
            eprintln!(
                "goro: a goroutine-local destructor of goroutine {} panicked; aborting",
                g.id()
            );
            std::process::abort();
        }
    }
    get().live.fetch_sub(1, Ordering::Relaxed);
}

/// Makes `g` runnable. The caller owns its scheduler reference.
pub(crate) fn schedule(g: GRef) {
    let rt = get();
    if let Some(w) = g.pinned_worker() {
        rt.workers[w].push_pinned(g);
        return;
    }
    match worker::current_index() {
        Some(index) => {
            let w = &rt.workers[index];
            if goroutine::current().is_some() {
                // From the running goroutine: run `g` next on this worker.
                // AcqRel: Release publishes `g` to whoever takes it (`take_runnext`); Acquire
                // pairs with the previous filler's Release for the displaced goroutine.
                let old = w.runnext.swap(g.into_raw(), Ordering::AcqRel);
                if !old.is_null() {
                    // SAFETY: the displaced pointer owned a scheduler reference (invariants).
                    let old = unsafe { GRef::from_raw(old) };
                    w.queue.push(old, &rt.injector);
                }
            } else {
                w.queue.push(g, &rt.injector);
            }
        }
        None => rt.injector.push(g),
    }
    rt.notify_work();
}

/// Hands this thread's worker to a new thread (see `worker::hand_off`).
pub(crate) fn hand_off_worker() {
    worker::hand_off();
}

/// Threads blocked by a goroutine waiting while it unwinds, so that its waker can unpark
/// the right thread (see `park::park_blocking_thread`).
pub(crate) struct BlockedThreads {
    slots: Mutex<Vec<Option<Thread>>>,
}

impl BlockedThreads {
    /// Records `t`; returns its slot.
    pub(crate) fn insert(&self, t: Thread) -> u32 {
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

    pub(crate) fn remove(&self, slot: u32) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots[slot as usize] = None;
    }

    /// Unparks the thread in `slot`, if any. A slot reused by another thread since only
    /// causes that thread a spurious wake-up, which its park loop tolerates.
    pub(crate) fn unpark(&self, slot: u32) {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(Some(t)) = slots.get(slot as usize) {
            t.unpark();
        }
    }
}

pub(crate) fn blocked_threads() -> &'static BlockedThreads {
    static BLOCKED: BlockedThreads = BlockedThreads {
        slots: Mutex::new(Vec::new()),
    };
    &BLOCKED
}

/// `lock_os_thread` for the running goroutine.
pub(crate) fn lock_current() {
    if let Some(g) = goroutine::current() {
        let count = g.lock_count();
        // SAFETY: `g` is the running goroutine, the only user of its lock count.
        let n = unsafe { *count };
        if n == 0 {
            // A goroutine on a thread that has handed its worker off (see `worker::hand_off`)
            // is alone on that thread until it parks; it has no worker to be pinned to.
            if let Some(index) = worker::current_index() {
                g.set_pinned(index as u32);
            }
        }
        // SAFETY: as above.
        unsafe {
            *count = n
                .checked_add(1)
                .expect("goro: lock_os_thread nested too deeply")
        };
    }
}

/// `unlock_os_thread` for the running goroutine.
pub(crate) fn unlock_current() {
    if let Some(g) = goroutine::current() {
        let count = g.lock_count();
        // SAFETY: `g` is the running goroutine, the only user of its lock count.
        let n = unsafe { *count };
        if n == 0 {
            return;
        }
        // SAFETY: as above.
        unsafe { *count = n - 1 };
        if n == 1 {
            g.set_pinned(goroutine::NOT_PINNED);
        }
    }
}

/// Runtime nanoseconds of `t`.
fn nanos(rt: &Runtime, t: Instant) -> u64 {
    t.saturating_duration_since(rt.epoch)
        .as_nanos()
        .min(u128::from(timer::NEVER - 1)) as u64
}

/// Arms a timer that unparks `waker` at `deadline` (see `park::park_until`).
pub(crate) fn arm_timer(deadline: Instant, waker: Unparker) {
    let rt = get();
    rt.add_timer(nanos(rt, deadline), Fire::Unpark(waker));
}

/// Arms a timer that calls `cb.fire(generation)` at `deadline` (see `time`).
pub(crate) fn arm_callback(deadline: Instant, cb: Arc<dyn TimerCallback>, generation: u64) {
    let rt = get();
    rt.add_timer(nanos(rt, deadline), Fire::Call(cb, generation));
}

/// A callback timer armed earlier was stopped or reset (see `timer::Timers::note_dead`).
pub(crate) fn callback_disarmed() {
    get().timers.note_dead();
}

/// Parks the current goroutine or thread for `d`.
pub(crate) fn sleep(d: Duration) {
    if d.is_zero() {
        return;
    }
    if goroutine::current().is_none() {
        std::thread::sleep(d);
        return;
    }
    let rt = get();
    let deadline = rt
        .now()
        .saturating_add(d.as_nanos().min(u128::from(u64::MAX)) as u64);
    let deadline = deadline.min(timer::NEVER - 1);
    rt.add_timer(deadline, Fire::Unpark(Unparker::current()));
    while rt.now() < deadline {
        crate::park::park();
    }
}
