//! Liveness bounds: a test that waits for something fails after a generous bound instead of
//! hanging (a deadlock, or a lost wake-up). None of them is a timing assertion.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Past this bound, whatever a test waits for is taken as never coming: a deadlock (where Go
/// would report "all goroutines are asleep") or a lost wake-up. In release mode the slowest
/// Go port (sieve1's chain of 10,000 filters) takes a few seconds; unoptimised builds are
/// about ten times slower, hence the larger bound there.
pub const LIVENESS: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(300)
} else {
    Duration::from_secs(60)
};

/// Runs `f` on a thread of its own (named `thread`), and fails the test if `f` panics (its
/// panic is resumed here) or has not returned within [`LIVENESS`].
fn bounded<F>(name: &str, thread: String, f: F)
where
    F: FnOnce() + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(thread)
        .spawn(move || {
            let r = panic::catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(r);
        })
        .expect("spawn the thread running the test body");
    match rx.recv_timeout(LIVENESS) {
        Ok(Ok(())) => {}
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!("{name}: not finished after {LIVENESS:?}: deadlock or lost wake-up"),
    }
}

/// Runs `f` on a plain thread of its own, and fails the test if it panics or has not
/// returned within [`LIVENESS`].
pub fn within_liveness_bound<F>(name: &str, f: F)
where
    F: FnOnce() + Send + 'static,
{
    bounded(name, format!("bounded-{name}"), f);
}

/// Runs `main` as a goroutine (Go's main goroutine, or a test's goroutine), and fails the
/// test if it panics or has not returned within [`LIVENESS`].
pub fn go_main<F>(name: &str, main: F)
where
    F: FnOnce() + Send + 'static,
{
    bounded(name, format!("go-main-{name}"), move || goro::run(main));
}

/// Polls `cond` every millisecond until it holds, and fails the test if it does not within
/// [`LIVENESS`]. Works on a goroutine (it sleeps with `goro::sleep`, which parks) and on a
/// plain thread (where `goro::sleep` sleeps the thread).
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < LIVENESS,
            "{what}: not true after {LIVENESS:?}"
        );
        goro::sleep(Duration::from_millis(1));
    }
}
