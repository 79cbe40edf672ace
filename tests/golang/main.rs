//! Go's own channel tests, rewritten in Rust against goro: test/chan/*.go, test/ken/chan*.go,
//! test/closedchan.go, test/chancap.go, src/runtime/chan_test.go (with `goro::select!`) and
//! src/time/sleep_test.go / tick_test.go (`time_sleep`), at Go's original scale. One module per
//! Go source file; `tests/golang/README.md` lists every Go file with its status (ported /
//! pending / not applicable) and the Rust test covering it.
//!
//! goro's deliberate differences from Go, asserted here instead of Go's panics: a send on a
//! closed channel returns `Err(SendError(v))`, a second `close` returns `false`, and dropping
//! every `Receiver` closes the channel.

#[path = "../support/mod.rs"]
mod support;

mod chan_test;
mod chanbarrier_test;
mod chancap;
mod closedchan;
mod context_afterfunc_test;
mod context_example_test;
mod context_test;
mod context_x_test;
mod doubleselect;
mod errgroup_test;
mod fifo;
mod goroutines;
mod ken_chan;
mod ken_chan1;
mod nonblock;
mod powser1;
mod powser2;
mod select;
mod select2;
mod select3;
mod select4;
mod select5;
mod select6;
mod select7;
mod select8;
mod sendstmt;
mod sieve1;
mod sieve2;
mod sync_cond_test;
mod sync_mutex_test;
mod sync_once_test;
mod sync_rwmutex_test;
mod sync_semaphore_test;
mod time_sleep;
mod zerosize;
