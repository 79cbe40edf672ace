//! A worker (Go's P: [`Worker`], reachable from every thread through the runtime), a runtime
//! thread's own state (Go's M: `Machine`), and the loop a thread runs: while it holds a
//! worker, find a runnable goroutine in the worker's queues, run it, and repeat; without
//! one, run the goroutines locked to it and wait to be given a worker (see `thread`).

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;

use super::goroutine::stack::StackCache;
use super::goroutine::{self, GRef, Goroutine, Outcome, Suspend};
use super::own::Ownership;
use super::park::state::Commit;
use super::queue::{self, LocalQueue};
use super::rand::Rng;
use super::thread::{ThreadShared, SPARE_LINGER};
use super::timer::{self, Fire};
use super::{idle, Runtime};

/// Every this many scheduling rounds the injector is looked at first (Go uses the same
/// prime), so goroutines there are not starved by a busy local queue.
const INJECTOR_EVERY: u32 = 61;
/// Every this many rounds due timers are fired even while local work is queued.
const TIMERS_EVERY: u32 = 4;
/// Every this many rounds the inbox of goroutines locked to this thread is looked at first.
const PINNED_EVERY: u32 = 7;
/// While goroutines hand over to each other through `runnext`, the fairness count moves
/// once in this many rounds (see `find_runnable`): a pair ping-ponging on a worker looks at
/// the injector every 61 x 16 switches instead of 61, a fraction of a millisecond.
const RUNNEXT_INHERIT: u32 = 16;
/// Rounds over the other workers before giving up the search.
const STEAL_ROUNDS: usize = 4;
/// How long a searcher that found nothing keeps watching for work before it sleeps.
///
/// Parking and waking a thread costs a few microseconds on each side; a producer that
/// spawns or wakes goroutines at a steady pace would otherwise pay a futex wake for almost
/// every goroutine, while its peer sleeps and wakes in turn. While a worker spins it still
/// counts as searching, so producers do not wake anyone (see `idle`).
const SPIN: std::time::Duration = std::time::Duration::from_micros(50);
/// How long a goroutine may wait in another worker's `runnext`, with that worker not
/// scheduling, before a spinning worker takes it (see `rt`). Go uses 3 µs; here 5 µs split
/// producer/consumer pairs across workers often enough to make a contended channel 2-3x
/// slower, while 40 µs still moves a goroutine stuck behind a blocked worker promptly.
const RUNNEXT_GRACE: std::time::Duration = std::time::Duration::from_micros(40);
/// The longest nap of an idle worker that went to sleep while another worker's `runnext`
/// was occupied (see `WorkerLocal::sleep`). Naps start at `RUNNEXT_GRACE` and double.
const RUNNEXT_NAP_MAX: std::time::Duration = std::time::Duration::from_millis(10);

/// The shared half of a worker, visible to every thread.
pub(crate) struct Worker {
    pub(crate) queue: LocalQueue,
    /// The goroutine to run next on this worker; owns a scheduler reference when non-null.
    pub(crate) runnext: AtomicPtr<Goroutine>,
    /// The owner's scheduling count, published for thieves deciding whether `runnext` is
    /// stale (see the module docs) and for the monitor. Relaxed: a heuristic, not a
    /// synchronisation.
    pub(crate) sched_tick: AtomicU32,
    /// Which thread may push to `queue` (see `own`).
    pub(crate) own: Ownership,
    /// Set by the monitor when the running goroutine has computed for long: it yields at its
    /// next spawn (see `preempt_point`). Relaxed: a request, acted on eventually.
    pub(crate) preempt: AtomicBool,
    /// Set while the running goroutine is inside `block_in_place` without having handed the
    /// worker over: the monitor then knows it is blocked without measuring. Relaxed: a hint.
    pub(crate) blocking: AtomicBool,
    /// The CPU-time clock of the thread holding the worker (`pthread_getcpuclockid`), for the
    /// monitor to tell a blocked thread from a computing one. Relaxed: a hint.
    pub(crate) clock: AtomicI32,
    /// The kernel's id of the thread holding the worker (`gettid`), for the monitor to check
    /// that a thread that seems blocked is not merely waiting for a CPU. Relaxed: a hint.
    pub(crate) tid: AtomicI32,
    /// When the thread holding the worker took it (runtime nanoseconds) and its CPU time
    /// then, so that the monitor can judge its first goroutine at its first look. Relaxed:
    /// hints.
    pub(crate) adopted_at: AtomicU64,
    pub(crate) adopted_cpu: AtomicU64,
    /// The thread holding this worker (replaced when the worker moves, see `thread`).
    thread: Mutex<Option<Thread>>,
    /// Set while the worker sleeps in the netpoller rather than on its thread
    /// (`rt::netpoll`), so that waking it goes through the poller's waker. SeqCst: set
    /// before the worker joins the sleepers (under their lock), read by a waker after it
    /// took the worker off that list.
    in_netpoll: AtomicBool,
}

impl Worker {
    pub(crate) fn new() -> Worker {
        Worker {
            queue: LocalQueue::new(),
            runnext: AtomicPtr::new(std::ptr::null_mut()),
            sched_tick: AtomicU32::new(0),
            own: Ownership::new(),
            preempt: AtomicBool::new(false),
            blocking: AtomicBool::new(false),
            clock: AtomicI32::new(NO_CLOCK),
            tid: AtomicI32::new(0),
            adopted_at: AtomicU64::new(0),
            adopted_cpu: AtomicU64::new(0),
            thread: Mutex::new(None),
            in_netpoll: AtomicBool::new(false),
        }
    }

    pub(crate) fn unpark_thread(&self) {
        let t = self.thread.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = &*t {
            t.unpark();
        }
        drop(t);
        // SeqCst: pairs with the store in `sleep` (see the field).
        #[cfg(feature = "net")]
        if self.in_netpoll.load(Ordering::SeqCst) {
            super::netpoll::notify();
        }
    }

    fn set_thread(&self, t: Thread) {
        *self.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
    }

    /// Takes the `runnext` goroutine, if any.
    pub(crate) fn take_runnext(&self) -> Option<GRef> {
        // Acquire: pairs with the Release half of the swap in `schedule_here` that filled
        // it, so the taker sees the goroutine's state.
        let p = self.runnext.swap(std::ptr::null_mut(), Ordering::Acquire);
        // SAFETY: a non-null runnext owns a scheduler reference (module invariants), which
        // the swap transferred to us.
        (!p.is_null()).then(|| unsafe { GRef::from_raw(p) })
    }

    /// Whether goroutines wait in this worker's `runnext` or queue.
    pub(crate) fn has_work(&self) -> bool {
        !self.runnext.load(Ordering::Relaxed).is_null() || !self.queue.is_empty()
    }
}

/// `clock` before a thread has published its clock.
pub(crate) const NO_CLOCK: i32 = i32::MIN;

/// `Machine::worker` of a thread that holds no worker.
const NO_WORKER: usize = usize::MAX;

/// A runtime thread's own state (Go's M), reachable only from that thread.
struct Machine {
    rt: &'static Runtime,
    shared: Arc<ThreadShared>,
    /// The index of the worker this thread holds, or `NO_WORKER`.
    worker: Cell<usize>,
    /// The worker this thread holds (the same as `worker`, kept as a reference for the hot
    /// paths).
    held: Cell<Option<&'static Worker>>,
    /// The generation of `worker` this thread owns (see `own`).
    generation: Cell<u64>,
    /// This thread's CPU-time clock and kernel id, published in the worker it holds.
    clock: i32,
    tid: i32,
    stacks: UnsafeCell<StackCache>,
    /// Scheduling rounds, published as the worker's `sched_tick`.
    rounds: Cell<u32>,
    /// The fairness count behind INJECTOR_EVERY, TIMERS_EVERY and PINNED_EVERY (see
    /// `find_runnable`).
    tick: Cell<u32>,
    /// Goroutines taken from `runnext` in a row.
    runnext_streak: Cell<u32>,
    rng: Rng,
    searching: Cell<bool>,
    /// Set while this thread polls the netpoller from its scheduler loop (`poll_for_self`):
    /// the first goroutine the poll wakes goes into this worker's queue without waking
    /// another worker, since this one runs it next.
    poll_runs_first: Cell<bool>,
    /// The next nap while another worker's `runnext` stays occupied (see `sleep`); reset
    /// when work is found.
    nap: Cell<std::time::Duration>,
    due: UnsafeCell<Vec<Fire>>,
}

thread_local! {
    static MACHINE: Cell<*const Machine> = const { Cell::new(std::ptr::null()) };
}

/// The calling thread's machine, if it is a runtime thread.
#[inline(never)]
fn machine() -> Option<&'static Machine> {
    let p = MACHINE.with(|m| m.get());
    // SAFETY: a non-null MACHINE points to the boxed `Machine` of this thread, which lives
    // until `run` returns and clears MACHINE first; the 'static lifetime is bounded by that,
    // and only this thread uses it.
    unsafe { p.as_ref() }
}

/// The id of the calling runtime thread (for `lock_os_thread`), if it is one.
pub(crate) fn current_thread() -> Option<Arc<ThreadShared>> {
    machine().map(|m| m.shared.clone())
}

/// This thread's CPU-time clock, or `NO_CLOCK`.
fn own_clock() -> i32 {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: pthread_self is always valid for the calling thread, and `clock` is a valid
    // out-pointer.
    match unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) } {
        0 => clock,
        _ => NO_CLOCK,
    }
}

/// Body of a runtime thread, starting with worker `first` (index and generation) if given.
pub(crate) fn run(rt: &'static Runtime, first: Option<(usize, u64)>) {
    crate::rt::goroutine::overflow::ensure_altstack();
    let shared = rt.threads.register();
    let seed = 0x9E37_79B9 ^ u64::from(shared.id).wrapping_mul(0x85EB_CA6B);
    // Boxed so its address stays put for `MACHINE`; freed when the thread exits, after
    // MACHINE is cleared (nothing else refers to it).
    let m = Box::new(Machine {
        rt,
        shared,
        worker: Cell::new(NO_WORKER),
        held: Cell::new(None),
        generation: Cell::new(0),
        clock: own_clock(),
        // SAFETY: gettid has no preconditions.
        tid: unsafe { libc::gettid() },
        stacks: UnsafeCell::new(StackCache::new(&rt.stacks)),
        rounds: Cell::new(0),
        tick: Cell::new(0),
        runnext_streak: Cell::new(0),
        rng: Rng::new(seed),
        searching: Cell::new(false),
        poll_runs_first: Cell::new(false),
        nap: Cell::new(RUNNEXT_GRACE),
        due: UnsafeCell::new(Vec::new()),
    });
    MACHINE.with(|c| c.set(&*m));
    if let Some((index, generation)) = first {
        m.adopt(index, generation);
    }
    loop {
        if m.worker.get() == NO_WORKER {
            if !m.wait_for_worker() {
                break;
            }
            continue;
        }
        let g = m.find_runnable();
        m.execute(g);
    }
    MACHINE.with(|c| c.set(std::ptr::null()));
    m.release_stacks();
    rt.threads.unregister(m.shared.id);
}

/// Makes `g` runnable from this thread: into its worker's `runnext` from a goroutine (it runs
/// next, on the same worker), into its worker's queue from scheduler context, and into the
/// injector from a thread without a worker.
#[inline]
pub(crate) fn schedule_here(rt: &Runtime, g: GRef) {
    let Some(m) = machine() else {
        rt.injector.push(g);
        rt.notify_work();
        return;
    };
    let Some(w) = m.held.get() else {
        rt.injector.push(g);
        rt.notify_work();
        return;
    };
    if goroutine::current().is_some() {
        // From the running goroutine: `g` runs next on this worker. The swap is safe even if
        // the worker was retaken meanwhile (then `g` runs next on the worker's new thread,
        // which is as good); only the push of a displaced goroutine to the queue needs the
        // thread to own the worker, which it may stop doing at any moment (`own`).
        // AcqRel: Release publishes `g` to whoever takes it (`take_runnext`); Acquire
        // pairs with the previous filler's Release for the displaced goroutine.
        let old = w.runnext.swap(g.into_raw(), Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: the displaced pointer owned a scheduler reference (invariants).
            let old = unsafe { GRef::from_raw(old) };
            let generation = m.generation.get();
            if w.own.enter(generation) {
                w.queue.push(old, &rt.injector);
                w.own.leave(generation);
            } else {
                m.lose_worker();
                rt.injector.push(old);
            }
        }
    } else {
        // Scheduler context: the thread owns its worker (it cannot be retaken there).
        w.queue.push(g, &rt.injector);
        if m.poll_runs_first.replace(false) {
            // The first goroutine a poll of our own scheduler loop wakes: we run it next
            // (`poll_for_self`), so nobody else needs waking for it.
            return;
        }
    }
    rt.notify_work();
}

/// Gives the calling thread's worker to another thread, because the goroutine running here
/// is about to block this thread (`block_in_place`, or a wait while unwinding, see
/// `park::park_blocking_thread`). The goroutine goes on running on this thread, without a
/// worker: what it wakes goes to the injector, and when it switches out the thread becomes
/// a spare. Returns whether a worker was handed over.
#[inline(never)]
pub(crate) fn hand_off() -> bool {
    let Some(m) = machine() else {
        return false;
    };
    let index = m.worker.get();
    if index == NO_WORKER {
        return false;
    }
    m.lose_worker();
    let rt = m.rt;
    // Retaking our own worker fails only if the monitor retook it already.
    if let Some(generation) = rt.workers[index].own.retake(m.generation.get()) {
        rt.threads.start_worker(rt, index, generation);
    }
    true
}

/// Whether the calling goroutine's worker has goroutines, due timers or other work waiting
/// that nobody else is about to run (`block_in_place` hands the worker over only then).
pub(crate) fn others_waiting() -> bool {
    let Some(m) = machine() else {
        return false;
    };
    m.held
        .get()
        .is_some_and(|w| super::monitor::work_waiting(m.rt, w))
}

/// Marks the calling goroutine's worker as blocked (`block_in_place` without a hand-off), or
/// clears the mark; returns whether the thread holds a worker.
pub(crate) fn set_blocking(on: bool) -> bool {
    let Some(m) = machine() else {
        return false;
    };
    let Some(w) = m.held.get() else {
        return false;
    };
    // A worker retaken meanwhile is another thread's: its mark is not ours to change.
    if w.own.load().0 == m.generation.get() {
        w.blocking.store(on, Ordering::Relaxed);
    }
    true
}

/// Whether the calling goroutine should yield at this safe point (`rt::preempt_point`):
/// the monitor asked it to (it has computed for long), or its thread lost its worker while
/// it ran (it blocked the thread, and the worker went on elsewhere). A goroutine in the
/// second case would otherwise go on running beside the workers, making every goroutine it
/// wakes or spawns go through the injector; yielding puts it back in line for a worker and
/// frees its thread, as Go's `exitsyscall` does. Clears the monitor's request.
#[inline]
pub(crate) fn should_yield() -> bool {
    let Some(m) = machine() else {
        return false;
    };
    match m.held.get() {
        Some(w) => {
            if w.own.load().0 != m.generation.get() {
                return true;
            }
            w.preempt.load(Ordering::Relaxed) && w.preempt.swap(false, Ordering::Relaxed)
        }
        // A thread without a worker runs only goroutines locked to it, or one that lost
        // its worker and already knows.
        None => goroutine::current().is_some_and(|g| g.pinned_thread().is_none()),
    }
}

impl Machine {
    /// The worker this thread holds; only called while it holds one.
    fn me(&self) -> &'static Worker {
        self.held.get().expect("the thread holds a worker")
    }

    /// Forgets the worker this thread held (it was retaken, or handed over).
    fn lose_worker(&self) {
        self.worker.set(NO_WORKER);
        self.held.set(None);
    }

    fn index(&self) -> usize {
        debug_assert_ne!(self.worker.get(), NO_WORKER);
        self.worker.get()
    }

    /// Takes worker `index` as the owner of `generation` (a new thread's first worker, or one
    /// handed to a spare).
    fn adopt(&self, index: usize, generation: u64) {
        self.worker.set(index);
        self.held.set(Some(&self.rt.workers[index]));
        self.generation.set(generation);
        self.searching.set(false);
        self.nap.set(RUNNEXT_GRACE);
        let w = &self.rt.workers[index];
        w.set_thread(std::thread::current());
        w.clock.store(self.clock, Ordering::Relaxed);
        w.tid.store(self.tid, Ordering::Relaxed);
        w.adopted_cpu
            .store(super::monitor::cpu_time(self.clock), Ordering::Relaxed);
        w.adopted_at.store(self.rt.now(), Ordering::Relaxed);
        w.preempt.store(false, Ordering::Relaxed);
        w.blocking.store(false, Ordering::Relaxed);
    }

    /// A thread without a worker: runs the goroutines locked to it as they become runnable,
    /// and waits as a spare until it is given a worker (returns `true`) or has waited
    /// `SPARE_LINGER` with nothing locked to it (returns `false`: the thread exits).
    fn wait_for_worker(&self) -> bool {
        let rt = self.rt;
        let mut listed = false;
        loop {
            self.release_stacks();
            if let Some(g) = self.shared.pop_pinned() {
                self.execute_cold(g);
                continue;
            }
            if let Some((index, generation)) = self.shared.take_handoff() {
                self.adopt(index, generation);
                return true;
            }
            if super::fork::is_child() {
                super::fork::end_child();
            }
            if !listed {
                // Awake now, with a blocked worker somewhere: take it rather than park and
                // wait (`monitor`, "A thread that comes back").
                if let Some((index, generation)) = super::monitor::take_blocked(rt) {
                    self.adopt(index, generation);
                    return true;
                }
                if let Some((index, generation)) = rt.threads.add_spare(self.shared.clone()) {
                    self.adopt(index, generation);
                    return true;
                }
                listed = true;
                // Look again before sleeping: a worker given between the look above and
                // the listing is found here, and one given later unparks us.
                continue;
            }
            let start = std::time::Instant::now();
            std::thread::park_timeout(SPARE_LINGER);
            if start.elapsed() >= SPARE_LINGER
                && self.shared.locked.load(Ordering::Relaxed) == 0
                && !self.shared.has_pinned()
                && rt.threads.remove_spare(self.shared.id)
            {
                return false;
            }
            // Otherwise keep looking; a spare that someone took off the list to give it a
            // worker stays off it (`listed` stays true) until that worker arrives.
        }
    }

    /// Gives the stacks cached by this thread back to the pool. The pool's reservations
    /// count on caches only for threads that hold a worker (`goroutine::stack`, `slack`), so
    /// a thread gives its cache back when it loses its worker.
    fn release_stacks(&self) {
        // SAFETY: called in scheduler context, where no borrow of the cache is alive (`execute`
        // borrows it only for the length of a resume); the cache is this thread's only.
        unsafe { (*self.stacks.get()).release_all() };
    }

    /// [`Machine::execute`] out of line, for the rare callers (a thread without a worker).
    #[inline(never)]
    fn execute_cold(&self, g: GRef) {
        self.execute(g);
    }

    /// Runs `g` until it parks, yields or finishes.
    // Inlined into the scheduling loop, the hottest path of the runtime.
    #[inline(always)]
    fn execute(&self, g: GRef) {
        loop {
            let held = self.held.get();
            let generation = self.generation.get();
            if let Some(w) = held {
                w.own.begin_run(generation);
            }
            goroutine::set_current(Some(&g));
            // SAFETY: we hold g's scheduler reference (we took it from a queue, a runnext slot,
            // an inbox or an aborted park) and just published it as the current goroutine;
            // the stack cache is only touched from this thread's scheduler context, and no
            // other borrow of it is alive during the resume.
            let outcome = unsafe { g.resume(&mut *self.stacks.get()) };
            goroutine::set_current(None);
            // Still the owner? The worker may have been retaken while the goroutine ran
            // (`own`); the goroutine may have noticed already (`schedule_here`).
            if let Some(w) = held {
                if !w.own.end_run(generation) {
                    self.lose_worker();
                }
            }
            match outcome {
                Outcome::Finished => {
                    if g.pinned_thread() == Some(self.shared.id) {
                        // It ended while locked to this thread.
                        self.shared.locked.fetch_sub(1, Ordering::Relaxed);
                    }
                    // If nobody holds the goroutine's handle any more, this frees its block
                    // and drops its unclaimed result, running user code on the scheduling
                    // loop, which must not unwind.
                    let id = g.id();
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(g))).is_err() {
                        eprintln!("goro: dropping the unjoined result of goroutine {id} panicked");
                    }
                    return;
                }
                Outcome::Suspended(Suspend::Yield) => {
                    if g.pinned_thread().is_some() {
                        self.shared.push_pinned(g);
                    } else if self.held.get().is_none() {
                        // No longer a worker's owner: leave the goroutine to the others.
                        self.rt.injector.push(g);
                        self.rt.notify_work();
                    } else {
                        self.me().queue.push(g, &self.rt.injector);
                        self.rt.notify_work();
                    }
                    return;
                }
                Outcome::Suspended(Suspend::Park) => match g.park.commit() {
                    Commit::Parked => {
                        // The scheduler reference now belongs to the park state; the waker
                        // that sees PARKED takes it back (`Unparker::unpark`).
                        std::mem::forget(g);
                        return;
                    }
                    Commit::Aborted => continue,
                },
            }
        }
    }

    fn find_runnable(&self) -> GRef {
        let rt = self.rt;
        let me = self.me();
        // Whether this search left the network to a worker blocked in the poller.
        #[cfg_attr(not(feature = "net"), allow(unused_mut))]
        let mut deferred = false;
        loop {
            let rounds = self.rounds.get().wrapping_add(1);
            self.rounds.set(rounds);
            me.sched_tick.store(rounds, Ordering::Relaxed);
            // The fairness count does not move while goroutines hand over to each other
            // through `runnext` (as Go's `inheritTime`), but for one round in
            // RUNNEXT_INHERIT: a ping-pong pair shares one turn, instead of sending its
            // worker to the injector, the timers and the inbox every few switches (where it
            // may pick a goroutine that blocks the thread while its partner waits).
            let streak = self.runnext_streak.replace(0);
            let advanced = streak % RUNNEXT_INHERIT == 0;
            let tick = if advanced {
                let tick = self.tick.get().wrapping_add(1);
                self.tick.set(tick);
                tick
            } else {
                self.tick.get()
            };

            if advanced && tick % INJECTOR_EVERY == 0 {
                if let Some(g) = rt.injector.pop_batch(&me.queue, 0) {
                    return self.found(g);
                }
            }
            // Timers are looked at every few rounds while there is local work (reading the
            // clock costs as much as a context switch), and always before looking elsewhere.
            let local_work = !me.runnext.load(Ordering::Relaxed).is_null() || !me.queue.is_empty();
            if (advanced && tick % TIMERS_EVERY == 0) || !local_work {
                self.fire_timers();
            }
            // Goroutines locked to this thread come after the local ones, so a locked
            // goroutine that yields lets them run, but get their turn first every few rounds
            // so a busy local queue cannot starve them either.
            if advanced && tick % PINNED_EVERY == 0 {
                if let Some(g) = self.shared.pop_pinned() {
                    return self.found(g);
                }
            }
            if let Some(g) = me.take_runnext() {
                self.runnext_streak.set(streak.wrapping_add(1));
                return self.found(g);
            }
            if let Some(g) = me.queue.pop() {
                return self.found(g);
            }
            if let Some(g) = self.shared.pop_pinned() {
                return self.found(g);
            }
            let batch = (rt.injector.len() / rt.maxprocs()).min(queue::CAPACITY / 2);
            if let Some(g) = rt.injector.pop_batch(&me.queue, batch) {
                return self.found(g);
            }
            // Out of goroutines: those waiting on sockets may be ready (`rt::netpoll`);
            // what this wakes lands in our queue. Not while a worker blocks in the poller:
            // the kernel wakes that one for every event anyway, and if this worker finds
            // nothing it sleeps on its thread, leaving the poller's role to that one (module
            // docs of `netpoll`, "Who polls").
            #[cfg(feature = "net")]
            if super::netpoll::has_waiters() {
                deferred = super::netpoll::blocker_active();
                if !deferred && self.poll_for_self(super::netpoll::poll_now) > 0 {
                    continue;
                }
            }
            if !self.searching.get() && rt.maxprocs() > 1 && rt.idle.may_search() {
                self.searching.set(true);
                rt.idle.start_searching();
            }
            if self.searching.get() {
                if let Some(g) = self.steal() {
                    return self.found(g);
                }
                if self.spin() {
                    continue;
                }
            }
            self.sleep(!deferred);
        }
    }

    /// Runs `poll`, a poll of the netpoller from this thread's scheduler loop, after which
    /// the loop looks at its queue again: the first goroutine it wakes lands there without
    /// waking another worker (Go's `findRunnable` runs the first goroutine `netpoll`
    /// returns and injects only the rest). Otherwise every reply on a connection would
    /// wake a sleeping worker for a goroutine this one is about to run.
    #[cfg(feature = "net")]
    fn poll_for_self<R>(&self, poll: impl FnOnce() -> R) -> R {
        self.poll_runs_first.set(true);
        let r = poll();
        self.poll_runs_first.set(false);
        r
    }

    /// Bookkeeping when a goroutine to run was found.
    fn found(&self, g: GRef) -> GRef {
        self.nap.set(RUNNEXT_GRACE);
        if self.searching.replace(false) && self.rt.idle.stop_searching() {
            // We were the last searcher: there may be more work, let another worker look.
            self.rt.notify_work();
        }
        g
    }

    fn steal(&self) -> Option<GRef> {
        let rt = self.rt;
        let n = rt.maxprocs();
        let me = self.me();
        for _ in 0..STEAL_ROUNDS {
            let start = self.rng.below(n);
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index() {
                    continue;
                }
                let w = &rt.workers[victim];
                if let Some(g) = w.queue.steal_into(&me.queue) {
                    return Some(g);
                }
            }
            if let Some(g) = rt.injector.pop_batch(&me.queue, 0) {
                return Some(g);
            }
            std::hint::spin_loop();
        }
        None
    }

    /// Watches for work for up to `SPIN`; returns whether some appeared (or a stale
    /// `runnext` was taken into our queue).
    fn spin(&self) -> bool {
        let rt = self.rt;
        let start = std::time::Instant::now();
        // The other workers' scheduling counts when we started: a `runnext` whose owner
        // has not scheduled since is stale once RUNNEXT_GRACE has passed.
        let mut ticks = [0u32; 64];
        let watched = rt.maxprocs().min(ticks.len());
        for (t, w) in ticks.iter_mut().zip(rt.workers.iter()) {
            *t = w.sched_tick.load(Ordering::Relaxed);
        }
        loop {
            for _ in 0..64 {
                std::hint::spin_loop();
            }
            // Run queues only: due timers are found by `sleep`, which sleeps no later than
            // the earliest deadline, so spinning need not read the clock for them.
            if self.queued_anywhere() {
                return true;
            }
            let elapsed = start.elapsed();
            if elapsed >= RUNNEXT_GRACE {
                for (i, w) in rt.workers[..watched].iter().enumerate() {
                    if i == self.index() || w.sched_tick.load(Ordering::Relaxed) != ticks[i] {
                        continue;
                    }
                    if let Some(g) = w.take_runnext() {
                        self.me().queue.push(g, &rt.injector);
                        return true;
                    }
                }
            }
            if elapsed >= SPIN {
                return false;
            }
        }
    }

    /// Fires due timers; their goroutines land in the local queue.
    fn fire_timers(&self) {
        let rt = self.rt;
        let next = rt.timers.next_deadline();
        if next == timer::NEVER {
            return;
        }
        let now = rt.now();
        if next > now {
            return;
        }
        // SAFETY: `due` is only used here, in this thread's scheduler context, and is empty
        // between calls.
        let due = unsafe { &mut *self.due.get() };
        rt.timers.take_due(now, due);
        for fire in due.drain(..) {
            fire.run();
        }
    }

    /// Whether any work is visible anywhere (the final look before sleeping).
    fn work_anywhere(&self) -> bool {
        let rt = self.rt;
        if self.queued_anywhere() {
            return true;
        }
        let next = rt.timers.next_deadline();
        next != timer::NEVER && next <= rt.now()
    }

    /// Whether another worker's `runnext` holds a goroutine.
    fn runnext_occupied(&self) -> bool {
        let rt = self.rt;
        rt.workers
            .iter()
            .enumerate()
            .any(|(i, w)| i != self.index() && !w.runnext.load(Ordering::Relaxed).is_null())
    }

    /// Whether a goroutine waits in a queue this worker may take from, or in its own
    /// `runnext`: a thread that has just lost the worker may still fill that one (see
    /// `schedule_here`), while the worker's new owner is searching or going to sleep. The
    /// filler then notifies as for any new work, which relies on this look (see `idle`).
    fn queued_anywhere(&self) -> bool {
        let rt = self.rt;
        // SeqCst: the final look of the idle protocol (`idle`), after its fence; the load
        // pairs with the filler's swap, which its own fence in `notify_one` follows.
        !self.me().runnext.load(Ordering::SeqCst).is_null()
            || self.shared.has_pinned()
            || !rt.injector.is_empty()
            || rt.workers.iter().any(|w| !w.queue.is_empty())
    }

    /// Blocks the thread for at most `timeout` (or until woken): in the netpoller if `net`
    /// (the worker took its role, see `sleep`), which it gives back after, else parked.
    fn block(&self, timeout: Option<std::time::Duration>, net: bool) {
        if net {
            #[cfg(feature = "net")]
            self.poll_for_self(|| super::netpoll::block(timeout));
            return;
        }
        match timeout {
            Some(t) => std::thread::park_timeout(t),
            None => std::thread::park(),
        }
    }

    /// Sleeps until woken for work, in the poller if `may_poll` and goroutines wait on
    /// sockets and no other worker blocks there.
    fn sleep(&self, may_poll: bool) {
        if super::fork::is_child() {
            super::fork::end_child();
        }
        let rt = self.rt;
        // While goroutines wait on sockets, one sleeping worker sleeps in the netpoller
        // (`rt::netpoll`), announced before it joins the sleepers, so that a waker that
        // takes it off the list knows to go through the poller.
        #[cfg(feature = "net")]
        let net = may_poll && super::netpoll::try_block();
        #[cfg(not(feature = "net"))]
        let net = {
            let _ = may_poll;
            false
        };
        if net {
            // SeqCst: pairs with the load in `unpark_thread` (see the field).
            self.me().in_netpoll.store(true, Ordering::SeqCst);
        }
        rt.idle
            .register(self.index(), self.searching.replace(false));
        if self.work_anywhere() {
            // Step 2 of the idle protocol found something: look again, as a searcher.
            if net {
                // SeqCst: as the store above.
                self.me().in_netpoll.store(false, Ordering::SeqCst);
                #[cfg(feature = "net")]
                super::netpoll::release_block();
            }
            if rt.idle.unregister(self.index()) == idle::Woken::Idle {
                rt.idle.start_searching();
            }
            rt.monitor.wake();
            self.searching.set(true);
            return;
        }
        // A goroutine in another worker's `runnext` is taken by a spinning worker once its
        // owner stops scheduling (`spin`), but a worker that began spinning before the owner
        // last scheduled sees the owner as busy and may give up first. Nobody would then
        // wake us for it, and if the owner is blocked in a system call the goroutine would
        // wait for it. So while some `runnext` is occupied, sleep only for a nap (doubling
        // up to RUNNEXT_NAP_MAX, so a busy neighbour costs almost nothing) and look again.
        let nap = self.runnext_occupied().then(|| {
            let nap = self.nap.get();
            self.nap.set((nap * 2).min(RUNNEXT_NAP_MAX));
            nap
        });
        match rt.timers.become_waiter(self.index()) {
            Some(deadline) => {
                let now = rt.now();
                if deadline > now {
                    let until = std::time::Duration::from_nanos(deadline - now);
                    self.block(Some(nap.map_or(until, |n| n.min(until))), net);
                } else if net {
                    self.block(Some(std::time::Duration::ZERO), net);
                }
                rt.timers.leave_waiter(self.index());
                // We are about to run goroutines (fired timers, or work we were woken for),
                // maybe for long: if timers remain, a sleeping worker takes over the waiting.
                if rt.timers.next_deadline() != timer::NEVER {
                    if let Some(w) = rt.idle.wake_any() {
                        rt.workers[w].unpark_thread();
                    }
                }
            }
            None => self.block(nap, net),
        }
        if net {
            // SeqCst: as the store above.
            self.me().in_netpoll.store(false, Ordering::SeqCst);
        }
        if rt.idle.unregister(self.index()) == idle::Woken::Searching {
            self.searching.set(true);
        }
        // The monitor may sleep because every worker did.
        rt.monitor.wake();
    }
}
