//! A worker: its shared half ([`Worker`], reachable from every thread through the runtime),
//! its private half (`WorkerLocal`, its own thread's), and the loop that finds a runnable
//! goroutine, runs it, and repeats.

use std::cell::{Cell, UnsafeCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use std::sync::Mutex;
use std::thread::Thread;

use super::goroutine::stack::StackCache;
use super::goroutine::{self, GRef, Goroutine, Outcome, Suspend};
use super::park::state::Commit;
use super::queue::{self, LocalQueue};
use super::rand::Rng;
use super::timer::{self, Fire};
use super::{idle, Runtime};

/// Every this many scheduling rounds the injector is looked at first (Go uses the same
/// prime), so goroutines there are not starved by a busy local queue.
const INJECTOR_EVERY: u32 = 61;
/// Every this many rounds due timers are fired even while local work is queued.
const TIMERS_EVERY: u32 = 4;
/// Every this many rounds the inbox of goroutines locked to this thread is looked at first.
const PINNED_EVERY: u32 = 7;
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
    pub(crate) fn new() -> Worker {
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

    pub(crate) fn push_pinned(&self, g: GRef) {
        let mut q = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        q.push_back(g);
        self.has_pinned.store(true, Ordering::SeqCst);
        drop(q);
        // The worker may be asleep; thread parking keeps the token if it is not yet.
        self.unpark_thread();
    }
}

/// The private half of a worker, reachable only from its own thread.
struct WorkerLocal {
    rt: &'static Runtime,
    index: usize,
    stacks: UnsafeCell<StackCache>,
    tick: Cell<u32>,
    rng: Rng,
    searching: Cell<bool>,
    /// The next nap while another worker's `runnext` stays occupied (see `sleep`); reset
    /// when work is found.
    nap: Cell<std::time::Duration>,
    due: UnsafeCell<Vec<Fire>>,
    /// Set when this thread handed its worker over to a new thread (see `hand_off`): it only
    /// finishes the goroutine it is running, then exits.
    detached: Cell<bool>,
}

thread_local! {
    static WORKER: Cell<*const WorkerLocal> = const { Cell::new(std::ptr::null()) };
}

/// The index of the worker running on this thread, if it is a worker thread.
#[inline(never)]
pub(crate) fn current_index() -> Option<usize> {
    let p = WORKER.with(|w| w.get());
    // SAFETY: a non-null WORKER points to the leaked `WorkerLocal` of this thread.
    unsafe { p.as_ref() }.map(|w| w.index)
}

/// Body of worker thread `index`.
pub(crate) fn run(rt: &'static Runtime, index: usize) {
    crate::rt::goroutine::overflow::ensure_altstack();
    // Boxed so its address stays put for `WORKER`; freed when a handed-off thread exits
    // (`hand_off` cleared `WORKER` first, and nothing else refers to it).
    let local = Box::new(WorkerLocal {
        rt,
        index,
        stacks: UnsafeCell::new(StackCache::new(&rt.stacks)),
        tick: Cell::new(0),
        rng: Rng::new(0x9E37_79B9 ^ (index as u64).wrapping_mul(0x85EB_CA6B)),
        searching: Cell::new(false),
        nap: Cell::new(RUNNEXT_GRACE),
        due: UnsafeCell::new(Vec::new()),
        detached: Cell::new(false),
    });
    let local: &WorkerLocal = &local;
    WORKER.with(|w| w.set(local));
    rt.workers[index].set_thread(std::thread::current());
    loop {
        let g = local.find_runnable();
        local.execute(g);
        if local.detached.get() {
            // SAFETY: scheduler context of this thread, no other borrow of the cache.
            unsafe { (*local.stacks.get()).release_all() };
            return;
        }
    }
}

/// Gives the calling thread's worker to a new thread, because the goroutine running here is
/// about to block this thread (see `park::park_blocking_thread`). The calling thread stops
/// being a worker: it finishes running its goroutine until that parks, yields or returns,
/// then exits. Does nothing on a thread that is not (or no longer) a worker.
#[inline(never)]
pub(crate) fn hand_off() {
    let p = WORKER.with(|w| w.replace(std::ptr::null()));
    // SAFETY: a non-null WORKER points to the leaked `WorkerLocal` of this thread.
    let Some(local) = (unsafe { p.as_ref() }) else {
        return;
    };
    local.detached.set(true);
    let (rt, index) = (local.rt, local.index);
    std::thread::Builder::new()
        .name(format!("goro-worker-{index}"))
        .spawn(move || run(rt, index))
        .expect("goro: cannot start a worker thread");
}

impl WorkerLocal {
    fn me(&self) -> &'static Worker {
        &self.rt.workers[self.index]
    }

    /// Runs `g` until it parks, yields or finishes.
    fn execute(&self, g: GRef) {
        loop {
            goroutine::set_current(Some(&g));
            // SAFETY: we hold g's scheduler reference (we took it from a queue, a runnext slot,
            // an inbox or an aborted park) and just published it as the current goroutine;
            // the stack cache is only touched from this thread's scheduler context, and no
            // other borrow of it is alive during the resume.
            let outcome = unsafe { g.resume(&mut *self.stacks.get()) };
            goroutine::set_current(None);
            match outcome {
                Outcome::Finished => {
                    // If nobody holds the goroutine's handle any more, this frees its block
                    // and drops its unclaimed result, running user code on the scheduling
                    // loop, which must not unwind.
                    let id = g.id();
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(g))).is_err() {
                        eprintln!("goro: dropping the unjoined result of goroutine {id} panicked");
                    }
                    return;
                }
                Outcome::Suspended(Suspend::Yield) if self.detached.get() => {
                    // No longer this worker's owner: leave the goroutine to the others.
                    self.rt.injector.push(g);
                    self.rt.notify_work();
                    return;
                }
                Outcome::Suspended(Suspend::Yield) => {
                    match g.pinned_worker() {
                        Some(w) => self.rt.workers[w].push_pinned(g),
                        None => {
                            self.me().queue.push(g, &self.rt.injector);
                            self.rt.notify_work();
                        }
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
        loop {
            let tick = self.tick.get().wrapping_add(1);
            self.tick.set(tick);
            me.sched_tick.store(tick, Ordering::Relaxed);

            if tick % INJECTOR_EVERY == 0 {
                if let Some(g) = rt.injector.pop_batch(&me.queue, 0) {
                    return self.found(g);
                }
            }
            // Timers are looked at every few rounds while there is local work (reading the
            // clock costs as much as a context switch), and always before looking elsewhere.
            let local_work = !me.runnext.load(Ordering::Relaxed).is_null() || !me.queue.is_empty();
            if tick % TIMERS_EVERY == 0 || !local_work {
                self.fire_timers();
            }
            // Goroutines locked to this thread come after the local ones, so a locked
            // goroutine that yields lets them run, but get their turn first every few rounds
            // so a busy local queue cannot starve them either.
            if tick % PINNED_EVERY == 0 {
                if let Some(g) = me.pop_pinned() {
                    return self.found(g);
                }
            }
            if let Some(g) = me.take_runnext() {
                return self.found(g);
            }
            if let Some(g) = me.queue.pop() {
                return self.found(g);
            }
            if let Some(g) = me.pop_pinned() {
                return self.found(g);
            }
            let batch = (rt.injector.len() / rt.maxprocs()).min(queue::CAPACITY / 2);
            if let Some(g) = rt.injector.pop_batch(&me.queue, batch) {
                return self.found(g);
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
            self.sleep();
        }
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
                if victim == self.index {
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
                    if i == self.index || w.sched_tick.load(Ordering::Relaxed) != ticks[i] {
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
            .any(|(i, w)| i != self.index && !w.runnext.load(Ordering::Relaxed).is_null())
    }

    /// Whether a goroutine waits in a queue this worker may take from.
    fn queued_anywhere(&self) -> bool {
        let rt = self.rt;
        self.me().has_pinned()
            || !rt.injector.is_empty()
            || rt.workers.iter().any(|w| !w.queue.is_empty())
    }

    fn sleep(&self) {
        if super::fork::is_child() {
            super::fork::end_child();
        }
        let rt = self.rt;
        rt.idle.register(self.index, self.searching.replace(false));
        if self.work_anywhere() {
            // Step 2 of the idle protocol found something: look again, as a searcher.
            if rt.idle.unregister(self.index) == idle::Woken::Idle {
                rt.idle.start_searching();
            }
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
        match rt.timers.become_waiter(self.index) {
            Some(deadline) => {
                let now = rt.now();
                if deadline > now {
                    let until = std::time::Duration::from_nanos(deadline - now);
                    std::thread::park_timeout(nap.map_or(until, |n| n.min(until)));
                }
                rt.timers.leave_waiter(self.index);
                // We are about to run goroutines (fired timers, or work we were woken for),
                // maybe for long: if timers remain, a sleeping worker takes over the waiting.
                if rt.timers.next_deadline() != timer::NEVER {
                    if let Some(w) = rt.idle.wake_any() {
                        rt.workers[w].unpark_thread();
                    }
                }
            }
            None => match nap {
                Some(nap) => std::thread::park_timeout(nap),
                None => std::thread::park(),
            },
        }
        if rt.idle.unregister(self.index) == idle::Woken::Searching {
            self.searching.set(true);
        }
    }
}
