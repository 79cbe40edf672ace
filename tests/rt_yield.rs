//! `yield_now`: fairness between goroutines, progress of spinners, plain threads.
//!
//! Go: `runtime.Gosched()`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

use support::child;

/// Yields until `flag` is set; returns false if that takes longer than a generous bound.
fn yield_until(flag: &AtomicBool) -> bool {
    let start = Instant::now();
    while !flag.load(Ordering::SeqCst) {
        if start.elapsed() > Duration::from_secs(10) {
            return false;
        }
        goro::yield_now();
    }
    true
}

/// The longest run of equal consecutive entries.
fn longest_run(log: &[char]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &c in log {
        run = if prev == Some(c) { run + 1 } else { 1 };
        prev = Some(c);
        best = best.max(run);
    }
    best
}

#[test]
fn yield_interleaves_two_goroutines_on_one_worker() {
    const TEST: &str = "yield_interleaves_two_goroutines_on_one_worker";
    if child::is_child(TEST) {
        assert_eq!(goro::maxprocs(), 1);
        let log = goro::run(|| {
            let log = Arc::new(Mutex::new(Vec::new()));
            let handles: Vec<_> = ['a', 'b']
                .into_iter()
                .map(|who| {
                    let log = log.clone();
                    goro::go(move || {
                        for _ in 0..100 {
                            log.lock().unwrap().push(who);
                            goro::yield_now();
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            Arc::try_unwrap(log).unwrap().into_inner().unwrap()
        });
        assert_eq!(log.len(), 200);
        assert_eq!(log.iter().filter(|&&c| c == 'a').count(), 100);
        assert!(
            longest_run(&log) <= 2,
            "yield_now did not interleave: {}",
            log.iter().collect::<String>()
        );
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

#[test]
fn yield_interleaves_many_goroutines_on_one_worker() {
    const TEST: &str = "yield_interleaves_many_goroutines_on_one_worker";
    if child::is_child(TEST) {
        // Eight goroutines, each yielding 50 times: every round runs each of them once, so
        // between two turns of one goroutine, every other one that is not done runs.
        let log = goro::run(|| {
            let log = Arc::new(Mutex::new(Vec::new()));
            let handles: Vec<_> = (0..8u8)
                .map(|i| {
                    let log = log.clone();
                    goro::go(move || {
                        for _ in 0..50 {
                            log.lock().unwrap().push((b'a' + i) as char);
                            goro::yield_now();
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            Arc::try_unwrap(log).unwrap().into_inner().unwrap()
        });
        assert_eq!(log.len(), 400);
        assert!(longest_run(&log) <= 2, "{}", log.iter().collect::<String>());
        // Every window of 16 entries holds each goroutine at least once.
        for w in log.windows(16) {
            for c in 'a'..='h' {
                assert!(
                    w.contains(&c),
                    "{c} starved in {}",
                    w.iter().collect::<String>()
                );
            }
        }
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

#[test]
fn yield_now_on_a_plain_thread() {
    assert!(!goro::in_goroutine());
    for _ in 0..100 {
        goro::yield_now();
    }
    let t = std::thread::spawn(|| {
        for _ in 0..100 {
            goro::yield_now();
        }
        7
    });
    assert_eq!(t.join().unwrap(), 7);
}

/// A goroutine spins on `yield_now` until another one, which sleeps and yields along the
/// way, has made all its progress.
fn spinner_and_worker() {
    let flag = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicUsize::new(0));
    let (f, p) = (flag.clone(), progress.clone());
    let spinner = goro::go(move || yield_until(&f));
    let worker = goro::go(move || {
        for i in 0..1000 {
            p.fetch_add(1, Ordering::SeqCst);
            if i % 100 == 0 {
                goro::sleep(Duration::from_millis(1));
            } else {
                goro::yield_now();
            }
        }
        flag.store(true, Ordering::SeqCst);
    });
    worker.join().unwrap();
    assert!(spinner.join().unwrap(), "the spinner never saw the flag");
    assert_eq!(progress.load(Ordering::SeqCst), 1000);
}

#[test]
fn yield_spinner_lets_another_goroutine_progress() {
    spinner_and_worker();
    goro::run(spinner_and_worker);
}

#[test]
fn yield_spinner_lets_another_goroutine_progress_on_one_worker() {
    const TEST: &str = "yield_spinner_lets_another_goroutine_progress_on_one_worker";
    if child::is_child(TEST) {
        spinner_and_worker();
        goro::run(spinner_and_worker);
        // Four spinners spawned from a goroutine cannot starve one spawned from a plain
        // thread (it waits in the global queue, which the worker looks at regularly).
        let flag = Arc::new(AtomicBool::new(false));
        let spinners: Vec<_> = goro::go({
            let flag = flag.clone();
            move || {
                (0..4)
                    .map(|_| {
                        let f = flag.clone();
                        goro::go(move || yield_until(&f))
                    })
                    .collect::<Vec<_>>()
            }
        })
        .join()
        .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let setter = goro::go(move || flag.store(true, Ordering::SeqCst));
        setter.join().unwrap();
        for s in spinners {
            assert!(s.join().unwrap(), "a spinner never saw the flag");
        }
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

#[test]
fn yield_spinners_let_a_woken_goroutine_run_on_one_worker() {
    const TEST: &str = "yield_spinners_let_a_woken_goroutine_run_on_one_worker";
    if child::is_child(TEST) {
        // A goroutine parked on a WaitGroup is woken from a plain thread while spinners
        // keep the only worker busy with yields.
        let gate = goro::sync::WaitGroup::new();
        gate.add(1);
        let flag = Arc::new(AtomicBool::new(false));
        let (g, f) = (gate.clone(), flag.clone());
        let waiter = goro::go(move || {
            g.wait();
            f.store(true, Ordering::SeqCst);
        });
        let spinners: Vec<_> = (0..4)
            .map(|_| {
                let f = flag.clone();
                goro::go(move || yield_until(&f))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        gate.done();
        waiter.join().unwrap();
        for s in spinners {
            assert!(s.join().unwrap());
        }
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

#[test]
fn many_goroutines_yielding() {
    let counter = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..1000)
        .map(|_| {
            let c = counter.clone();
            goro::go(move || {
                for _ in 0..100 {
                    c.fetch_add(1, Ordering::Relaxed);
                    goro::yield_now();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), 100_000);
}

#[test]
fn locked_goroutine_yield_lets_others_run_on_its_worker() {
    const TEST: &str = "locked_goroutine_yield_lets_others_run_on_its_worker";
    if child::is_child(TEST) {
        // `yield_now` lets other goroutines run, also when the caller is locked to its
        // thread (Go: Gosched after LockOSThread). Here the other goroutine can only run on
        // the same (only) worker.
        let seen = goro::go(|| {
            goro::lock_os_thread();
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            let setter = goro::go(move || f.store(true, Ordering::SeqCst));
            let seen = yield_until(&flag);
            goro::unlock_os_thread();
            setter.join().unwrap();
            seen
        })
        .join()
        .unwrap();
        assert!(
            seen,
            "a goroutine locked to its thread starved the others by yielding"
        );

        // The same with a sleeping goroutine: its timer must fire while the locked one yields.
        let seen = goro::go(|| {
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            let sleeper = goro::go(move || {
                goro::sleep(Duration::from_millis(5));
                f.store(true, Ordering::SeqCst);
            });
            goro::lock_os_thread();
            let seen = yield_until(&flag);
            goro::unlock_os_thread();
            sleeper.join().unwrap();
            seen
        })
        .join()
        .unwrap();
        assert!(
            seen,
            "a sleeping goroutine never woke while a locked one yielded"
        );
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}
