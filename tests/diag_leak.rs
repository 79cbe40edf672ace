//! The leak check (`goro::leak`): goroutines a test started and left waiting are reported
//! with their dump; those on their way out, and other tests' goroutines, are not.

use std::time::Duration;

use goro::chan;
use goro::diag::{GoroutineState, WaitReason};

/// Waits until the goroutine named `name` waits (the check describes waiting goroutines;
/// one not started yet is only counted).
fn until_waiting(name: &str) {
    while !goro::goroutines()
        .iter()
        .any(|g| g.name.as_deref() == Some(name) && matches!(g.state, GoroutineState::Waiting(_)))
    {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_test_that_cleans_up_passes() {
    let guard = goro::leak::guard();
    let (tx, rx) = chan::bounded::<u32>(0);
    let h = goro::go(move || rx.recv());
    tx.send(5).unwrap();
    assert_eq!(h.join().unwrap(), Ok(5));
    guard.check().unwrap();
}

#[test]
fn a_goroutine_left_waiting_is_reported_with_its_dump() {
    let guard = goro::leak::guard();
    let (tx, rx) = chan::bounded::<u32>(0);
    goro::Builder::new()
        .name("forgotten")
        .spawn(move || rx.recv())
        .unwrap();
    until_waiting("forgotten");
    let leaked = guard.check_within(Duration::from_millis(200)).unwrap_err();
    assert_eq!(leaked.goroutines.len(), 1, "{leaked}");
    let g = &leaked.goroutines[0];
    assert_eq!(g.name.as_deref(), Some("forgotten"));
    assert_eq!(g.state, GoroutineState::Waiting(WaitReason::ChanReceive));
    let text = leaked.to_string();
    assert!(text.contains("1 goroutine leaked"), "{text}");
    assert!(text.contains(r#""forgotten" [chan receive]:"#), "{text}");
    assert!(
        text.contains(&format!("created by a thread at {}:", file!())),
        "{text}"
    );
    drop(tx); // let it go
}

#[test]
fn goroutines_started_by_goroutines_of_the_test_count_too() {
    let guard = goro::leak::guard();
    let (tx, rx) = chan::bounded::<u32>(0);
    goro::go(move || {
        goro::Builder::new()
            .name("grandchild")
            .spawn(move || rx.recv())
            .unwrap();
    })
    .join()
    .unwrap();
    until_waiting("grandchild");
    let leaked = guard.check_within(Duration::from_millis(200)).unwrap_err();
    let names: Vec<_> = leaked.goroutines.iter().map(|g| g.name.clone()).collect();
    assert_eq!(names, [Some("grandchild".to_string())], "{leaked}");
    drop(tx);
}

#[test]
fn goroutines_on_their_way_out_are_given_time() {
    let guard = goro::leak::guard();
    for _ in 0..10 {
        goro::go(|| goro::sleep(Duration::from_millis(20)));
    }
    guard.check().unwrap();
}

#[test]
fn other_tests_goroutines_are_not_counted() {
    // Another thread (as another test would be) leaves a goroutine waiting while this one
    // checks.
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (tx, rx) = chan::bounded::<u32>(0);
    let other = std::thread::spawn(move || {
        let guard = goro::leak::guard();
        goro::go(move || rx.recv());
        started_tx.send(()).unwrap();
        guard.check_within(Duration::from_millis(300))
    });
    started_rx.recv().unwrap();
    let guard = goro::leak::guard();
    goro::go(|| 1).join().unwrap();
    guard.check().unwrap();
    assert!(other.join().unwrap().is_err(), "the other scope leaked one");
    drop(tx);
}

#[test]
fn a_guard_taken_in_a_goroutine_sees_what_it_starts() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let result = goro::go(move || {
        let guard = goro::leak::guard();
        goro::go(move || rx.recv());
        guard.check_within(Duration::from_millis(200))
    })
    .join()
    .unwrap();
    let leaked = result.unwrap_err();
    assert_eq!(leaked.goroutines.len() + leaked.not_waiting, 1, "{leaked}");
    drop(tx);
}

#[test]
#[should_panic(expected = "1 goroutine leaked")]
fn dropping_a_guard_panics_on_a_leak() {
    let (tx, rx) = chan::bounded::<u32>(0);
    std::mem::forget(tx);
    let _guard = goro::leak::guard();
    goro::go(move || rx.recv());
}
