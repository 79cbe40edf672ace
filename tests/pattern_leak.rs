//! `goro::pattern` leaves no goroutine behind: after a consumer stops early (drops the last
//! receiver), after a cancellation, after an error or a panic, `goro::num_goroutine()`
//! comes back to what it was before the stage started.
//!
//! `num_goroutine` counts every goroutine of the process, so the tests of this file run one
//! at a time (each holds `SERIAL`), and every source is endless: a stage that failed to stop
//! would keep its source (and itself) running forever.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use goro::chan::{self, TryRecvError};
use goro::context::{self, BoxError, ContextError};
use goro::pattern::{fan_out, generate, map_ordered, merge, or_done, tee, Pipeline};

mod support;

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `body` and asserts that every goroutine it started has ended within a generous
/// bound once it returns. Returns what `body` returns.
fn leaves_no_goroutine<R>(body: impl FnOnce() -> R) -> R {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let base = goro::num_goroutine();
    let r = body();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = goro::num_goroutine();
        if now == base {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{} goroutine(s) left behind ({now} now, {base} before)",
            now.saturating_sub(base)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn generate_stops_when_its_receiver_is_dropped() {
    leaves_no_goroutine(|| {
        let rx = generate(0u64..);
        assert_eq!(rx.iter().take(10).count(), 10);
    });
}

#[test]
fn merge_stops_every_forwarder_and_input() {
    leaves_no_goroutine(|| {
        let out = merge((0..5).map(|i| generate((0u64..).map(move |x| x * 5 + i))));
        assert_eq!(out.iter().take(100).count(), 100);
    });
}

#[test]
fn fan_out_stops_every_worker_and_its_input() {
    leaves_no_goroutine(|| {
        let out = fan_out(generate(0u64..), 4, |x| {
            goro::yield_now();
            x + 1
        });
        assert_eq!(out.iter().take(100).count(), 100);
    });
}

#[test]
fn map_ordered_stops_its_dispatcher_collector_and_input() {
    leaves_no_goroutine(|| {
        let out = map_ordered(generate(0u64..), 6, |x| {
            goro::yield_now();
            x * 2
        });
        let first: Vec<u64> = out.iter().take(100).collect();
        assert_eq!(first, (0..100).map(|x| x * 2).collect::<Vec<_>>());
    });
}

/// Dropped while values are being mapped and results are queued behind a slow one.
#[test]
fn map_ordered_stops_with_calls_in_flight() {
    leaves_no_goroutine(|| {
        let (release_tx, release) = chan::bounded::<()>(0);
        let out = map_ordered(generate(0u64..), 8, move |x| {
            if x == 1 {
                let _ = release.recv(); // until `release_tx` is dropped
            }
            x
        });
        assert_eq!(out.recv(), Ok(0));
        drop(out); // value 1 is still held, with later ones computed behind it
        drop(release_tx);
    });
}

#[test]
fn map_ordered_stops_after_a_panic_in_f() {
    let _quiet = support::expect_panics();
    leaves_no_goroutine(|| {
        let out = map_ordered(generate(0u64..), 4, |x| {
            assert!(x != 20, "f fails on purpose at {x}");
            x
        });
        // The output ends by itself, and the endless input is let go.
        assert_eq!(out.iter().count(), 20);
    });
}

#[test]
fn tee_stops_once_both_outputs_are_dropped() {
    leaves_no_goroutine(|| {
        let (a, b) = tee(generate(0u64..));
        for x in 0..10 {
            assert_eq!(a.recv(), Ok(x));
            assert_eq!(b.recv(), Ok(x));
        }
        drop(a);
        assert_eq!(b.iter().take(50).count(), 50);
    });
}

#[test]
fn tee_with_both_outputs_dropped_at_once_stops() {
    leaves_no_goroutine(|| {
        let (a, b) = tee(generate(0u64..));
        drop((a, b));
    });
}

#[test]
fn or_done_stops_when_its_receiver_is_dropped() {
    leaves_no_goroutine(|| {
        let (ctx, cancel) = context::background().with_cancel();
        let out = or_done(&ctx, generate(0u64..));
        assert_eq!(out.iter().take(10).count(), 10);
        drop(out);
        drop(cancel); // never called: only the dropped receiver stops the chain
    });
}

/// Cancelled while its consumer still holds the output and reads nothing.
#[test]
fn or_done_stops_on_cancel_and_lets_its_input_go() {
    let out = leaves_no_goroutine(|| {
        let (ctx, cancel) = context::background().with_cancel();
        let out = or_done(&ctx, generate(0u64..));
        cancel();
        out
    });
    // Still held here, but closed by `or_done`, which has ended without passing anything on.
    assert_eq!(out.try_recv(), Err(TryRecvError::Closed));
}

/// A chain of every function, its consumer stopping early.
#[test]
fn a_chain_of_every_stage_stops_from_the_end() {
    leaves_no_goroutine(|| {
        let (ctx, _cancel) = context::background().with_cancel();
        let sources = merge([generate(0u64..), generate(0u64..)]);
        let squared = fan_out(sources, 3, |x| x * x);
        let halved = map_ordered(squared, 3, |x| x / 2);
        let (a, b) = tee(halved);
        let a = or_done(&ctx, a);
        let b = or_done(&ctx, b);
        let reader = goro::go(move || b.iter().take(200).count());
        assert_eq!(a.iter().take(100).count(), 100);
        drop(a); // `tee` goes on feeding `b` alone
        assert_eq!(reader.join().unwrap(), 200);
    });
}

#[test]
fn pipeline_stops_when_its_consumer_drops_the_output() {
    leaves_no_goroutine(|| {
        let p = Pipeline::<BoxError>::new(&context::background());
        let a = p.try_map(p.generate(0u64..), 3, |x| Ok(x + 1));
        let b = p.try_map_ordered(a, 3, |x| Ok(x * 2));
        assert_eq!(b.iter().take(100).count(), 100);
        drop(b);
        assert!(p.wait().is_ok());
    });
}

#[test]
fn pipeline_stops_after_an_error() {
    leaves_no_goroutine(|| {
        let p = Pipeline::<BoxError>::new(&context::background());
        let a = p.try_map_ordered(p.generate(0u64..), 4, |x| {
            if x == 300 {
                Err("value 300 rejected".into())
            } else {
                Ok(x)
            }
        });
        let b = p.try_map(a, 2, Ok);
        for (i, _) in b.iter().enumerate() {
            assert!(i < 1_000_000, "the error did not stop the pipeline");
        }
        assert_eq!(p.wait().unwrap_err().to_string(), "value 300 rejected");
    });
}

/// The parent is cancelled while the consumer holds the output and reads nothing: every
/// stage, blocked sending, gives up.
#[test]
fn pipeline_stops_on_cancel_with_a_stalled_consumer() {
    let out = leaves_no_goroutine(|| {
        let (parent, cancel) = context::background().with_cancel();
        let p = Pipeline::<BoxError>::new(&parent);
        let out = p.try_map_ordered(p.try_map(p.generate(0u64..), 2, Ok), 2, Ok);
        cancel();
        let err = p.wait().unwrap_err();
        assert_eq!(
            err.downcast_ref::<ContextError>(),
            Some(&ContextError::Canceled)
        );
        out
    });
    assert_eq!(out.try_recv(), Err(TryRecvError::Closed));
}
