//! Go's own channel tests, rewritten in Rust against goro: test/chan/*.go, test/ken/chan*.go,
//! test/closedchan.go, test/chancap.go and the non-select parts of src/runtime/chan_test.go,
//! at Go's original scale. One module per Go source file; `tests/golang/README.md` lists every
//! Go file with its status (ported / pending / not applicable) and the Rust test covering it.
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
#[path = "golang/select3.rs"]
mod select3;
#[path = "golang/sendstmt.rs"]
mod sendstmt;
#[path = "golang/sieve1.rs"]
mod sieve1;
#[path = "golang/sieve2.rs"]
mod sieve2;
#[path = "golang/zerosize.rs"]
mod zerosize;
