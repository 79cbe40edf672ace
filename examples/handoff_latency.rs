//! How long a goroutine waits behind one that blocks its thread or computes, with one worker
//! (`GORO_MAXPROCS=1`): the delay of the runtime's monitor before it hands the worker to
//! another thread (see `src/rt/monitor.rs`).
//!
//! ```sh
//! cargo run --release --example handoff_latency
//! ```
//!
//! Each round, a goroutine starts a blocking call (`std::thread::sleep`) or a computation
//! (a spin on a flag) and, just before, wakes a second goroutine through a channel; the
//! second one records how long after the start it ran. Without the monitor it would run only
//! when the first one is done (50 ms later); with it, after one or two looks of the monitor
//! for a blocked thread, and after about 20 ms for a spin (a computing goroutine that never
//! calls into the runtime, so it cannot be asked to yield).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 200;
const HOLD: Duration = Duration::from_millis(50);

/// Runs `rounds` rounds in which a goroutine holds its thread with `hold` while a woken
/// goroutine waits; returns the waits, sorted.
fn waits(rounds: usize, hold: fn(&AtomicBool)) -> Vec<Duration> {
    let (tx, rx) = goro::chan::bounded::<Instant>(1);
    let (back_tx, back_rx) = goro::chan::bounded::<Duration>(1);
    let waiter = goro::go(move || {
        for start in &rx {
            back_tx.send(start.elapsed()).unwrap();
        }
    });
    let mut out = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let done = Arc::new(AtomicBool::new(false));
        let (tx, d) = (tx.clone(), done.clone());
        let holder = goro::go(move || {
            // The waiter becomes runnable on this worker, then the worker is held.
            tx.send(Instant::now()).unwrap();
            hold(&d);
        });
        out.push(back_rx.recv().unwrap());
        done.store(true, Ordering::Relaxed);
        holder.join().unwrap();
    }
    drop(tx);
    waiter.join().unwrap();
    out.sort();
    out
}

fn report(what: &str, w: &[Duration]) {
    let at = |q: f64| w[((w.len() - 1) as f64 * q) as usize];
    println!(
        "{what:<28} median {:>9.1?}  p90 {:>9.1?}  max {:>9.1?}",
        at(0.5),
        at(0.9),
        at(1.0)
    );
}

fn main() {
    if std::env::var_os("GORO_MAXPROCS").is_none() {
        goro::RuntimeBuilder::new()
            .maxprocs(1)
            .init()
            .expect("start the runtime with one worker");
    }
    goro::run(|| {
        println!(
            "workers: {}; each round held for up to {HOLD:?}",
            goro::maxprocs()
        );
        let blocked = waits(ROUNDS, |done| {
            let start = Instant::now();
            while !done.load(Ordering::Relaxed) && start.elapsed() < HOLD {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        report("behind a blocking call:", &blocked);
        let spinning = waits(ROUNDS / 10, |done| {
            let start = Instant::now();
            while !done.load(Ordering::Relaxed) && start.elapsed() < HOLD {
                std::hint::spin_loop();
            }
        });
        report("behind a computation:", &spinning);
    });
}
