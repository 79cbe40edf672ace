//! Runtime configuration: `GORO_MAXPROCS`, `RuntimeBuilder`, `Builder::stack_size` limits.
//!
//! Go: `GOMAXPROCS`. Everything that needs a runtime not yet started runs in a child process.

use std::io;
use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::{InitError, RuntimeBuilder};

mod support;

use support::{child, payload_str, stack_span};

/// Whether `msg` has `word` as a whole word (or quoted).
fn has_word(msg: &str, word: &str) -> bool {
    msg.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| w == word)
}

/// In a child with a bad `GORO_MAXPROCS`: the first `go` panics naming the variable and the
/// value, and so does the next one (the runtime did not half-start).
fn bad_maxprocs_child(value: &str) {
    for _ in 0..2 {
        let r = panic::catch_unwind(|| goro::go(|| ()));
        let payload = r.expect_err("goro::go with a bad GORO_MAXPROCS must panic");
        let msg = payload_str(&*payload).expect("a string panic message");
        assert!(msg.contains("GORO_MAXPROCS"), "{msg}");
        assert!(has_word(msg, value), "{msg} does not name {value:?}");
    }
}

#[test]
fn maxprocs_zero_panics_at_first_use() {
    const TEST: &str = "maxprocs_zero_panics_at_first_use";
    if child::is_child(TEST) {
        bad_maxprocs_child("0");
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "0")]);
}

#[test]
fn maxprocs_not_a_number_panics_at_first_use() {
    const TEST: &str = "maxprocs_not_a_number_panics_at_first_use";
    if child::is_child(TEST) {
        bad_maxprocs_child("abc");
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "abc")]);
}

#[test]
fn maxprocs_absurd_panics_at_first_use() {
    const TEST: &str = "maxprocs_absurd_panics_at_first_use";
    if child::is_child(TEST) {
        bad_maxprocs_child("1000000");
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1000000")]);
}

#[test]
fn maxprocs_from_the_environment() {
    const TEST: &str = "maxprocs_from_the_environment";
    if child::is_child(TEST) {
        assert_eq!(goro::maxprocs(), 3);
        // Three goroutines that never yield meet at a spinning barrier: only possible if
        // three workers run them at once.
        let arrived = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let arrived = arrived.clone();
                goro::go(move || {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    let start = Instant::now();
                    while arrived.load(Ordering::SeqCst) < 3 {
                        if start.elapsed() > Duration::from_secs(30) {
                            return false;
                        }
                        std::hint::spin_loop();
                    }
                    true
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap(), "three workers did not run at once");
        }
        // Only those three threads run goroutines.
        let names: std::collections::HashSet<String> = (0..300)
            .map(|_| {
                goro::go(|| {
                    goro::yield_now();
                    std::thread::current().name().unwrap_or("").to_owned()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert!(names.len() <= 3, "{names:?}");
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "3")]);
}

#[test]
fn maxprocs_defaults_to_available_parallelism() {
    const TEST: &str = "maxprocs_defaults_to_available_parallelism";
    if child::is_child(TEST) {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(goro::maxprocs(), cpus);
        return;
    }
    child::run_ok(TEST, &[]);
}

#[test]
fn stack_size_below_the_minimum_is_refused() {
    let err = goro::Builder::new()
        .stack_size(1024)
        .spawn(|| ())
        .expect_err("a 1 KiB stack must be refused");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("minimum"), "{err}");

    let err = goro::Builder::new()
        .stack_size(0)
        .spawn(|| ())
        .expect_err("a zero stack must be refused");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);

    let err = goro::Builder::new()
        .stack_size(usize::MAX)
        .spawn(|| ())
        .expect_err("an absurd stack must be refused");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);

    // The documented minimum itself is fine.
    let h = goro::Builder::new()
        .stack_size(16 * 1024)
        .spawn(|| 3)
        .unwrap();
    assert_eq!(h.join().unwrap(), 3);
}

#[test]
fn runtime_builder_refuses_bad_settings() {
    // Validation comes before the already-started check: these fail the same way whether or
    // not the runtime runs.
    match RuntimeBuilder::new().maxprocs(0).init() {
        Err(InitError::Invalid(msg)) => assert!(msg.contains("maxprocs"), "{msg}"),
        other => panic!("maxprocs(0): {other:?}"),
    }
    match RuntimeBuilder::new().maxprocs(1_000_000).init() {
        Err(InitError::Invalid(msg)) => assert!(msg.contains("maxprocs"), "{msg}"),
        other => panic!("maxprocs(1_000_000): {other:?}"),
    }
    match RuntimeBuilder::new().maxprocs(1).stack_size(1024).init() {
        Err(InitError::Invalid(msg)) => assert!(msg.contains("minimum"), "{msg}"),
        other => panic!("stack_size(1024): {other:?}"),
    }
    // Display shows the message; InitError is an Error.
    let e = RuntimeBuilder::new().maxprocs(0).init().unwrap_err();
    let InitError::Invalid(msg) = &e else {
        unreachable!()
    };
    assert_eq!(&e.to_string(), msg);
    let _: &dyn std::error::Error = &e;
}

#[test]
fn runtime_builder_after_start_is_refused() {
    goro::go(|| ()).join().unwrap();
    let e = RuntimeBuilder::new().maxprocs(2).init().unwrap_err();
    assert_eq!(e, InitError::AlreadyStarted);
    assert!(e.to_string().contains("already"), "{e}");
    assert_eq!(RuntimeBuilder::new().init(), Err(InitError::AlreadyStarted));
    // The runtime is untouched.
    assert_eq!(goro::go(|| 9).join().unwrap(), 9);
}

#[test]
fn runtime_builder_sets_maxprocs_in_a_fresh_process() {
    const TEST: &str = "runtime_builder_sets_maxprocs_in_a_fresh_process";
    if child::is_child(TEST) {
        // The builder overrides GORO_MAXPROCS (which is not even valid here).
        assert_eq!(RuntimeBuilder::new().maxprocs(2).init(), Ok(()));
        assert_eq!(goro::maxprocs(), 2);
        assert_eq!(
            RuntimeBuilder::new().maxprocs(4).init(),
            Err(InitError::AlreadyStarted)
        );
        assert_eq!(goro::maxprocs(), 2);
        assert_eq!(goro::go(|| 6 * 7).join().unwrap(), 42);
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "abc")]);
}

#[test]
fn runtime_builder_sets_the_default_stack_size() {
    const TEST: &str = "runtime_builder_sets_the_default_stack_size";
    if child::is_child(TEST) {
        assert_eq!(
            RuntimeBuilder::new().maxprocs(2).stack_size(2 << 20).init(),
            Ok(())
        );
        // Every goroutine now has 2 MiB: 1 MiB of recursion fits without a Builder.
        let spans: Vec<usize> = (0..16)
            .map(|_| goro::go(|| stack_span(256)))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert!(spans.iter().all(|&s| s > 1 << 20), "{spans:?}");
        return;
    }
    child::run_ok(TEST, &[]);
}

#[test]
fn runtime_builder_reports_a_bad_environment_as_an_error() {
    const TEST: &str = "runtime_builder_reports_a_bad_environment_as_an_error";
    if child::is_child(TEST) {
        // `init` documents `InitError::Invalid` for a zero worker count; with the count taken
        // from the environment, that is still an error to return, not a panic.
        let r = panic::catch_unwind(|| RuntimeBuilder::new().init());
        match r {
            Ok(Err(InitError::Invalid(msg))) => assert!(msg.contains("GORO_MAXPROCS"), "{msg}"),
            Ok(other) => panic!("RuntimeBuilder::new().init() with GORO_MAXPROCS=0: {other:?}"),
            Err(p) => panic!(
                "RuntimeBuilder::new().init() with GORO_MAXPROCS=0 panicked instead of \
                 returning InitError::Invalid: {:?}",
                payload_str(&*p)
            ),
        }
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "0")]);
}

#[test]
fn first_use_from_many_threads_at_once() {
    const TEST: &str = "first_use_from_many_threads_at_once";
    if child::is_child(TEST) {
        // The lazily started runtime is started once, whoever gets there first.
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8u64)
            .map(|t| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    let hs: Vec<_> = (0..100u64).map(|i| goro::go(move || t * i)).collect();
                    hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
                })
            })
            .collect();
        for (t, th) in threads.into_iter().enumerate() {
            assert_eq!(th.join().unwrap(), t as u64 * 4950);
        }
        assert_eq!(goro::maxprocs(), 2);
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "2")]);
}

#[test]
fn runtime_builder_races_start_once() {
    const TEST: &str = "runtime_builder_races_start_once";
    if child::is_child(TEST) {
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    (i + 1, RuntimeBuilder::new().maxprocs(i + 1).init())
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let winners: Vec<usize> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|&(n, _)| n)
            .collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        assert!(results
            .iter()
            .all(|(_, r)| r.is_ok() || *r == Err(InitError::AlreadyStarted)));
        // The winner's setting is the one in force.
        assert_eq!(goro::maxprocs(), winners[0]);
        assert_eq!(goro::go(|| 1).join().unwrap(), 1);
        return;
    }
    child::run_ok(TEST, &[]);
}
