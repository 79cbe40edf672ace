//! Go: `sync.WaitGroup` — wait for all goroutines to finish.
//!
//! Each goroutine gets a clone of the group (clones share one counter), where Go passes
//! `&wg`. The workers finish in any order, as in Go.

use goro::sync::WaitGroup;

#[goro::main]
pub fn main() {
    let wg = WaitGroup::new();

    for i in 0..3 {
        wg.add(1);
        let wg = wg.clone();
        goro::go(move || {
            println!("Worker {i} done");
            wg.done();
        });
    }

    wg.wait();
    println!("All workers finished.");
}

// Output (the worker lines in any order):
// Worker 0 done
// Worker 1 done
// Worker 2 done
// All workers finished.
