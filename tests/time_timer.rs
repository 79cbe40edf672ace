//! `goro::time`: timers, tickers, `after`, `tick`, `after_func`, with Go 1.23's semantics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::chan::{RecvTimeoutError, TryRecvError};
use goro::time::{self, Ticker, Timer};

const LONG: Duration = Duration::from_secs(3600);

#[test]
fn after_delivers_the_fire_time_once() {
    let start = Instant::now();
    let rx = time::after(Duration::from_millis(20));
    let t = rx.recv().unwrap();
    assert!(t >= start + Duration::from_millis(20));
    assert!(
        rx.recv_timeout(Duration::from_millis(50)).is_err(),
        "only one value"
    );
}

#[test]
fn zero_duration_fires_at_once() {
    goro::run(|| {
        for _ in 0..1000 {
            let t = Timer::new(Duration::ZERO);
            t.receiver().recv().unwrap();
        }
    });
}

#[test]
fn stop_before_firing_prevents_delivery() {
    let t = Timer::new(Duration::from_millis(30));
    assert!(t.stop(), "a pending timer reports true");
    assert!(!t.stop(), "a second stop reports false");
    assert_eq!(
        t.receiver().recv_timeout(Duration::from_millis(80)),
        Err(RecvTimeoutError::Timeout)
    );
}

#[test]
fn stop_after_firing_discards_the_unreceived_value() {
    let t = Timer::new(Duration::from_millis(1));
    std::thread::sleep(Duration::from_millis(30));
    // Fired but not received: counts as pending (Go 1.23), and the value is gone.
    assert!(t.stop());
    assert_eq!(t.receiver().try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn stop_after_receiving_reports_false() {
    let t = Timer::new(Duration::from_millis(1));
    t.receiver().recv().unwrap();
    assert!(!t.stop());
}

#[test]
fn reset_rearms_and_reports_like_stop() {
    let t = Timer::new(LONG);
    let start = Instant::now();
    assert!(
        t.reset(Duration::from_millis(20)),
        "reset of a pending timer"
    );
    let fired = t.receiver().recv().unwrap();
    assert!(fired >= start + Duration::from_millis(20));
    assert!(
        !t.reset(Duration::from_millis(10)),
        "reset after the value was received"
    );
    t.receiver().recv().unwrap();
    // Reset discards a delivered but unreceived value: no stale value afterwards.
    let t = Timer::new(Duration::from_millis(1));
    std::thread::sleep(Duration::from_millis(20));
    assert!(t.reset(LONG));
    assert_eq!(t.receiver().try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn ticker_ticks_and_drops_ticks_for_a_slow_receiver() {
    let ticker = Ticker::new(Duration::from_millis(5));
    for _ in 0..3 {
        ticker.receiver().recv().unwrap();
    }
    // Ten periods without receiving: at most one tick waits.
    std::thread::sleep(Duration::from_millis(60));
    assert!(ticker.receiver().len() <= 1);
    ticker.stop();
    assert_eq!(ticker.receiver().try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        ticker.receiver().recv_timeout(Duration::from_millis(30)),
        Err(RecvTimeoutError::Timeout),
        "no tick after stop"
    );
    ticker.reset(Duration::from_millis(5));
    ticker.receiver().recv().unwrap();
}

#[test]
fn tick_delivers_repeatedly() {
    let rx = time::tick(Duration::from_millis(2));
    for _ in 0..5 {
        rx.recv().unwrap();
    }
}

#[test]
#[should_panic(expected = "non-positive interval")]
fn tick_zero_is_rejected() {
    let _ = time::tick(Duration::ZERO);
}

#[test]
#[should_panic(expected = "non-positive interval for Ticker::new")]
fn ticker_zero_is_rejected() {
    let _ = Ticker::new(Duration::ZERO);
}

#[test]
fn after_func_runs_in_a_goroutine_unless_stopped() {
    let ran = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = goro::chan::bounded(1);
    let r = ran.clone();
    let _t = time::after_func(Duration::from_millis(5), move || {
        r.fetch_add(1, Ordering::SeqCst);
        let _ = tx.try_send(goro::in_goroutine());
    });
    assert_eq!(rx.recv(), Ok(true), "f runs in a goroutine");
    let ran2 = Arc::new(AtomicUsize::new(0));
    let r2 = ran2.clone();
    let t = time::after_func(Duration::from_millis(20), move || {
        r2.fetch_add(1, Ordering::SeqCst);
    });
    assert!(t.stop());
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        ran2.load(Ordering::SeqCst),
        0,
        "a stopped after_func never runs"
    );
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn hundred_thousand_after_timeouts_in_selects() {
    goro::run(|| {
        let wg = goro::sync::WaitGroup::new();
        let timeouts = Arc::new(AtomicUsize::new(0));
        for _ in 0..100_000 {
            let t = timeouts.clone();
            wg.go(move || {
                let never = goro::chan::never::<()>();
                goro::select! {
                    recv(never) -> _v => unreachable!(),
                    recv(time::after(Duration::from_millis(10))) -> v => {
                        assert!(v.is_ok());
                        t.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
        wg.wait();
        assert_eq!(timeouts.load(Ordering::SeqCst), 100_000);
    });
}

#[test]
fn many_timers_created_and_stopped() {
    // Stopped timers are swept from the runtime; creating and stopping many stays cheap and
    // none of them fires.
    let timers: Vec<Timer> = (0..200_000).map(|_| Timer::new(LONG)).collect();
    for t in &timers {
        assert!(t.stop());
    }
    let t = Timer::new(Duration::from_millis(1));
    t.receiver().recv().unwrap();
    for t in &timers {
        assert_eq!(t.receiver().try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn timer_channels_report_zero_length_and_capacity_and_never_close() {
    let t = Timer::new(Duration::from_millis(1));
    assert_eq!(t.receiver().capacity(), Some(0));
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        t.receiver().len(),
        0,
        "a delivered value is not counted (Go 1.23)"
    );
    t.receiver().recv().unwrap();
    // After its value, an `after` channel waits forever, as in Go: it never closes.
    let rx = time::after(Duration::ZERO);
    rx.recv().unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(30)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(!rx.is_closed());
}

/// Runs `f` in `goro::maxprocs()` goroutines at once, each computing without parking for as
/// long as `f` likes: while they do, no worker's loop turns, so no worker fires a timer.
fn on_every_worker_busy(f: impl Fn() + Send + Sync + 'static) {
    goro::run(move || {
        let n = goro::maxprocs();
        let f = Arc::new(f);
        let started = Arc::new(AtomicUsize::new(0));
        let wg = goro::sync::WaitGroup::new();
        for _ in 0..n {
            let (f, started) = (f.clone(), started.clone());
            wg.go(move || {
                // Every worker is taken before the timers are made.
                started.fetch_add(1, Ordering::SeqCst);
                while started.load(Ordering::SeqCst) < n {
                    std::hint::spin_loop();
                }
                f();
            });
        }
        wg.wait();
    });
}

/// Computes until `d` has passed, without parking.
fn compute_for(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

#[test]
fn an_expired_timer_is_ready_at_once() {
    // Go 1.23 runs an expired timer when its channel is looked at: no wait for the
    // scheduler. On a plain thread and in a goroutine.
    let check = || {
        for _ in 0..100 {
            assert!(time::after(Duration::ZERO).try_recv().is_ok());
            let t = Timer::new(Duration::ZERO);
            assert!(t.receiver().try_recv().is_ok());
            let ticker = Ticker::new(Duration::from_nanos(1));
            assert!(ticker.receiver().try_recv().is_ok());
        }
    };
    check();
    goro::run(check);
}

#[test]
fn a_timer_due_while_every_worker_computes_is_ready_at_once() {
    on_every_worker_busy(|| {
        let t = Timer::new(Duration::from_millis(1));
        let rx = time::after(Duration::from_millis(1));
        compute_for(Duration::from_millis(20));
        // No worker has had a turn of its loop since the deadlines: the looks fire them.
        assert!(t.receiver().try_recv().is_ok(), "try_recv");
        let got = goro::select! {
            recv(rx) -> v => v.is_ok(),
            default => false,
        };
        assert!(got, "select with default");
    });
}

#[test]
fn an_expired_timer_delivers_exactly_once() {
    goro::run(|| {
        for _ in 0..100 {
            let t = Timer::new(Duration::ZERO);
            assert!(t.receiver().try_recv().is_ok());
            // The runtime's entry for this arming is due too: it must find nothing to do.
            time::sleep(Duration::from_millis(1));
            assert_eq!(t.receiver().try_recv(), Err(TryRecvError::Empty));
            assert!(!t.stop(), "fired and received: nothing left to stop");
        }
    });
    // Fired in place by one receiver of a shared channel, received by one goroutine only.
    goro::run(|| {
        let rx = time::after(Duration::from_millis(2));
        let got = Arc::new(AtomicUsize::new(0));
        let wg = goro::sync::WaitGroup::new();
        for _ in 0..8 {
            let (rx, got) = (rx.clone(), got.clone());
            wg.go(move || {
                let end = Instant::now() + Duration::from_millis(30);
                while Instant::now() < end {
                    if rx.try_recv().is_ok() {
                        got.fetch_add(1, Ordering::SeqCst);
                    }
                    goro::yield_now();
                }
            });
        }
        wg.wait();
        assert_eq!(got.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn timers_deliver_their_deadline_even_when_fired_late() {
    // Go sends the time the timer was due, `start + d`, whenever it runs. The deadline is
    // taken inside `Timer::new`, between `before` and `after`.
    const D: Duration = Duration::from_millis(2);
    let before = Instant::now();
    let t = Timer::new(D);
    let after = Instant::now();
    let got = t.receiver().recv().unwrap();
    assert!(before + D <= got && got <= after + D, "the deadline");
    assert!(Instant::now() >= got);
    // Fired late: every worker computes well past the deadline.
    on_every_worker_busy(|| {
        let before = Instant::now();
        let t = Timer::new(D);
        let after = Instant::now();
        compute_for(Duration::from_millis(20));
        let got = t.receiver().try_recv().expect("due");
        assert!(
            before + D <= got && got <= after + D,
            "the deadline, not the firing"
        );
    });
}

#[test]
fn tickers_deliver_each_ticks_due_time_and_keep_their_phase() {
    const P: Duration = Duration::from_millis(3);
    let before = Instant::now();
    let ticker = Ticker::new(P);
    let after = Instant::now();
    // Which tick of the phase `v` is (1 for the first); fails unless `v` is on the phase.
    let tick_of = |v: Instant| {
        let since = v.duration_since(before);
        let k = since.as_nanos() / P.as_nanos();
        let off = since - P * k as u32;
        if off <= after - before {
            k
        } else {
            // `before` sits up to `after - before` ahead of the phase's origin.
            let k = k + 1;
            assert!(
                P * k as u32 - since <= after - before,
                "tick {v:?} off the phase"
            );
            k
        }
    };
    let mut last = 0;
    for _ in 0..3 {
        let k = tick_of(ticker.receiver().recv().unwrap());
        assert!(k > last, "tick {k} after tick {last}");
        last = k;
    }
    // Ten periods without receiving: the one tick kept is the first missed one, and the
    // ticks after it keep the phase.
    std::thread::sleep(P * 10);
    let k = tick_of(ticker.receiver().recv().unwrap());
    assert_eq!(k, last + 1, "the first missed tick, with its due time");
    last = k;
    for _ in 0..2 {
        let k = tick_of(ticker.receiver().recv().unwrap());
        assert!(k > last, "tick {k} after tick {last}");
        last = k;
    }
}
