//! src/time/sleep_test.go and tick_test.go, the facts that apply to `goro::time` (Go 1.23
//! timer semantics: unbuffered-like channels, no stale value after `stop`/`reset`). No test
//! asserts a timing: TestAfterQueuing checks only the order of arrivals, and retries with
//! wider slots as Go does.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan::{self, RecvTimeoutError, Sender, TryRecvError};
use goro::time::{self, Ticker, Timer};

use crate::support::go_main;

const HOUR: Duration = Duration::from_secs(3600);

/// TestAfterQueuing: 13 goroutines each wait for `after(slot · δ)` for the slots
/// 5 3 6 6 6 1 1 2 7 9 4 8 0 and report; the arrivals must come in non-decreasing slot order.
/// Go retries with wider slots (δ = 20, 70, 120 ms …) when the machine is slow; so does this
/// port (δ = 30, 70, 120, 250 ms): only the order is asserted.
#[test]
fn test_after_queuing() {
    go_main("TestAfterQueuing", || {
        const SLOTS: [u32; 13] = [5, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0];
        let mut last = Vec::new();
        for delta_ms in [30u64, 70, 120, 250] {
            let delta = Duration::from_millis(delta_ms);
            let (tx, rx) = chan::bounded::<u32>(SLOTS.len());
            for &slot in &SLOTS {
                let tx = tx.clone();
                goro::go(move || {
                    time::after(delta * slot).recv().unwrap();
                    tx.send(slot).unwrap();
                });
            }
            let order: Vec<u32> = (0..SLOTS.len()).map(|_| rx.recv().unwrap()).collect();
            if order.windows(2).all(|w| w[0] <= w[1]) {
                assert_eq!(order, [0, 1, 1, 2, 3, 4, 5, 6, 6, 6, 7, 8, 9]);
                return;
            }
            last = order;
        }
        panic!("after() values arrived out of order at every slot width: {last:?}");
    });
}

/// TestAfterStop: a pending Timer and an after_func are stopped (true), a second stop returns
/// false, and neither fires within a later after(200 ms).
#[test]
fn test_after_stop() {
    go_main("TestAfterStop", || {
        let fired = Arc::new(AtomicUsize::new(0));
        let f = {
            let fired = fired.clone();
            time::after_func(Duration::from_millis(150), move || {
                fired.fetch_add(1, Ordering::SeqCst);
            })
        };
        let t0 = Timer::new(Duration::from_millis(50));
        let c1 = time::after(Duration::from_millis(200));
        assert!(t0.stop(), "stop of a pending timer");
        assert!(f.stop(), "stop of a pending after_func");
        assert!(!t0.stop(), "second stop");
        assert!(!f.stop(), "second stop of after_func");
        c1.recv().unwrap();
        assert_eq!(
            t0.receiver().try_recv(),
            Err(TryRecvError::Empty),
            "stopped timer fired"
        );
        assert_eq!(fired.load(Ordering::SeqCst), 0, "stopped after_func ran");
    });
}

/// TestReset: reset of a pending timer returns true and it fires at the new deadline only;
/// reset of a timer whose value was received returns false. Go 1.23 (tick_test.go TestChan):
/// a timer that fired but whose value nobody received counts as pending, so stop returns true
/// and the value is gone.
#[test]
fn test_reset_and_stop_return_values() {
    go_main("TestReset", || {
        let t = Timer::new(HOUR);
        assert!(
            t.reset(Duration::from_millis(10)),
            "reset of a pending timer"
        );
        t.receiver().recv().unwrap();
        assert!(!t.reset(HOUR), "reset after the value was received");
        assert!(t.stop(), "stop of the re-armed timer");
        assert!(!t.stop());

        // Fired, not received: stop returns true and no stale value follows.
        let t = Timer::new(HOUR);
        t.reset(Duration::from_nanos(1));
        time::sleep(Duration::from_millis(10));
        assert!(t.stop(), "stop of a fired but unreceived timer");
        assert_eq!(
            t.receiver().try_recv(),
            Err(TryRecvError::Empty),
            "stale value after stop"
        );
        // reset(HOUR) then reset(1 ns): true, and the value arrives.
        assert!(!t.reset(HOUR));
        assert!(t.reset(Duration::from_nanos(1)));
        t.receiver().recv().unwrap();
        // Received: reset returns false.
        assert!(!t.reset(HOUR));
    });
}

/// tick_test.go TestChan (sync mode): two goroutines blocked on one timer's channel: exactly
/// one of them receives the single value. And stop with a goroutine blocked on the channel
/// never delivers.
#[test]
fn test_timer_one_value_two_waiters() {
    go_main("Timer two waiters", || {
        for _ in 0..100 {
            let t = Arc::new(Timer::new(Duration::from_millis(1)));
            let (quit_tx, quit) = chan::bounded::<()>(0);
            let (res_tx, res) = chan::bounded::<u32>(2);
            for _ in 0..2 {
                let (t, quit, res_tx) = (t.clone(), quit.clone(), res_tx.clone());
                goro::go(move || {
                    let got = goro::select! {
                        recv(t.receiver()) -> v => { v.unwrap(); 1 }
                        recv(quit) -> _v => 0,
                    };
                    res_tx.send(got).unwrap();
                });
            }
            let first = res.recv().unwrap();
            assert_eq!(first, 1);
            drop(quit_tx);
            assert_eq!(
                res.recv().unwrap(),
                0,
                "both waiters received the timer's value"
            );
        }
        // Stop while a goroutine is blocked on C: it never gets a value.
        let t = Arc::new(Timer::new(Duration::from_millis(5)));
        let (quit_tx, quit) = chan::bounded::<()>(0);
        let h = {
            let t = t.clone();
            goro::go(move || {
                goro::select! {
                    recv(t.receiver()) -> _v => true,
                    recv(quit) -> _v => false,
                }
            })
        };
        if t.stop() {
            time::sleep(Duration::from_millis(20));
            drop(quit_tx);
            assert!(!h.join().unwrap(), "a stopped timer delivered");
        } else {
            // The timer fired before stop: its value went to the goroutine.
            assert!(h.join().unwrap());
        }
    });
}

/// TestAfterFunc: an after_func(0) whose function re-schedules itself 10 times; the 11th call
/// signals main.
#[test]
fn test_after_func_reschedules_10_times() {
    fn f(i: Arc<AtomicI32>, c: Sender<bool>) {
        let n = i.fetch_sub(1, Ordering::SeqCst) - 1;
        if n >= 0 {
            let (i2, c2) = (i.clone(), c.clone());
            time::after_func(Duration::ZERO, move || f(i2.clone(), c2.clone()));
            time::sleep(Duration::from_secs(1));
        } else {
            c.send(true).unwrap();
        }
    }
    go_main("TestAfterFunc", || {
        let i = Arc::new(AtomicI32::new(10));
        let (c_tx, c) = chan::bounded(0);
        let (i2, c2) = (i.clone(), c_tx.clone());
        time::after_func(Duration::ZERO, move || f(i2.clone(), c2.clone()));
        assert_eq!(c.recv(), Ok(true));
        assert_eq!(i.load(Ordering::SeqCst), -1);
    });
}

/// TestZeroTimer: a zero-duration timer is always delivered (Go: 1e6 iterations; 100,000
/// here), for Timer::new and after.
#[test]
fn test_zero_timer() {
    go_main("TestZeroTimer", || {
        for _ in 0..100_000 {
            Timer::new(Duration::ZERO).receiver().recv().unwrap();
        }
        for _ in 0..10_000 {
            time::after(Duration::ZERO).recv().unwrap();
        }
    });
}

/// Sleep/After with the largest duration never fire (checked for 25 ms, as Go does).
#[test]
fn test_max_duration_never_fires() {
    go_main("max duration", || {
        let c = time::after(Duration::MAX);
        assert_eq!(
            c.recv_timeout(Duration::from_millis(25)),
            Err(RecvTimeoutError::Timeout)
        );
        let t = Timer::new(Duration::MAX);
        assert_eq!(
            t.receiver().recv_timeout(Duration::from_millis(25)),
            Err(RecvTimeoutError::Timeout)
        );
        assert!(t.stop());
        let h = goro::go(|| time::sleep(Duration::MAX));
        time::sleep(Duration::from_millis(25));
        assert!(!h.is_finished());
    });
}

/// TestTicker without its timing: count/2 ticks at δ, reset(2δ), count/2 more ticks, stop; after
/// sleeping 2·2δ no tick is pending (Go 1.23: no stale tick after stop). TestTeardown:
/// new/receive/stop three times.
#[test]
fn test_ticker_reset_and_stop() {
    go_main("TestTicker", || {
        let delta = Duration::from_millis(10);
        let ticker = Ticker::new(delta);
        let mut last = None;
        for _ in 0..5 {
            let t = ticker.receiver().recv().unwrap();
            assert!(last.is_none_or(|l| t > l), "tick times increase");
            last = Some(t);
        }
        ticker.reset(delta * 2);
        for _ in 0..5 {
            let t = ticker.receiver().recv().unwrap();
            assert!(last.is_none_or(|l| t > l), "tick times increase");
            last = Some(t);
        }
        ticker.stop();
        time::sleep(delta * 4);
        assert_eq!(
            ticker.receiver().try_recv(),
            Err(TryRecvError::Empty),
            "tick after stop"
        );
        // Reset restarts a stopped ticker.
        ticker.reset(delta);
        ticker.receiver().recv().unwrap();
        ticker.stop();

        for _ in 0..3 {
            let t = Ticker::new(Duration::from_millis(1));
            t.receiver().recv().unwrap();
            t.stop();
        }
    });
}

#[test]
#[should_panic(expected = "non-positive interval for Ticker::new")]
fn test_new_ticker_zero_panics() {
    let _ = Ticker::new(Duration::ZERO);
}

#[test]
#[should_panic(expected = "non-positive interval for Ticker::reset")]
fn test_ticker_reset_zero_panics() {
    let t = Ticker::new(HOUR);
    t.reset(Duration::ZERO);
}

/// A small xorshift generator (Go's tests use math/rand seeded from the clock).
struct XorShift(u64);

impl XorShift {
    fn seeded() -> XorShift {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        XorShift(t | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// TestTimerStopStress: 100 goroutines each start a 2 s after_func and stop it after 1 s;
/// none may run. Without Go's timing assumption: a `stop` that returns true means the
/// function never runs; one that returns false (a machine stalled for over a second) means
/// it has run or is running. Checked after 3 s, as in Go, and once every goroutine is done.
#[test]
fn test_timer_stop_stress() {
    go_main("TestTimerStopStress", || {
        let ran = Arc::new(AtomicUsize::new(0));
        let (res_tx, res) = chan::bounded::<bool>(100);
        for _ in 0..100 {
            let (ran, res_tx) = (ran.clone(), res_tx.clone());
            goro::go(move || {
                let timer = time::after_func(Duration::from_secs(2), move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                });
                time::sleep(Duration::from_secs(1));
                res_tx.send(timer.stop()).unwrap();
            });
        }
        drop(res_tx);
        time::sleep(Duration::from_secs(3));
        let stopped = res.iter().filter(|&s| s).count();
        // Every goroutine reported; the functions of the timers stop did not prevent (if
        // any) have had time to start; wait for them without a timing assumption.
        while ran.load(Ordering::SeqCst) < 100 - stopped {
            time::sleep(Duration::from_millis(10));
        }
        time::sleep(Duration::from_millis(100));
        assert_eq!(
            ran.load(Ordering::SeqCst),
            100 - stopped,
            "a timer that stop() stopped ran anyway ({stopped} stopped)"
        );
    });
}

/// TestTimerModifiedEarlier: 1,000 timers of an hour, each stopped and reset to a time in the
/// past (0 here: `Duration` is unsigned) 10 times; every stop returns true (the timer was
/// pending, or had fired and nobody had received), and each timer then delivers, before a
/// 10 s deadline timer (a generous liveness bound, as in Go).
#[test]
fn test_timer_modified_earlier() {
    go_main("TestTimerModifiedEarlier", || {
        for i in 0..1000 {
            let timer = Timer::new(HOUR);
            for j in 0..10 {
                assert!(timer.stop(), "timer {i} loop {j}: stop returned false");
                timer.reset(Duration::ZERO);
            }
            let deadline = Timer::new(Duration::from_secs(10));
            goro::select! {
                recv(timer.receiver()) -> v => { v.unwrap(); }
                recv(deadline.receiver()) -> _v => panic!("timer {i}: deadline expired"),
            }
            deadline.stop();
        }
    });
}

/// TestAdjustTimers: 100 timers, each taken through the same 11 states in a random
/// interleaving with the others: created with 0; received; reset to 1, 3 and 2 minutes (each
/// reset returns false: the timer is idle) and stopped after each (true: pending); reset to 0
/// (false); received; done. A long timer modified among many others never delays a short
/// one: every receive arrives (Go asserts within 750 ms; here the liveness bound).
#[test]
fn test_adjust_timers() {
    go_main("TestAdjustTimers", || {
        const N: usize = 100;
        let mut rnd = XorShift::seeded();
        let mut timers: Vec<Option<Timer>> = (0..N).map(|_| None).collect();
        let mut states = [0u32; N];
        let mut indices: Vec<usize> = (0..N).collect();
        for k in (1..N).rev() {
            indices.swap(k, rnd.below(k + 1));
        }
        while !indices.is_empty() {
            let ii = rnd.below(indices.len());
            let i = indices[ii];
            let state = states[i];
            states[i] += 1;
            let timer = &mut timers[i];
            let minute = Duration::from_secs(60);
            match state {
                0 => *timer = Some(Timer::new(Duration::ZERO)),
                1 => {
                    // Now idle.
                    timer.as_ref().unwrap().receiver().recv().unwrap();
                }
                2 => assert!(!timer.as_ref().unwrap().reset(minute), "active (1)"),
                4 => assert!(!timer.as_ref().unwrap().reset(minute * 3), "active (3)"),
                6 => assert!(!timer.as_ref().unwrap().reset(minute * 2), "active (2)"),
                3 | 5 | 7 => {
                    let t = timer.as_ref().unwrap();
                    if !t.stop() {
                        // Go logs this and drains; a long timer cannot have fired.
                        panic!("timer {i} state {state}: stop returned false");
                    }
                }
                8 => assert!(
                    !timer.as_ref().unwrap().reset(Duration::ZERO),
                    "timer {i}: reset of a stopped timer returned true"
                ),
                9 => {
                    timer.as_ref().unwrap().receiver().recv().unwrap();
                }
                10 => {
                    indices.swap_remove(ii);
                }
                _ => unreachable!(),
            }
        }
        assert!(states.iter().all(|&s| s == 11));
    });
}

/// TestAfterTimes: the value of `after(10 ms)` is the time it fired, not the time it was
/// read: read 500 ms later, it is earlier than the end of that sleep. Checked without a
/// timing bound: always `start + 10 ms <= value <= time of the read`; and, as Go does (10
/// tries), at least once `value < end of the sleep` (only a timer delayed by half a second
/// in each of 10 tries could fail that).
#[test]
fn test_after_times() {
    go_main("TestAfterTimes", || {
        let d = Duration::from_millis(10);
        for _ in 0..10 {
            let start = std::time::Instant::now();
            let c = time::after(d);
            time::sleep(Duration::from_millis(500));
            let slept = std::time::Instant::now();
            let v = c.recv().unwrap();
            let read = std::time::Instant::now();
            assert!(v >= start + d, "after(10 ms) fired early: {:?}", v - start);
            assert!(v <= read, "the value is from the future");
            if v < slept {
                return;
            }
        }
        panic!("after(10 ms) gave the time of the read, not of the firing, 10 times");
    });
}
