//! `goro::pattern`: what each function yields, in what order, with how much concurrency, and
//! when its outputs close; pipelines passing on errors, cancellation and panics.
//! (Goroutine leaks on early stops are checked in `pattern_leak.rs`.)

use std::collections::HashSet;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan::{self, RecvTimeoutError};
use goro::context::{self, ContextError};
use goro::pattern::{fan_out, generate, map_ordered, merge, or_done, tee, Pipeline};

mod support;

use support::payload_str;

/// A liveness bound: long enough that a correct implementation never hits it.
const LIVENESS: Duration = Duration::from_secs(10);

/// Counts the calls of a function running at once, and the most seen.
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl InFlight {
    fn enter(&self) -> usize {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        now
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

/// An error type for pipelines, with the variant for a stage stopped by its context.
#[derive(Debug, PartialEq)]
enum StageError {
    Bad(u64),
    Ctx(ContextError),
}

impl fmt::Display for StageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StageError::Bad(v) => write!(f, "bad value {v}"),
            StageError::Ctx(e) => write!(f, "stopped: {e}"),
        }
    }
}

impl From<ContextError> for StageError {
    fn from(e: ContextError) -> StageError {
        StageError::Ctx(e)
    }
}

// ---- generate ----

#[test]
fn generate_yields_every_item_in_order_then_closes() {
    let rx = generate(vec![String::from("a"), "b".into(), "c".into()]);
    assert_eq!(rx.iter().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert!(rx.recv().is_err());
    assert!(rx.is_closed());
}

#[test]
fn generate_of_nothing_is_closed_at_once() {
    let rx = generate(std::iter::empty::<u8>());
    assert_eq!(rx.recv_timeout(LIVENESS), Err(RecvTimeoutError::Closed));
}

// ---- merge ----

/// Values of 8 inputs: each exactly once, and each input's values in their order.
#[goro::test]
fn merge_delivers_every_value_once_keeping_each_inputs_order() {
    const INPUTS: u64 = 8;
    const EACH: u64 = 10_000;
    let inputs = (0..INPUTS).map(|i| generate((0..EACH).map(move |s| (i, s))));
    let mut next = vec![0; INPUTS as usize];
    let mut count = 0;
    for (i, s) in &merge(inputs) {
        assert_eq!(s, next[i as usize], "input {i} out of order");
        next[i as usize] += 1;
        count += 1;
    }
    assert_eq!(count, INPUTS * EACH);
    assert!(next.iter().all(|&n| n == EACH));
}

#[test]
fn merge_of_no_input_is_closed_at_once() {
    let out = merge(Vec::<chan::Receiver<i32>>::new());
    assert_eq!(out.recv_timeout(LIVENESS), Err(RecvTimeoutError::Closed));
}

/// The output stays open while any input is, and closes after the last one closes.
#[test]
fn merge_closes_after_its_last_input() {
    let (tx_a, rx_a) = chan::bounded(0);
    let (tx_b, rx_b) = chan::bounded(0);
    let out = merge([rx_a, rx_b]);
    tx_a.send(1).unwrap();
    assert_eq!(out.recv(), Ok(1));
    drop(tx_a);
    // `b` is still open: the output goes on with it.
    tx_b.send(2).unwrap();
    assert_eq!(out.recv(), Ok(2));
    assert!(!out.is_closed());
    drop(tx_b);
    assert_eq!(out.recv_timeout(LIVENESS), Err(RecvTimeoutError::Closed));
}

// ---- fan_out ----

#[goro::test]
fn fan_out_maps_every_value_exactly_once() {
    const N: u64 = 50_000;
    let out = fan_out(generate(0..N), 6, |x| (x, x * x));
    let mut seen = vec![false; N as usize];
    for (x, sq) in &out {
        assert_eq!(sq, x * x);
        assert!(!seen[x as usize], "{x} delivered twice");
        seen[x as usize] = true;
    }
    assert!(seen.iter().all(|&s| s), "a value was lost");
}

/// With `n` workers, `f` runs at most `n` times at once, and does reach `n`: the first `n`
/// calls each wait until all `n` are running together.
#[goro::test]
fn fan_out_runs_exactly_n_calls_at_once() {
    const N: usize = 5;
    let in_flight = Arc::new(InFlight::default());
    let (gate_tx, gate) = chan::bounded::<()>(0);
    let gate_tx = Arc::new(std::sync::Mutex::new(Some(gate_tx)));
    let f = {
        let in_flight = in_flight.clone();
        move |x: usize| {
            if in_flight.enter() == N {
                gate_tx.lock().unwrap().take(); // all N are in: open the gate
            }
            if x < N {
                let r = gate.recv_timeout(LIVENESS);
                assert_eq!(r, Err(RecvTimeoutError::Closed), "never {N} calls at once");
            }
            goro::yield_now();
            in_flight.leave();
            x
        }
    };
    let out = fan_out(generate(0..2_000), N, f);
    assert_eq!(out.iter().sum::<usize>(), (0..2_000).sum());
    assert_eq!(in_flight.max(), N);
}

#[test]
fn fan_out_closes_when_its_input_closes() {
    let (tx, rx) = chan::bounded(0);
    let out = fan_out(rx, 3, |s: &str| s.len());
    let feeder = goro::go(move || {
        for s in ["a", "bb", "ccc"] {
            tx.send(s).unwrap();
        }
    });
    let mut got: Vec<usize> = out.iter().collect(); // ends only if the output closes
    got.sort();
    assert_eq!(got, [1, 2, 3]);
    feeder.join().unwrap();
}

#[test]
#[should_panic(expected = "goro::pattern::fan_out: n is 0")]
fn fan_out_with_no_worker_panics() {
    let _ = fan_out(generate(0..1), 0, |x: i32| x);
}

// ---- map_ordered ----

/// 100,000 values come out in order, with at most `n` calls of `f` at once.
#[goro::test]
fn map_ordered_keeps_the_order_of_100k_values_with_at_most_n_in_flight() {
    const N: usize = 8;
    const COUNT: u64 = 100_000;
    let in_flight = Arc::new(InFlight::default());
    let f = {
        let in_flight = in_flight.clone();
        move |x: u64| {
            in_flight.enter();
            // Stay in `f` a while (longer for some values, so that later values
            // overtake earlier ones), so that calls pile up to the limit.
            for _ in 0..4 + x % 5 {
                goro::yield_now();
            }
            in_flight.leave();
            x * 3
        }
    };
    let mut expected = 0;
    for y in &map_ordered(generate(0..COUNT), N, f) {
        assert_eq!(y, expected * 3, "out of order");
        expected += 1;
    }
    assert_eq!(expected, COUNT);
    let max = in_flight.max();
    assert!(
        (1..=N).contains(&max),
        "{max} calls of f at once, limit {N}"
    );
}

/// `map_ordered` does run `n` calls at once: the first `n` each wait for all `n`.
#[goro::test]
fn map_ordered_reaches_n_calls_at_once() {
    const N: usize = 4;
    let in_flight = Arc::new(InFlight::default());
    let (gate_tx, gate) = chan::bounded::<()>(0);
    let gate_tx = Arc::new(std::sync::Mutex::new(Some(gate_tx)));
    let f = {
        let in_flight = in_flight.clone();
        move |x: usize| {
            if in_flight.enter() == N {
                gate_tx.lock().unwrap().take();
            }
            if x < N {
                let r = gate.recv_timeout(LIVENESS);
                assert_eq!(r, Err(RecvTimeoutError::Closed), "never {N} calls at once");
            }
            in_flight.leave();
            x
        }
    };
    let got: Vec<usize> = map_ordered(generate(0..100), N, f).iter().collect();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    assert_eq!(in_flight.max(), N);
}

/// While the first value is held up, at most `n - 1` later values are started: results
/// waiting for their turn are bounded too, not only running calls.
#[test]
fn map_ordered_runs_at_most_n_values_ahead_of_a_slow_one() {
    const N: usize = 4;
    let started = Arc::new(AtomicUsize::new(0));
    let (release_tx, release) = chan::bounded::<()>(0);
    let f = {
        let started = started.clone();
        move |x: usize| {
            started.fetch_add(1, Ordering::SeqCst);
            if x == 0 {
                let _ = release.recv(); // held until the test closes `release_tx`
            }
            x
        }
    };
    let out = map_ordered(generate(0..1_000), N, f);
    let deadline = std::time::Instant::now() + LIVENESS;
    while started.load(Ordering::SeqCst) < N {
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than {N} values started"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // Give a wrong implementation time to run further ahead, then check it did not.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(started.load(Ordering::SeqCst), N);
    drop(release_tx);
    assert_eq!(
        out.iter().collect::<Vec<_>>(),
        (0..1_000).collect::<Vec<_>>()
    );
}

/// A panic in `f` ends the output just before that value: no hole, nothing after it.
#[goro::test]
fn map_ordered_ends_before_a_value_whose_f_panicked() {
    let _quiet = support::expect_panics();
    let f = |x: u32| {
        if x == 50 {
            panic!("f fails on purpose at {x}");
        }
        x
    };
    let got: Vec<u32> = map_ordered(generate(0..1_000), 4, f).iter().collect();
    assert_eq!(got, (0..50).collect::<Vec<_>>());
}

#[test]
fn map_ordered_closes_when_its_input_closes() {
    let (tx, rx) = chan::bounded(0);
    let out = map_ordered(rx, 2, |x: i32| -x);
    let feeder = goro::go(move || {
        for x in 1..=3 {
            tx.send(x).unwrap();
        }
    });
    assert_eq!(out.iter().collect::<Vec<_>>(), [-1, -2, -3]);
    feeder.join().unwrap();
}

#[test]
#[should_panic(expected = "goro::pattern::map_ordered: n is 0")]
fn map_ordered_with_no_slot_panics() {
    let _ = map_ordered(generate(0..1), 0, |x: i32| x);
}

// ---- tee ----

#[goro::test]
fn tee_gives_both_outputs_every_value_in_order() {
    let (a, b) = tee(generate(0..10_000u32));
    let ha = goro::go(move || a.iter().collect::<Vec<_>>());
    let hb = goro::go(move || b.iter().collect::<Vec<_>>());
    let expected: Vec<u32> = (0..10_000).collect();
    assert_eq!(ha.join().unwrap(), expected);
    assert_eq!(hb.join().unwrap(), expected);
}

/// The next value is taken from the input only once both outputs have the current one.
#[test]
fn tee_moves_in_lockstep() {
    let (tx, rx) = chan::bounded(0);
    let (a, b) = tee(rx);
    tx.send(1).unwrap();
    assert_eq!(a.recv(), Ok(1));
    // `b` has not taken 1 yet, so `tee` is not receiving.
    assert!(tx.try_send(2).unwrap_err().is_full());
    assert_eq!(b.recv(), Ok(1));
    let feeder = goro::go(move || tx.send(2));
    assert_eq!(b.recv(), Ok(2)); // either output may be first
    assert_eq!(a.recv(), Ok(2));
    feeder.join().unwrap().unwrap();
    // `tx` is gone: both outputs close.
    assert_eq!(a.recv_timeout(LIVENESS), Err(RecvTimeoutError::Closed));
    assert_eq!(b.recv_timeout(LIVENESS), Err(RecvTimeoutError::Closed));
}

/// An output dropped midway is given up; the other still gets every value.
#[goro::test]
fn tee_keeps_feeding_one_output_after_the_other_is_dropped() {
    let (a, b) = tee(generate((0..1_000).map(|i| i.to_string())));
    for i in 0..10 {
        assert_eq!(a.recv().unwrap(), i.to_string());
        assert_eq!(b.recv().unwrap(), i.to_string());
    }
    drop(a);
    let rest: Vec<String> = b.iter().collect();
    let expected: Vec<String> = (10..1_000).map(|i| i.to_string()).collect();
    assert_eq!(rest, expected);
}

// ---- or_done ----

#[test]
fn or_done_forwards_everything_and_closes_with_its_input() {
    let (ctx, _cancel) = context::background().with_cancel();
    let out = or_done(&ctx, generate(0..1_000));
    assert_eq!(
        out.iter().collect::<Vec<_>>(),
        (0..1_000).collect::<Vec<_>>()
    );
    assert!(ctx.err().is_none());
}

/// Cancelled while waiting for a value that never comes: the output closes and the input
/// is let go.
#[test]
fn or_done_stops_on_cancel_while_waiting_for_input() {
    let (ctx, cancel) = context::background().with_cancel();
    let (tx, rx) = chan::bounded::<i32>(0);
    let out = or_done(&ctx, rx);
    tx.send(7).unwrap();
    assert_eq!(out.recv(), Ok(7));
    cancel();
    assert_eq!(out.recv_timeout(LIVENESS), Err(RecvTimeoutError::Closed));
    assert!(tx.send(8).is_err(), "or_done still holds its input");
}

/// Cancelled while holding a value the consumer does not take: the output closes (with at
/// most that one value, if the consumer's receive raced the cancellation).
#[test]
fn or_done_stops_on_cancel_while_blocked_sending() {
    let (ctx, cancel) = context::background().with_cancel();
    let (tx, rx) = chan::bounded::<i32>(0);
    let out = or_done(&ctx, rx);
    tx.send(1).unwrap(); // taken by or_done, which now waits to pass it on
    cancel();
    let rest: Vec<i32> = out.iter().collect();
    assert!(rest.is_empty() || rest == [1], "{rest:?}");
    assert!(tx.send(2).is_err(), "or_done still holds its input");
}

#[test]
fn or_done_with_an_ended_context_forwards_nothing() {
    let (ctx, cancel) = context::background().with_cancel();
    cancel();
    let out = or_done(&ctx, generate(0..));
    assert_eq!(out.recv_timeout(LIVENESS), Err(RecvTimeoutError::Closed));
}

#[test]
fn or_done_stops_at_a_deadline() {
    let (ctx, _cancel) = context::background().with_timeout(Duration::from_millis(20));
    let (_tx, rx) = chan::bounded::<i32>(0); // never sends, never closes
    let out = or_done(&ctx, rx);
    assert_eq!(out.recv_timeout(LIVENESS), Err(RecvTimeoutError::Closed));
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
}

// ---- Pipeline ----

/// Source, unordered map, ordered map and a custom stage: every value once.
#[goro::test]
fn pipeline_passes_every_value_once_through_its_stages() {
    const COUNT: u64 = 20_000;
    let p = Pipeline::<StageError>::new(&context::background());
    let plus_one = p.try_map(p.generate(0..COUNT), 4, |x| Ok(x + 1));
    let doubled = p.try_map_ordered(plus_one, 4, |x| Ok(x * 2));
    let (tx, odd_halves) = chan::bounded(0);
    let stage = p.clone();
    p.go(move || {
        while let Some(x) = stage.recv(&doubled)? {
            if (x / 2) % 2 == 1 && !stage.send(&tx, x / 2)? {
                break;
            }
        }
        Ok(())
    });
    let got: HashSet<u64> = odd_halves.iter().collect();
    let expected: HashSet<u64> = (1..=COUNT).filter(|x| x % 2 == 1).collect();
    assert_eq!(got, expected);
    assert_eq!(p.wait(), Ok(()));
}

/// The first error cancels every stage, even an endless source; `wait` returns it and the
/// context's cause names it.
#[goro::test]
fn pipeline_first_error_cancels_every_stage_and_is_returned() {
    let p = Pipeline::<StageError>::new(&context::background());
    let checked = p.try_map(p.generate(0..), 4, |x: u64| {
        if x == 1_000 {
            Err(StageError::Bad(x))
        } else {
            Ok(x)
        }
    });
    let squared = p.try_map_ordered(checked, 3, |x| Ok(x * x));
    // Ends only because the error stopped the endless source.
    for (i, _) in squared.iter().enumerate() {
        assert!(i < 1_000_000, "the error did not stop the pipeline");
    }
    assert_eq!(p.wait(), Err(StageError::Bad(1_000)));
    let ctx = p.context();
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    assert_eq!(ctx.cause().unwrap().to_string(), "bad value 1000");
}

/// The parent's cancellation stops every stage; `wait` returns the context error.
#[goro::test]
fn pipeline_stops_when_its_parent_is_cancelled() {
    let (parent, cancel) = context::background().with_cancel();
    let p = Pipeline::<StageError>::new(&parent);
    let out = p.try_map_ordered(p.generate(0..), 2, |x: u64| Ok(x));
    for x in 0..100 {
        assert_eq!(out.recv(), Ok(x));
    }
    cancel();
    let rest = out.iter().count(); // closes: the source is endless
    assert!(rest <= 4, "{rest} values after the cancellation");
    assert_eq!(p.wait(), Err(StageError::Ctx(ContextError::Canceled)));
}

/// The parent's deadline too, while the consumer is not reading: blocked sends give up.
#[test]
fn pipeline_stops_at_its_parents_deadline_with_a_stalled_consumer() {
    let (parent, _cancel) = context::background().with_timeout(Duration::from_millis(20));
    let p = Pipeline::<StageError>::new(&parent);
    let out = p.try_map(p.generate(0..), 3, |x: u64| Ok(x));
    let waiter = {
        let p = p.clone();
        goro::go(move || p.wait())
    };
    // Nobody reads `out`, yet every stage ends.
    assert_eq!(
        waiter.join().unwrap(),
        Err(StageError::Ctx(ContextError::DeadlineExceeded))
    );
    assert_eq!(out.recv_timeout(LIVENESS), Err(RecvTimeoutError::Closed));
}

/// A consumer dropping the output early is a choice, not an error.
#[test]
fn pipeline_consumer_stopping_early_is_not_an_error() {
    let p = Pipeline::<StageError>::new(&context::background());
    let out = p.try_map(p.try_map_ordered(p.generate(0..), 3, Ok), 3, Ok);
    let first: HashSet<u64> = out.iter().take(10).collect();
    assert_eq!(first.len(), 10);
    drop(out);
    assert_eq!(p.wait(), Ok(()));
}

/// A panicking stage cancels the others; `wait` re-raises the panic.
#[goro::test]
fn pipeline_wait_resumes_a_stage_panic() {
    let _quiet = support::expect_panics();
    let p = Pipeline::<StageError>::new(&context::background());
    let out = p.try_map(p.generate(0..), 2, |x: u64| {
        if x == 30 {
            panic!("stage exploded at {x}");
        }
        Ok(x)
    });
    let _ = out.iter().count(); // closes: the panic cancelled the endless source
    let r = panic::catch_unwind(AssertUnwindSafe(|| p.wait()));
    let payload = r.expect_err("wait must re-raise the panic");
    assert_eq!(payload_str(&*payload), Some("stage exploded at 30"));
    assert_eq!(p.context().err(), Some(ContextError::Canceled));
}

/// Ordered stage: in order, at most `n` calls at once.
#[goro::test]
fn pipeline_try_map_ordered_keeps_order_with_at_most_n_in_flight() {
    const N: usize = 6;
    let in_flight = Arc::new(InFlight::default());
    let p = Pipeline::<StageError>::new(&context::background());
    let f = {
        let in_flight = in_flight.clone();
        move |x: u64| {
            in_flight.enter();
            for _ in 0..4 + x % 5 {
                goro::yield_now();
            }
            in_flight.leave();
            Ok(x + 7)
        }
    };
    let out = p.try_map_ordered(p.generate(0..20_000), N, f);
    let got: Vec<u64> = out.iter().collect();
    assert_eq!(got, (7..20_007).collect::<Vec<_>>());
    assert_eq!(p.wait(), Ok(()));
    let max = in_flight.max();
    assert!((1..=N).contains(&max), "{max} calls at once, limit {N}");
}

/// An ordered stage's error: the consumer gets a prefix of the results, cut at the latest
/// before the failed value.
#[goro::test]
fn pipeline_try_map_ordered_error_yields_a_prefix() {
    let p = Pipeline::<StageError>::new(&context::background());
    let out = p.try_map_ordered(p.generate(0..), 5, |x: u64| {
        if x == 500 {
            Err(StageError::Bad(x))
        } else {
            Ok(x * 10)
        }
    });
    let got: Vec<u64> = out.iter().collect();
    let expected: Vec<u64> = (0..500).map(|x| x * 10).collect();
    assert!(
        expected.starts_with(&got),
        "not a prefix: {} values",
        got.len()
    );
    assert_eq!(p.wait(), Err(StageError::Bad(500)));
}

/// `recv` and `send` give up when the pipeline is cancelled by another stage's error, and
/// `send` reports a consumer that is gone.
#[goro::test]
fn pipeline_recv_and_send_follow_the_context_and_the_consumer() {
    let p = Pipeline::<StageError>::new(&context::background());
    let (_never_tx, never) = chan::bounded::<u64>(0);
    let (blocked_tx, blocked) = chan::bounded::<u64>(0);
    let (report_tx, report) = chan::bounded(2);
    let (ready_tx, ready) = chan::bounded::<()>(0);
    {
        let (stage, report_tx) = (p.clone(), report_tx.clone());
        p.go(move || {
            let r = stage.recv(&never); // no value will ever come
            report_tx.send(format!("recv: {r:?}")).unwrap();
            r.map(drop)
        });
    }
    {
        let stage = p.clone();
        p.go(move || {
            let r = stage.send(&blocked_tx, 1); // nobody reads `blocked`
            report_tx.send(format!("send: {r:?}")).unwrap();
            r.map(drop)
        });
    }
    p.go(move || {
        ready.recv().ok();
        Err(StageError::Bad(9))
    });
    drop(ready_tx); // the third stage fails now
    let mut reports: Vec<String> = report.iter().take(2).collect();
    reports.sort();
    assert_eq!(
        reports,
        ["recv: Err(Ctx(Canceled))", "send: Err(Ctx(Canceled))"]
    );
    assert_eq!(p.wait(), Err(StageError::Bad(9)));
    drop(blocked);

    let p = Pipeline::<StageError>::new(&context::background());
    let (tx, rx) = chan::bounded::<u64>(0);
    drop(rx);
    assert_eq!(p.send(&tx, 1), Ok(false));
    let (tx, rx) = chan::bounded::<u64>(1);
    assert_eq!(p.send(&tx, 2), Ok(true));
    drop(tx);
    assert_eq!(p.recv(&rx), Ok(Some(2)));
    assert_eq!(p.recv(&rx), Ok(None));
}

#[test]
#[should_panic(expected = "Pipeline::try_map: n is 0")]
fn pipeline_try_map_with_no_worker_panics() {
    let p = Pipeline::<StageError>::new(&context::background());
    let _ = p.try_map(p.generate(0..1), 0, |x: u64| Ok(x));
}
