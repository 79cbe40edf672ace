//! The monitor (Go's `sysmon`): a thread that retakes a worker held too long by one
//! goroutine, so that a goroutine blocking its thread or computing for long never stalls the
//! goroutines queued behind it.
//!
//! # What it watches
//!
//! Every worker publishes its scheduling count (`Worker::sched_tick`, bumped each time its
//! thread looks for a goroutine to run) and its ownership word (`own`). The monitor wakes
//! every `delay` and looks at each worker whose thread is running a goroutine. When the count
//! has moved since its last look, a new goroutine runs: it notes the time and the thread's
//! CPU time (the thread's CPU-time clock, which the thread published). When the count has
//! not moved, the same goroutine is still running, and it knows for how long at least, and
//! whether its thread used the CPU meanwhile:
//!
//! - **Blocked** (the thread used less than half the time since the previous look, and is
//!   not merely waiting for a CPU: it sleeps in a system call, waits on a lock or a pipe; a
//!   goroutine judged at its first look must have used less than an eighth, see `look`), or
//!   inside `block_in_place`: the worker is
//!   retaken at once, if goroutines are waiting for it (below). A goroutine that blocks as
//!   soon as it starts (a system call at its start, the common case) is judged at the first
//!   look that sees it: the thread's CPU time is known from the previous look, or from when
//!   the thread took the worker (`Worker::adopted_cpu`). A worker is thus retaken one to two
//!   monitor periods after its thread blocked: 20-40 µs in principle, about 60-120 µs on a
//!   machine whose timer wakes a sleeping thread 40 µs late (as measured on the 2-core
//!   virtual machine of `benchmarks/`), and up to 20 ms after a calm stretch, as in Go.
//!   Reading a thread's CPU clock is a system call (about 0.3 µs), made once per look for
//!   each worker that is running a goroutine.
//! - **Computing**: after `PREEMPT` (10 ms, Go's `forcePreemptNS`), the goroutine is asked
//!   to yield at its next spawn (`Worker::preempt`); goro cannot interrupt Rust code at an
//!   arbitrary instruction as Go interrupts its own, so a goroutine that keeps computing
//!   without calling into the runtime has its worker retaken after `RETAKE_COMPUTING`
//!   (20 ms) instead.
//!
//! Goroutines are *waiting* for a worker when its own `runnext` or queue holds some, or when
//! the injector, another worker's queue or a due timer does while no worker is idle or
//! searching (an idle or searching one takes them without help). Retaking a worker nobody
//! waits for would only add a thread.
//!
//! Measured with `cargo run --release --example handoff_latency` (one worker; a goroutine
//! woken just before another blocks its thread or spins): it ran after a median of 150 µs
//! (90th percentile 240 µs) behind `std::thread::sleep`, and 27 ms behind a spin, on the
//! 2-core virtual machine of `benchmarks/` with a load average of 4.
//!
//! # Retaking
//!
//! [`Ownership::retake`](super::own::Ownership::retake) takes the worker from the thread
//! while its goroutine runs (it fails if the goroutine is inside an owner-only section, or
//! has switched out meanwhile; the monitor looks again next time), and the worker goes to a
//! spare thread or a new one (`thread`), with its queues, `runnext`, its place among the
//! timer waiters and idle workers: the next owner simply runs the scheduling loop on it. The
//! old thread goes on running its goroutine, which is never run by two threads because a
//! goroutine is only ever in one place (it is running, not queued); when it switches out,
//! the old thread finds out that it lost the worker (`own`) and becomes a spare.
//!
//! # A thread that comes back takes a blocked worker itself
//!
//! A thread whose goroutine lost the worker during a blocking call comes back from that call
//! awake; parked as a spare, it would cost a sleep now and a wake-up later (each 30-100 µs
//! on the virtual machine of `benchmarks/`), and the worker it could run would wait for the
//! monitor's next look meanwhile. So before it parks it looks for a worker whose thread is
//! blocked while goroutines wait for it (`take_blocked`), and retakes that worker for
//! itself, as a Go thread leaving a system call takes a processor that another thread left
//! in a system call (`exitsyscallfast` in Go's `proc.go`). Programs in which goroutines make
//! blocking calls one after another thus keep a steady set of threads, each going from one
//! call to the next without waiting for the monitor.
//!
//! "Blocked" is judged on the spot: the holding thread's CPU clock does not move across a
//! short spin of `STEAL_WINDOW` while its worker's scheduling count and ownership word stay
//! the same, so the thread did not run at all meanwhile: it sleeps in the kernel, or waits
//! for a CPU on a machine with more runnable threads than CPUs. The second case is not told
//! apart here, unlike in the monitor's looks (`waiting_for_cpu`, whose read of `/proc`
//! costs more than the look itself: the `blocking` benchmark went from 34 to 48 ms with
//! it): the taking thread runs already, so it adds no thread to the machine, and the
//! worker's goroutines run on it rather than wait for the other thread to get a CPU. A
//! thread that waits on a lock for a moment can be taken for blocked too; that costs one
//! hand-off without a wake-up, and its goroutine then finishes on its thread as after any
//! retake.
//!
//! # Cost
//!
//! The monitor sleeps `delay` between looks: 20 µs after it retook a worker, doubling after
//! 50 looks that retook nothing, up to 10 ms (Go's schedule, which keeps a busy program's
//! monitor at 100 looks a second). When every worker sleeps it sleeps too, until a worker
//! wakes (`Monitor::wake`, from `worker::sleep`), so an idle program costs nothing. The
//! workers pay nothing on their paths for it but the ownership word, which they own.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::own::{KERNEL, RUNNING};
use super::worker::{Worker, NO_CLOCK};
use super::{timer, Runtime};

/// The monitor's shortest sleep between looks (Go's 20 µs).
const MIN_DELAY: Duration = Duration::from_micros(20);
/// Its longest (Go's 10 ms).
const MAX_DELAY: Duration = Duration::from_millis(10);
/// Looks that retake nothing before the delay starts doubling (Go's 50).
const CALM_LOOKS: u32 = 50;
/// How long the monitor waits before it looks a second time at a program that seems
/// deadlocked (`rt::deadlock`).
const DEADLOCK_CONFIRM: Duration = Duration::from_millis(20);
/// The shortest time between two deadlock looks (`sleep_while_idle`).
const DEADLOCK_EVERY: Duration = Duration::from_millis(5);
/// How long a goroutine computes before it is asked to yield (Go's `forcePreemptNS`).
const PREEMPT: Duration = Duration::from_millis(10);
/// How long it computes before its worker is retaken, if it did not yield.
const RETAKE_COMPUTING: Duration = Duration::from_millis(20);

pub(crate) struct Monitor {
    thread: OnceLock<Thread>,
    /// Set while the monitor sleeps because every worker does. SeqCst: the monitor sets it
    /// and then reads the idle count; a waking worker changes the idle count and then reads
    /// it, so one of them sees the other (`sleep_while_idle`, `wake`).
    asleep: AtomicBool,
}

impl Monitor {
    pub(crate) fn new() -> Monitor {
        Monitor {
            thread: OnceLock::new(),
            asleep: AtomicBool::new(false),
        }
    }

    /// A worker woke up: if the monitor sleeps because every worker slept, wake it.
    pub(crate) fn wake(&self) {
        // SeqCst: see the field.
        if self.asleep.load(Ordering::SeqCst) && self.asleep.swap(false, Ordering::SeqCst) {
            if let Some(t) = self.thread.get() {
                t.unpark();
            }
        }
    }
}

/// What the monitor saw of one worker at its previous looks.
#[derive(Default)]
struct Seen {
    /// `/proc/self/task/<tid>/stat` of the thread holding the worker, kept open (see
    /// `waiting_for_cpu`).
    stat: Option<(i32, std::fs::File)>,
    generation: u64,
    tick: u32,
    /// When the current goroutine was first seen running.
    since: Option<Instant>,
    /// The previous look at it, and its thread's CPU time then.
    last: Option<(Instant, u64)>,
    preempted: bool,
}

impl Seen {
    /// Forgets the goroutine seen (the stat file stays open for the same thread).
    fn forget(&mut self) {
        self.since = None;
        self.last = None;
        self.preempted = false;
    }
}

/// Body of the monitor thread.
pub(crate) fn run(rt: &'static Runtime) {
    let _ = rt.monitor.thread.set(std::thread::current());
    // Linux lets a sleeping thread oversleep by its timer slack, 50 µs by default, which
    // would turn the 20 µs period into 70 µs; the monitor asks for 1 µs (a thread's own
    // setting, inherited by no one).
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and affects only the calling thread.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong);
    }
    let mut seen: Vec<Seen> = (0..rt.maxprocs()).map(|_| Seen::default()).collect();
    let mut last_deadlock_look: Option<Instant> = None;
    let mut delay = MIN_DELAY;
    let mut calm = 0u32;
    // The netpoller's poll count at the previous look.
    #[cfg(feature = "net")]
    let mut last_polls = usize::MAX;
    loop {
        if sleep_while_idle(rt, &mut last_deadlock_look) {
            delay = MIN_DELAY;
            calm = 0;
            for s in &mut seen {
                s.forget();
            }
        }
        std::thread::sleep(delay);
        if rt.threads.has_orphans() {
            rt.threads.adopt_orphans(rt);
        }
        // Goroutines waiting on sockets wake even while every worker computes (Go's
        // `sysmon` polls the network too); a worker sleeping in the poller does it otherwise,
        // and workers that polled since the last look serve it already (`rt::netpoll`, "Who
        // polls").
        #[cfg(feature = "net")]
        {
            let polls = super::netpoll::polls();
            if polls == last_polls
                && super::netpoll::has_waiters()
                && !super::netpoll::blocker_active()
            {
                super::netpoll::poll_now();
            }
            last_polls = super::netpoll::polls();
        }
        let now = Instant::now();
        super::registry::tick_coarse();
        let mut retook = false;
        for (index, seen) in seen.iter_mut().enumerate() {
            retook |= look(rt, index, seen, now);
        }
        if retook {
            delay = MIN_DELAY;
            calm = 0;
        } else if calm < CALM_LOOKS {
            calm += 1;
        } else {
            delay = (delay * 2).min(MAX_DELAY);
        }
    }
}

/// Sleeps while every worker sleeps; returns whether it slept.
///
/// While it sleeps so, it looks whether the program is deadlocked (`rt::deadlock`), at most
/// once per `DEADLOCK_EVERY`: a program whose plain threads park and wake all the time, with
/// every worker asleep, would otherwise have it read `/proc` at each of their parks. A look
/// put off is made when the period is over, unless a worker woke meanwhile.
fn sleep_while_idle(rt: &Runtime, last_look: &mut Option<Instant>) -> bool {
    let m = &rt.monitor;
    if !rt.idle.all_sleeping() {
        return false;
    }
    // SeqCst: see `Monitor::asleep`.
    m.asleep.store(true, Ordering::SeqCst);
    if !rt.idle.all_sleeping() {
        m.asleep.store(false, Ordering::SeqCst);
        return false;
    }
    // Nothing runs: unless something can still wake a goroutine, nothing ever will.
    if let Some(at) = *last_look {
        let since = at.elapsed();
        if since < DEADLOCK_EVERY {
            std::thread::park_timeout(DEADLOCK_EVERY - since);
            if !m.asleep.load(Ordering::SeqCst) {
                return true;
            }
        }
    }
    *last_look = Some(Instant::now());
    if super::deadlock::deadlocked(rt) && m.asleep.load(Ordering::SeqCst) {
        // Look once more after a moment (`deadlock`); a wake-up meanwhile clears `asleep`.
        std::thread::park_timeout(DEADLOCK_CONFIRM);
        if m.asleep.load(Ordering::SeqCst)
            && rt.idle.all_sleeping()
            && super::deadlock::deadlocked(rt)
            && m.asleep.load(Ordering::SeqCst)
        {
            super::deadlock::report();
        }
    }
    // Thread parking keeps a token, so a `wake` between the look and the park is not lost.
    while m.asleep.load(Ordering::SeqCst) {
        std::thread::park();
    }
    true
}

/// Looks at worker `index`; returns whether it was retaken.
fn look(rt: &'static Runtime, index: usize, seen: &mut Seen, now: Instant) -> bool {
    let w = &rt.workers[index];
    let (generation, status) = w.own.load();
    let tick = w.sched_tick.load(Ordering::Relaxed);
    let running = status == RUNNING || status == KERNEL;
    if !running {
        // Scheduling or asleep: the next goroutine it runs is judged from scratch.
        seen.forget();
        return false;
    }
    let cpu = thread_cpu(w);
    // Blocked now: the thread used less than half of the time since the previous look
    // (whatever it did before: a goroutine may compute, then block).
    // `share`: how small a part of the time the thread may have run and count as idle.
    let idle_since_last = |last: Option<(Instant, u64)>, share: u32| {
        last.is_some_and(|(then, cpu_then)| {
            let used = Duration::from_nanos(cpu.saturating_sub(cpu_then));
            used * share < now.saturating_duration_since(then)
        })
    };
    if generation != seen.generation || tick != seen.tick || seen.since.is_none() {
        // Another goroutine started since the last look (or the worker just became busy).
        // If the same thread was running goroutines at the last look and has barely used
        // the CPU since, the new goroutine is most likely blocked already (it blocked at
        // once, as a goroutine making a system call does): retake now rather than a look
        // later, if goroutines wait. Otherwise note when it was first seen.
        let last = if generation == seen.generation {
            // None if the worker was not running a goroutine at the last look.
            seen.last
        } else {
            // A new thread holds the worker since the last look: judge from when it took it.
            let at = w.adopted_at.load(Ordering::Relaxed);
            (at != 0).then(|| {
                let then = rt.instant_at(at);
                (then, w.adopted_cpu.load(Ordering::Relaxed))
            })
        };
        // The evidence must be strong here (the thread ran less than an eighth of the
        // time): a thread that merely waited on a contended lock now and then would
        // otherwise be taken for blocked (the `sleeps` benchmark, whose workers contend on
        // the timer set's lock, saw 40 to 120 such hand-offs a run with a half). No
        // `waiting_for_cpu` check either: it costs about 5 µs a look, and a thread that has
        // just taken the worker is often still waking up, which it takes for "runnable"
        // (the `blocking` benchmark went from 50-60 ms to 85 ms with it). A wrong guess
        // costs one hand-off, undone when the goroutine parks or yields at its next spawn.
        let blocked = idle_since_last(last, 8);
        seen.generation = generation;
        seen.tick = tick;
        seen.since = Some(now);
        seen.last = Some((now, cpu));
        seen.preempted = false;
        if !(blocked && work_waiting(rt, w)) {
            return false;
        }
        return retake(rt, index, generation, seen);
    }
    let Some(since) = seen.since else {
        return false;
    };
    let blocked = w.blocking.load(Ordering::Relaxed)
        || (idle_since_last(seen.last, 2) && !waiting_for_cpu(w, &mut seen.stat));
    seen.last = Some((now, cpu));
    let held = now.saturating_duration_since(since);
    if !blocked && held < PREEMPT {
        return false;
    }
    if !work_waiting(rt, w) {
        return false;
    }
    if !blocked && held < RETAKE_COMPUTING {
        if !seen.preempted {
            seen.preempted = true;
            w.preempt.store(true, Ordering::Relaxed);
        }
        return false;
    }
    retake(rt, index, generation, seen)
}

/// Retakes worker `index` from the thread owning `generation`, and starts a thread for it.
fn retake(rt: &'static Runtime, index: usize, generation: u64, seen: &mut Seen) -> bool {
    match rt.workers[index].own.retake(generation) {
        Some(next) => {
            rt.threads.start_worker(rt, index, next);
            seen.forget();
            seen.generation = 0;
            true
        }
        None => false,
    }
}

/// How long a thread that looks for a blocked worker watches the holding thread's CPU clock
/// (`take_blocked`). Any time on a CPU shows on the clock, which counts nanoseconds; the
/// look costs this plus two reads of the clock (system calls of about 0.3 µs) per worker
/// with goroutines waiting, where the park and wake-up it saves cost 30-100 µs.
const STEAL_WINDOW: Duration = Duration::from_micros(2);

/// Retakes, for the calling thread (one without a worker, about to park as a spare), a
/// worker whose thread is blocked while goroutines wait for it; returns the worker's index
/// and the caller's generation as its owner (module docs, "A thread that comes back").
pub(crate) fn take_blocked(rt: &Runtime) -> Option<(usize, u64)> {
    for (index, w) in rt.workers.iter().enumerate() {
        let (generation, status) = w.own.load();
        if status != RUNNING {
            continue;
        }
        let clock = w.clock.load(Ordering::Relaxed);
        if clock == NO_CLOCK || !work_waiting(rt, w) {
            continue;
        }
        let tick = w.sched_tick.load(Ordering::Relaxed);
        let before = cpu_time(clock);
        let until = Instant::now() + STEAL_WINDOW;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        // 0: the clock could not be read (its thread exited meanwhile, or never had one).
        if before == 0 || cpu_time(clock) != before || w.sched_tick.load(Ordering::Relaxed) != tick
        {
            continue;
        }
        // Fails if the goroutine switched out or entered an owner-only section meanwhile,
        // or another thread (or the monitor) was faster: the generation moved on.
        if let Some(next) = w.own.retake(generation) {
            return Some((index, next));
        }
    }
    None
}

/// Whether goroutines wait for worker `w` (module docs).
pub(crate) fn work_waiting(rt: &Runtime, w: &Worker) -> bool {
    if w.has_work() {
        return true;
    }
    if !rt.idle.none_idle() {
        return false;
    }
    if !rt.injector.is_empty() || rt.workers.iter().any(Worker::has_work) {
        return true;
    }
    let next = rt.timers.next_deadline();
    next != timer::NEVER && next <= rt.now()
}

/// Whether the thread holding `w` is runnable (running, or waiting for a CPU) rather than
/// blocked, by its state in `/proc/self/task/<tid>/stat`. A thread that the kernel does not
/// run because the machine is oversubscribed gets no CPU time either, but it is not blocked:
/// retaking its worker would only add threads to a machine that has too many. Read only when
/// the CPU clock says "blocked", from a file kept open per worker (one `pread`, about 5 µs);
/// if it cannot be read, `false`.
fn waiting_for_cpu(w: &Worker, stat: &mut Option<(i32, std::fs::File)>) -> bool {
    use std::os::unix::fs::FileExt;
    let tid = w.tid.load(Ordering::Relaxed);
    if tid == 0 {
        return false;
    }
    if stat.as_ref().is_none_or(|(t, _)| *t != tid) {
        *stat = std::fs::File::open(format!("/proc/self/task/{tid}/stat"))
            .ok()
            .map(|f| (tid, f));
    }
    let Some((_, f)) = stat else {
        return false;
    };
    let mut buf = [0u8; 256];
    let Ok(n) = f.read_at(&mut buf, 0) else {
        *stat = None;
        return false;
    };
    // The state follows the command name, which is in parentheses and may contain any
    // character: look after the last ')'.
    let line = &buf[..n];
    match line.iter().rposition(|&b| b == b')') {
        Some(i) => line.get(i + 2) == Some(&b'R'),
        None => false,
    }
}

/// The CPU time of the thread holding `w`, in nanoseconds. If it cannot be read, 0: the
/// goroutine then counts as blocked, and its worker is retaken as soon as goroutines wait,
/// the side that keeps them running.
fn thread_cpu(w: &Worker) -> u64 {
    cpu_time(w.clock.load(Ordering::Relaxed))
}

/// The time on CPU clock `clock`, in nanoseconds, or 0 (see `thread_cpu`).
pub(crate) fn cpu_time(clock: i32) -> u64 {
    if clock == NO_CLOCK {
        return 0;
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; a clock id of a thread that exited meanwhile
    // only makes the call fail.
    match unsafe { libc::clock_gettime(clock, &mut ts) } {
        0 => ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64,
        _ => 0,
    }
}
