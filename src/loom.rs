//! The seam between goro's lock-free protocols and the loom model checker.
//!
//! A *loom-checked* file takes every synchronisation primitive its protocol rests on from
//! here (`use crate::loom::sync::atomic::{AtomicU8, Ordering};`, `crate::loom::sync::Mutex`),
//! never from `std` directly. In the crate this module re-exports `std`'s types, so the
//! indirection costs nothing.
//!
//! A loom model test is an ordinary integration test (`tests/loom_*.rs`, run by the plain
//! `cargo test`; no `--cfg loom`, no `RUSTFLAGS`). It compiles the checked file into its own
//! crate with `#[path = "../src/..."] mod name;`, and declares at its crate root
//!
//! ```text
//! #[path = "support/loom.rs"]
//! mod loom;
//! ```
//!
//! `tests/support/loom.rs` mirrors this module item for item with loom's types (it names the
//! loom crate as `::loom`, since `loom` alone is the module itself there). So the checked
//! file's `crate::loom::...` resolves to `std` in the crate and to loom in the model, and the
//! file is the same text in both. Anything else the file imports through `crate::` (a type
//! of another module, say `crate::rt::goroutine::GRef`) the test provides as a small
//! stand-in module at its root.
//!
//! [`MODEL`] is this crate's answer to loom's usual `cfg(loom)`: a file sizes its structures
//! with it (`if MODEL { 4 } else { 256 }`), so that a model explores a small ring rather than
//! a full one. It is a constant, so the crate's code is unchanged.
//!
//! The checked files and their models:
//!
//! | file | model test |
//! |------|------------|
//! | `rt/park/state.rs` | `tests/loom_park.rs` |
//! | `rt/queue.rs` | `tests/loom_queue.rs` |
//! | `rt/idle.rs` | `tests/loom_idle.rs` |
//! | `chan/waiter.rs` | `tests/loom_waiter.rs` |
//! | `rt/readiness.rs` | `tests/loom_netpoll.rs` |

/// Whether the code is compiled into a loom model (see the module docs): `false` here,
/// `true` in `tests/support/loom.rs`.
pub(crate) const MODEL: bool = false;

pub(crate) mod sync {
    pub(crate) use std::sync::Mutex;
    // Only the netpoller's readiness (`rt/readiness.rs`) names the guard.
    #[cfg(feature = "net")]
    pub(crate) use std::sync::MutexGuard;

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{
            fence, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
        };
    }
}
