//! Spawning and joining goroutines: scale, every spawner/joiner combination, `JoinHandle`,
//! `Builder`, and the calls about the current goroutine.
//!
//! Go: `go f()` plus the `runtime` calls (`NumGoroutine`). Stress sizes are multiplied by
//! `GORO_STRESS_SCALE` (default 1).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use goro::sync::WaitGroup;

mod support;

use support::{child, eventually, scaled, stack_span, Tracked};

#[test]
fn one_million_goroutines_spawned_and_joined() {
    let n = scaled(1_000_000);
    let handles: Vec<_> = (0..n)
        .map(|i| goro::go(move || (i as u64) * 3 + 1))
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), (i as u64) * 3 + 1);
    }
}

fn skynet(num: u64, size: u64, div: u64) -> u64 {
    if size == 1 {
        return num;
    }
    let child = size / div;
    let handles: Vec<_> = (0..div)
        .map(|i| goro::go(move || skynet(num + i * child, child, div)))
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

#[test]
fn skynet_one_million_leaves() {
    // A 10-ary tree of goroutines, each joining its ten children: 1,111,111 goroutines.
    let leaves = if scaled(1_000_000) >= 1_000_000 {
        1_000_000
    } else {
        10_000
    };
    let sum = goro::run(move || skynet(0, leaves, 10));
    assert_eq!(sum, leaves * (leaves - 1) / 2);
    if leaves == 1_000_000 {
        assert_eq!(sum, 499_999_500_000);
    }
}

#[test]
fn hundred_thousand_goroutines_parked_on_one_gate() {
    let n = scaled(100_000);
    let gate = WaitGroup::new();
    gate.add(1);
    let arrived = WaitGroup::new();
    arrived.add(n);
    let passed = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (gate, arrived, passed) = (gate.clone(), arrived.clone(), passed.clone());
            goro::go(move || {
                arrived.done();
                gate.wait();
                passed.fetch_add(1, Ordering::Relaxed);
                i
            })
        })
        .collect();
    arrived.wait();
    // Every goroutine is in (or about to enter) `gate.wait()`; none may pass a closed gate.
    assert_eq!(passed.load(Ordering::Relaxed), 0);
    assert!(handles.iter().all(|h| !h.is_finished()));
    gate.done();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), i);
    }
    assert_eq!(passed.load(Ordering::Relaxed), n);
}

#[test]
fn hundred_thousand_goroutines_parked_in_join() {
    // Half the goroutines wait on a gate, the other half each join one of them.
    let n = scaled(50_000);
    let gate = WaitGroup::new();
    gate.add(1);
    let arrived = WaitGroup::new();
    arrived.add(n);
    let outer: Vec<_> = (0..n)
        .map(|i| {
            let (gate, arrived) = (gate.clone(), arrived.clone());
            goro::go(move || {
                let inner = goro::go(move || {
                    arrived.done();
                    gate.wait();
                    i * 2
                });
                inner.join().unwrap() + 1
            })
        })
        .collect();
    arrived.wait();
    assert!(outer.iter().all(|h| !h.is_finished()));
    gate.done();
    for (i, h) in outer.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), i * 2 + 1);
    }
}

#[test]
fn thread_spawns_goroutine_and_joins_it() {
    assert!(!goro::in_goroutine());
    let h = goro::go(|| String::from("from a goroutine"));
    assert_eq!(h.join().unwrap(), "from a goroutine");
    // A goroutine that parks before finishing, so the thread really blocks in `join`.
    let h = goro::go(|| {
        goro::sleep(Duration::from_millis(5));
        vec![1, 2, 3]
    });
    assert_eq!(h.join().unwrap(), vec![1, 2, 3]);
}

#[test]
fn goroutine_spawns_goroutine_and_joins_it() {
    let total = goro::run(|| {
        let handles: Vec<_> = (0..100u64)
            .map(|i| {
                goro::go(move || {
                    if i % 2 == 0 {
                        goro::yield_now();
                    }
                    i
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
    });
    assert_eq!(total, 4950);
}

#[test]
fn goroutine_joined_by_a_goroutine_other_than_its_spawner() {
    for _ in 0..100 {
        let gate = WaitGroup::new();
        gate.add(1);
        let g2 = gate.clone();
        // A spawns B and hands B's handle out without joining it.
        let b = goro::go(move || {
            goro::go(move || {
                g2.wait();
                42
            })
        })
        .join()
        .unwrap();
        // C joins B while B is still parked on the gate.
        let c = goro::go(move || b.join().unwrap() + 1);
        gate.done();
        assert_eq!(c.join().unwrap(), 43);
    }
}

#[test]
fn plain_threads_join_goroutines_spawned_by_goroutines() {
    let gate = WaitGroup::new();
    gate.add(1);
    let g2 = gate.clone();
    let handles: Vec<goro::JoinHandle<usize>> = goro::go(move || {
        (0..64)
            .map(|i| {
                let g = g2.clone();
                goro::go(move || {
                    g.wait();
                    i * i
                })
            })
            .collect()
    })
    .join()
    .unwrap();
    let threads: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(i, h)| std::thread::spawn(move || (i, h.join().unwrap())))
        .collect();
    gate.done();
    for t in threads {
        let (i, v) = t.join().unwrap();
        assert_eq!(v, i * i);
    }
}

#[test]
fn plain_thread_started_by_a_goroutine_spawns_and_joins() {
    let v = goro::run(|| {
        let t = std::thread::spawn(|| {
            assert!(!goro::in_goroutine());
            goro::go(goro::in_goroutine).join().unwrap()
        });
        // Park the goroutine on the thread's result by polling with sleeps (no channels).
        while !t.is_finished() {
            goro::sleep(Duration::from_millis(1));
        }
        t.join().unwrap()
    });
    assert!(v);
}

#[test]
fn nested_run() {
    let v = goro::run(|| {
        assert!(goro::in_goroutine());
        let outer = goro::current_id().unwrap();
        goro::run(move || {
            let inner = goro::current_id().unwrap();
            assert_ne!(inner, outer);
            goro::run(|| goro::go(|| 5).join().unwrap()) * 2
        }) + 1
    });
    assert_eq!(v, 11);
}

#[test]
fn run_from_several_threads_at_once() {
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            std::thread::spawn(move || {
                goro::run(move || {
                    let handles: Vec<_> = (0..1000u64).map(|i| goro::go(move || t * i)).collect();
                    handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
                })
            })
        })
        .collect();
    for (t, th) in threads.into_iter().enumerate() {
        assert_eq!(th.join().unwrap(), t as u64 * 499_500);
    }
}

#[test]
fn is_finished_tracks_completion() {
    let _quiet = support::expect_panics();
    let gate = WaitGroup::new();
    gate.add(1);
    let g2 = gate.clone();
    let h = goro::go(move || {
        g2.wait();
        7
    });
    assert!(!h.is_finished());
    goro::sleep(Duration::from_millis(10));
    assert!(!h.is_finished(), "finished while its gate is closed");
    gate.done();
    eventually("is_finished after the gate opened", || h.is_finished());
    assert!(h.is_finished());
    assert_eq!(h.join().unwrap(), 7);

    let h = goro::go(|| panic!("is_finished after a panic"));
    eventually("is_finished after a panic", || h.is_finished());
    assert!(h.join().is_err());
}

#[test]
fn ids_are_unique_and_match_current_id() {
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                let handles: Vec<_> = (0..2500)
                    .map(|_| {
                        goro::go(|| {
                            let me = goro::current_id().unwrap();
                            let child = goro::go(goro::current_id);
                            let child_id = child.id();
                            let seen = child.join().unwrap().unwrap();
                            assert_eq!(seen, child_id);
                            (me, child_id)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| {
                        let id = h.id();
                        let (me, child) = h.join().unwrap();
                        assert_eq!(me, id);
                        [me, child]
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = HashSet::new();
    for t in threads {
        for id in t.join().unwrap() {
            assert!(all.insert(id), "goroutine id {id} seen twice");
            assert_eq!(id.to_string(), id.as_u64().to_string());
        }
    }
    assert_eq!(all.len(), 4 * 2500 * 2);
}

#[test]
fn current_id_and_in_goroutine() {
    assert_eq!(goro::current_id(), None);
    assert!(!goro::in_goroutine());
    let h = goro::go(|| (goro::in_goroutine(), goro::current_id()));
    let id = h.id();
    let (inside, cur) = h.join().unwrap();
    assert!(inside);
    assert_eq!(cur, Some(id));
    // A plain thread started by a goroutine is not a goroutine.
    let on_thread = goro::go(|| {
        std::thread::spawn(|| (goro::in_goroutine(), goro::current_id()))
            .join()
            .unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(on_thread, (false, None));
    assert!(!goro::in_goroutine());
}

#[test]
fn builder_names_goroutines() {
    let _quiet = support::expect_panics();
    let h = goro::Builder::new()
        .name("worker-7")
        .spawn(|| "named")
        .unwrap();
    assert_eq!(h.name(), Some("worker-7"));
    assert!(format!("{h:?}").contains("worker-7"));
    assert_eq!(h.join().unwrap(), "named");

    let h = goro::go(|| ());
    assert_eq!(h.name(), None);
    h.join().unwrap();

    let h = goro::Builder::new()
        .name(String::from("owned name"))
        .spawn(|| panic!("named panic"))
        .unwrap();
    let id = h.id();
    let e = h.join().unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("goroutine {id} (owned name) panicked: named panic")
    );
}

#[test]
fn builder_stack_size_allows_deep_recursion() {
    let h = goro::Builder::new()
        .name("deep")
        .stack_size(8 << 20)
        .spawn(|| stack_span(1024))
        .unwrap();
    assert_eq!(h.name(), Some("deep"));
    let used = h.join().unwrap();
    // The recursion really needed more than the default 256 KiB.
    assert!(used > 1 << 20, "only {used} bytes of stack used");

    // Several big-stack goroutines at once, from a goroutine.
    let spans = goro::run(|| {
        let hs: Vec<_> = (0..8)
            .map(|_| {
                goro::Builder::new()
                    .stack_size(2 << 20)
                    .spawn(|| {
                        goro::yield_now();
                        stack_span(300)
                    })
                    .unwrap()
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert!(spans.iter().all(|&s| s > 256 << 10));
}

#[test]
fn builder_small_stack_size_uses_default_stack() {
    // Sizes at or below the default get a pooled (default-size) stack: 100 KiB of recursion
    // fits although only 16 KiB were asked for.
    let used = goro::Builder::new()
        .stack_size(16 * 1024)
        .spawn(|| stack_span(25))
        .unwrap()
        .join()
        .unwrap();
    assert!(used > 100 << 10);
}

#[test]
fn num_goroutine_returns_to_its_start() {
    const TEST: &str = "num_goroutine_returns_to_its_start";
    if child::is_child(TEST) {
        let base = goro::num_goroutine();
        assert_eq!(base, 0, "a fresh process has no goroutines");
        let gate = WaitGroup::new();
        gate.add(1);
        let handles: Vec<_> = (0..1000)
            .map(|_| {
                let g = gate.clone();
                goro::go(move || g.wait())
            })
            .collect();
        assert_eq!(goro::num_goroutine(), base + 1000);
        // Counted from inside, the asking goroutine counts too.
        assert_eq!(goro::go(goro::num_goroutine).join().unwrap(), base + 1001);
        gate.done();
        let mut left = 1000;
        for h in handles {
            h.join().unwrap();
            left -= 1;
            // A goroutine stops counting before its join returns.
            assert!(goro::num_goroutine() <= base + left);
        }
        assert_eq!(goro::num_goroutine(), base);
        // Panicking goroutines stop counting too.
        for _ in 0..10 {
            assert!(goro::go(|| panic!("counted panic")).join().is_err());
        }
        assert_eq!(goro::num_goroutine(), base);
        // So do goroutines joined by other goroutines, and nested runs.
        goro::run(|| {
            let hs: Vec<_> = (0..100).map(|i| goro::go(move || i)).collect();
            for h in hs {
                h.join().unwrap();
            }
            assert_eq!(goro::num_goroutine(), 1);
        });
        assert_eq!(goro::num_goroutine(), base);
        return;
    }
    child::run_ok(TEST, &[]);
}

#[test]
fn many_spawners_share_one_counter() {
    // Goroutines and threads spawn into the same runtime; every result arrives exactly once.
    let sum = Arc::new(Mutex::new(0u64));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let sum = sum.clone();
            std::thread::spawn(move || {
                let hs: Vec<_> = (0..5000u64)
                    .map(|i| goro::go(move || t * 5000 + i))
                    .collect();
                let s: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
                *sum.lock().unwrap() += s;
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let n = 4 * 5000u64;
    assert_eq!(*sum.lock().unwrap(), n * (n - 1) / 2);
}

#[test]
fn closures_and_results_are_dropped() {
    let _quiet = support::expect_panics();
    let live = Arc::new(AtomicUsize::new(0));
    // Joined: the closure's captures are gone by the time join returns, and the result is
    // handed over (and dropped by the caller).
    for _ in 0..100 {
        let captured = Tracked::new(&live);
        let l = live.clone();
        let h = goro::go(move || {
            let _c = captured;
            Tracked::new(&l)
        });
        let result = h.join().unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 1);
        drop(result);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    }
    // A goroutine that never runs its closure to the end (it panics) drops its captures.
    let captured = Tracked::new(&live);
    let h = goro::go(move || {
        let _c = captured;
        panic!("dropping captures on panic");
    });
    assert!(h.join().is_err());
    assert_eq!(live.load(Ordering::SeqCst), 0);
    // Detached goroutines: captures and results are dropped once they finish.
    let gate = WaitGroup::new();
    gate.add(1);
    for _ in 0..1000 {
        let captured = Tracked::new(&live);
        let (l, g) = (live.clone(), gate.clone());
        drop(goro::go(move || {
            g.wait();
            let _c = captured;
            Tracked::new(&l)
        }));
    }
    assert_eq!(live.load(Ordering::SeqCst), 1000);
    gate.done();
    eventually(
        "detached goroutines dropped their captures and results",
        || live.load(Ordering::SeqCst) == 0,
    );
    // A result never joined although the handle is kept until after the goroutine ended.
    let l = live.clone();
    let h = goro::go(move || Tracked::new(&l));
    eventually("the goroutine finished", || h.is_finished());
    assert_eq!(live.load(Ordering::SeqCst), 1);
    drop(h);
    // The worker may still hold the finished goroutine for a moment.
    eventually("an unjoined result was dropped with its handle", || {
        live.load(Ordering::SeqCst) == 0
    });
}

/// `join_timeout` gives `None` while the goroutine runs (the handle stays usable), then its
/// result; `join_deadline` likewise; a plain `join` after a timed-out wait still gets the
/// result (it waits through the waker the timed wait registered). From a goroutine and
/// from a thread.
#[test]
fn join_timeout_both_ways() {
    let _quiet = support::expect_panics();
    fn check() {
        let (tx, rx) = goro::chan::bounded::<()>(0);
        let mut h = goro::go(move || rx.recv().map(|()| 7));
        assert!(h.join_timeout(Duration::from_millis(5)).is_none());
        assert!(h
            .join_deadline(std::time::Instant::now() + Duration::from_millis(5))
            .is_none());
        assert!(!h.is_finished());
        tx.send(()).unwrap();
        let got = h.join_timeout(Duration::from_secs(60));
        assert_eq!(got.unwrap().unwrap(), Ok(7));

        // A timed-out wait, then a plain join.
        let (tx, rx) = goro::chan::bounded::<()>(0);
        let mut h = goro::go(move || rx.recv().is_ok());
        assert!(h.join_timeout(Duration::from_millis(1)).is_none());
        goro::go(move || tx.send(()).unwrap());
        assert!(h.join().unwrap());

        // A panic comes back through a timed join as through `join`.
        let mut h = goro::go(|| -> u8 { panic!("expected panic, joined with a timeout") });
        let err = h
            .join_timeout(Duration::from_secs(60))
            .unwrap()
            .unwrap_err();
        assert_eq!(
            err.panic_message(),
            Some("expected panic, joined with a timeout")
        );
    }
    check();
    goro::go(check).join().unwrap();
}

/// A handle whose result a timed join took cannot be joined again: that is a clear panic,
/// not a second read of the result.
#[test]
fn joining_twice_panics_clearly() {
    let mut h = goro::go(|| String::from("once"));
    assert_eq!(
        h.join_timeout(Duration::from_secs(60)).unwrap().unwrap(),
        "once"
    );
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h.join()));
    let msg = support::payload_str(&*r.unwrap_err()).unwrap().to_owned();
    assert!(msg.contains("after its result was taken"), "{msg}");
}
