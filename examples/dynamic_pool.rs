//! Go: the article's "Dynamic Pools" variation — adjust the number of workers to the load,
//! what Go code gets from libraries such as ants or pond. Here one `Pool` grows from
//! `min_workers` to `max_workers` while jobs wait, and shrinks back once its workers have
//! been idle for `idle_timeout`.
//!
//! Every job holds its worker until `main` lets them all go, and `main` waits for each job
//! to start before submitting the next, so the counts printed are the same on every run.

use std::time::{Duration, Instant};

use goro::chan::{self, Receiver};
use goro::pool::Pool;

/// Waits (without a fixed sleep) until `ready` holds; the pool changes size on its own
/// goroutines, so `main` looks again every millisecond.
fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < give_up, "the pool never got {what}");
        goro::sleep(Duration::from_millis(1));
    }
}

#[goro::main]
pub fn main() {
    let pool = Pool::builder()
        .min_workers(1)
        .max_workers(4)
        .idle_timeout(Duration::from_millis(200))
        .build();
    wait_until("its first worker ready", || pool.idle() == 1);
    println!("quiet: {} worker", pool.workers());

    // A burst of 6 jobs. Each tells `main` it has started, then holds its worker until
    // `gate` is closed.
    let (started_tx, started) = chan::bounded(6);
    let (gate_tx, gate): (_, Receiver<()>) = chan::bounded(0);
    let (done_tx, done) = chan::bounded(6);
    for j in 1..=6 {
        let (started_tx, gate, done_tx) = (started_tx.clone(), gate.clone(), done_tx.clone());
        pool.submit(move || {
            started_tx.send(j).unwrap();
            let _ = gate.recv(); // Err once the gate is closed
            done_tx.send(j * 2).unwrap();
        })
        .unwrap();
        if j <= 4 {
            // A free worker slot: a new worker takes the job.
            started.recv().unwrap();
        }
        println!(
            "job {j} submitted: workers {}, queued {}",
            pool.workers(),
            pool.queued()
        );
    }

    println!("burst over: the workers finish the 6 jobs");
    gate_tx.close();
    let mut results: Vec<i32> = (1..=6).map(|_| done.recv().unwrap()).collect();
    results.sort();
    println!("results: {results:?}");

    wait_until("back to its minimum", || pool.workers() == 1);
    println!("idle for 200ms: back to {} worker", pool.workers());

    let report = pool.wait();
    println!(
        "report: {} submitted, {} completed",
        report.submitted, report.completed
    );
}

// Output:
// quiet: 1 worker
// job 1 submitted: workers 1, queued 0
// job 2 submitted: workers 2, queued 0
// job 3 submitted: workers 3, queued 0
// job 4 submitted: workers 4, queued 0
// job 5 submitted: workers 4, queued 1
// job 6 submitted: workers 4, queued 2
// burst over: the workers finish the 6 jobs
// results: [2, 4, 6, 8, 10, 12]
// idle for 200ms: back to 1 worker
// report: 6 submitted, 6 completed
