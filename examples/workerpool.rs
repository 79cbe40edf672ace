//! Go: the basic worker pool — a fixed number of workers, a jobs channel, a results channel,
//! and a `WaitGroup` that closes `results` once every worker is done.

use std::time::Duration;

use goro::chan::{self, Receiver, Sender};
use goro::sync::WaitGroup;

fn worker(id: usize, jobs: Receiver<i32>, results: Sender<i32>, wg: WaitGroup) {
    for j in &jobs {
        println!("Worker {id} started job {j}");
        goro::sleep(Duration::from_secs(1)); // simulate work
        println!("Worker {id} finished job {j}");
        results.send(j * 2).unwrap();
    }
    wg.done();
}

#[goro::main]
pub fn main() {
    const NUM_JOBS: i32 = 5;
    const NUM_WORKERS: usize = 3;

    let (jobs_tx, jobs) = chan::bounded(NUM_JOBS as usize);
    let (results_tx, results) = chan::bounded(NUM_JOBS as usize);
    let wg = WaitGroup::new();

    // start workers
    for w in 1..=NUM_WORKERS {
        wg.add(1);
        let (jobs, results_tx, wg) = (jobs.clone(), results_tx.clone(), wg.clone());
        goro::go(move || worker(w, jobs, results_tx, wg));
    }

    // send jobs
    for j in 1..=NUM_JOBS {
        jobs_tx.send(j).unwrap();
    }
    jobs_tx.close();

    // wait for workers to finish
    goro::go(move || {
        wg.wait();
        results_tx.close();
    });

    // collect results
    for r in &results {
        println!("Result: {r}");
    }
}

// Output (the order varies from run to run, as in Go):
// Worker 3 started job 1
// Worker 1 started job 2
// Worker 2 started job 3
// Worker 2 finished job 3
// Worker 2 started job 4
// Result: 6
// Worker 3 finished job 1
// Worker 3 started job 5
// Result: 2
// Worker 1 finished job 2
// Result: 4
// Worker 2 finished job 4
// Result: 8
// Worker 3 finished job 5
// Result: 10
