//! Panic reporting: a goroutine's panic is printed with the goroutine's id and name.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::io::Write;
use std::panic;

use super::goroutine;

/// The message of a panic payload made by `panic!("...")` (a `&str` or a `String`).
pub(crate) fn payload_str(p: &(dyn Any + Send)) -> Option<&str> {
    p.downcast_ref::<&'static str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
}

/// Reports panics of goroutines on stderr with the goroutine's id and name; panics of plain
/// threads go to the hook that was installed before.
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
        let _ = std::io::stderr().lock().write_all(out.as_bytes());
    }));
}
