//! A tokio program that hands CPU-heavy work to goro and gets the results back as futures.
//!
//! An async server's executor threads must never compute for long: every task queued behind
//! a long computation waits. Here the tokio side only moves data: it sends jobs to a pool of
//! goroutines over a goro channel with `send_async`, and awaits their results with
//! `recv_async` (a stream of results) and by awaiting a pool job's `TaskHandle` (one
//! result). The goroutines compute with plain blocking code, on goro's own threads.
//!
//! Run: `cargo run --release --example tokio_offload`

use std::time::Instant;

use goro::chan;
use goro::pool::Pool;

/// A deliberately slow computation: the number of primes below `n`.
fn count_primes(n: u64) -> u64 {
    (2..n)
        .filter(|&k| (2..).take_while(|d| d * d <= k).all(|d| k % d != 0))
        .count() as u64
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();

    // 1. A stream of jobs to four goroutines, and a stream of results back.
    let (jobs_tx, jobs_rx) = chan::bounded::<u64>(8);
    let (results_tx, results_rx) = chan::bounded::<(u64, u64)>(8);
    for _ in 0..4 {
        let (jobs, results) = (jobs_rx.clone(), results_tx.clone());
        goro::go(move || {
            for n in jobs.iter() {
                results.send((n, count_primes(n))).unwrap();
            }
        });
    }
    // The goroutines hold the only clones they need: when the jobs run out, the
    // results channel closes by itself.
    drop((jobs_rx, results_tx));

    // The producer is an ordinary tokio task; `send_async` waits without blocking a thread
    // while the goroutines are busy (the channel holds 8 jobs).
    let producer = tokio::spawn(async move {
        for n in (1..=24).map(|i| i * 5_000) {
            jobs_tx.send_async(n).await.unwrap();
        }
    });

    // Meanwhile the executor stays free for other tasks: this one ticks along.
    let ticker = tokio::spawn(async {
        let mut ticks = 0;
        let mut interval = tokio::time::interval(std::time::Duration::from_millis(10));
        loop {
            interval.tick().await;
            ticks += 1;
            if ticks == 3 {
                return ticks;
            }
        }
    });

    let mut results = Vec::new();
    while let Ok(r) = results_rx.recv_async().await {
        results.push(r);
    }
    producer.await.unwrap();
    results.sort();
    let total: u64 = results.iter().map(|&(_, primes)| primes).sum();
    println!(
        "{} jobs done by goroutines, {total} primes in all",
        results.len()
    );
    println!(
        "the executor stayed responsive: {} ticks meanwhile",
        ticker.await.unwrap()
    );

    // 2. One result from a goro pool, awaited like any future.
    let pool = Pool::new(2);
    let handle = pool.submit_with_value(|| count_primes(200_000)).unwrap();
    let primes = handle.await.unwrap();
    println!("primes below 200000: {primes}");
    // Stopping a pool waits for its workers: a blocking call, so not on an executor thread
    // (with goro's `tokio` feature, doing it here would panic and say so).
    tokio::task::spawn_blocking(move || pool.stop())
        .await
        .unwrap();

    // 3. A goroutine awaited directly.
    let answer = goro::go(|| count_primes(1_000)).await.unwrap();
    println!("primes below 1000: {answer}");
    eprintln!("took {:?}", start.elapsed());
}
