//! Time: sleeping, timers and tickers that do not block worker threads.
//!
//! Go: package `time`, with Go 1.23's semantics: after [`Timer::stop`] or [`Timer::reset`]
//! returns, no value from before the call can be received; timer channels report length and
//! capacity 0; a [`Ticker`] drops ticks for a slow receiver instead of queueing them. Timers
//! are kept by the scheduler (no timer thread): an idle worker sleeps until the earliest
//! deadline.
//!
//! **The value delivered** is the time the timer was *due*, as in Go (`start + d` for
//! [`after`] and [`Timer`]; for a [`Ticker`], the due time of that tick, on the ticker's
//! phase), not the time it ran: `received >= start + d` holds even when the firing came
//! late, and a value is never later than the moment it can be received.
//!
//! **An expired timer is ready at once.** A receive, `try_recv` or select (blocking or
//! not, `select!` or [`Select`](crate::chan::Select)) on a timer's channel first fires the
//! timer in place if its deadline has passed and no worker has fired it yet (Go 1.23's
//! `maybeRunChan`): `select! { recv(after(Duration::ZERO)) -> _ => .., default => .. }`
//! takes the timer, and so does a look at a timer that came due while every worker was
//! busy. The value is delivered once either way: whichever of the look and the worker comes
//! second finds nothing to do. A ticker fired so re-arms for its next tick as it would have.
//! (`len` is not such a look: it reads 0 on a timer channel whatever it holds, as in Go.)
//!
//! As in Go 1.23, a timer or ticker that nobody references any more (its [`Timer`] or
//! [`Ticker`] and every clone of its receiver dropped, stopped or not) is disarmed and freed
//! at once, so memory follows the timers that are live: an [`after`] that loses a `select!`
//! in a loop, or a `Timer` dropped unstopped, leaves nothing behind. The deadlines of timed
//! waits (`recv_timeout`, `send_timeout`, `select!`'s `default(timeout)`, context deadlines
//! that are cancelled) are freed as soon as the wait ends too. Only [`after_func`] timers are
//! held by the runtime until they fire or are stopped, since their function must run even
//! if the handle is dropped.
//!
//! How: a timer is a callback in the runtime's timer set holding the sending half of its
//! channel; the channel tells the timer when its last receiver is dropped (`chan::internal`),
//! and the timer then disarms itself as `stop` would. The runtime counts such dead entries and
//! sweeps them in bulk (see `rt::timer`). The channel also holds the timer (weakly, as a
//! `chan::Feeder`) so that its receivers can fire it in place when it is due
//! (`Feeder::deliver_due`); a firing, by a worker or in place, runs under the timer's lock
//! and checks the timer's generation, which the in-place firing moves on, so the runtime's
//! entry for that arming finds itself stale.

use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::chan::{self, Receiver, Sender, TrySendError};
use crate::rt::{self, park, TimerCallback};

/// Pauses the current goroutine for at least `d`; its worker runs other goroutines meanwhile.
///
/// Go: `time.Sleep(d)`. On a plain thread it blocks the thread (`std::thread::sleep`). A zero
/// duration returns at once.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// goro::go(|| goro::time::sleep(Duration::from_millis(5))).join().unwrap();
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
#[track_caller]
pub fn sleep(d: Duration) {
    park::sleep(d)
}

/// A channel that receives, once, the time `d` from now: the instant the timer was due.
///
/// Go: `time.After(d)`. Once `d` has passed, the channel is ready to a receive or a select
/// at once, whether or not a worker has fired the timer yet (module docs). The timer lives
/// as long as the receiver (and its clones): dropping it, as a `select!` that took another
/// case does, disarms and frees the timer (Go 1.23). Typically in a `select!`:
///
/// ```
/// use goro::{chan, time};
/// use std::time::Duration;
///
/// let (_tx, rx) = chan::bounded::<i32>(0);
/// let timed_out = goro::select! {
///     recv(rx) -> _v => false,
///     recv(time::after(Duration::from_millis(10))) -> _t => true,
/// };
/// assert!(timed_out);
/// ```
pub fn after(d: Duration) -> Receiver<Instant> {
    Timer::new(d).rx
}

/// A channel that receives, every `d`, the time that tick was due, for as long as it is
/// referenced.
///
/// Go: `time.Tick(d)`. Ticks are dropped for a slow receiver. Dropping the receiver (and
/// every clone) stops the ticker and frees it (Go 1.23).
///
/// # Panics
///
/// If `d` is zero (Go returns a nil channel; goro refuses clearly).
///
/// ```
/// use goro::time;
/// use std::time::Duration;
///
/// let ticks = time::tick(Duration::from_millis(1));
/// let first = ticks.recv().unwrap();
/// let second = ticks.recv().unwrap();
/// assert!(second - first >= Duration::from_millis(1)); // due times, on the ticker's phase
/// ```
pub fn tick(d: Duration) -> Receiver<Instant> {
    assert!(!d.is_zero(), "goro::time::tick: non-positive interval");
    Ticker::new(d).rx
}

/// Calls `f` in a new goroutine after `d`, unless the returned timer is stopped first.
///
/// Go: `time.AfterFunc(d, f)`. [`Timer::reset`] arms it again (it may then run `f` again).
/// The timer's [`receiver`](Timer::receiver) never receives. Dropping the returned `Timer`
/// does not cancel it: the runtime holds the timer (and `f`) until it fires or is stopped.
///
/// ```
/// use goro::{chan, time};
/// use std::time::Duration;
///
/// let (tx, rx) = chan::bounded(1);
/// time::after_func(Duration::from_millis(1), move || drop(tx.try_send("fired")));
/// assert_eq!(rx.recv(), Ok("fired"));
///
/// let t = time::after_func(Duration::from_secs(60), || unreachable!());
/// assert!(t.stop()); // stopped before it fired: the function never runs
/// ```
pub fn after_func<F>(d: Duration, f: F) -> Timer
where
    F: Fn() + Send + Sync + 'static,
{
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            generation: 0,
            armed: false,
            deadline: Instant::now(),
            period: None,
        }),
        action: Action::Call(Arc::new(f)),
    });
    arm(&shared, d);
    Timer {
        shared,
        rx: chan::never(),
    }
}

/// A single event in the future, delivered on a channel: the instant the timer was due.
///
/// Go: `time.Timer`. Dropping a `Timer` does not stop it: its channel still receives the
/// value if someone holds a clone of the receiver. Once the `Timer` and every clone of its
/// receiver are dropped, nobody can receive, and the timer is disarmed and freed at once
/// (Go 1.23 collects unreferenced timers the same way): no need to stop a timer to free it.
/// A timer of [`after_func`] is the exception; see there. Go's field `t.C` is
/// [`t.receiver()`](Timer::receiver) here.
///
/// ```
/// use goro::{chan, time::Timer};
/// use std::time::Duration;
///
/// let (tx, rx) = chan::bounded(1);
/// let timer = Timer::new(Duration::from_secs(10));
/// tx.send("work").unwrap();
/// let got = goro::select! {
///     recv(rx) -> v => v.unwrap(),
///     recv(timer.receiver()) -> _ => "timed out",
/// };
/// assert_eq!(got, "work");
/// ```
pub struct Timer {
    shared: Arc<Shared>,
    rx: Receiver<Instant>,
}

/// A channel that receives, at every period, the time that tick was due.
///
/// Go: `time.Ticker`. A slow receiver misses ticks rather than getting a backlog: the one
/// tick kept is the oldest missed one (with its own due time), and the ticks after it stay
/// on the ticker's phase, as Go's do. Dropping the `Ticker` and every clone of its receiver
/// stops it and frees it at once (Go 1.23); a clone of the receiver kept alive keeps it
/// ticking. Go's field `t.C` is [`t.receiver()`](Ticker::receiver) here
/// (`for t := range ticker.C` is `for t in ticker.receiver()`).
///
/// Go's `for { select { case <-ticker.C: ...; case <-timeout: ... } }`:
///
/// ```
/// use goro::time::{self, Ticker};
/// use std::time::Duration;
///
/// let ticker = Ticker::new(Duration::from_millis(1));
/// let timeout = time::after(Duration::from_secs(10));
/// let mut ticks = 0;
/// while ticks < 3 {
///     goro::select! {
///         recv(ticker.receiver()) -> _ => ticks += 1,
///         recv(timeout) -> _ => panic!("no tick in 10 s"),
///     }
/// }
/// ticker.stop();
/// assert_eq!(ticks, 3);
/// ```
pub struct Ticker {
    shared: Arc<Shared>,
    rx: Receiver<Instant>,
}

/// A timer's state, shared by its handle and the runtime entries armed for it (the
/// `TimerCallback`). For a channel timer, the channel holds a weak reference back (its
/// `Feeder`), through which the last receiver to go disarms it.
struct Shared {
    state: Mutex<State>,
    action: Action,
}

struct State {
    /// Bumped by every stop and reset: an armed runtime entry with an older generation is
    /// dead.
    generation: u64,
    armed: bool,
    /// When the armed entry is due.
    deadline: Instant,
    /// For tickers: the period.
    period: Option<Duration>,
}

enum Action {
    Send(Sender<Instant>),
    Call(Arc<dyn Fn() + Send + Sync>),
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the action of the arming in `st` (locked, armed, due at `now`): sends the
    /// deadline, or starts `f`. Returns when the next tick is due for a ticker, which the
    /// caller arms once it has unlocked; `None` when the timer is done (a one-shot timer,
    /// or a channel nobody can receive from any more).
    ///
    /// The action runs under the timer's lock, so `stop` and `reset`, which take it, can
    /// never see a value from an old generation arrive after they return.
    fn run(&self, st: &mut State, now: Instant) -> Option<Instant> {
        match &self.action {
            // Go sends the time the timer was due, not the time it ran (`sendTime` subtracts
            // the delay), so a late firing still reads as `start + d`.
            Action::Send(tx) => match tx.try_send(st.deadline) {
                // Full: a ticker's receiver is slow; this tick is dropped (Go's send with
                // `default`).
                Ok(()) | Err(TrySendError::Full(_)) => {}
                // Nobody can receive any more: the timer is done for good.
                Err(TrySendError::Closed(_)) => {
                    st.armed = false;
                    return None;
                }
            },
            Action::Call(f) => {
                let f = Arc::clone(f);
                // This may run on a worker's scheduling loop, which must not unwind: report
                // a failure to start the goroutine instead of panicking.
                if let Err(e) = crate::Builder::new().spawn(move || f()) {
                    eprintln!("goro: time::after_func cannot start its goroutine: {e}");
                }
            }
        }
        let Some(period) = st.period else {
            st.armed = false;
            return None;
        };
        st.deadline = next_tick(st.deadline, period, now);
        Some(st.deadline)
    }
}

/// When a ticker due at `due` and run at `now` ticks next: the first tick of its phase
/// after `now`, skipping those it is already late for, as Go's
/// `when + period * (1 + (now - when) / period)`.
fn next_tick(due: Instant, period: Duration, now: Instant) -> Instant {
    let late = now.saturating_duration_since(due);
    let periods = late.as_nanos() / period.as_nanos() + 1;
    u32::try_from(periods)
        .ok()
        .and_then(|k| period.checked_mul(k))
        .and_then(|step| due.checked_add(step))
        // Too many periods to count: keep the period, not the phase.
        .unwrap_or(now + period)
}

impl TimerCallback for Shared {
    fn fire(self: Arc<Self>, generation: u64) {
        let now = Instant::now();
        let mut st = self.lock();
        // Stopped, reset, or already fired in place by a receiver (`deliver_due`).
        if !st.armed || st.generation != generation {
            return;
        }
        let next = self.run(&mut st, now);
        drop(st);
        if let Some(next) = next {
            rt::arm_callback(next, self as Arc<dyn TimerCallback>, generation);
        }
    }

    fn is_live(&self, generation: u64) -> bool {
        let st = self.lock();
        st.armed && st.generation == generation
    }
}

impl chan::Feeder for Shared {
    /// A receiver looks at the channel: if the timer is due and has not fired, it fires here
    /// and now (Go's `maybeRunChan`), so an expired timer is ready whether or not a worker
    /// has got to it: a worker may be busy, or the deadline just passed.
    ///
    /// Exactly once: the firing happens under the timer's lock, and moves the timer to a
    /// new generation, so the runtime's entry for the arming it ran, still in the set, finds
    /// itself stale when a worker takes it (`fire`) and does nothing. That entry is not
    /// counted dead: it is due, so a worker removes it at its next look (`rt::timer`,
    /// invariant 1). A ticker's next tick is armed under the new generation.
    fn deliver_due(self: Arc<Self>) {
        let mut st = self.lock();
        if !st.armed {
            return;
        }
        let now = Instant::now();
        if st.deadline > now {
            return;
        }
        st.generation += 1;
        let generation = st.generation;
        let next = self.run(&mut st, now);
        drop(st);
        if let Some(next) = next {
            rt::arm_callback(next, self as Arc<dyn TimerCallback>, generation);
        }
    }

    /// Nobody can receive any more: disarm, as `stop` would (nothing to drain: the value, if
    /// any, goes with the channel).
    fn receivers_gone(&self) {
        let mut st = self.lock();
        let was_armed = st.armed;
        st.armed = false;
        st.generation += 1;
        drop(st);
        if was_armed {
            // The armed entry is dead; counted after the change, under the set's lock
            // (`rt::timer`, invariant 2).
            rt::timer_disarmed();
        }
    }
}

/// Arms `shared` to fire after `d` under a new generation; returns whether it was armed
/// before (the old entry is now dead).
fn arm(shared: &Arc<Shared>, d: Duration) -> bool {
    let now = Instant::now();
    let (generation, deadline, was_armed) = {
        let mut st = shared.lock();
        let was_armed = st.armed;
        st.generation += 1;
        st.armed = true;
        // A deadline too far to represent never comes.
        st.deadline = now
            .checked_add(d)
            .unwrap_or(now + Duration::from_secs(1 << 40));
        (st.generation, st.deadline, was_armed)
    };
    if was_armed {
        rt::timer_disarmed();
    }
    rt::arm_callback(
        deadline,
        Arc::clone(shared) as Arc<dyn TimerCallback>,
        generation,
    );
    was_armed
}

/// Disarms `shared` and discards a value it delivered that nobody received; returns whether
/// that stopped anything (Go 1.23's `Stop`: true if the timer was pending, counting a
/// delivered but unreceived value as pending).
fn disarm(shared: &Shared, rx: &Receiver<Instant>) -> bool {
    let mut st = shared.lock();
    let was_armed = st.armed;
    st.armed = false;
    st.generation += 1;
    // Under the lock, no firing can add a value after this drain. Not `try_recv`, which
    // would first ask this timer, whose lock is held, to deliver a due value.
    let drained = rx.take_unfed().is_some();
    drop(st);
    if was_armed {
        rt::timer_disarmed();
    }
    was_armed || drained
}

fn new_timer(d: Duration, period: Option<Duration>) -> (Arc<Shared>, Receiver<Instant>) {
    let mut rx = None;
    let shared = Arc::new_cyclic(|me: &Weak<Shared>| {
        // Go 1.23's timer channel: it holds the one pending value out of sight (length and
        // capacity 0), and stopping or dropping the timer never closes it. When its last
        // receiver goes, it tells the timer (`Feeder`), which then disarms.
        let (tx, r) = chan::internal(1, me.clone() as Weak<dyn chan::Feeder>);
        rx = Some(r);
        Shared {
            state: Mutex::new(State {
                generation: 0,
                armed: false,
                deadline: Instant::now(),
                period,
            }),
            action: Action::Send(tx),
        }
    });
    arm(&shared, d);
    (shared, rx.expect("made with the channel"))
}

impl Timer {
    /// A timer that delivers its deadline, `d` from now, on its channel once the deadline has
    /// passed (at once for zero).
    ///
    /// Go: `time.NewTimer(d)`.
    ///
    /// ```
    /// use goro::time::Timer;
    /// use std::time::{Duration, Instant};
    ///
    /// let start = Instant::now();
    /// let t = Timer::new(Duration::from_millis(2));
    /// let due = t.receiver().recv().unwrap();
    /// assert!(due >= start + Duration::from_millis(2));
    /// ```
    pub fn new(d: Duration) -> Timer {
        let (shared, rx) = new_timer(d, None);
        Timer { shared, rx }
    }

    /// The channel the time is delivered on. Go: `t.C`.
    ///
    /// ```
    /// use goro::time::Timer;
    /// use std::time::{Duration, Instant};
    ///
    /// let t = Timer::new(Duration::ZERO);
    /// assert!(t.receiver().recv().unwrap() <= Instant::now());
    /// assert!(t.receiver().try_recv().is_err()); // a timer delivers once
    /// ```
    pub fn receiver(&self) -> &Receiver<Instant> {
        &self.rx
    }

    /// Stops the timer. Returns `true` if that prevented a delivery (the timer was pending,
    /// or had delivered a value nobody received, which is discarded), `false` if it had
    /// already expired and been received, or was stopped.
    ///
    /// Go: `t.Stop()` (Go 1.23 semantics: no stale value can be received afterwards). For a
    /// timer of [`after_func`], `true` means `f` will not be called for this arming.
    ///
    /// ```
    /// use goro::time::Timer;
    /// use std::time::Duration;
    ///
    /// let t = Timer::new(Duration::from_secs(60));
    /// assert!(t.stop()); // it was pending
    /// assert!(!t.stop()); // stopped already
    /// assert!(t.receiver().try_recv().is_err());
    /// ```
    pub fn stop(&self) -> bool {
        disarm(&self.shared, &self.rx)
    }

    /// Re-arms the timer to fire after `d`, discarding any undelivered value. Returns what
    /// [`stop`](Self::stop) would have.
    ///
    /// Go: `t.Reset(d)`.
    ///
    /// ```
    /// use goro::time::Timer;
    /// use std::time::{Duration, Instant};
    ///
    /// let t = Timer::new(Duration::from_secs(60));
    /// assert!(t.reset(Duration::from_millis(1))); // it was pending
    /// assert!(t.receiver().recv().unwrap() <= Instant::now());
    /// assert!(!t.reset(Duration::from_secs(60))); // it had fired and been received
    /// ```
    pub fn reset(&self, d: Duration) -> bool {
        let stopped = disarm(&self.shared, &self.rx);
        arm(&self.shared, d);
        stopped
    }
}

impl Ticker {
    /// A ticker delivering, every `d`, the time each tick was due.
    ///
    /// Go: `time.NewTicker(d)`.
    ///
    /// # Panics
    ///
    /// If `d` is zero: `non-positive interval for Ticker::new`.
    ///
    /// ```
    /// use goro::time::Ticker;
    /// use std::time::Duration;
    ///
    /// let ticker = Ticker::new(Duration::from_millis(1));
    /// let first = ticker.receiver().recv().unwrap();
    /// let second = ticker.receiver().recv().unwrap();
    /// assert!(second > first);
    /// ```
    pub fn new(d: Duration) -> Ticker {
        assert!(!d.is_zero(), "non-positive interval for Ticker::new");
        let (shared, rx) = new_timer(d, Some(d));
        Ticker { shared, rx }
    }

    /// The channel the ticks are delivered on. Go: `t.C`.
    ///
    /// ```
    /// use goro::time::Ticker;
    /// use std::time::{Duration, Instant};
    ///
    /// let ticker = Ticker::new(Duration::from_millis(1));
    /// let ticks: Vec<Instant> = ticker.receiver().iter().take(3).collect();
    /// assert!(ticks.windows(2).all(|w| w[1] > w[0]));
    /// ```
    pub fn receiver(&self) -> &Receiver<Instant> {
        &self.rx
    }

    /// Stops the ticker; no tick from before the call can be received afterwards.
    ///
    /// Go: `t.Stop()`.
    ///
    /// ```
    /// use goro::time::Ticker;
    /// use std::time::Duration;
    ///
    /// let ticker = Ticker::new(Duration::from_millis(1));
    /// ticker.receiver().recv().unwrap();
    /// ticker.stop();
    /// assert!(ticker.receiver().recv_timeout(Duration::from_millis(5)).is_err()); // no more ticks
    /// ```
    pub fn stop(&self) {
        disarm(&self.shared, &self.rx);
    }

    /// Restarts the ticker with period `d`, the next tick `d` from now.
    ///
    /// Go: `t.Reset(d)`.
    ///
    /// # Panics
    ///
    /// If `d` is zero: `non-positive interval for Ticker::reset`.
    ///
    /// ```
    /// use goro::time::Ticker;
    /// use std::time::Duration;
    ///
    /// let ticker = Ticker::new(Duration::from_secs(3600));
    /// ticker.reset(Duration::from_millis(1)); // the next tick in 1 ms
    /// assert!(ticker.receiver().recv_timeout(Duration::from_secs(10)).is_ok());
    /// ```
    pub fn reset(&self, d: Duration) {
        assert!(!d.is_zero(), "non-positive interval for Ticker::reset");
        disarm(&self.shared, &self.rx);
        self.shared.lock().period = Some(d);
        arm(&self.shared, d);
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("armed", &self.shared.lock().armed)
            .finish()
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticker")
            .field("period", &self.shared.lock().period)
            .finish()
    }
}
