//! goro's race detector (ThreadSanitizer through goroutine switches) catches a planted race
//! and stays quiet about the same accesses under a goro `Mutex`.
//!
//! This file is compiled only when the crate is built with `-Zsanitizer=thread` (`cfg(goro_tsan)`
//! comes from `build.rs`); a normal build has nothing to run here, since without the
//! sanitizer no race can be reported. The command is in the README ("Race detector"):
//!
//! ```text
//! RUSTFLAGS="-Zsanitizer=thread" cargo +nightly test -Zbuild-std \
//!     --target x86_64-unknown-linux-gnu --release --test race_detector
//! ```
//!
//! Each program runs in a child process (see `support::child`), so that the report of the
//! planted race, and the sanitizer's exit status, belong to the child alone.
#![cfg(goro_tsan)]

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::chan;
use goro::sync::{Mutex, WaitGroup};

mod support;

use support::child;

/// Exit status of a process in which ThreadSanitizer reported something (its default).
const TSAN_EXIT: i32 = 66;
const RACE: &str = "WARNING: ThreadSanitizer: data race";

/// A counter two goroutines write with no synchronisation: the planted race.
struct Unsynchronised(UnsafeCell<u64>);

// SAFETY: none; this is deliberately wrong, it is the data race the test plants. It exists
// only in this file, which is compiled only under ThreadSanitizer.
unsafe impl Sync for Unsynchronised {}

/// Waits until `n` goroutines have arrived, with no happens-before edge between them
/// (Relaxed), so that what each does next is concurrent in ThreadSanitizer's eyes. It
/// busy-waits so the goroutines meet on different workers; if they share one worker, it
/// yields after a while so the other can arrive (that round then proves nothing: a switch
/// through the worker orders them).
fn meet(arrived: &AtomicUsize, n: usize) {
    arrived.fetch_add(1, Ordering::Relaxed);
    let start = Instant::now();
    while arrived.load(Ordering::Relaxed) < n {
        if start.elapsed() > Duration::from_millis(50) {
            goro::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Two goroutines park on a channel (so each has switched out and in again, maybe on
/// another worker), meet, then increment the same plain `u64`.
#[inline(never)]
fn racing_increments(counter: &Unsynchronised, arrived: &AtomicUsize) {
    meet(arrived, 2);
    for _ in 0..1_000 {
        let p = counter.0.get();
        // SAFETY: none: this is the planted race (see `Unsynchronised`).
        unsafe { p.write_volatile(p.read_volatile() + 1) };
    }
}

#[test]
fn planted_race_is_reported() {
    const TEST: &str = "planted_race_is_reported";
    if child::is_child(TEST) {
        goro::run(|| {
            // Rounds until the two goroutines once ran at the same time on two workers;
            // ThreadSanitizer reports the race the first time and stays silent after.
            for _ in 0..20 {
                let counter = Arc::new(Unsynchronised(UnsafeCell::new(0)));
                let arrived = Arc::new(AtomicUsize::new(0));
                let (tx, rx) = chan::bounded::<()>(0);
                let wg = WaitGroup::new();
                for _ in 0..2 {
                    let (counter, arrived, rx) = (counter.clone(), arrived.clone(), rx.clone());
                    wg.go(move || {
                        rx.recv().unwrap();
                        racing_increments(&counter, &arrived);
                    });
                }
                tx.send(()).unwrap();
                tx.send(()).unwrap();
                wg.wait();
            }
        });
        return;
    }
    let out = child::run(TEST, &[("GORO_MAXPROCS", "2")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(RACE) && err.contains("race_detector::racing_increments"),
        "no race reported in the racing goroutines:\n{}",
        child::describe(&out)
    );
    // The fibers carry the goroutines' names.
    assert!(
        err.contains("'goroutine "),
        "the report does not name the goroutine:\n{}",
        child::describe(&out)
    );
    assert_eq!(
        out.status.code(),
        Some(TSAN_EXIT),
        "{}",
        child::describe(&out)
    );
}

/// The same increments under a goro `Mutex`, with the lock handed between goroutines
/// parked on it: no report, so the switches and goro's own synchronisation give
/// ThreadSanitizer no false race.
#[test]
fn mutex_protected_increments_are_not_reported() {
    const TEST: &str = "mutex_protected_increments_are_not_reported";
    if child::is_child(TEST) {
        goro::run(|| {
            let counter = Arc::new(Mutex::new(0u64));
            let arrived = Arc::new(AtomicUsize::new(0));
            let wg = WaitGroup::new();
            for _ in 0..4 {
                let (counter, arrived) = (counter.clone(), arrived.clone());
                wg.go(move || {
                    meet(&arrived, 4);
                    for _ in 0..1_000 {
                        *counter.lock() += 1;
                    }
                });
            }
            wg.wait();
            assert_eq!(*counter.lock(), 4_000);
        });
        return;
    }
    let out = child::run(TEST, &[("GORO_MAXPROCS", "2")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("ThreadSanitizer"),
        "a false report:\n{}",
        child::describe(&out)
    );
    assert!(out.status.success(), "{}", child::describe(&out));
}
