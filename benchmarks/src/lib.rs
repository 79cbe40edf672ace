//! Shared helpers for the goro benchmark programs and their Rust peers (`crossbeam_rt`,
//! `tokio_rt`, `flume_rt`, `kanal_rt`, `may_rt`): the workload sizes, the result and skip
//! lines that `run.sh` parses, the process measurements (CPU time, resident set size), and
//! the tokio runtime that `tokio_rt` and the async channel workloads ([`tasks`]) run on, and
//! what the network workloads share ([`net`]).
//!
//! The Go programs in `benchmarks/go` use the same sizes and print the same line; see
//! `benchmarks/README.md`.

use std::time::Duration;

pub mod net;
pub mod tasks;
pub mod threads;

#[cfg(not(target_os = "linux"))]
compile_error!("goro-benchmarks reads /proc/self/statm and needs Linux");

/// Goroutines spawned (and joined) by the `spawn` workload.
pub const SPAWN_N: usize = 1_000_000;
/// Leaves of the `skynet` tree.
pub const SKYNET_LEAVES: u64 = 1_000_000;
/// Children per `skynet` node.
pub const SKYNET_FANOUT: u64 = 10;
/// The sum `skynet` must produce: 0 + 1 + ... + 999_999.
pub const SKYNET_SUM: u64 = 499_999_500_000;
/// Goroutines of the `sleeps` workload.
pub const SLEEPS_N: usize = 100_000;
/// How long each `sleeps` goroutine sleeps.
pub const SLEEP: Duration = Duration::from_millis(10);
/// How long `parked` waits after every goroutine has started, for the last ones to park.
pub const PARK_SETTLE: Duration = Duration::from_millis(100);

/// Round trips of `pingpong0` and `pingpong1`.
pub const PINGPONG_N: u64 = 1_000_000;
/// Messages of `spsc`.
pub const SPSC_N: u64 = 10_000_000;
/// Capacity of the `spsc` channel (and of the `spsc1k` one).
pub const SPSC_CAP: usize = 1024;
/// Messages of `spsc1k`.
pub const SPSC1K_N: u64 = 1_000_000;

/// The message of `spsc1k`: 1 KiB (Go: `[1024]byte`), message `i` carrying `i` in its first
/// eight bytes (little-endian) and zeros elsewhere.
pub type Msg1k = [u8; 1024];

/// Message `i` of `spsc1k`.
#[inline]
pub fn msg1k(i: u64) -> Msg1k {
    let mut m = [0u8; 1024];
    m[..8].copy_from_slice(&i.to_le_bytes());
    m
}

/// The number a `spsc1k` message carries.
#[inline]
pub fn msg1k_index(m: &Msg1k) -> u64 {
    u64::from_le_bytes(m[..8].try_into().expect("eight bytes"))
}
/// Producer goroutines of `mpmc1024` and `mpmc0`.
pub const MPMC_PRODUCERS: u64 = 4;
/// Consumer goroutines of `mpmc1024` and `mpmc0`.
pub const MPMC_CONSUMERS: usize = 4;
/// Messages of `mpmc1024`, through a channel of capacity [`MPMC_BIG_CAP`].
pub const MPMC_BIG_N: u64 = 10_000_000;
/// Capacity of the `mpmc1024` channel.
pub const MPMC_BIG_CAP: usize = 1024;
/// Messages of `mpmc0`, through an unbuffered channel.
pub const MPMC_SMALL_N: u64 = 1_000_000;
/// Jobs of `workerpool2` and `workerpool8`.
pub const POOL_JOBS: u64 = 1_000_000;
/// Capacity of both the jobs and the results channel of the worker pool (and of the job
/// queue of the `pool*` workloads).
pub const POOL_CAP: usize = 1024;
/// Workers of the `pool2`, `pooldyn2` and `poolmap2` workloads.
pub const POOL_WORKERS: usize = 2;
/// Goroutines (and unbuffered channels) in the `ring`.
pub const RING_SIZE: usize = 10_000;
/// Hops the token makes around the `ring`.
pub const RING_HOPS: u64 = 1_000_000;

/// Lock/unlock pairs of `mutex1` and `mutex8`.
pub const MUTEX_N: u64 = 10_000_000;
/// Goroutines (tasks) sharing the lock in `mutex8`.
pub const MUTEX_GOROUTINES: u64 = 8;
/// Goroutines waiting on a context (or cancellation token) in `ctxcancel`.
pub const CTX_WAITERS: usize = 100_000;

/// Goroutines of the `blocking` workload, each making one blocking system call.
pub const BLOCKING_N: usize = 1_000;
/// How long each `blocking` goroutine blocks in its system call (a sleep).
pub const BLOCKING_SLEEP: Duration = Duration::from_millis(1);
/// Round trips of the ping-pong that runs beside the blocked goroutines in `blocking`.
pub const BLOCKING_TRIPS: u64 = 20_000;

/// Capacity of the `async_spsc` and `async_mpmc` channels.
pub const ASYNC_CAP: usize = 1024;
/// Messages of `async_spsc`.
pub const ASYNC_SPSC_N: u64 = 1_000_000;
/// Messages of `async_mpmc`, in all (a quarter per producer task).
pub const ASYNC_MPMC_N: u64 = 1_000_000;
/// Round trips of `async_pingpong`, over two channels of capacity 1 (`tokio::sync::mpsc`
/// has no capacity 0).
pub const ASYNC_PINGPONG_N: u64 = 100_000;
/// The async channel workloads, as `run.sh` names them.
pub const ASYNC_WORKLOADS: [&str; 3] = ["async_spsc", "async_mpmc", "async_pingpong"];

/// Prints one measurement in the format `run.sh` and `report.py` parse:
///
/// `RESULT system=goro workload=spawn n=1000000 metric=ns_per_goroutine value=123.456`
pub fn report(workload: &str, n: u64, metric: &str, value: f64) {
    report_as("goro", workload, n, metric, value);
}

/// [`report`] for another system: the Rust peers (`crossbeam`, `tokio`, `flume`, `kanal`,
/// `may`) print the same line with their own `system=`.
pub fn report_as(system: &str, workload: &str, n: u64, metric: &str, value: f64) {
    println!("RESULT system={system} workload={workload} n={n} metric={metric} value={value:.3}");
}

/// A workload this system does not implement: prints `SKIP <workload>: <reason>` on stderr
/// and exits 0 without a `RESULT` line; `run.sh` records the skip and moves on.
pub fn skip(workload: &str, reason: &str) -> ! {
    eprintln!("SKIP {workload}: {reason}");
    std::process::exit(0)
}

/// Prints `msg` on stderr and exits 2: a wrong result or bad usage.
pub fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(2)
}

/// The elapsed time in nanoseconds divided by `n`.
pub fn per_op(d: Duration, n: u64) -> f64 {
    d.as_nanos() as f64 / n as f64
}

/// Messages per `select4` producer (4 producers, 4,000,000 messages in all).
pub const SELECT_PER: u64 = 1_000_000;

/// Why the OS-thread peers (`crossbeam`, `flume`, `kanal`) skip the goroutine workloads.
pub const OS_THREAD_SKIP: &str = "channels on OS threads: one std::thread per goroutine \
                                  (1M threads for spawn/skynet/parked, 100k for sleeps) \
                                  measures the kernel, not the channel library";
/// Why the channel crates skip the `sync` and `context` workloads.
pub const NOT_POOL_SKIP: &str = "measures goro::pool::Pool against Go's hand-written pool; \
                                 the channel-based pool of every system is workerpool2";
/// Why the channel crates skip the `sync` and `context` workloads.
pub const NOT_CHANNEL_SKIP: &str = "a channel crate: it has no mutex and no context \
                                    (a std::sync::Mutex on OS threads would measure std)";
/// Why the OS-thread peers skip `ring`.
pub const OS_THREAD_RING_SKIP: &str = "channels on OS threads: the ring needs 10,000 threads \
                                       and a kernel wake-up per hop";

/// Why the OS-thread peers skip `blocking`.
pub const OS_THREAD_BLOCKING_SKIP: &str = "channels on OS threads: a blocking call only ever \
                                           blocks its own thread, so 1,000 threads in \
                                           nanosleep beside a ping-pong between two threads \
                                           measure the kernel, not the channel library";

/// Why a system without async channel operations skips the async workloads.
pub const NO_ASYNC_SKIP: &str = "its channels have no async (future-returning) send and \
                                 receive to await from tokio tasks";

/// The worker threads of every tokio runtime here: `GORO_MAXPROCS` if it is set to a
/// positive number, else the available parallelism, as goro counts its own workers (and
/// `may_rt` its scheduler's).
pub fn worker_threads() -> usize {
    std::env::var("GORO_MAXPROCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

/// The tokio runtime of `tokio_rt` and of every system's async workloads: multi-thread,
/// [`worker_threads`] workers, the time driver on.
pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .enable_time()
        .build()
        .expect("tokio runtime")
}

/// Milliseconds in `d`, as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// User plus system CPU time the whole process has used so far (`getrusage(RUSAGE_SELF)`).
pub fn cpu_time() -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable `struct rusage`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert_eq!(
        rc,
        0,
        "getrusage failed: {}",
        std::io::Error::last_os_error()
    );
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The resident set size of the process in bytes: resident pages from `/proc/self/statm`
/// times the page size.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("resident pages in /proc/self/statm");
    pages * page_size()
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    assert!(p > 0, "sysconf(_SC_PAGESIZE) failed");
    p as u64
}
