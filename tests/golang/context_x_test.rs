//! src/context/x_test.go (and the XTest* cases it took over from context_test.go), rewritten
//! against `goro::context`. Go's "foreign" `Context` implementations (otherContext wrappers,
//! custom Done channels) have no counterpart: goro's `Context` is one concrete type, so those
//! rows run with value-wrapped contexts instead, which take the same path through the tree.
//! Panics on nil parents, nil keys and non-comparable keys are n/a: the types rule them out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::chan::{self, TryRecvError};
use goro::context::{self, CancelFn, Context, ContextError, Key};

use crate::support::{go_main, LIVENESS};

const SHORT: Duration = Duration::from_millis(1);
const VERY_LONG: Duration = Duration::from_secs(1000 * 3600);

/// Whether `ctx.done()` is closed right now (Go: `select { case <-ctx.Done(): default: }`).
fn is_done(ctx: &Context) -> bool {
    goro::select! {
        recv(ctx.done()) -> _r => true,
        default => false,
    }
}

/// Waits for `ctx` to end, failing after the liveness bound (Go's "quiescent" wait).
fn wait_done(ctx: &Context, what: &str) {
    match ctx.done().recv_timeout(LIVENESS) {
        Err(chan::RecvTimeoutError::Closed) => {}
        other => panic!("{what}: context not done after {LIVENESS:?}: {other:?}"),
    }
}

/// A small deterministic generator for the random rows (Go uses math/rand).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// TestBackground, TestTODO: roots are never done, carry no deadline, and print their names.
#[test]
fn test_background_and_todo() {
    go_main("TestBackground", || {
        for (ctx, name) in [
            (context::background(), "context.Background"),
            (context::todo(), "context.TODO"),
        ] {
            assert!(!is_done(&ctx), "{name} is done");
            assert!(!ctx.done().is_closed());
            assert_eq!(ctx.err(), None);
            assert!(ctx.cause().is_none());
            assert_eq!(ctx.deadline(), None);
            assert_eq!(format!("{ctx:?}"), name);
        }
    });
}

/// TestWithCancel: before `cancel`, nothing is done; right after it returns (synchronously),
/// the context and its children, direct and through a value context, are all done with
/// `Canceled`.
#[test]
fn test_with_cancel() {
    go_main("TestWithCancel", || {
        static K: Key<u8> = Key::new("wrapper");
        let (c1, cancel) = context::background().with_cancel();
        assert_eq!(format!("{c1:?}"), "context.Background.WithCancel");
        let wrapped = c1.with_value(&K, 1);
        let (c2, _cancel2) = wrapped.with_cancel();
        let (c3, _cancel3) = c2.with_value(&K, 2).with_cancel();
        let contexts = [c1, wrapped, c2, c3];
        for (i, c) in contexts.iter().enumerate() {
            assert!(!is_done(c), "context {i} done before cancel");
            assert_eq!(c.err(), None, "context {i}");
        }
        cancel();
        for (i, c) in contexts.iter().enumerate() {
            assert!(
                is_done(c),
                "context {i} not done right after cancel returned"
            );
            assert_eq!(c.err(), Some(ContextError::Canceled), "context {i}");
        }
    });
}

fn assert_deadline_exceeded(ctx: &Context, what: &str) {
    wait_done(ctx, what);
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded), "{what}");
}

/// TestDeadline: a deadline 1 ms ahead, 1 ms behind, or now; a far deadline under a near
/// one (through a value context, Go's wrapper); all end with `DeadlineExceeded`.
#[test]
fn test_deadline() {
    go_main("TestDeadline", || {
        static K: Key<u8> = Key::new("wrapper");
        let bg = context::background();
        let now = Instant::now();
        let (c, _cancel) = bg.with_deadline(now + SHORT);
        assert!(format!("{c:?}").starts_with("context.Background.WithDeadline"));
        assert_deadline_exceeded(&c, "now + 1 ms");

        let (c, _cancel) = bg.with_deadline(Instant::now() - SHORT);
        assert!(is_done(&c), "a past deadline must be done at once");
        assert_eq!(c.err(), Some(ContextError::DeadlineExceeded));

        let (c, _cancel) = bg.with_deadline(Instant::now());
        assert!(is_done(&c), "a deadline of now must be done at once");
        assert_eq!(c.err(), Some(ContextError::DeadlineExceeded));

        let (near, _cancel) = bg.with_deadline(Instant::now() + SHORT);
        let (far, _cancel_far) = near
            .with_value(&K, 0)
            .with_deadline(Instant::now() + VERY_LONG);
        assert_eq!(
            far.deadline(),
            near.deadline(),
            "a child never outlives its parent"
        );
        assert_deadline_exceeded(&far, "far deadline under a near one");
    });
}

/// TestTimeout: as TestDeadline with `with_timeout`.
#[test]
fn test_timeout() {
    go_main("TestTimeout", || {
        static K: Key<u8> = Key::new("wrapper");
        let (c, _cancel) = context::background().with_timeout(SHORT);
        assert!(format!("{c:?}").starts_with("context.Background.WithDeadline"));
        assert_deadline_exceeded(&c, "timeout 1 ms");
        let (near, _cancel) = context::background().with_timeout(SHORT);
        let (far, _cancel_far) = near.with_value(&K, 0).with_timeout(VERY_LONG);
        assert_deadline_exceeded(&far, "long timeout under a short one");
    });
}

/// TestCanceledTimeout: cancelling a context with a far timeout gives `Canceled`.
#[test]
fn test_canceled_timeout() {
    go_main("TestCanceledTimeout", || {
        let (c, cancel) = context::background().with_timeout(VERY_LONG);
        let (child, _cancel) = c.with_cancel();
        cancel();
        assert!(is_done(&child));
        assert_eq!(c.err(), Some(ContextError::Canceled));
        assert_eq!(child.err(), Some(ContextError::Canceled));
    });
}

static K1: Key<&'static str> = Key::new("key1");
static K2: Key<&'static str> = Key::new("key2");
/// Same name and type as `K1`: a different key all the same (Go: `key1(1) != key2(1)`).
static K1_TWIN: Key<&'static str> = Key::new("key1");
static OPT: Key<Option<&'static str>> = Key::new("opt");

/// TestValues: lookups walk up the chain; the nearest value wins; keys of equal name and
/// type stay distinct; a later value shadows an earlier one even when it is "nil" (`None`).
#[test]
fn test_values() {
    go_main("TestValues", || {
        let check = |c: &Context, name: &str, v1: Option<&str>, v2: Option<&str>| {
            assert_eq!(c.value(&K1).copied(), v1, "{name}: key1");
            assert_eq!(c.value(&K2).copied(), v2, "{name}: key2");
            assert_eq!(c.value(&K1_TWIN), None, "{name}: the twin key is never set");
        };
        let c0 = context::background();
        check(&c0, "c0", None, None);
        let c1 = c0.with_value(&K1, "c1k1");
        check(&c1, "c1", Some("c1k1"), None);
        assert_eq!(format!("{c1:?}"), "context.Background.WithValue(key1)");
        let c2 = c1.with_value(&K2, "c2k2");
        check(&c2, "c2", Some("c1k1"), Some("c2k2"));
        let c3 = c2.with_value(&K1, "c3k1");
        check(&c3, "c3", Some("c3k1"), Some("c2k2"));
        let (c4, _cancel) = c3.with_cancel();
        check(&c4, "c4", Some("c3k1"), Some("c2k2"));
        check(&c1, "c1 again", Some("c1k1"), None);

        let o1 = c4.with_value(&OPT, Some("set"));
        let o2 = o1.with_value(&OPT, None);
        assert_eq!(o1.value(&OPT), Some(&Some("set")));
        assert_eq!(o2.value(&OPT), Some(&None), "a later None shadows");
    });
}

/// TestSimultaneousCancels: a tree grown breadth-first, fan-out 4, to 101 contexts; every
/// cancel function runs in its own goroutine at once, in random order; every context ends
/// and every cancel returns.
#[test]
fn test_simultaneous_cancels() {
    go_main("TestSimultaneousCancels", || {
        let root = context::background();
        let mut all: Vec<(Context, CancelFn)> = Vec::new();
        let mut queue = vec![root];
        let mut head = 0;
        while all.len() < 100 {
            let parent = queue[head].clone();
            head += 1;
            for _ in 0..4 {
                let (c, cancel) = parent.with_cancel();
                queue.push(c.clone());
                all.push((c, cancel));
            }
        }
        assert_eq!(all.len(), 100);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut order: Vec<usize> = (0..all.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let (stopped_tx, stopped) = chan::bounded(all.len());
        for &i in &order {
            let (cancel, stopped_tx) = (all[i].1.clone(), stopped_tx.clone());
            goro::go(move || {
                cancel();
                stopped_tx.send(()).unwrap();
            });
        }
        for (i, (c, _)) in all.iter().enumerate() {
            wait_done(c, &format!("context {i}"));
            assert_eq!(c.err(), Some(ContextError::Canceled));
        }
        for _ in 0..all.len() {
            stopped
                .recv_timeout(LIVENESS)
                .expect("a cancel function never returned");
        }
    });
}

/// TestInterlockedCancels: a goroutine cancels the child once the parent is done.
#[test]
fn test_interlocked_cancels() {
    go_main("TestInterlockedCancels", || {
        let (parent, cancel_parent) = context::background().with_cancel();
        let (child, cancel_child) = parent.with_cancel();
        {
            let parent = parent.clone();
            goro::go(move || {
                let _ = parent.done().recv();
                cancel_child();
            });
        }
        cancel_parent();
        wait_done(&child, "child");
    });
}

static LAYER: Key<usize> = Key::new("layer");

/// TestLayersCancel and TestLayersTimeout: at least 30 random layers of values, cancels and
/// timeouts; every value stays readable after the end, and ending any cancellable layer (by
/// its cancel function, or by a 1 ms timeout) ends the innermost context.
#[test]
fn test_layers_cancel_and_timeout() {
    go_main("TestLayers", || {
        let mut rng = Rng(12345);
        for timeout in [false, true] {
            for round in 0..20 {
                let mut ctx = context::background();
                let mut cancels: Vec<CancelFn> = Vec::new();
                let mut values = 0;
                let mut i = 0;
                while i < 30 || cancels.is_empty() {
                    match rng.below(3) {
                        0 => {
                            ctx = ctx.with_value(&LAYER, i);
                            values += 1;
                        }
                        1 => {
                            let (c, cancel) = ctx.with_cancel();
                            ctx = c;
                            cancels.push(cancel);
                        }
                        _ => {
                            let d = if timeout { SHORT } else { VERY_LONG };
                            let (c, cancel) = ctx.with_timeout(d);
                            ctx = c;
                            cancels.push(cancel);
                        }
                    }
                    i += 1;
                }
                assert!(!timeout || !cancels.is_empty());
                if !timeout {
                    assert!(!is_done(&ctx), "round {round}: done before any cancel");
                    let which = rng.below(cancels.len());
                    cancels[which]();
                    assert!(is_done(&ctx), "round {round}: cancelling layer {which}");
                    assert_eq!(ctx.err(), Some(ContextError::Canceled));
                } else if ctx.deadline().is_some() {
                    wait_done(&ctx, "layers with timeouts");
                    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
                } else {
                    cancels[0]();
                    assert!(is_done(&ctx));
                }
                if values > 0 {
                    assert!(ctx.value(&LAYER).is_some(), "values survive the end");
                }
                for cancel in &cancels {
                    cancel();
                }
            }
        }
    });
}

/// TestCancelRemoves: cancelling a child (plain or with a timeout) removes it from its
/// parent's registry.
#[test]
fn test_cancel_removes() {
    go_main("TestCancelRemoves", || {
        let (ctx, _cancel) = context::background().with_cancel();
        assert_eq!(goro::__private::context_registered(&ctx), 0);
        let (_child, cancel) = ctx.with_cancel();
        assert_eq!(goro::__private::context_registered(&ctx), 1);
        cancel();
        assert_eq!(goro::__private::context_registered(&ctx), 0);
        let (_child, cancel) = ctx.with_timeout(VERY_LONG);
        assert_eq!(goro::__private::context_registered(&ctx), 1);
        cancel();
        assert_eq!(goro::__private::context_registered(&ctx), 0);
    });
}

/// TestWithCancelCanceledParent and TestWithCancelSimultaneouslyCanceledParent: a child of a
/// cancelled parent is done at once, with the parent's error and cause, also when the parent
/// is cancelled concurrently with the child's creation (100 times).
#[test]
fn test_with_cancel_canceled_parent() {
    go_main("TestWithCancelCanceledParent", || {
        let (parent, cancel) = context::background().with_cancel_cause();
        cancel(Some("parent's cause".into()));
        let (c, _cancel) = parent.with_cancel();
        assert!(is_done(&c));
        assert_eq!(c.err(), Some(ContextError::Canceled));
        assert_eq!(c.cause().unwrap().to_string(), "parent's cause");

        for i in 0..100 {
            let (parent, cancel) = context::background().with_cancel_cause();
            let racer = goro::go(move || cancel(Some("simultaneous".into())));
            let (c, _cancel) = parent.with_cancel();
            racer.join().unwrap();
            wait_done(&c, &format!("iteration {i}"));
            assert_eq!(c.err(), Some(ContextError::Canceled));
            assert_eq!(c.cause().unwrap().to_string(), "simultaneous");
        }
    });
}

/// TestDeadlineExceededSupportsTimeout.
#[test]
fn test_deadline_exceeded_supports_timeout() {
    assert!(ContextError::DeadlineExceeded.is_timeout());
    assert!(!ContextError::Canceled.is_timeout());
    assert_eq!(ContextError::Canceled.to_string(), "context canceled");
    assert_eq!(
        ContextError::DeadlineExceeded.to_string(),
        "context deadline exceeded"
    );
}

#[derive(Debug)]
struct Named(&'static str);

impl std::fmt::Display for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Named {}

/// What `err()` and `cause()` say, as text (`None` for "nil").
fn err_and_cause(ctx: &Context) -> (Option<ContextError>, Option<String>) {
    (ctx.err(), ctx.cause().map(|c| c.to_string()))
}

/// TestCause: Go's table of (Err, Cause) pairs, row by row.
#[test]
fn test_cause() {
    go_main("TestCause", || {
        let canceled = Some("context canceled".to_string());
        let exceeded = Some("context deadline exceeded".to_string());
        let cause = || Some("cause".to_string());
        let finished_early = || Some("finished early".to_string());
        let too_slow = || Some("too slow".to_string());
        use ContextError::{Canceled, DeadlineExceeded};

        // Background, TODO: (nil, nil).
        assert_eq!(err_and_cause(&context::background()), (None, None));
        assert_eq!(err_and_cause(&context::todo()), (None, None));

        // WithCancel, cancelled: (Canceled, Canceled).
        let (c, cancel) = context::background().with_cancel();
        cancel();
        assert_eq!(err_and_cause(&c), (Some(Canceled), canceled.clone()));

        // WithCancelCause(cause): (Canceled, cause); the cause keeps its type.
        let (c, cancel) = context::background().with_cancel_cause();
        cancel(Some(Box::new(Named("cause"))));
        assert_eq!(err_and_cause(&c), (Some(Canceled), cause()));
        assert!(c.cause().unwrap().downcast_ref::<Named>().is_some());

        // WithCancelCause, cancel(nil): (Canceled, Canceled).
        let (c, cancel) = context::background().with_cancel_cause();
        cancel(None);
        assert_eq!(err_and_cause(&c), (Some(Canceled), canceled.clone()));

        // Parent cause before child cause: the parent's.
        let (p, pcancel) = context::background().with_cancel_cause();
        let (c, ccancel) = p.with_cancel_cause();
        pcancel(Some("parent cause".into()));
        ccancel(Some("child cause".into()));
        assert_eq!(
            err_and_cause(&c),
            (Some(Canceled), Some("parent cause".into()))
        );

        // Child cause before parent cause: the child's.
        let (p, pcancel) = context::background().with_cancel_cause();
        let (c, ccancel) = p.with_cancel_cause();
        ccancel(Some("child cause".into()));
        pcancel(Some("parent cause".into()));
        assert_eq!(
            err_and_cause(&c),
            (Some(Canceled), Some("child cause".into()))
        );

        // Parent cause, then a plain cancel of the child: the parent's.
        let (p, pcancel) = context::background().with_cancel_cause();
        let (c, ccancel) = p.with_cancel();
        pcancel(Some("parent cause".into()));
        ccancel();
        assert_eq!(
            err_and_cause(&c),
            (Some(Canceled), Some("parent cause".into()))
        );

        // A plain cancel of the child first: Canceled.
        let (p, pcancel) = context::background().with_cancel_cause();
        let (c, ccancel) = p.with_cancel();
        ccancel();
        pcancel(Some("parent cause".into()));
        assert_eq!(err_and_cause(&c), (Some(Canceled), canceled.clone()));

        // WithTimeout(0), then cancel: (DeadlineExceeded, DeadlineExceeded).
        let (c, cancel) = context::background().with_timeout(Duration::ZERO);
        cancel();
        assert_eq!(
            err_and_cause(&c),
            (Some(DeadlineExceeded), exceeded.clone())
        );

        // WithTimeout(forever), then cancel: (Canceled, Canceled).
        let (c, cancel) = context::background().with_timeout(VERY_LONG);
        cancel();
        assert_eq!(err_and_cause(&c), (Some(Canceled), canceled.clone()));

        // WithTimeoutCause(0, tooSlow): (DeadlineExceeded, tooSlow).
        let (c, cancel) = context::background().with_timeout_cause(Duration::ZERO, "too slow");
        cancel();
        assert_eq!(err_and_cause(&c), (Some(DeadlineExceeded), too_slow()));

        // WithTimeoutCause(forever, tooSlow), then cancel: (Canceled, Canceled).
        let (c, cancel) = context::background().with_timeout_cause(VERY_LONG, "too slow");
        cancel();
        assert_eq!(err_and_cause(&c), (Some(Canceled), canceled.clone()));

        // Stacked: the child timed out (cause tooSlow) before the parent was cancelled with
        // finishedEarly: (DeadlineExceeded, tooSlow).
        let (p, pcancel) = context::background().with_cancel_cause();
        let (c, _ccancel) = p.with_timeout_cause(Duration::ZERO, "too slow");
        pcancel(Some("finished early".into()));
        assert_eq!(err_and_cause(&c), (Some(DeadlineExceeded), too_slow()));

        // Stacked: the parent was cancelled with finishedEarly before the child's far
        // timeout: (Canceled, finishedEarly).
        let (p, pcancel) = context::background().with_cancel_cause();
        let (c, _ccancel) = p.with_timeout_cause(VERY_LONG, "too slow");
        pcancel(Some("finished early".into()));
        assert_eq!(err_and_cause(&c), (Some(Canceled), finished_early()));

        // WithoutCancel of anything: (nil, nil).
        let (p, pcancel) = context::background().with_cancel_cause();
        pcancel(Some("cause".into()));
        assert_eq!(err_and_cause(&p.without_cancel()), (None, None));
    });
}

/// TestCauseRace: `cause()` polled while another goroutine cancels with a cause is either
/// `None` or exactly that cause, never anything else.
#[test]
fn test_cause_race() {
    go_main("TestCauseRace", || {
        for _ in 0..100 {
            let (ctx, cancel) = context::background().with_cancel_cause();
            let cause: context::Cause = Arc::new(Named("the cause"));
            let sent = Arc::clone(&cause);
            let canceller = goro::go(move || {
                cancel(Some(Box::new(Named("the cause"))));
                drop(sent);
            });
            let mut polls = 0usize;
            loop {
                polls += 1;
                if let Some(c) = ctx.cause() {
                    assert_eq!(c.to_string(), cause.to_string());
                    assert_eq!(ctx.err(), Some(ContextError::Canceled));
                    break;
                }
                if polls % 64 == 0 {
                    goro::yield_now();
                }
            }
            canceller.join().unwrap();
        }
    });
}

/// TestWithoutCancel: no deadline, `done` never ready, `err` nil, values kept; its own
/// children are independent of the cancelled ancestor.
#[test]
fn test_without_cancel() {
    go_main("TestWithoutCancel", || {
        static K: Key<&str> = Key::new("key");
        let (parent, cancel) = context::background()
            .with_value(&K, "value")
            .with_timeout(VERY_LONG);
        let c = parent.without_cancel();
        cancel();
        assert_eq!(parent.err(), Some(ContextError::Canceled));
        assert_eq!(c.deadline(), None);
        assert!(!is_done(&c));
        assert_eq!(c.done().try_recv(), Err(TryRecvError::Empty));
        assert_eq!(c.err(), None);
        assert_eq!(c.value(&K), Some(&"value"));
        let (child, child_cancel) = c.with_cancel();
        assert!(!is_done(&child), "a child of without_cancel is live");
        child_cancel();
        assert!(is_done(&child));
    });
}

/// TestWithCancelSimultaneouslyCanceledParent's cousin for the detaching: children created
/// while their parent is being cancelled from many goroutines all end, and the parent's
/// registry is empty afterwards.
#[test]
fn test_concurrent_create_and_cancel() {
    go_main("ConcurrentCreateAndCancel", || {
        let (parent, cancel) = context::background().with_cancel();
        let made = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = chan::unbounded::<Context>();
        let creators: Vec<_> = (0..8)
            .map(|_| {
                let (parent, made, tx) = (parent.clone(), made.clone(), tx.clone());
                goro::go(move || {
                    for _ in 0..500 {
                        let (c, _cancel) = parent.with_cancel();
                        made.fetch_add(1, Ordering::Relaxed);
                        tx.send(c).unwrap();
                        goro::yield_now();
                    }
                })
            })
            .collect();
        drop(tx);
        goro::yield_now();
        cancel();
        for h in creators {
            h.join().unwrap();
        }
        let mut n = 0;
        for c in &rx {
            assert!(is_done(&c), "a child of a cancelled parent is live");
            n += 1;
        }
        assert_eq!(n, made.load(Ordering::Relaxed));
        assert_eq!(goro::__private::context_registered(&parent), 0);
    });
}
