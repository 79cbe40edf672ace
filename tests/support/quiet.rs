//! Quiet expected panics: a test that makes goroutines panic on purpose takes
//! [`expect_panics`], and goro's report of those panics stays off the test output.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// Live [`ExpectPanics`] guards in the process.
static EXPECTING: AtomicUsize = AtomicUsize::new(0);
static HOOK: Once = Once::new();

/// While alive, goroutines' panics are not reported on stderr (their `JoinError`s, and the
/// test's own assertions, still say what happened). Panics of plain threads, such as a
/// test's failing assertion, are reported as usual.
#[must_use = "panics are expected only while the guard lives"]
pub struct ExpectPanics(());

/// Expects goroutines of this test to panic (see [`ExpectPanics`]).
///
/// The test binary's tests run at once, so a goroutine panic of another test in the
/// meantime is not reported either; a test that expects panics should keep the guard no
/// longer than it needs.
pub fn expect_panics() -> ExpectPanics {
    HOOK.call_once(|| {
        // goro installs its reporting hook when its runtime starts: start it first, so
        // that this hook wraps goro's rather than being wrapped by it.
        goro::go(|| ()).join().expect("the runtime starts");
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if EXPECTING.load(Ordering::Relaxed) > 0 && goro::in_goroutine() {
                return;
            }
            report(info);
        }));
    });
    EXPECTING.fetch_add(1, Ordering::Relaxed);
    ExpectPanics(())
}

impl Drop for ExpectPanics {
    fn drop(&mut self) {
        EXPECTING.fetch_sub(1, Ordering::Relaxed);
    }
}
