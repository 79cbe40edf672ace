//! Panic reporting: a goroutine's panic is printed with the goroutine's id and name.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::io::Write;
use std::panic;
use std::sync::Mutex;

use super::goroutine;

/// The message of a panic payload made by `panic!("...")` (a `&str` or a `String`).
pub(crate) fn payload_str(p: &(dyn Any + Send)) -> Option<&str> {
    p.downcast_ref::<&'static str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
}

/// Goroutines whose panic report is kept for whoever joins them rather than written to
/// stderr, with the report once made: a `#[goro::test]` body, whose test thread prints it
/// where the test harness captures it (shown if the test fails, not for a `should_panic`
/// test that passes). A handful at most are listed at once (one per running test).
static DEFERRED: Mutex<Vec<(u64, Option<String>)>> = Mutex::new(Vec::new());

/// Keeps the calling goroutine's panic report for [`take_deferred`] instead of writing it.
pub(crate) fn defer_report_of_current() {
    let g = goroutine::current().expect("called in a goroutine");
    DEFERRED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((g.id(), None));
}

/// Stops keeping goroutine `id`'s panic reports; returns them if it panicked.
pub(crate) fn take_deferred(id: u64) -> Option<String> {
    let mut deferred = DEFERRED.lock().unwrap_or_else(|e| e.into_inner());
    let i = deferred.iter().position(|(g, _)| *g == id)?;
    deferred.swap_remove(i).1
}

/// Reports panics of goroutines on stderr with the goroutine's id and name (or keeps the
/// report, see `DEFERRED`); panics of plain threads go to the hook that was installed before.
pub(crate) fn install_hook() {
    let prev = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let Some(g) = goroutine::current() else {
            return prev(info);
        };
        let msg = payload_str(info.payload()).unwrap_or("Box<dyn Any>");
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let name = g.name().unwrap_or("<unnamed>");
        let bt = Backtrace::capture();
        let mut out = format!(
            "\ngoroutine {} ({name}) panicked at {location}:\n{msg}\n",
            g.id()
        );
        if bt.status() == BacktraceStatus::Captured {
            out.push_str(&format!("stack backtrace:\n{bt}\n"));
        } else {
            out.push_str(
                "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
            );
        }
        {
            let mut deferred = DEFERRED.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(slot) = deferred.iter_mut().find(|(id, _)| *id == g.id()) {
                // Every panic of the goroutine, caught ones too, as stderr would have had.
                slot.1.get_or_insert_with(String::new).push_str(&out);
                return;
            }
        }
        let _ = std::io::stderr().lock().write_all(out.as_bytes());
    }));
}
