//! The channel workloads on OS threads, written once for every thread-based peer
//! (crossbeam-channel, flume, kanal): each binary says how to make, send on and receive from
//! its channels ([`ThreadChannels`]) and runs these functions.

use std::thread;
use std::time::Instant;

use crate::{
    fail, msg1k, msg1k_index, per_op, report_as, Msg1k, MPMC_CONSUMERS, MPMC_PRODUCERS, PINGPONG_N,
    POOL_CAP, POOL_JOBS, SPSC1K_N, SPSC_CAP, SPSC_N,
};

/// A channel library, as the workloads use it (channels of `u64`, and of `Msg1k` in
/// `spsc1k`).
pub trait ThreadChannels {
    /// The `system=` name in result lines.
    const SYSTEM: &'static str;
    type Tx<T: Send + 'static>: Clone + Send + 'static;
    type Rx<T: Send + 'static>: Clone + Send + 'static;
    /// A channel of capacity `cap` (0: rendezvous).
    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>);
    /// Sends `v`; false if the channel is closed.
    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool;
    /// Receives a value; `None` once the channel is closed and drained.
    fn recv<T: Send + 'static>(rx: &Self::Rx<T>) -> Option<T>;
}

/// Sends `0..n` (or a part of it) on `tx`.
fn send_all<C: ThreadChannels>(tx: &C::Tx<u64>, range: std::ops::Range<u64>, what: &str) {
    for i in range {
        if !C::send(tx, i) {
            fail(&format!("{what}: channel closed"));
        }
    }
}

/// Receives until the channel is closed; returns the sum and the count.
fn drain<C: ThreadChannels>(rx: &C::Rx<u64>) -> (u64, u64) {
    let (mut sum, mut count) = (0u64, 0u64);
    while let Some(v) = C::recv(rx) {
        sum += v;
        count += 1;
    }
    (sum, count)
}

fn check(name: &str, sum: u64, count: u64, want_sum: u64, want_count: u64) {
    if sum != want_sum || count != want_count {
        fail(&format!(
            "{name}: got sum {sum} count {count}, want {want_sum} and {want_count}"
        ));
    }
}

/// Main sends `0..PINGPONG_N` on `ping`, one echo thread sends each value back on `pong`;
/// both channels of capacity `cap`. ns per round trip.
pub fn pingpong<C: ThreadChannels>(name: &str, cap: usize) {
    let (ping_tx, ping_rx) = C::bounded(cap);
    let (pong_tx, pong_rx) = C::bounded(cap);
    let start = Instant::now();
    let echo = thread::spawn(move || {
        while let Some(v) = C::recv(&ping_rx) {
            if !C::send(&pong_tx, v) {
                fail("pingpong: pong closed");
            }
        }
    });
    let mut sum = 0;
    for i in 0..PINGPONG_N {
        send_all::<C>(&ping_tx, i..i + 1, "pingpong");
        sum += C::recv(&pong_rx).unwrap_or_else(|| fail("pingpong: pong closed"));
    }
    let elapsed = start.elapsed();
    drop(ping_tx);
    echo.join().unwrap();
    check(
        name,
        sum,
        PINGPONG_N,
        PINGPONG_N * (PINGPONG_N - 1) / 2,
        PINGPONG_N,
    );
    report_as(
        C::SYSTEM,
        name,
        PINGPONG_N,
        "ns_per_roundtrip",
        per_op(elapsed, PINGPONG_N),
    );
}

/// One producer thread sends `0..SPSC_N` through a cap-1024 channel and drops it (closing
/// it); one consumer thread ranges over it, counting and summing. ns per message.
pub fn spsc<C: ThreadChannels>() {
    let (tx, rx) = C::bounded(SPSC_CAP);
    let start = Instant::now();
    let producer = thread::spawn(move || send_all::<C>(&tx, 0..SPSC_N, "spsc"));
    let consumer = thread::spawn(move || drain::<C>(&rx));
    let (sum, count) = consumer.join().unwrap();
    let elapsed = start.elapsed();
    producer.join().unwrap();
    check("spsc", sum, count, SPSC_N * (SPSC_N - 1) / 2, SPSC_N);
    report_as(
        C::SYSTEM,
        "spsc",
        SPSC_N,
        "ns_per_msg",
        per_op(elapsed, SPSC_N),
    );
}

/// `spsc` with 1 KiB messages (`Msg1k`): one producer thread sends messages `0..SPSC1K_N`
/// through a cap-1024 channel and drops it; one consumer thread receives them, counting and
/// summing the numbers they carry. ns per message.
pub fn spsc1k<C: ThreadChannels>() {
    let (tx, rx) = C::bounded::<Msg1k>(SPSC_CAP);
    let start = Instant::now();
    let producer = thread::spawn(move || {
        for i in 0..SPSC1K_N {
            if !C::send(&tx, msg1k(i)) {
                fail("spsc1k: channel closed");
            }
        }
    });
    let consumer = thread::spawn(move || {
        let (mut sum, mut count) = (0u64, 0u64);
        while let Some(m) = C::recv(&rx) {
            sum += msg1k_index(&m);
            count += 1;
        }
        (sum, count)
    });
    let (sum, count) = consumer.join().unwrap();
    let elapsed = start.elapsed();
    producer.join().unwrap();
    check(
        "spsc1k",
        sum,
        count,
        SPSC1K_N * (SPSC1K_N - 1) / 2,
        SPSC1K_N,
    );
    report_as(
        C::SYSTEM,
        "spsc1k",
        SPSC1K_N,
        "ns_per_msg",
        per_op(elapsed, SPSC1K_N),
    );
}

/// 4 producer threads send `n` messages in all (`0..n`, a quarter each) through one channel
/// of capacity `cap`; 4 consumer threads range over it. Main drops its sender once every
/// producer is done, which closes the channel. ns per message.
pub fn mpmc<C: ThreadChannels>(name: &str, n: u64, cap: usize) {
    let (tx, rx) = C::bounded(cap);
    let per = n / MPMC_PRODUCERS;
    let start = Instant::now();
    let consumers: Vec<_> = (0..MPMC_CONSUMERS)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || drain::<C>(&rx))
        })
        .collect();
    let producers: Vec<_> = (0..MPMC_PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || send_all::<C>(&tx, p * per..(p + 1) * per, "mpmc"))
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    drop((tx, rx));
    let (mut sum, mut count) = (0, 0);
    for c in consumers {
        let (s, k) = c.join().unwrap();
        sum += s;
        count += k;
    }
    let elapsed = start.elapsed();
    check(name, sum, count, n * (n - 1) / 2, n);
    report_as(C::SYSTEM, name, n, "ns_per_msg", per_op(elapsed, n));
}

/// The basic worker pool on threads. A feeder thread sends jobs `1..=POOL_JOBS` and drops
/// `jobs`; `workers` worker threads range over `jobs` and send `j*2` on `results` (the
/// article's worker with a tiny job); a thread joins the workers and then drops the last
/// `results` sender; main sums the results. ns per job.
pub fn workerpool<C: ThreadChannels>(name: &str, workers: usize) {
    let (jobs_tx, jobs_rx) = C::bounded(POOL_CAP);
    let (results_tx, results_rx) = C::bounded(POOL_CAP);
    let start = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (jobs, results) = (jobs_rx.clone(), results_tx.clone());
            thread::spawn(move || {
                while let Some(j) = C::recv(&jobs) {
                    if !C::send(&results, j * 2) {
                        fail("workerpool: results closed");
                    }
                }
            })
        })
        .collect();
    drop((jobs_rx, results_tx));
    thread::spawn(move || send_all::<C>(&jobs_tx, 1..POOL_JOBS + 1, "workerpool"));
    thread::spawn(move || {
        for h in handles {
            h.join().unwrap();
        }
    });
    let (sum, count) = drain::<C>(&results_rx);
    let elapsed = start.elapsed();
    check(name, sum, count, POOL_JOBS * (POOL_JOBS + 1), POOL_JOBS);
    report_as(
        C::SYSTEM,
        name,
        POOL_JOBS,
        "ns_per_job",
        per_op(elapsed, POOL_JOBS),
    );
}
