//! Shared helpers for the goro benchmark programs: the workload sizes, the result line that
//! `run.sh` parses, and the process measurements (CPU time, resident set size).
//!
//! The Go programs in `benchmarks/go` use the same sizes and print the same line; see
//! `benchmarks/README.md`.

use std::time::Duration;

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
/// Capacity of the `spsc` channel.
pub const SPSC_CAP: usize = 1024;
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
/// Capacity of both the jobs and the results channel of the worker pool.
pub const POOL_CAP: usize = 1024;
/// Goroutines (and unbuffered channels) in the `ring`.
pub const RING_SIZE: usize = 10_000;
/// Hops the token makes around the `ring`.
pub const RING_HOPS: u64 = 1_000_000;

/// Prints one measurement in the format `run.sh` and `report.py` parse:
///
/// `RESULT system=goro workload=spawn n=1000000 metric=ns_per_goroutine value=123.456`
pub fn report(workload: &str, n: u64, metric: &str, value: f64) {
    println!("RESULT system=goro workload={workload} n={n} metric={metric} value={value:.3}");
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
