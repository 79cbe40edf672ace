//! Liveness: a goroutine that blocks its thread (a system call such as `std::thread::sleep`,
//! file I/O, a contended `std::sync::Mutex`) or computes without ever parking must not stall
//! the other goroutines, whatever `GORO_MAXPROCS` is.
//!
//! Go keeps this promise with its monitor thread (sysmon), which hands the processor of a
//! thread held too long to another thread; goro's monitor does the same with a worker.
//! `goro::block_in_place` hands the worker over before a known blocking call instead of
//! waiting for the monitor, and the number of threads is capped (`GORO_MAXTHREADS`,
//! `RuntimeBuilder::max_threads`).
//!
//! Each case runs in a child process with `GORO_MAXPROCS` set (1 and 2), so that the runtime
//! has the size the case is about. No case asserts a timing. A goroutine that blocks does so
//! until the test releases it ([`Blockers`]), so "the others ran while it was blocked" is an
//! ordering, checked with counters; if nothing releases it, it gives up after [`HOLD`] (a
//! liveness bound) and the test fails saying so, instead of hanging.
//!
//! The counters here use `SeqCst` throughout: they are test bookkeeping read across
//! goroutines, and their cost does not matter.

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

mod support;

use support::{child, go_main, payload_str, scaled, LIVENESS};

/// How long a blocked goroutine waits to be released before it gives up and fails the test.
///
/// A liveness bound: with a working monitor the release comes after a few hand-offs and a
/// thousand channel round trips, milliseconds on a quiet machine. It is a tenth of
/// [`LIVENESS`] so that the failing cases of this file end well within that bound (about
/// fifteen of them, two at a time, fail after `HOLD` on a runtime without the monitor).
const HOLD: Duration = Duration::from_secs(LIVENESS.as_secs() / 10);

/// Channel round trips of the ping-pong that must complete while other goroutines block.
const ROUND_TRIPS: usize = 1_000;

/// Runs `body` as the main goroutine of a child process with `GORO_MAXPROCS=procs` (and
/// `envs`); in the parent, asserts that the child passed and echoes its figures.
fn at_maxprocs(name: &str, procs: usize, envs: &[(&str, &str)], body: fn()) {
    if child::is_child(name) {
        assert_eq!(goro::maxprocs(), procs, "GORO_MAXPROCS was not applied");
        go_main(name, body);
        return;
    }
    let procs = procs.to_string();
    let mut all = vec![("GORO_MAXPROCS", procs.as_str())];
    all.extend_from_slice(envs);
    echo_figures(&child::run_ok(name, &all));
}

/// One test per `(name, GORO_MAXPROCS, body)`.
macro_rules! cases {
    ($($name:ident: $procs:expr => $body:expr;)*) => {$(
        #[test]
        fn $name() {
            at_maxprocs(stringify!($name), $procs, &[], $body);
        }
    )*};
}

/// Prefix of the lines in which a child reports what it measured.
const FIGURE: &str = "liveness-figure:";

/// Prints the figures a child reported (seen with `--nocapture`).
fn echo_figures(out: &Output) {
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        if line.starts_with(FIGURE) {
            eprintln!("{line}");
        }
    }
}

/// The calling thread's id, read afresh on every call (never from an address computed
/// before a park, which may have happened on another thread).
#[inline(never)]
fn thread_id() -> ThreadId {
    std::thread::current().id()
}

/// The number of threads of this process, from `/proc/self/status`.
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a Threads: line in /proc/self/status")
}

/// How a blocker keeps its thread busy without parking.
#[derive(Clone, Copy)]
enum Hold {
    /// `std::thread::sleep` in slices of this length: a blocking system call.
    Sleep(Duration),
    /// `std::hint::spin_loop`: a computation that never reaches a scheduling point.
    Spin,
}

/// When blockers are released.
#[derive(Clone, Copy, PartialEq)]
enum Release {
    /// As soon as all of them are blocked at once (the last one in releases them all).
    WhenAllIn,
    /// When the test calls [`Blockers::release`].
    ByTest,
}

/// A group of goroutines that block their threads without parking until released.
struct Blockers {
    /// The size of the group.
    n: usize,
    release_mode: Release,
    /// How many are blocked now.
    inside: AtomicUsize,
    /// The most that were blocked at once.
    max_inside: AtomicUsize,
    /// The flag they wait for (spinners spin on it).
    released: AtomicBool,
    /// Set by a blocker that waited [`HOLD`] without being released: the case failed, and
    /// every blocker stops blocking so that the process ends.
    expired: AtomicBool,
}

impl Blockers {
    fn new(n: usize, release_mode: Release) -> Arc<Blockers> {
        Arc::new(Blockers {
            n,
            release_mode,
            inside: AtomicUsize::new(0),
            max_inside: AtomicUsize::new(0),
            released: AtomicBool::new(false),
            expired: AtomicBool::new(false),
        })
    }

    /// Blocks the calling thread as `how` says until released (or [`HOLD`] passes).
    fn block(&self, how: Hold) {
        let now = self.inside.fetch_add(1, SeqCst) + 1;
        self.max_inside.fetch_max(now, SeqCst);
        if self.release_mode == Release::WhenAllIn && now == self.n {
            self.released.store(true, SeqCst);
        }
        let start = Instant::now();
        while !self.released.load(SeqCst) && !self.expired.load(SeqCst) {
            if start.elapsed() > HOLD {
                self.expired.store(true, SeqCst);
                break;
            }
            match how {
                Hold::Sleep(slice) => std::thread::sleep(slice),
                Hold::Spin => std::hint::spin_loop(),
            }
        }
        self.inside.fetch_sub(1, SeqCst);
    }

    /// Spawns the `n` blockers.
    fn spawn(self: &Arc<Self>, how: Hold) -> Vec<goro::JoinHandle<()>> {
        (0..self.n)
            .map(|_| {
                let b = self.clone();
                goro::go(move || b.block(how))
            })
            .collect()
    }

    /// Waits (parking) until all `n` are blocked at once; false if they gave up first.
    fn all_in(&self) -> bool {
        let start = Instant::now();
        loop {
            if self.inside.load(SeqCst) == self.n {
                return true;
            }
            if self.expired.load(SeqCst) || start.elapsed() > LIVENESS {
                return false;
            }
            goro::sleep(Duration::from_millis(1));
        }
    }

    /// Waits (parking) until all `n` are blocked at once; fails the test if they gave up
    /// first.
    fn wait_all_in(&self, what: &str) {
        if !self.all_in() {
            self.assert_not_expired(what);
            panic!("{what}: not all blocked at once after {LIVENESS:?}");
        }
    }

    fn release(&self) {
        self.released.store(true, SeqCst);
    }

    fn inside(&self) -> usize {
        self.inside.load(SeqCst)
    }

    fn max_inside(&self) -> usize {
        self.max_inside.load(SeqCst)
    }

    /// Fails the test if the blockers gave up waiting, i.e. were not all blocked at once
    /// while the rest of the case ran.
    fn assert_not_expired(&self, what: &str) {
        assert!(
            !self.expired.load(SeqCst),
            "{what}: after {HOLD:?} at most {} of {} goroutines had blocked at once and the \
             case had not gone on (GORO_MAXPROCS={}): a goroutine that blocks its thread \
             holds its worker",
            self.max_inside(),
            self.n,
            goro::maxprocs()
        );
    }

    /// Fails the test unless all `n` are blocked now.
    fn assert_all_inside(&self, what: &str) {
        self.assert_not_expired(what);
        assert_eq!(
            self.inside(),
            self.n,
            "{what}: it finished only after the blocked goroutines had stopped blocking"
        );
    }
}

fn join_all<T>(handles: Vec<goro::JoinHandle<T>>) -> Vec<T> {
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// `rounds` round trips between two goroutines over unbuffered channels; returns once both
/// have finished.
fn ping_pong(rounds: usize) {
    let (ping_tx, ping_rx) = goro::chan::bounded::<usize>(0);
    let (pong_tx, pong_rx) = goro::chan::bounded::<usize>(0);
    let echo = goro::go(move || {
        let mut n = 0;
        for v in ping_rx.iter() {
            pong_tx.send(v).unwrap();
            n += 1;
        }
        n
    });
    let pinger = goro::go(move || {
        for i in 0..rounds {
            ping_tx.send(i).unwrap();
            assert_eq!(
                pong_rx.recv().unwrap(),
                i,
                "the ping-pong mixed up its values"
            );
        }
    });
    pinger.join().unwrap();
    assert_eq!(echo.join().unwrap(), rounds);
}

// 1. Goroutines in blocking system calls overlap: each gets a thread of its own, as in Go.

/// Eight goroutines in `std::thread::sleep` (200 ms slices) are all asleep at once, more than
/// there are workers; they stay asleep until the eighth arrives.
fn sleepers_overlap() {
    const N: usize = 8;
    assert!(
        N > goro::maxprocs(),
        "the case needs more sleepers than workers"
    );
    let b = Blockers::new(N, Release::WhenAllIn);
    join_all(b.spawn(Hold::Sleep(Duration::from_millis(200))));
    b.assert_not_expired("eight goroutines in std::thread::sleep");
    assert_eq!(b.max_inside(), N, "the sleeping goroutines did not overlap");
}

cases! {
    sleepers_overlap_maxprocs_1: 1 => sleepers_overlap;
    sleepers_overlap_maxprocs_2: 2 => sleepers_overlap;
}

// 2. Goroutines that park keep running while others block their threads.

/// While eight goroutines are in `std::thread::sleep`, two others complete a ping-pong of
/// 1,000 round trips over unbuffered channels; the sleepers wake only after it.
fn ping_pong_while_sleepers_block() {
    const N: usize = 8;
    let b = Blockers::new(N, Release::ByTest);
    let sleepers = b.spawn(Hold::Sleep(Duration::from_millis(50)));
    b.wait_all_in("eight goroutines in std::thread::sleep");
    ping_pong(ROUND_TRIPS);
    b.assert_all_inside("the ping-pong beside eight sleeping goroutines");
    b.release();
    join_all(sleepers);
}

cases! {
    ping_pong_while_sleepers_block_maxprocs_1: 1 => ping_pong_while_sleepers_block;
    ping_pong_while_sleepers_block_maxprocs_2: 2 => ping_pong_while_sleepers_block;
}

// 3. Goroutines that compute without parking do not keep the others from running.

/// Two goroutines spin on a flag (no parking); a third goroutine, spawned after them, sets it
/// once both spin.
fn spinners_released_by_a_goroutine() {
    let b = Blockers::new(2, Release::ByTest);
    let spinners = b.spawn(Hold::Spin);
    let setter = {
        let b = b.clone();
        goro::go(move || {
            if b.all_in() {
                b.release();
            }
        })
    };
    setter.join().unwrap();
    b.assert_not_expired("a goroutine releasing two spinning goroutines");
    join_all(spinners);
    assert_eq!(b.max_inside(), 2);
}

/// Two goroutines spin on a flag; the main goroutine sleeps (parks), then sets it once both
/// spin.
fn spinners_released_by_main() {
    let b = Blockers::new(2, Release::ByTest);
    let spinners = b.spawn(Hold::Spin);
    goro::sleep(Duration::from_millis(5));
    if b.all_in() {
        b.release();
    }
    b.assert_not_expired("the main goroutine releasing two spinning goroutines");
    join_all(spinners);
    assert_eq!(b.max_inside(), 2);
}

cases! {
    spinners_released_by_a_goroutine_maxprocs_1: 1 => spinners_released_by_a_goroutine;
    spinners_released_by_a_goroutine_maxprocs_2: 2 => spinners_released_by_a_goroutine;
    spinners_released_by_main_maxprocs_1: 1 => spinners_released_by_main;
    spinners_released_by_main_maxprocs_2: 2 => spinners_released_by_main;
}

// 4. `block_in_place` hands the worker over before a known blocking call.

/// Four goroutines sleep inside `block_in_place` while a ping-pong completes.
fn block_in_place_lets_others_run() {
    const N: usize = 4;
    let b = Blockers::new(N, Release::ByTest);
    let blocked: Vec<_> = (0..N)
        .map(|i| {
            let b = b.clone();
            goro::go(move || {
                let r = goro::block_in_place(|| {
                    b.block(Hold::Sleep(Duration::from_millis(20)));
                    i * 10
                });
                assert_eq!(r, i * 10, "block_in_place did not return the value of f");
            })
        })
        .collect();
    b.wait_all_in("four goroutines sleeping in block_in_place");
    ping_pong(ROUND_TRIPS);
    b.assert_all_inside("the ping-pong beside four goroutines in block_in_place");
    b.release();
    join_all(blocked);
}

/// `block_in_place` returns what `f` returns, lets a panic of `f` through to the caller (the
/// goroutine goes on afterwards), and on a plain thread just calls `f`.
fn block_in_place_returns_and_unwinds() {
    let s = goro::block_in_place(|| String::from("from f"));
    assert_eq!(s, "from f");

    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        goro::block_in_place(|| -> u32 { panic!("boom in block_in_place") })
    }));
    let payload = r.expect_err("the panic of f was not propagated");
    assert_eq!(payload_str(&*payload), Some("boom in block_in_place"));

    // The goroutine, and the runtime, go on after the panic: park, talk to another
    // goroutine, block in place again.
    goro::sleep(Duration::from_millis(1));
    let (tx, rx) = goro::chan::bounded::<u32>(0);
    let h = goro::go(move || tx.send(goro::block_in_place(|| 7)).unwrap());
    assert_eq!(rx.recv().unwrap(), 7);
    h.join().unwrap();
    assert_eq!(goro::block_in_place(|| 6 * 7), 42);

    // On a plain thread it just calls f, panics included.
    let (plain, value) = std::thread::spawn(|| goro::block_in_place(|| (!goro::in_goroutine(), 5)))
        .join()
        .unwrap();
    assert!(plain && value == 5);
    let r = std::thread::spawn(|| goro::block_in_place(|| -> u32 { panic!("on a plain thread") }))
        .join();
    assert_eq!(
        payload_str(&*r.expect_err("the panic of f was not propagated on a plain thread")),
        Some("on a plain thread")
    );
}

cases! {
    block_in_place_lets_others_run_maxprocs_1: 1 => block_in_place_lets_others_run;
    block_in_place_lets_others_run_maxprocs_2: 2 => block_in_place_lets_others_run;
    block_in_place_returns_and_unwinds_maxprocs_1: 1 => block_in_place_returns_and_unwinds;
    block_in_place_returns_and_unwinds_maxprocs_2: 2 => block_in_place_returns_and_unwinds;
}

// 5. Stress: blocking, spinning and parking goroutines together.

/// Counts goroutines that are *awake*: between being resumed and their next park. A thread
/// is held by an awake goroutine (with a worker or, once the monitor has taken the worker
/// away, without one), so threads beyond the workers and a few service threads number at
/// most the peak of this count.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let now = self.now.fetch_add(1, SeqCst) + 1;
        self.peak.fetch_max(now, SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, SeqCst);
    }

    /// Runs `f`, which may park, as not awake.
    fn parked<R>(&self, f: impl FnOnce() -> R) -> R {
        self.leave();
        let r = f();
        self.enter();
        r
    }
}

/// Samples the process's thread count on a plain thread until stopped; returns the peak.
fn sample_threads(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut peak = threads();
        while !stop.load(SeqCst) {
            peak = peak.max(threads());
            std::thread::sleep(Duration::from_millis(1));
        }
        peak.max(threads())
    })
}

/// Threads allowed beyond the workers and the peak of awake goroutines: the sampler, the
/// monitor, the timer and other service threads, a thread being started for a hand-off, and
/// goroutines held up by the machine's own scheduler outside the counted stretches.
const THREAD_SLACK: usize = 64;

/// A few thousand goroutines each send three numbered values through one channel, after a
/// 1 ms `std::thread::sleep`, a short spin or a yield; a receiver checks that every value
/// arrives exactly once. The process's threads stay within the workers plus the goroutines
/// awake at once (Go too uses a thread per goroutine blocked in a system call) plus a few.
fn stress_mixed_blocking() {
    const ROUNDS: usize = 3;
    let goroutines = scaled(2_000);
    let total = goroutines * ROUNDS;
    let base = threads();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_threads(stop.clone());
    let gauge = Arc::new(Gauge::default());

    let (tx, rx) = goro::chan::bounded::<usize>(64);
    let receiver = goro::go(move || {
        let mut seen = vec![false; total];
        let (mut count, mut sum, mut duplicates) = (0usize, 0usize, 0usize);
        for v in rx.iter() {
            assert!(v < total, "a value that was never sent: {v}");
            if std::mem::replace(&mut seen[v], true) {
                duplicates += 1;
            }
            count += 1;
            sum += v;
        }
        (count, sum, duplicates)
    });
    let senders: Vec<_> = (0..goroutines)
        .map(|i| {
            let (tx, gauge) = (tx.clone(), gauge.clone());
            goro::go(move || {
                gauge.enter();
                for round in 0..ROUNDS {
                    match (i + round) % 3 {
                        0 => std::thread::sleep(Duration::from_millis(1)),
                        1 => {
                            let start = Instant::now();
                            while start.elapsed() < Duration::from_micros(20) {
                                std::hint::spin_loop();
                            }
                        }
                        _ => gauge.parked(goro::yield_now),
                    }
                    gauge.parked(|| tx.send(i * ROUNDS + round)).unwrap();
                }
                gauge.leave();
            })
        })
        .collect();
    drop(tx);
    join_all(senders);
    let (count, sum, duplicates) = receiver.join().unwrap();
    stop.store(true, SeqCst);
    let peak = sampler.join().unwrap();

    assert_eq!(duplicates, 0, "values arrived twice");
    assert_eq!(count, total, "values were lost");
    assert_eq!(sum, total * (total - 1) / 2);
    let awake = gauge.peak.load(SeqCst);
    let bound = base + goro::maxprocs() + awake + THREAD_SLACK;
    eprintln!(
        "{FIGURE} stress GORO_MAXPROCS={}: {goroutines} goroutines, threads {base} before, \
         {peak} at the peak, bound {bound}; at most {awake} goroutines awake at once",
        goro::maxprocs()
    );
    assert!(
        peak <= bound,
        "{peak} threads at the peak, more than the {base} before + {} workers + {awake} \
         goroutines awake at once + {THREAD_SLACK}: threads are not reused",
        goro::maxprocs()
    );
}

cases! {
    stress_mixed_blocking_maxprocs_1: 1 => stress_mixed_blocking;
    stress_mixed_blocking_maxprocs_2: 2 => stress_mixed_blocking;
}

// 6. A goroutine locked to its thread blocks, and keeps its thread.

/// Three goroutines locked to their threads sleep (`std::thread::sleep`) while a ping-pong
/// completes; then each parks in several ways and always resumes on its own thread.
fn locked_goroutines_block_and_keep_their_threads() {
    const N: usize = 3;
    let b = Blockers::new(N, Release::ByTest);
    let locked: Vec<_> = (0..N)
        .map(|_| {
            let b = b.clone();
            let (tx, rx) = goro::chan::bounded::<u32>(0);
            let feeder = goro::go(move || {
                for v in 0..2 {
                    tx.send(v).unwrap();
                }
            });
            goro::go(move || {
                goro::lock_os_thread();
                let home = thread_id();
                b.block(Hold::Sleep(Duration::from_millis(20)));
                for i in 0..6 {
                    match i % 3 {
                        0 => goro::sleep(Duration::from_millis(1)),
                        1 => assert_eq!(rx.recv().unwrap(), i / 3),
                        _ => goro::yield_now(),
                    }
                    assert_eq!(thread_id(), home, "a locked goroutine changed threads");
                }
                goro::unlock_os_thread();
                feeder.join().unwrap();
                home
            })
        })
        .collect();
    b.wait_all_in("three locked goroutines in std::thread::sleep");
    ping_pong(ROUND_TRIPS);
    b.assert_all_inside("the ping-pong beside three sleeping locked goroutines");
    b.release();
    let homes: HashSet<ThreadId> = join_all(locked).into_iter().collect();
    // Blocked at once, they were on three threads.
    assert_eq!(homes.len(), N);
}

cases! {
    locked_goroutines_block_and_keep_their_threads_maxprocs_1: 1 =>
        locked_goroutines_block_and_keep_their_threads;
    locked_goroutines_block_and_keep_their_threads_maxprocs_2: 2 =>
        locked_goroutines_block_and_keep_their_threads;
}

// 7. The thread cap.

/// Goroutines blocked at once in the cap cases: far more threads than the cap allows.
const CAPPED_BLOCKERS: usize = 50;

/// `CAPPED_BLOCKERS` goroutines in `std::thread::sleep`, each asleep until all are.
fn many_sleepers() {
    let b = Blockers::new(CAPPED_BLOCKERS, Release::WhenAllIn);
    join_all(b.spawn(Hold::Sleep(Duration::from_millis(100))));
    eprintln!(
        "{FIGURE} all {CAPPED_BLOCKERS} sleepers finished; at most {} asleep at once",
        b.max_inside()
    );
    b.assert_not_expired("goroutines in std::thread::sleep");
}

/// Asserts that the child was ended for going over the thread cap: a failure status and a
/// message naming the limit. (The one place that knows the wording.)
fn assert_thread_cap_exit(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(2)
            && stderr.contains("GORO_MAXTHREADS")
            && stderr.contains("threads")
            && stderr.contains("fatal error: thread exhaustion"),
        "expected the process to end over the thread cap, with a message naming \
         GORO_MAXTHREADS:\n{}",
        child::describe(out)
    );
}

/// With `GORO_MAXTHREADS=8`, 50 goroutines blocked at once end the process with a message.
#[test]
fn thread_cap_from_env_ends_the_process() {
    const NAME: &str = "thread_cap_from_env_ends_the_process";
    if child::is_child(NAME) {
        return go_main(NAME, many_sleepers);
    }
    let out = child::run(NAME, &[("GORO_MAXPROCS", "2"), ("GORO_MAXTHREADS", "8")]);
    assert_thread_cap_exit(&out);
}

/// The same with the cap set by `RuntimeBuilder::max_threads`.
#[test]
fn thread_cap_from_builder_ends_the_process() {
    const NAME: &str = "thread_cap_from_builder_ends_the_process";
    if child::is_child(NAME) {
        goro::RuntimeBuilder::new()
            .maxprocs(2)
            .max_threads(8)
            .init()
            .expect("start the runtime with max_threads(8)");
        return go_main(NAME, many_sleepers);
    }
    let out = child::run(NAME, &[]);
    assert_thread_cap_exit(&out);
}

/// A cap above what the program needs changes nothing: 50 goroutines blocked at once under
/// `GORO_MAXTHREADS=200`.
#[test]
fn thread_cap_above_need_changes_nothing() {
    const NAME: &str = "thread_cap_above_need_changes_nothing";
    at_maxprocs(NAME, 2, &[("GORO_MAXTHREADS", "200")], many_sleepers);
}

/// A thread cap below the worker count is refused, naming the setting.
#[test]
fn thread_cap_below_the_worker_count_is_refused() {
    let e = goro::RuntimeBuilder::new()
        .maxprocs(4)
        .max_threads(3)
        .init()
        .expect_err("a cap of 3 threads for 4 workers");
    assert_eq!(
        e.to_string(),
        "goro: max_threads=3 is below the worker count (4): every worker needs a thread"
    );
    let e = goro::RuntimeBuilder::new()
        .maxprocs(1)
        .max_threads(0)
        .init()
        .expect_err("a cap of 0 threads");
    assert!(e.to_string().contains("max_threads"), "{e}");
}

/// The context switches of the runtime's monitor thread so far (voluntary and not), read
/// from `/proc/self/task/*/`.
fn monitor_switches() -> u64 {
    for task in std::fs::read_dir("/proc/self/task").expect("read /proc/self/task") {
        let dir = task.expect("a task entry").path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() != "goro-monitor" {
            continue;
        }
        let status = std::fs::read_to_string(dir.join("status")).expect("read the task status");
        return status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
    }
    panic!("no goro-monitor thread in /proc/self/task");
}

/// An idle program costs nothing: once every worker sleeps, the monitor sleeps too, instead
/// of looking every 10 ms (which would be about 50 wake-ups in the half second watched).
#[test]
fn the_monitor_sleeps_while_every_worker_does() {
    const NAME: &str = "the_monitor_sleeps_while_every_worker_does";
    if child::is_child(NAME) {
        // Busy for a while, so the monitor is awake and looking.
        let hs: Vec<_> = (0..64)
            .map(|i: u64| {
                goro::go(move || {
                    (0..100).fold(i, |a, _| {
                        goro::yield_now();
                        a.wrapping_add(1)
                    })
                })
            })
            .collect();
        join_all(hs);
        // Let the runtime settle: the stack scavenger's timers run within about a second.
        std::thread::sleep(Duration::from_millis(1_500));
        let before = monitor_switches();
        std::thread::sleep(Duration::from_millis(500));
        let woke = monitor_switches() - before;
        eprintln!("{FIGURE} the idle monitor switched {woke} times in 500 ms");
        assert!(
            woke <= 20,
            "the monitor kept waking in an idle program: {woke} switches in 500 ms"
        );
        return;
    }
    echo_figures(&child::run_ok(NAME, &[("GORO_MAXPROCS", "2")]));
}

/// Goroutines that a thread wakes after it lost its worker land in that worker's `runnext`,
/// whose new owner may be going to sleep: it must find them (it once slept with one there,
/// and the program hung). A waker blocks its thread (so its worker is retaken), then at once
/// wakes receivers parked on rendezvous channels, round after round; a lost wake-up leaves
/// the waker parked on its next send forever.
fn wakes_from_a_thread_that_lost_its_worker() {
    const RECEIVERS: usize = 64;
    let rounds = scaled(300);
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..RECEIVERS)
        .map(|_| goro::chan::bounded::<usize>(0))
        .unzip();
    let receivers: Vec<_> = rxs
        .into_iter()
        .map(|rx| goro::go(move || rx.iter().sum::<usize>()))
        .collect();
    // Goroutines always ready to run, so that a blocked waker's worker is retaken.
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            goro::go(move || {
                while !stop.load(SeqCst) {
                    goro::yield_now();
                }
            })
        })
        .collect();
    let waker = goro::go(move || {
        for round in 0..rounds {
            std::thread::sleep(Duration::from_micros(300));
            for tx in &txs {
                tx.send(round).expect("a receiver is gone");
            }
        }
    });
    waker.join().expect("the waker panicked");
    stop.store(true, SeqCst);
    join_all(busy);
    let sums = join_all(receivers);
    let want = rounds * (rounds - 1) / 2;
    assert!(
        sums.iter().all(|&s| s == want),
        "lost or duplicated values: {sums:?}"
    );
}

cases! {
    wakes_from_a_thread_that_lost_its_worker_maxprocs_1: 1 => wakes_from_a_thread_that_lost_its_worker;
    wakes_from_a_thread_that_lost_its_worker_maxprocs_2: 2 => wakes_from_a_thread_that_lost_its_worker;
}
