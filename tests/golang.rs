//! Go's own channel tests, rewritten in Rust against goro: test/chan/*.go, test/ken/chan*.go,
//! test/closedchan.go, test/chancap.go, src/runtime/chan_test.go (with `goro::select!`) and
//! src/time/sleep_test.go / tick_test.go (`time_sleep`), at Go's original scale. One module per
//! Go source file; `tests/golang/README.md` lists every Go file with its status (ported /
//! pending / not applicable) and the Rust test covering it.
//!
//! goro's deliberate differences from Go, asserted here instead of Go's panics: a send on a
//! closed channel returns `Err(SendError(v))`, a second `close` returns `false`, and dropping
//! every `Receiver` closes the channel.

#[path = "golang/support.rs"]
mod support;

#[path = "golang/chan_test.rs"]
mod chan_test;
#[path = "golang/chanbarrier_test.rs"]
mod chanbarrier_test;
#[path = "golang/chancap.rs"]
mod chancap;
#[path = "golang/closedchan.rs"]
mod closedchan;
#[path = "golang/context_afterfunc_test.rs"]
mod context_afterfunc_test;
#[path = "golang/context_example_test.rs"]
mod context_example_test;
#[path = "golang/context_test.rs"]
mod context_test;
#[path = "golang/context_x_test.rs"]
mod context_x_test;
#[path = "golang/doubleselect.rs"]
mod doubleselect;
#[path = "golang/errgroup_test.rs"]
mod errgroup_test;
#[path = "golang/fifo.rs"]
mod fifo;
#[path = "golang/goroutines.rs"]
mod goroutines;
#[path = "golang/ken_chan.rs"]
mod ken_chan;
#[path = "golang/ken_chan1.rs"]
mod ken_chan1;
#[path = "golang/nonblock.rs"]
mod nonblock;
#[path = "golang/powser1.rs"]
mod powser1;
#[path = "golang/powser2.rs"]
mod powser2;
#[path = "golang/select.rs"]
mod select;
#[path = "golang/select2.rs"]
mod select2;
#[path = "golang/select3.rs"]
mod select3;
#[path = "golang/select4.rs"]
mod select4;
#[path = "golang/select5.rs"]
mod select5;
#[path = "golang/select6.rs"]
mod select6;
#[path = "golang/select7.rs"]
mod select7;
#[path = "golang/select8.rs"]
mod select8;
#[path = "golang/sendstmt.rs"]
mod sendstmt;
#[path = "golang/sieve1.rs"]
mod sieve1;
#[path = "golang/sieve2.rs"]
mod sieve2;
#[path = "golang/sync_cond_test.rs"]
mod sync_cond_test;
#[path = "golang/sync_mutex_test.rs"]
mod sync_mutex_test;
#[path = "golang/sync_once_test.rs"]
mod sync_once_test;
#[path = "golang/sync_rwmutex_test.rs"]
mod sync_rwmutex_test;
#[path = "golang/sync_semaphore_test.rs"]
mod sync_semaphore_test;
#[path = "golang/time_sleep.rs"]
mod time_sleep;
#[path = "golang/zerosize.rs"]
mod zerosize;
