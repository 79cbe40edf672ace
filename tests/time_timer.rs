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
