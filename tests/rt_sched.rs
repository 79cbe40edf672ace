//! Scheduler behaviour that needs a runtime of a known size: each case runs in a child
//! process with `GORO_MAXPROCS` set.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use support::child;

/// Runs `test` of this binary in a child process with `GORO_MAXPROCS=procs`.
fn in_child(test: &str, procs: usize) {
    child::run_ok(test, &[("GORO_MAXPROCS", &procs.to_string())]);
}

/// Liveness bound: far beyond anything a working scheduler needs.
const PATIENCE: Duration = Duration::from_secs(20);

/// A goroutine woken or spawned by one that then blocks its worker thread (a blocking system
/// call, a long computation) runs on the other worker instead of waiting behind it.
#[test]
fn goroutine_queued_behind_a_blocked_worker_moves() {
    const NAME: &str = "goroutine_queued_behind_a_blocked_worker_moves";
    if !child::is_child(NAME) {
        return in_child(NAME, 2);
    }
    goro::run(|| {
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        // Spawned from a goroutine: lands in this worker's `runnext`.
        let h = goro::go(move || r.store(true, Ordering::SeqCst));
        // Block the worker thread without parking.
        let start = Instant::now();
        while !ran.load(Ordering::SeqCst) && start.elapsed() < PATIENCE {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            ran.load(Ordering::SeqCst),
            "the spawned goroutine did not run while its spawner blocked the worker"
        );
        h.join().unwrap();
    });
}

/// The same for a goroutine woken (not spawned) by one that then blocks.
#[test]
fn woken_goroutine_queued_behind_a_blocked_worker_moves() {
    const NAME: &str = "woken_goroutine_queued_behind_a_blocked_worker_moves";
    if !child::is_child(NAME) {
        return in_child(NAME, 2);
    }
    goro::run(|| {
        for _ in 0..20 {
            let wg = goro::sync::WaitGroup::new();
            wg.add(1);
            let ran = Arc::new(AtomicBool::new(false));
            let (w, r) = (wg.clone(), ran.clone());
            let h = goro::go(move || {
                w.wait();
                r.store(true, Ordering::SeqCst);
            });
            // Let it park on the WaitGroup.
            goro::sleep(Duration::from_millis(5));
            wg.done(); // wakes it into our runnext
            let start = Instant::now();
            while !ran.load(Ordering::SeqCst) && start.elapsed() < PATIENCE {
                std::hint::spin_loop();
            }
            assert!(
                ran.load(Ordering::SeqCst),
                "the woken goroutine did not run while its waker kept the worker busy"
            );
            h.join().unwrap();
        }
    });
}

/// With one worker, goroutines still interleave at every park: a chain of 10,000 goroutines
/// passing a token, each parked until its turn.
#[test]
fn one_worker_runs_a_long_chain() {
    const NAME: &str = "one_worker_runs_a_long_chain";
    if !child::is_child(NAME) {
        return in_child(NAME, 1);
    }
    assert_eq!(goro::maxprocs(), 1);
    let count = Arc::new(AtomicUsize::new(0));
    let mut prev: Option<goro::JoinHandle<()>> = None;
    for _ in 0..10_000 {
        let c = count.clone();
        let before = prev.take();
        prev = Some(goro::go(move || {
            if let Some(h) = before {
                h.join().unwrap();
            }
            c.fetch_add(1, Ordering::SeqCst);
        }));
    }
    prev.unwrap().join().unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 10_000);
}

/// An idle runtime parks its workers: no CPU is used while nothing runs.
#[test]
fn idle_runtime_uses_no_cpu() {
    const NAME: &str = "idle_runtime_uses_no_cpu";
    if !child::is_child(NAME) {
        return in_child(NAME, 2);
    }
    // Start the runtime and give the workers time to go to sleep.
    goro::go(|| ()).join().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let cpu = |_: ()| {
        // SAFETY: an all-zero rusage is a valid value; getrusage fills it.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is a valid, writable rusage.
        assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) }, 0);
        Duration::from_secs((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) as u64)
            + Duration::from_micros((ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) as u64)
    };
    let before = cpu(());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu(()) - before;
    // Spinning workers would use about 2 s of CPU here; a sleeping runtime uses nothing
    // (the bound leaves room for a noisy machine).
    assert!(
        used < Duration::from_millis(300),
        "idle runtime used {used:?} of CPU in 1 s"
    );
}
