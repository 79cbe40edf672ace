//! Timers cost memory only while they are live (Go 1.23): a timer nobody can receive from,
//! a stopped one, and the deadline of a wait that ended early are freed promptly, so loops
//! that create them by the million stay flat.
//!
//! Each test runs a pattern `scaled(2_000_000)` times (`GORO_STRESS_SCALE`) and checks, every
//! `CHECK_EVERY` iterations, how many entries the runtime's timer set holds (live or dead),
//! failing as soon as that passes `MAX_ENTRIES`; at the end it also checks the growth of the
//! resident set size, with a generous bound, as a second measure that does not rely on the
//! runtime's own count. No timing is asserted: every timer here is an hour long, so none of
//! them can be freed by firing during the test.

use std::sync::Mutex;
use std::time::Duration;

use goro::chan;
use goro::context;
use goro::time::{self, Ticker, Timer};

mod support;

use support::scaled;

/// Far beyond the test: a timer that is freed was freed because it became unreachable.
const LONG: Duration = Duration::from_secs(3600);
/// Live timers are a handful per test; dead entries wait for a sweep, which runs once they
/// pass 1024 and outnumber the live ones.
const MAX_ENTRIES: usize = 10_000;
const CHECK_EVERY: usize = 10_000;
/// Growth of the resident set allowed over a whole test. Before timers were freed, 2M
/// `after` timers grew it by about 580 MB.
const MAX_RSS_GROWTH: usize = 256 << 20;

fn iterations() -> usize {
    scaled(2_000_000)
}

/// Runs `body(i)` for every iteration in a goroutine and checks the timer set and the
/// resident set size as described in the module docs. One test at a time: the timer set and
/// the resident set are the process's, and each test must see only its own.
fn assert_flat(what: &'static str, body: impl FnMut(usize) + Send + 'static) {
    static ALONE: Mutex<()> = Mutex::new(());
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    goro::run(move || {
        let mut body = body;
        let n = iterations();
        let before = support::rss_bytes();
        let mut most = 0;
        for i in 0..n {
            body(i);
            if i % CHECK_EVERY == CHECK_EVERY - 1 {
                let entries = goro::__private::timer_entries();
                most = most.max(entries);
                assert!(
                    entries < MAX_ENTRIES,
                    "{what}: {entries} timer entries after {} iterations",
                    i + 1
                );
            }
        }
        let grown = support::rss_bytes().saturating_sub(before);
        eprintln!("{what}: {n} iterations, at most {most} timer entries, RSS grew {grown} bytes");
        assert!(
            grown < MAX_RSS_GROWTH,
            "{what}: the resident set grew by {grown} bytes over {n} iterations"
        );
    });
}

#[test]
fn after_losing_a_select() {
    let (tx, rx) = chan::bounded(1);
    assert_flat("after losing a select", move |i| {
        tx.send(i).unwrap();
        goro::select! {
            recv(rx) -> v => assert_eq!(v, Ok(i)),
            recv(time::after(LONG)) -> _t => unreachable!("an hour-long timer fired"),
        }
    });
}

#[test]
fn timer_dropped_without_stop() {
    assert_flat("Timer dropped", |_| drop(Timer::new(LONG)));
}

#[test]
fn ticker_dropped_without_stop() {
    assert_flat("Ticker dropped", |_| drop(Ticker::new(LONG)));
}

#[test]
fn tick_receiver_dropped() {
    assert_flat("tick dropped", |_| drop(time::tick(LONG)));
}

#[test]
fn after_func_stopped() {
    assert_flat("after_func stopped", |_| {
        let t = time::after_func(LONG, || unreachable!("an hour-long timer fired"));
        assert!(t.stop());
    });
}

#[test]
fn timer_reset_repeatedly() {
    let t = Timer::new(LONG);
    assert_flat("Timer reset", move |_| {
        assert!(t.reset(LONG));
    });
}

#[test]
fn context_with_timeout_cancelled() {
    let parent = context::background();
    assert_flat("with_timeout cancelled", move |_| {
        let (ctx, cancel) = parent.with_timeout(LONG);
        cancel();
        assert!(ctx.err().is_some());
    });
}

/// A partner goroutine that does `op` each time it is asked through the returned channel,
/// once the asking goroutine is (most likely) parked in a timed wait.
fn partner(op: impl Fn(usize) + Send + 'static) -> chan::Sender<usize> {
    let (ask, asked) = chan::bounded::<usize>(0);
    goro::go(move || {
        for i in asked {
            op(i);
        }
    });
    ask
}

#[test]
fn recv_timeout_returning_early() {
    let (tx, rx) = chan::bounded::<usize>(0);
    let ask = partner(move |i| tx.send(i).unwrap());
    assert_flat("recv_timeout returning early", move |i| {
        ask.send(i).unwrap();
        assert_eq!(rx.recv_timeout(LONG), Ok(i));
    });
}

#[test]
fn send_timeout_returning_early() {
    let (tx, rx) = chan::bounded::<usize>(0);
    let ask = partner(move |i| assert_eq!(rx.recv(), Ok(i)));
    assert_flat("send_timeout returning early", move |i| {
        ask.send(i).unwrap();
        tx.send_timeout(i, LONG).unwrap();
    });
}

#[test]
fn select_with_a_timeout_losing() {
    let (tx, rx) = chan::bounded::<usize>(0);
    let ask = partner(move |i| tx.send(i).unwrap());
    assert_flat("select default(timeout) losing", move |i| {
        ask.send(i).unwrap();
        goro::select! {
            recv(rx) -> v => assert_eq!(v, Ok(i)),
            default(LONG) => unreachable!("an hour-long wait timed out"),
        }
    });
}

#[test]
fn dropped_timer_with_a_kept_receiver_still_fires() {
    // Only an unreachable timer is collected: a clone of its receiver keeps it.
    let rx = Timer::new(Duration::from_millis(5)).receiver().clone();
    rx.recv().unwrap();
    let rx = Ticker::new(Duration::from_millis(5)).receiver().clone();
    for _ in 0..3 {
        rx.recv().unwrap();
    }
    // Dropping the last receiver then stops the ticker.
    drop(rx);
}

#[test]
fn dropped_after_func_still_runs() {
    // Go runs an AfterFunc whose Timer is dropped: the runtime holds it until it fires.
    let (tx, rx) = chan::bounded(1);
    drop(time::after_func(Duration::from_millis(5), move || {
        let _ = tx.try_send(());
    }));
    rx.recv().unwrap();
}
