//! Go: a context-aware worker pool — `ctx, cancel := context.WithTimeout(...)`, workers that
//! return on `<-ctx.Done()`, an `errChan` for their errors, and `cancel()` on the first
//! failure, so that one failure or the timeout stops every worker.

use std::time::Duration;

use goro::chan::{self, Receiver, Sender};
use goro::context::{self, CancelFn, Context};
use goro::sync::WaitGroup;
use goro::time;

/// Works on job `j`: jobs in `fail` are invalid, jobs in `quick` take 50 ms, the others
/// 10 s, unless the context ends first.
fn process(ctx: &Context, j: i32, quick: &[i32], fail: &[i32]) -> Result<i32, String> {
    if fail.contains(&j) {
        return Err("invalid input".to_string());
    }
    let work = if quick.contains(&j) {
        Duration::from_millis(50)
    } else {
        Duration::from_secs(10)
    };
    goro::select! {
        recv(time::after(work)) -> _t => Ok(j * 2),
        recv(ctx.done()) -> _d => Err(ctx.err().unwrap().to_string()),
    }
}

struct Worker {
    id: usize,
    ctx: Context,
    cancel: CancelFn,
    jobs: Receiver<i32>,
    results: Sender<i32>,
    errs: Sender<String>,
    wg: WaitGroup,
}

impl Worker {
    fn run(self, quick: &[i32], fail: &[i32]) {
        let id = self.id;
        loop {
            if self.ctx.err().is_some() {
                break; // the pool is stopping: take no new job
            }
            let j = goro::select! {
                recv(self.ctx.done()) -> _d => break,
                recv(self.jobs) -> j => match j {
                    Ok(j) => j,
                    Err(_) => break, // no more jobs
                },
            };
            println!("Worker {id} started job {j}");
            match process(&self.ctx, j, quick, fail) {
                Ok(r) => {
                    println!("Worker {id} finished job {j}");
                    self.results.send(r).unwrap();
                }
                Err(e) if self.ctx.err().is_some() => {
                    println!("Worker {id} stopped job {j}: {e}");
                }
                Err(e) => {
                    println!("Worker {id} failed job {j}: {e}");
                    let _ = self.errs.try_send(format!("job {j}: {e}"));
                    (self.cancel)(); // stop every other worker
                }
            }
        }
        self.wg.done();
    }
}

/// Runs `jobs` on `workers` workers under `timeout`.
fn pool(
    workers: usize,
    jobs: &[i32],
    quick: &'static [i32],
    fail: &'static [i32],
    timeout: Duration,
) {
    let (ctx, cancel) = context::background().with_timeout(timeout);
    let _guard = cancel.clone().guard(); // defer cancel()

    let (jobs_tx, jobs_rx) = chan::bounded(jobs.len());
    let (results_tx, results) = chan::bounded(jobs.len());
    let (errs_tx, errs) = chan::bounded(workers);
    for &j in jobs {
        jobs_tx.send(j).unwrap();
    }
    jobs_tx.close();

    let wg = WaitGroup::new();
    for id in 1..=workers {
        wg.add(1);
        let w = Worker {
            id,
            ctx: ctx.clone(),
            cancel: cancel.clone(),
            jobs: jobs_rx.clone(),
            results: results_tx.clone(),
            errs: errs_tx.clone(),
            wg: wg.clone(),
        };
        goro::go(move || w.run(quick, fail));
    }
    wg.wait();
    drop((results_tx, errs_tx));

    for r in &results {
        println!("Result: {r}");
    }
    for e in &errs {
        println!("Error: {e}");
    }
    match ctx.err() {
        Some(e) => println!("Pool stopped: {e}"),
        None => println!("All jobs done"),
    }
}

#[goro::main]
pub fn main() {
    println!("-- one job fails: cancel() stops the others --");
    pool(3, &[1, 2, 3, 4, 5, 6], &[], &[3], Duration::from_secs(5));

    println!("-- the pool's time is up: the timeout stops every worker --");
    pool(2, &[1, 2, 3, 4], &[1, 2], &[], Duration::from_millis(300));
}

// Output (the order of the worker lines varies from run to run, as in Go):
// -- one job fails: cancel() stops the others --
// Worker 1 started job 1
// Worker 3 started job 3
// Worker 3 failed job 3: invalid input
// Worker 2 started job 2
// Worker 2 stopped job 2: context canceled
// Worker 1 stopped job 1: context canceled
// Error: job 3: invalid input
// Pool stopped: context canceled
// -- the pool's time is up: the timeout stops every worker --
// Worker 2 started job 2
// Worker 1 started job 1
// Worker 1 finished job 1
// Worker 2 finished job 2
// Worker 2 started job 3
// Worker 1 started job 4
// Worker 2 stopped job 3: context deadline exceeded
// Worker 1 stopped job 4: context deadline exceeded
// Result: 2
// Result: 4
// Pool stopped: context deadline exceeded
