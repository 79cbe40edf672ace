//! Go: the article's "Error Handling" variation — workers send their errors to an `errChan`
//! instead of losing them, and `main` collects them after the results:
//!
//! ```go
//! errChan := make(chan error, numJobs)
//! // in each worker:
//! if err := process(j); err != nil { errChan <- err; continue }
//! ```
//!
//! With a goro `Pool` the job returns a `Result`: an `Err` is counted as failed and sent
//! to `pool.errors()`, the pool's own errChan, which closes once the pool is done, so a
//! plain `for` loop over it ends. The results and errors come in any order; they are
//! sorted here so that the output is the same on every run.

use std::time::Duration;

use goro::chan;
use goro::pool::{JobError, Pool};

/// Doubles `j`, after a little pretend work; jobs 2 and 5 have bad input.
fn process(j: i32) -> Result<i32, String> {
    goro::sleep(Duration::from_millis(10 * j as u64));
    if j == 2 || j == 5 {
        return Err(format!("job {j}: invalid input"));
    }
    Ok(j * 2)
}

#[goro::main]
pub fn main() {
    const NUM_JOBS: i32 = 6;
    let pool = Pool::new(3);
    let (results_tx, results) = chan::bounded(NUM_JOBS as usize);

    // go func() { for err := range errChan { ... } }()
    let errors = pool.errors();
    let collector = goro::go(move || {
        let mut errs: Vec<String> = errors
            .iter()
            .map(|e| match e {
                JobError::Failed(e) => e.to_string(),
                JobError::Panicked(msg) => format!("panic: {msg}"),
            })
            .collect();
        errs.sort();
        errs
    });

    for j in 1..=NUM_JOBS {
        let results_tx = results_tx.clone();
        pool.submit(move || {
            let r = process(j)?; // an Err goes to pool.errors()
            results_tx.send(r).unwrap();
            Ok::<(), String>(())
        })
        .unwrap();
    }
    drop(results_tx);

    let report = pool.wait(); // every job done; errors() closes
    let mut got: Vec<i32> = results.iter().collect();
    got.sort();
    for r in got {
        println!("Result: {r}");
    }
    for e in collector.join().unwrap() {
        println!("Error: {e}");
    }
    println!(
        "{} jobs: {} completed, {} failed",
        report.submitted, report.completed, report.failed
    );
}

// Output:
// Result: 2
// Result: 6
// Result: 8
// Result: 12
// Error: job 2: invalid input
// Error: job 5: invalid input
// 6 jobs: 4 completed, 2 failed
