//! `sleep`: parks only the goroutine, wakes every sleeper, in deadline order.
//!
//! Go: `time.Sleep(d)`. Only lower bounds of sleeps and generous liveness bounds are asserted,
//! never precise timings. Stress sizes are multiplied by `GORO_STRESS_SCALE` (default 1).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

use support::{child, scaled};

/// Spawns `n` goroutines each sleeping `d`; checks that each slept at least `d` and that all
/// of them finished within `bound`.
fn sleepers(n: usize, d: Duration, bound: Duration) {
    let start = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            goro::go(move || {
                let t = Instant::now();
                goro::sleep(d);
                (i, t.elapsed())
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let (j, slept) = h.join().unwrap();
        assert_eq!(i, j);
        assert!(slept >= d, "goroutine {i} slept only {slept:?} of {d:?}");
    }
    let total = start.elapsed();
    assert!(
        total < bound,
        "{n} sleeps of {d:?} took {total:?}, more than the liveness bound {bound:?}"
    );
}

#[test]
fn sleep_parks_only_the_goroutine() {
    const TEST: &str = "sleep_parks_only_the_goroutine";
    if child::is_child(TEST) {
        // One worker and 1,000 sleeps of 50 ms: done one after the other they would take
        // 50 s; sleeping must leave the worker free for the other goroutines.
        assert_eq!(goro::maxprocs(), 1);
        sleepers(1000, Duration::from_millis(50), Duration::from_secs(20));
        // The same, spawned from a goroutine.
        goro::run(|| sleepers(1000, Duration::from_millis(50), Duration::from_secs(20)));
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

#[test]
fn hundred_thousand_sleepers_all_wake() {
    sleepers(
        scaled(100_000),
        Duration::from_millis(10),
        Duration::from_secs(60),
    );
}

#[test]
fn zero_sleep_returns() {
    goro::sleep(Duration::ZERO);
    goro::time::sleep(Duration::ZERO);
    goro::go(|| {
        for _ in 0..1000 {
            goro::sleep(Duration::ZERO);
            goro::time::sleep(Duration::ZERO);
        }
    })
    .join()
    .unwrap();
}

#[test]
fn sleep_on_a_plain_thread() {
    let d = Duration::from_millis(20);
    let t = Instant::now();
    goro::sleep(d);
    assert!(t.elapsed() >= d);
    let t = Instant::now();
    goro::time::sleep(d);
    assert!(t.elapsed() >= d);
    let th = std::thread::spawn(move || {
        let t = Instant::now();
        goro::sleep(d);
        t.elapsed()
    });
    assert!(th.join().unwrap() >= d);
}

#[test]
fn sleep_in_a_goroutine_lasts_at_least_its_duration() {
    for ms in [1, 2, 5, 13, 40] {
        let d = Duration::from_millis(ms);
        let slept = goro::go(move || {
            let t = Instant::now();
            goro::time::sleep(d);
            t.elapsed()
        })
        .join()
        .unwrap();
        assert!(slept >= d, "slept {slept:?} < {d:?}");
    }
}

#[test]
fn sleepers_wake_in_deadline_order() {
    const TEST: &str = "sleepers_wake_in_deadline_order";
    if child::is_child(TEST) {
        // Sleeps of 1..=20 × 30 ms, started in a shuffled order; one worker, so the order in
        // which they wake is the order in which they record themselves.
        let order = goro::run(|| {
            let log = Arc::new(Mutex::new(Vec::new()));
            let handles: Vec<_> = (0..20u64)
                .map(|i| (i * 7) % 20 + 1)
                .map(|k| {
                    let log = log.clone();
                    goro::go(move || {
                        goro::sleep(Duration::from_millis(30 * k));
                        log.lock().unwrap().push(k);
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            Arc::try_unwrap(log).unwrap().into_inner().unwrap()
        });
        assert_eq!(order, (1..=20).collect::<Vec<u64>>());
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

#[test]
fn sleepers_of_equal_length_all_wake() {
    // Many goroutines with the same deadline, spawned from a goroutine, plus sleeps of
    // different lengths interleaved with yields.
    let n = goro::run(|| {
        let hs: Vec<_> = (0..2000u64)
            .map(|i| {
                goro::go(move || {
                    goro::sleep(Duration::from_millis(5));
                    goro::yield_now();
                    goro::sleep(Duration::from_millis(i % 7));
                    1u64
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
    });
    assert_eq!(n, 2000);
}

#[test]
fn a_short_sleep_is_not_held_up_by_a_long_one() {
    // A long sleep armed first must not delay a later, shorter one: the short one ends while
    // the long one still sleeps.
    let long = goro::go(|| goro::sleep(Duration::from_secs(30)));
    goro::go(|| goro::sleep(Duration::from_millis(10)))
        .join()
        .unwrap();
    assert!(
        !long.is_finished(),
        "the long sleep ended before the short one"
    );
    // Left sleeping (detached) when the test binary exits.
    drop(long);
}

#[test]
fn endless_sleep_never_wakes_and_holds_up_nothing() {
    // Duration::MAX must not overflow the deadline arithmetic, and a sleeper that will never
    // wake must not delay the timers armed after it.
    let endless: Vec<_> = (0..4)
        .map(|_| goro::go(|| goro::sleep(Duration::MAX)))
        .collect();
    for ms in [1, 5, 20] {
        let d = Duration::from_millis(ms);
        let slept = goro::go(move || {
            let t = Instant::now();
            goro::sleep(d);
            t.elapsed()
        })
        .join()
        .unwrap();
        assert!(slept >= d);
    }
    goro::sleep(Duration::from_millis(20));
    assert!(endless.iter().all(|h| !h.is_finished()));
    // Leave them sleeping (detached) when the test binary exits.
    drop(endless);
}
