//! `WaitGroup`: Go's own tests (TestWaitGroup, TestWaitGroupMisuse, TestWaitGroupRace)
//! rewritten, plus `WaitGroup::go`, waiters on threads and goroutines, and panics.
//!
//! Go: `sync.WaitGroup` (src/sync/waitgroup_test.go).

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::sync::WaitGroup;

mod support;

use support::payload_str;

/// Go's testWaitGroup: `n` goroutines each do `wg1.Done(); wg2.Wait()`; the barrier `wg2`
/// must not release anybody before its last `Done`.
fn test_wait_group(wg1: &WaitGroup, wg2: &WaitGroup) {
    let n = 16;
    wg1.add(n);
    wg2.add(n);
    let exited = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (wg1, wg2, exited) = (wg1.clone(), wg2.clone(), exited.clone());
            goro::go(move || {
                wg1.done();
                wg2.wait();
                exited.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    wg1.wait();
    for i in 0..n {
        assert_eq!(
            exited.load(Ordering::SeqCst),
            0,
            "WaitGroup released group too soon (after {i} of {n} Done calls)"
        );
        // Give a wrongly released goroutine the chance to show itself.
        goro::yield_now();
        wg2.done();
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(exited.load(Ordering::SeqCst), n);
    assert_eq!(wg1.count(), 0);
    assert_eq!(wg2.count(), 0);
}

#[test]
fn go_test_wait_group() {
    // Reusing the same groups once they reach zero, as Go's test does.
    let wg1 = WaitGroup::new();
    let wg2 = WaitGroup::new();
    for _ in 0..8 {
        test_wait_group(&wg1, &wg2);
    }
    // The same with the test body in a goroutine.
    goro::run(move || {
        for _ in 0..8 {
            test_wait_group(&wg1, &wg2);
        }
    });
}

#[test]
fn go_test_wait_group_misuse() {
    let _quiet = support::expect_panics();
    let wg = WaitGroup::new();
    wg.add(1);
    wg.done();
    let r = panic::catch_unwind(AssertUnwindSafe(|| wg.done()));
    let payload = r.expect_err("Done below zero must panic");
    assert_eq!(
        payload_str(&*payload),
        Some("sync: negative WaitGroup counter")
    );
    // The counter stays at zero and the group stays usable.
    assert_eq!(wg.count(), 0);
    wg.wait();
    wg.go(|| ());
    wg.wait();

    // The same in a goroutine.
    let e = goro::go(|| WaitGroup::new().done()).join().unwrap_err();
    assert_eq!(e.panic_message(), Some("sync: negative WaitGroup counter"));
}

#[test]
fn add_overflow_panics_and_leaves_the_counter() {
    let wg = WaitGroup::new();
    wg.add(2);
    let r = panic::catch_unwind(AssertUnwindSafe(|| wg.add(usize::MAX)));
    assert_eq!(
        payload_str(&*r.unwrap_err()),
        Some("sync: WaitGroup counter overflow")
    );
    assert_eq!(wg.count(), 2);
    wg.done();
    wg.done();
    wg.wait();
}

#[test]
fn go_test_wait_group_race() {
    // No spurious wake-up: after Wait both increments are visible.
    for _ in 0..1000 {
        let wg = WaitGroup::new();
        let n = Arc::new(AtomicUsize::new(0));
        wg.add(2);
        for _ in 0..2 {
            let (wg, n) = (wg.clone(), n.clone());
            goro::go(move || {
                n.fetch_add(1, Ordering::SeqCst);
                wg.done();
            });
        }
        wg.wait();
        assert_eq!(n.load(Ordering::SeqCst), 2, "spurious wakeup from Wait");
    }
    // The same with the waiter a goroutine.
    goro::run(|| {
        for _ in 0..1000 {
            let wg = WaitGroup::new();
            let n = Arc::new(AtomicUsize::new(0));
            wg.add(2);
            for _ in 0..2 {
                let (wg, n) = (wg.clone(), n.clone());
                goro::go(move || {
                    n.fetch_add(1, Ordering::SeqCst);
                    wg.done();
                });
            }
            wg.wait();
            assert_eq!(n.load(Ordering::SeqCst), 2, "spurious wakeup from Wait");
        }
    });
}

#[test]
fn wait_group_go_runs_and_counts() {
    let wg = WaitGroup::new();
    let total = Arc::new(AtomicUsize::new(0));
    for i in 1..=100 {
        let total = total.clone();
        wg.go(move || {
            if i % 3 == 0 {
                goro::sleep(Duration::from_millis(1));
            }
            total.fetch_add(i, Ordering::SeqCst);
        });
    }
    wg.wait();
    assert_eq!(total.load(Ordering::SeqCst), 5050);
    assert_eq!(wg.count(), 0);

    // A goroutine started by `go` may itself call `go` (Go's documented case).
    let wg = WaitGroup::new();
    let total = Arc::new(AtomicUsize::new(0));
    goro::run({
        let (wg, total) = (wg.clone(), total.clone());
        move || {
            let inner = wg.clone();
            wg.go(move || {
                for _ in 0..10 {
                    let t = total.clone();
                    inner.go(move || {
                        t.fetch_add(1, Ordering::SeqCst);
                    });
                }
            });
            wg.wait();
        }
    });
    assert_eq!(total.load(Ordering::SeqCst), 10);
    assert_eq!(wg.count(), 0);
}

#[test]
fn zero_counter_wait_returns_at_once() {
    let wg = WaitGroup::new();
    assert_eq!(wg.count(), 0);
    wg.wait();
    WaitGroup::default().wait();
    goro::go(|| {
        let wg = WaitGroup::new();
        for _ in 0..1000 {
            wg.wait();
        }
    })
    .join()
    .unwrap();
    // Once it is back at zero too.
    wg.add(3);
    wg.done();
    wg.done();
    wg.done();
    wg.wait();
    assert!(format!("{wg:?}").contains("count: 0"));
}

#[test]
fn waiters_on_threads_and_goroutines_at_once() {
    let gate = WaitGroup::new();
    gate.add(1);
    let waiting = WaitGroup::new();
    waiting.add(8 + 1000);
    let released = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (gate, waiting, released) = (gate.clone(), waiting.clone(), released.clone());
            std::thread::spawn(move || {
                waiting.done();
                gate.wait();
                released.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let goroutines: Vec<_> = (0..1000)
        .map(|_| {
            let (gate, waiting, released) = (gate.clone(), waiting.clone(), released.clone());
            goro::go(move || {
                waiting.done();
                gate.wait();
                released.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    waiting.wait();
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(released.load(Ordering::SeqCst), 0);
    gate.done();
    for t in threads {
        t.join().unwrap();
    }
    for g in goroutines {
        g.join().unwrap();
    }
    assert_eq!(released.load(Ordering::SeqCst), 1008);
}

#[test]
fn done_from_threads_wakes_goroutines_and_back() {
    // Counters lowered by plain threads, waited on by goroutines, and the other way round.
    for _ in 0..50 {
        let wg = WaitGroup::new();
        wg.add(4);
        let waiter = {
            let wg = wg.clone();
            goro::go(move || wg.wait())
        };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let wg = wg.clone();
                std::thread::spawn(move || wg.done())
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        waiter.join().unwrap();

        let wg = WaitGroup::new();
        for _ in 0..4 {
            wg.go(goro::yield_now);
        }
        let w2 = wg.clone();
        std::thread::spawn(move || w2.wait()).join().unwrap();
    }
}

#[test]
fn panic_in_wait_group_go_is_resumed_by_wait() {
    let _quiet = support::expect_panics();
    let wg = WaitGroup::new();
    let ran = Arc::new(AtomicUsize::new(0));
    for i in 0..10 {
        let ran = ran.clone();
        wg.go(move || {
            ran.fetch_add(1, Ordering::SeqCst);
            if i == 4 {
                panic!("task 4 failed");
            }
        });
    }
    let r = panic::catch_unwind(AssertUnwindSafe(|| wg.wait()));
    let payload = r.expect_err("wait must resume the panic");
    assert_eq!(payload_str(&*payload), Some("task 4 failed"));
    // Every task still ran and the counter reached zero.
    assert_eq!(ran.load(Ordering::SeqCst), 10);
    assert_eq!(wg.count(), 0);
    // The panic is resumed once.
    wg.wait();

    // A String payload, waited on from a goroutine.
    let e = goro::go(|| {
        let wg = WaitGroup::new();
        let what = std::hint::black_box(String::from("formatted task"));
        wg.go(move || panic!("{what} failed"));
        wg.wait();
    })
    .join()
    .unwrap_err();
    assert_eq!(e.panic_message(), Some("formatted task failed"));
    let payload = e.into_panic();
    assert_eq!(
        payload.downcast_ref::<String>().unwrap(),
        "formatted task failed"
    );
}

#[test]
fn many_rounds_of_reuse() {
    // One group reused for many rounds, each round's waiter a goroutine or a thread.
    let wg = WaitGroup::new();
    let total = Arc::new(AtomicUsize::new(0));
    for round in 0..200 {
        for _ in 0..10 {
            let total = total.clone();
            wg.go(move || {
                total.fetch_add(1, Ordering::SeqCst);
            });
        }
        if round % 2 == 0 {
            wg.wait();
        } else {
            let w = wg.clone();
            goro::go(move || w.wait()).join().unwrap();
        }
        assert_eq!(total.load(Ordering::SeqCst), (round + 1) * 10);
    }
}
