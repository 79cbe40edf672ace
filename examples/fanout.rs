//! Go: fan-out / fan-in — several workers read one jobs channel (fan-out) and send into one
//! results channel (fan-in).

use std::time::Duration;

use goro::chan::{self, Receiver, Sender};

fn worker(id: usize, jobs: Receiver<i32>, results: Sender<i32>) {
    for j in &jobs {
        println!("Worker {id} processing job {j}");
        goro::sleep(Duration::from_secs(1));
        results.send(j * 2).unwrap();
    }
}

#[goro::main]
pub fn main() {
    let (jobs_tx, jobs) = chan::bounded(5);
    let (results_tx, results) = chan::bounded(5);

    for w in 1..=3 {
        let (jobs, results_tx) = (jobs.clone(), results_tx.clone());
        goro::go(move || worker(w, jobs, results_tx));
    }

    for j in 1..=5 {
        jobs_tx.send(j).unwrap();
    }
    jobs_tx.close();

    for _ in 1..=5 {
        println!("Result: {}", results.recv().unwrap());
    }
}

// Output (the order varies from run to run, as in Go):
// Worker 3 processing job 1
// Worker 1 processing job 2
// Worker 2 processing job 3
// Worker 2 processing job 4
// Worker 1 processing job 5
// Result: 2
// Result: 6
// Result: 4
// Result: 8
// Result: 10
