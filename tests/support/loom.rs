//! The loom side of goro's seam `src/loom.rs`: the same items, with loom's types.
//!
//! A model test declares this at its crate root (`#[path = "support/loom.rs"] mod loom;`),
//! so that a source file it compiles with `#[path]` resolves its `crate::loom::...` imports
//! here. The loom crate itself is `::loom` in such a test: `loom` alone names this module.

// Each model uses only what its file imports.
#![allow(dead_code, unused_imports)]

/// Sizes structures for a model (see `src/loom.rs`).
pub(crate) const MODEL: bool = true;

pub(crate) mod sync {
    pub(crate) use ::loom::sync::{Mutex, MutexGuard};

    pub(crate) mod atomic {
        pub(crate) use ::loom::sync::atomic::{
            fence, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
        };
    }
}
