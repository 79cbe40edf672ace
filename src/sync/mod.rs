//! Synchronisation primitives that park goroutines instead of blocking worker threads.
//!
//! Go: package `sync`.

mod waitgroup;

pub use waitgroup::WaitGroup;
