//! Helpers shared by the integration tests: `mod support;` in a test file `tests/NAME.rs`,
//! `#[path = "../support/mod.rs"] mod support;` in a directory target `tests/NAME/main.rs`.
#![allow(dead_code)]

use std::any::Any;

pub mod child;
mod drops;
mod golang;
mod liveness;
mod quiet;
mod stack;

// Each test target uses a part of these.
#[allow(unused_imports)]
pub use self::{
    drops::{Counted, Tracked},
    golang::{first_primes, retry_nonblocking, PRIMES_BELOW_100},
    liveness::{eventually, go_main, within_liveness_bound, LIVENESS},
    quiet::{expect_panics, ExpectPanics},
    stack::stack_span,
};

/// A stress size: `n` multiplied by `GORO_STRESS_SCALE` (default 1).
pub fn scaled(n: usize) -> usize {
    let scale: f64 = std::env::var("GORO_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64 * scale) as usize).max(1)
}

/// Resident bytes of this process, from `/proc/self/statm`.
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("resident pages in /proc/self/statm");
    // SAFETY: sysconf only reads a system setting.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(1) as usize
}

/// The message of a panic payload, if it is a string.
pub fn payload_str(p: &(dyn Any + Send)) -> Option<&str> {
    p.downcast_ref::<&'static str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
}
