//! `goro::pool::Pool`: sizes, queue and backpressure, results, errors and panics, context,
//! shutdown, metrics. Every job is accounted for in the report.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan;
use goro::context;
use goro::pool::{JobError, PanicPolicy, Pool, Report, SubmitError, TaskError};

mod support;

use support::eventually;

fn accounted(r: &Report) -> u64 {
    r.completed + r.failed + r.panicked + r.cancelled
}

/// Jobs that hold their workers until the gate lets them go.
struct Gate {
    tx: chan::Sender<()>,
    rx: chan::Receiver<()>,
}

impl Gate {
    /// Submits `n` jobs that each wait at the gate.
    fn hold(pool: &Pool, n: usize) -> Gate {
        let (tx, rx) = chan::bounded::<()>(0);
        for _ in 0..n {
            let rx = rx.clone();
            pool.submit(move || {
                let _ = rx.recv();
            })
            .unwrap();
        }
        Gate { tx, rx }
    }

    /// Lets one waiting job go.
    fn release_one(&self) {
        self.tx.send(()).unwrap();
    }

    /// Lets every waiting job go, now and later.
    fn open(self) {
        drop(self.rx);
        self.tx.close();
    }
}

#[goro::test]
fn fixed_pool_runs_every_job_once() {
    let pool = Pool::new(4);
    assert_eq!(pool.workers(), 4);
    let sum = Arc::new(AtomicU64::new(0));
    for j in 1..=10_000u64 {
        let sum = sum.clone();
        pool.submit(move || {
            sum.fetch_add(j, Ordering::Relaxed);
        })
        .unwrap();
    }
    let r = pool.wait();
    assert_eq!(sum.load(Ordering::Relaxed), 10_000 * 10_001 / 2);
    assert_eq!(r.submitted, 10_000);
    assert_eq!(r.completed, 10_000);
    assert_eq!(accounted(&r), r.submitted);
    assert_eq!(pool.workers(), 0);
}

#[goro::test]
fn the_workers_are_the_limit_on_concurrency() {
    let pool = Pool::new(3);
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    for _ in 0..60 {
        let (now, peak) = (now.clone(), peak.clone());
        pool.submit(move || {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            goro::sleep(Duration::from_millis(1));
            now.fetch_sub(1, Ordering::SeqCst);
        })
        .unwrap();
    }
    pool.wait();
    let peak = peak.load(Ordering::SeqCst);
    assert!((1..=3).contains(&peak), "peak concurrency {peak}");
}

#[goro::test]
fn a_dynamic_pool_grows_under_load_and_shrinks_when_idle() {
    let pool = Pool::builder()
        .min_workers(1)
        .max_workers(6)
        .idle_timeout(Duration::from_millis(20))
        .build();
    assert_eq!(pool.workers(), 1);
    let gate = Gate::hold(&pool, 6);
    eventually("six busy workers", || pool.running() == 6);
    assert_eq!(pool.workers(), 6);
    // A seventh job waits: the pool is at its maximum.
    pool.submit(|| {}).unwrap();
    assert_eq!(pool.workers(), 6);
    gate.open();
    eventually("shrunk back to min_workers", || pool.workers() == 1);
    let r = pool.wait();
    assert_eq!(r.completed, 7);
}

#[goro::test]
fn resize_up_and_down_under_load() {
    let pool = Pool::builder()
        .min_workers(1)
        .max_workers(2)
        .idle_timeout(Duration::from_secs(60))
        .build();
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (gate_tx, gate_rx) = chan::bounded::<()>(0);
    for _ in 0..200 {
        let (now, peak, gate) = (now.clone(), peak.clone(), gate_rx.clone());
        pool.submit(move || {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            let _ = gate.recv();
            now.fetch_sub(1, Ordering::SeqCst);
        })
        .unwrap();
    }
    eventually("two running", || pool.running() == 2);
    pool.resize(8);
    eventually("eight running after growing", || pool.running() == 8);
    assert_eq!(pool.workers(), 8);
    pool.resize(3);
    // Let jobs finish one at a time: surplus workers exit as they finish theirs.
    for _ in 0..20 {
        gate_tx.send(()).unwrap();
    }
    eventually("shrunk to three", || pool.workers() == 3);
    peak.store(0, Ordering::SeqCst);
    drop(gate_rx);
    gate_tx.close();
    let r = pool.wait();
    assert_eq!(r.completed, 200);
    assert!(peak.load(Ordering::SeqCst) <= 3);
}

#[goro::test]
fn a_bounded_queue_pushes_back() {
    let pool = Pool::builder()
        .min_workers(1)
        .max_workers(1)
        .queue_capacity(2)
        .build();
    let gate = Gate::hold(&pool, 1);
    eventually("the worker is busy", || pool.running() == 1);
    pool.submit(|| {}).unwrap();
    pool.submit(|| {}).unwrap();
    assert_eq!(pool.queued(), 2);
    // Full: try_submit hands the job back at once, submit_timeout after the timeout.
    let called = Arc::new(AtomicU64::new(0));
    let job = {
        let called = called.clone();
        move || {
            called.fetch_add(1, Ordering::SeqCst);
        }
    };
    match pool.try_submit(job) {
        Err(SubmitError::Full(j)) => j(),
        other => panic!("expected Full, got {other:?}"),
    }
    assert_eq!(called.load(Ordering::SeqCst), 1, "the job came back");
    match pool.submit_timeout(|| {}, Duration::from_millis(5)) {
        Err(SubmitError::Timeout(_)) => {}
        other => panic!("expected Timeout, got {other:?}"),
    }
    let (ctx, cancel) = context::background().with_cancel();
    let canceller = goro::go(move || {
        goro::sleep(Duration::from_millis(5));
        cancel();
    });
    let job = {
        let called = called.clone();
        move || {
            called.fetch_add(1, Ordering::SeqCst);
        }
    };
    match pool.submit_ctx(&ctx, job) {
        Err(SubmitError::Canceled(j)) => j(),
        other => panic!("expected Canceled, got {other:?}"),
    }
    assert_eq!(called.load(Ordering::SeqCst), 2, "the job came back");
    canceller.join().unwrap();
    assert_eq!(pool.dropped(), 3);
    // A blocking submit goes through once there is room.
    let blocked = {
        let pool = pool.clone();
        goro::go(move || pool.submit(|| {}).is_ok())
    };
    gate.release_one();
    assert!(blocked.join().unwrap());
    gate.open();
    let r = pool.wait();
    assert_eq!(r.submitted, 4);
    assert_eq!(r.completed, 4);
    assert_eq!(r.dropped, 3);
}

#[goro::test]
fn closing_while_100_submitters_block_hands_their_jobs_back() {
    let pool = Pool::builder()
        .min_workers(1)
        .max_workers(1)
        .queue_capacity(1)
        .build();
    let gate = Gate::hold(&pool, 1);
    eventually("the worker is busy", || pool.running() == 1);
    pool.submit(|| {}).unwrap();
    let back_ids = Arc::new(std::sync::Mutex::new(Vec::new()));
    let submitters: Vec<_> = (0..100)
        .map(|i| {
            let (pool, ids) = (pool.clone(), back_ids.clone());
            goro::go(
                move || match pool.submit(move || ids.lock().unwrap().push(i)) {
                    Ok(()) => None,
                    Err(e) => {
                        assert!(e.is_closed());
                        Some(e)
                    }
                },
            )
        })
        .collect();
    goro::sleep(Duration::from_millis(20));
    pool.close();
    for e in submitters.into_iter().filter_map(|h| h.join().unwrap()) {
        // Run the handed-back job here: it records its id.
        e.into_job()();
    }
    let mut back = back_ids.lock().unwrap().clone();
    back.sort();
    gate.open();
    let r = pool.wait();
    // Every job either ran or came back to its submitter.
    assert_eq!(r.submitted + back.len() as u64, 102);
    assert_eq!(r.completed, r.submitted);
    assert_eq!(r.dropped, back.len() as u64);
    assert!(back.windows(2).all(|w| w[0] < w[1]));
    assert!(matches!(pool.submit(|| {}), Err(SubmitError::Closed(_))));
}

#[goro::test]
fn cancelling_the_context_with_10000_queued_jobs_accounts_for_all() {
    let (ctx, cancel) = context::background().with_cancel();
    let pool = Pool::builder()
        .min_workers(2)
        .max_workers(2)
        .context(&ctx)
        .build();
    let ran = Arc::new(AtomicU64::new(0));
    let gate = Gate::hold(&pool, 2);
    let handles: Vec<_> = (0..10_000)
        .map(|_| {
            let ran = ran.clone();
            pool.submit_with_value(move || {
                ran.fetch_add(1, Ordering::Relaxed);
            })
            .unwrap()
        })
        .collect();
    eventually("both workers busy", || pool.running() == 2);
    cancel();
    assert!(pool.context().err().is_some());
    gate.open();
    let r = pool.wait();
    let ran = ran.load(Ordering::Relaxed);
    assert_eq!(r.submitted, 10_002);
    assert_eq!(r.completed, 2 + ran);
    assert_eq!(r.cancelled, 10_000 - ran);
    assert_eq!(accounted(&r), r.submitted);
    let canceled = handles
        .into_iter()
        .filter(|_| true)
        .map(|h| h.join())
        .filter(|r| *r == Err(TaskError::Canceled))
        .count() as u64;
    assert_eq!(canceled, r.cancelled);
    assert!(matches!(pool.submit(|| {}), Err(SubmitError::Closed(_))));
}

#[goro::test]
fn errors_are_collected_on_the_error_channel() {
    let pool = Pool::new(3);
    for i in 0..30 {
        pool.submit(move || {
            if i % 3 == 0 {
                Err(format!("job {i} failed"))
            } else {
                Ok(())
            }
        })
        .unwrap();
    }
    let r = pool.wait();
    assert_eq!((r.completed, r.failed), (20, 10));
    let mut msgs: Vec<String> = pool.errors().iter().map(|e| e.to_string()).collect();
    msgs.sort();
    assert_eq!(msgs.len(), 10);
    assert!(msgs.contains(&"job failed: job 0 failed".to_string()));
    assert_eq!(pool.failed(), 10);
}

#[goro::test]
fn fail_fast_cancels_the_queued_jobs() {
    let pool = Pool::builder()
        .min_workers(1)
        .max_workers(1)
        .fail_fast()
        .build();
    let ctx = pool.context();
    // The first job holds the worker until every job is queued.
    let gate = Gate::hold(&pool, 1);
    for i in 1..1000 {
        pool.submit(move || if i == 10 { Err("boom") } else { Ok(()) })
            .unwrap_or_else(|_| panic!("the pool refused job {i}"));
    }
    gate.open();
    let r = pool.wait();
    assert_eq!(r.failed, 1);
    assert_eq!(r.completed, 10);
    assert_eq!(r.cancelled, 989);
    assert_eq!(accounted(&r), 1000);
    assert!(ctx.err().is_some());
    let errs: Vec<JobError> = pool.errors().iter().collect();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].to_string(), "job failed: boom");
}

#[goro::test]
fn a_panicking_job_becomes_an_error_and_the_worker_survives() {
    let _quiet = support::expect_panics();
    let pool = Pool::new(1);
    pool.submit(|| -> () { panic!("job exploded") }).unwrap();
    let h = pool.submit_with_value(|| 5).unwrap();
    assert_eq!(h.join(), Ok(5));
    let bad = pool
        .submit_with_value(|| -> u32 { panic!("second") })
        .unwrap();
    assert_eq!(bad.join(), Err(TaskError::Panicked("second".into())));
    let r = pool.wait();
    assert_eq!((r.completed, r.panicked), (1, 2));
    let msgs: Vec<String> = pool.errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(msgs, ["job panicked: job exploded", "job panicked: second"]);
}

#[goro::test]
fn resume_policy_re_raises_the_first_panic_from_wait() {
    let _quiet = support::expect_panics();
    let pool = Pool::builder()
        .max_workers(2)
        .panic_policy(PanicPolicy::Resume)
        .build();
    let done = Arc::new(AtomicU64::new(0));
    pool.submit(|| -> () { panic!("resumed from wait") })
        .unwrap();
    for _ in 0..50 {
        let done = done.clone();
        pool.submit(move || {
            done.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    }
    let p = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.wait()))
        .expect_err("wait re-raises the panic");
    assert_eq!(p.downcast_ref::<&str>(), Some(&"resumed from wait"));
    // Every other job still ran first.
    assert_eq!(done.load(Ordering::Relaxed), 50);
}

#[goro::test]
fn map_yields_100000_results_in_order_with_bounded_flight() {
    let pool = Pool::new(4);
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let started = Arc::new(AtomicU64::new(0));
    let mut consumed = 0u64;
    let mut most_ahead = 0u64;
    let iter = {
        let (now, peak, started) = (now.clone(), peak.clone(), started.clone());
        pool.map(0..100_000u64, move |x| {
            started.fetch_add(1, Ordering::SeqCst);
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            if x % 1000 == 0 {
                goro::yield_now();
            }
            now.fetch_sub(1, Ordering::SeqCst);
            x * 3
        })
    };
    for (i, r) in iter.enumerate() {
        assert_eq!(r, Ok(i as u64 * 3), "item {i}");
        consumed += 1;
        most_ahead = most_ahead.max(started.load(Ordering::SeqCst) - consumed);
    }
    assert_eq!(consumed, 100_000);
    // At most 4 calls at a time (the workers), and a bounded number of items started
    // ahead of the consumer (2 x workers batches of at most 256).
    assert!(peak.load(Ordering::SeqCst) <= 4);
    assert!(most_ahead <= 2 * 4 * 256, "{most_ahead} items ahead");
    let r = pool.wait();
    assert_eq!((r.failed, r.panicked, r.cancelled), (0, 0, 0));
    assert!((1..=100_000).contains(&r.completed));
}

#[goro::test]
fn map_over_a_slow_function_uses_every_worker() {
    let pool = Pool::new(4);
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let out: Vec<u32> = {
        let (now, peak) = (now.clone(), peak.clone());
        pool.map(0..16u32, move |x| {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            goro::sleep(Duration::from_millis(5));
            now.fetch_sub(1, Ordering::SeqCst);
            x
        })
        .map(Result::unwrap)
        .collect()
    };
    assert_eq!(out, (0..16).collect::<Vec<_>>());
    // Slow items are not batched together: the four workers ran at once.
    assert_eq!(peak.load(Ordering::SeqCst), 4);
    pool.wait();
}

#[goro::test]
fn map_after_the_pool_ended_yields_cancellations() {
    let pool = Pool::new(2);
    pool.stop();
    let out: Vec<_> = pool.map(0..5u32, |x| x).collect();
    assert_eq!(out, vec![Err(TaskError::Canceled); 5]);
    let out: Vec<_> = pool.map_unordered(0..3u32, |x| x).collect();
    assert_eq!(out, vec![Err(TaskError::Canceled); 3]);
}

#[goro::test]
fn map_unordered_yields_every_result_once() {
    let _quiet = support::expect_panics();
    let pool = Pool::new(3);
    let mut got: Vec<u64> = pool
        .map_unordered(0..10_000u64, |x| x + 1)
        .map(Result::unwrap)
        .collect();
    got.sort();
    assert_eq!(got, (1..=10_000).collect::<Vec<_>>());
    // A panicking call is an error item, counted by the pool.
    let items: Vec<_> = pool
        .map_unordered(0..10u32, |x| if x == 4 { panic!("four") } else { x })
        .collect();
    assert_eq!(items.len(), 10);
    assert_eq!(items.iter().filter(|r| r.is_err()).count(), 1, "{items:?}");
    let r = pool.wait();
    assert_eq!(r.panicked, 1);
}

#[goro::test]
fn nested_submit_on_a_full_pool_does_not_deadlock() {
    let pool = Pool::builder()
        .min_workers(2)
        .max_workers(2)
        .queue_capacity(1)
        .build();
    let count = Arc::new(AtomicU64::new(0));
    for _ in 0..20 {
        let (inner, count) = (pool.clone(), count.clone());
        pool.submit(move || {
            // Each job fans out more jobs into the same (tiny) pool.
            for _ in 0..10 {
                let count = count.clone();
                inner
                    .submit(move || {
                        count.fetch_add(1, Ordering::Relaxed);
                    })
                    .unwrap();
            }
            count.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    }
    let r = pool.wait();
    assert_eq!(count.load(Ordering::Relaxed), 20 * 11);
    assert_eq!(r.completed, 20 * 11);
}

#[goro::test]
fn stop_cancels_queued_jobs_and_waits_for_running_ones() {
    let pool = Pool::new(1);
    let (started_tx, started_rx) = chan::bounded::<()>(1);
    let finished = Arc::new(AtomicU64::new(0));
    {
        let finished = finished.clone();
        pool.submit(move || {
            started_tx.send(()).unwrap();
            goro::sleep(Duration::from_millis(20));
            finished.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    }
    for _ in 0..100 {
        pool.submit(|| {}).unwrap();
    }
    started_rx.recv().unwrap();
    let r = pool.stop();
    assert_eq!(
        finished.load(Ordering::Relaxed),
        1,
        "stop waited for the running job"
    );
    assert_eq!(r.completed, 1);
    assert_eq!(r.cancelled, 100);
}

#[goro::test]
fn metrics_follow_the_pool() {
    let pool = Pool::builder().min_workers(2).max_workers(2).build();
    eventually("two idle workers", || pool.idle() == 2);
    let gate = Gate::hold(&pool, 5);
    eventually("two running, three queued", || {
        pool.running() == 2 && pool.queued() == 3 && pool.idle() == 0
    });
    assert_eq!(pool.submitted(), 5);
    assert_eq!(pool.workers(), 2);
    gate.open();
    let r = pool.wait();
    assert_eq!(r.completed, 5);
    assert_eq!(pool.completed(), 5);
    assert_eq!((pool.running(), pool.queued(), pool.workers()), (0, 0, 0));
}

#[test]
#[should_panic(expected = "at least 1 worker")]
fn a_pool_of_zero_workers_is_rejected() {
    let _ = Pool::new(0);
}

#[goro::test]
fn wait_inside_a_job_panics_instead_of_deadlocking() {
    let _quiet = support::expect_panics();
    let pool = Pool::new(1);
    let inner = pool.clone();
    let h = pool
        .submit_with_value(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.wait())).is_err()
        })
        .unwrap();
    assert_eq!(h.join(), Ok(true));
    pool.wait();
}

/// A job of `submit_with_result` that returns `Err` is failed, never completed: its handle
/// gets `TaskError::Failed` with the job's own error, and the pool's counts and report agree
/// (`failed` counts errors only, `panicked` panics only).
#[goro::test]
fn a_job_returning_err_counts_as_failed() {
    let _quiet = support::expect_panics();
    #[derive(Debug, PartialEq)]
    struct Refused(u16);
    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "port {} refused", self.0)
        }
    }
    impl std::error::Error for Refused {}

    let pool = Pool::new(2);
    let ok = pool.submit_with_result(|| Ok::<_, Refused>(80)).unwrap();
    let bad = pool
        .submit_with_result(|| Err::<u16, _>(Refused(443)))
        .unwrap();
    let boom = pool
        .submit_with_result(|| -> Result<u16, Refused> { panic!("expected panic in a job") })
        .unwrap();
    assert_eq!(ok.join(), Ok(80));
    let err = bad.join().unwrap_err();
    assert_eq!(err, TaskError::Failed(Refused(443)));
    assert_eq!(
        std::error::Error::source(&err).unwrap().to_string(),
        "port 443 refused"
    );
    assert_eq!(err.into_failed(), Some(Refused(443)));
    assert_eq!(
        boom.join(),
        Err(TaskError::Panicked("expected panic in a job".into()))
    );
    pool.submit(|| Err("plain")).unwrap();
    pool.submit(|| -> () { panic!("expected panic in a plain job") })
        .unwrap();
    let r = pool.wait();
    assert_eq!(
        (r.submitted, r.completed, r.failed, r.panicked),
        (5, 1, 2, 2)
    );
    assert_eq!(accounted(&r), r.submitted);
    assert_eq!(
        (pool.completed(), pool.failed(), pool.panicked()),
        (1, 2, 2)
    );
    // The handle took the error of its job; the plain job's error and both panics are on
    // `errors()`.
    let mut msgs: Vec<String> = pool.errors().iter().map(|e| e.to_string()).collect();
    msgs.sort();
    assert_eq!(
        msgs,
        [
            "job failed: plain",
            "job panicked: expected panic in a job",
            "job panicked: expected panic in a plain job",
        ]
    );
}

/// The error of a job whose handle was dropped is not lost: it goes to `errors()`. A
/// fail-fast pool ends at a handle's job's error as at any other.
#[goro::test]
fn an_error_nobody_holds_a_handle_for_goes_to_errors() {
    let pool = Pool::new(1);
    let (tx, rx) = chan::bounded::<()>(0);
    let h = pool
        .submit_with_result(move || {
            let _ = rx.recv();
            Err::<(), _>("orphaned error")
        })
        .unwrap();
    drop(h);
    drop(tx);
    let r = pool.wait();
    assert_eq!(r.failed, 1);
    let msgs: Vec<String> = pool.errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(msgs, ["job failed: orphaned error"]);

    let pool = Pool::builder()
        .min_workers(1)
        .max_workers(1)
        .fail_fast()
        .build();
    let gate = Gate::hold(&pool, 1);
    let bad = pool.submit_with_result(|| Err::<(), _>("first")).unwrap();
    let later = pool.submit_with_value(|| 1).unwrap();
    gate.open();
    assert_eq!(bad.join(), Err(TaskError::Failed("first")));
    assert_eq!(later.join(), Err(TaskError::Canceled));
    let r = pool.wait();
    assert_eq!((r.failed, r.cancelled), (1, 1));
}

/// Unread errors are bounded by `errors_capacity`: the first ones are kept, the rest only
/// counted, and the count is in the report and on the pool. Reading makes room again.
#[goro::test]
fn unread_errors_are_bounded_and_the_dropped_ones_counted() {
    let pool = Pool::builder().max_workers(2).errors_capacity(4).build();
    for i in 0..10 {
        pool.submit(move || Err(format!("error {i}"))).unwrap();
    }
    // Nobody reads: the first 4 are kept, the 6 after them counted.
    eventually("every error reported", || {
        pool.errors_dropped() == 6 && pool.failed() == 10
    });
    assert_eq!(pool.errors().len(), 4);
    // Room again once read.
    let first: Vec<JobError> = pool.errors().try_iter().collect();
    assert_eq!(first.len(), 4);
    pool.submit(|| Err("after reading")).unwrap();
    let r = pool.wait();
    assert_eq!((r.failed, r.errors_dropped), (11, 6));
    let rest: Vec<String> = pool.errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(rest, ["job failed: after reading"]);

    // The default keeps 1024.
    assert_eq!(goro::pool::DEFAULT_ERRORS_CAPACITY, 1024);
    let pool = Pool::new(2);
    for _ in 0..1100 {
        pool.submit(|| Err("x")).unwrap();
    }
    let r = pool.wait();
    assert_eq!((r.failed, r.errors_dropped), (1100, 76));
    assert_eq!(pool.errors().iter().count(), 1024);
}

/// `TaskHandle::join_timeout` gives `None` while the job is held (the handle stays
/// usable), then the job's result; a plain `join` after a timed-out wait or a losing
/// select still gets it.
#[goro::test]
fn task_handle_join_timeout_both_ways() {
    let pool = Pool::new(2);
    let (tx, rx) = chan::bounded::<()>(0);
    let mut h = pool.submit_with_value(move || rx.recv().is_ok()).unwrap();
    assert_eq!(h.join_timeout(Duration::from_millis(5)), None);
    assert_eq!(
        h.join_deadline(std::time::Instant::now() + Duration::from_millis(5)),
        None
    );
    tx.send(()).unwrap();
    assert_eq!(h.join_timeout(Duration::from_secs(60)), Some(Ok(true)));

    let (tx, rx) = chan::bounded::<()>(0);
    let mut h = pool.submit_with_value(move || rx.recv().is_ok()).unwrap();
    goro::select! {
        fut(&mut h) -> _ => panic!("the job is held"),
        default => {}
    }
    assert_eq!(h.join_timeout(Duration::from_millis(1)), None);
    goro::go(move || tx.send(()).unwrap());
    assert_eq!(h.join(), Ok(true));
    pool.wait();
}
