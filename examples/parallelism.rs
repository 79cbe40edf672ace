//! The article's "Concurrency vs. Parallelism": concurrency is managing several tasks at
//! once; parallelism is running several at the same instant, which takes several cores.
//!
//! Four goroutines that wait finish together even on one worker: waiting takes no core
//! (concurrency). Four goroutines that compute finish together only if there are cores for
//! them: the same jobs on one worker goroutine take about four times as long as on one
//! worker per core (parallelism), as Go's do with `GOMAXPROCS=1`.
//!
//! The times depend on the machine; `goro::maxprocs()` is the number of cores goro uses
//! (`GORO_MAXPROCS` to change it).

use std::time::{Duration, Instant};

use goro::chan;
use goro::sync::WaitGroup;

/// A job that only computes: the number of primes below `n`.
fn count_primes(n: u64) -> usize {
    (2..n)
        .filter(|&k| (2..).take_while(|d| d * d <= k).all(|d| k % d != 0))
        .count()
}

/// Runs `jobs` jobs on `workers` goroutines reading from one channel (the article's worker
/// pool); returns how long they took.
fn run_on(workers: usize, jobs: usize) -> Duration {
    let start = Instant::now();
    let (tx, rx) = chan::bounded::<u64>(jobs);
    let wg = WaitGroup::new();
    for _ in 0..workers {
        let rx = rx.clone();
        wg.go(move || {
            for n in &rx {
                std::hint::black_box(count_primes(n));
            }
        });
    }
    for _ in 0..jobs {
        tx.send(400_000).unwrap();
    }
    drop(tx);
    wg.wait();
    start.elapsed()
}

#[goro::main]
pub fn main() {
    let start = Instant::now();
    let wg = WaitGroup::new();
    for _ in 0..4 {
        wg.go(|| goro::sleep(Duration::from_millis(100)));
    }
    wg.wait();
    println!(
        "4 goroutines waiting 100 ms each: {} ms in all (concurrency: waiting takes no core)",
        start.elapsed().as_millis()
    );

    let cores = goro::maxprocs();
    let one = run_on(1, 4);
    let all = run_on(cores, 4);
    println!(
        "4 computing jobs on 1 worker goroutine: {} ms",
        one.as_millis()
    );
    println!(
        "4 computing jobs on {cores} worker goroutines ({cores} cores): {} ms \
         (parallelism: {:.1}x faster)",
        all.as_millis(),
        one.as_secs_f64() / all.as_secs_f64()
    );
}

// Output (2 cores):
// 4 goroutines waiting 100 ms each: 100 ms in all (concurrency: waiting takes no core)
// 4 computing jobs on 1 worker goroutine: 147 ms
// 4 computing jobs on 2 worker goroutines (2 cores): 75 ms (parallelism: 2.0x faster)
