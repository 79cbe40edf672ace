//! The seam between goro's lock-free protocols and the loom model checker.
//!
//! A *loom-checked* file takes every synchronisation primitive its protocol rests on from
//! here (`use crate::loom::sync::atomic::{AtomicU8, Ordering};`), never from `std` directly.
//! In the crate this module re-exports `std`'s types, so the indirection costs nothing.
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
//! The checked files and their models:
//!
//! | file | model test |
//! |------|------------|
//! | `rt/park/state.rs` | `tests/loom_park.rs` |
//! | `chan/waiter.rs` | `tests/loom_waiter.rs` |

pub(crate) mod sync {
    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
    }
}
