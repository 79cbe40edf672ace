//! Time: sleeping without blocking the worker thread.
//!
//! Go: package `time`. Timers are kept by the scheduler (no timer thread): an idle worker
//! sleeps until the earliest deadline.

use std::time::Duration;

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
pub fn sleep(d: Duration) {
    crate::rt::sleep(d)
}
