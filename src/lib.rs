//! goro: Go's concurrency model in Rust.
//!
//! Write plain blocking code, as in Go, and run it on cheap goroutines spread over every core:
//!
//! ```
//! use goro::sync::WaitGroup;
//!
//! #[goro::main]
//! fn main() {
//!     let wg = WaitGroup::new();
//!     for id in 0..3 {
//!         wg.go(move || println!("Worker {id} done"));
//!     }
//!     wg.wait();
//!     println!("All workers finished.");
//! }
//! ```
//!
//! | Go | goro |
//! |----|------|
//! | `go f()` | [`go(f)`](go()) → [`JoinHandle`] |
//! | `make(chan T, n)`, `<-ch`, `ch <- v`, `close(ch)` | [`chan::bounded`], [`chan::Receiver::recv`], [`chan::Sender::send`], [`chan::Sender::close`] |
//! | `select { ... }` | [`select!`], [`chan::Select`] ([`select_biased!`] with priorities) |
//! | `time.After`, `time.NewTimer`, `time.NewTicker` | [`time::after`], [`time::Timer`], [`time::Ticker`] |
//! | `runtime.Gosched()` | [`yield_now()`] |
//! | `time.Sleep(d)` | [`sleep(d)`](sleep()), [`time::sleep`] |
//! | `sync.WaitGroup` | [`sync::WaitGroup`] |
//! | `sync.Mutex`, `RWMutex`, `Once`, `Cond`; x/sync `semaphore` | [`sync::Mutex`], [`sync::RwLock`], [`sync::Once`], [`sync::Cond`], [`sync::Semaphore`] |
//! | `context.WithCancel`, `WithTimeout`, `ctx.Done()` | [`context::Context`] ([`with_cancel`](context::Context::with_cancel), [`with_timeout`](context::Context::with_timeout), [`done`](context::Context::done)) |
//! | `errgroup.Group` (x/sync) | [`group::Group`] |
//! | hand-written worker pools (ants, pond) | [`pool::Pool`] |
//! | fan-in, fan-out, tee, or-done, pipelines (idioms) | [`pattern::merge`], [`pattern::fan_out`], [`pattern::map_ordered`], [`pattern::tee`], [`pattern::or_done`], [`pattern::Pipeline`] |
//! | package `net` (`Listen`, `Dial`, deadlines, `Close`) | `net` (feature `net`, on by default): `TcpListener`, `TcpStream`, `UdpSocket`, `unix` |
//! | `runtime.NumGoroutine()` | [`num_goroutine()`] |
//! | `runtime.GOMAXPROCS(0)` | [`maxprocs()`], `GORO_MAXPROCS` |
//! | `runtime.LockOSThread()` | [`lock_os_thread()`] |
//! | `func main` | [`#[goro::main]`](main), [`run`] |
//!
//! # Goroutines and threads
//!
//! A goroutine is a stackful coroutine with its own guard-paged stack (256 KiB by default,
//! see [`Builder::stack_size`]), run by an M:N work-stealing scheduler on `GORO_MAXPROCS`
//! worker threads. Every blocking call in goro parks only the calling goroutine; called from
//! a plain OS thread (such as `main` without `#[goro::main]`), it blocks that thread.
//!
//! Plain blocking code works in goroutines too, as in Go: a goroutine that blocks its thread
//! in a system call (file I/O, `std::sync::Mutex`, `std::thread::sleep`, a C library call)
//! or computes for long does not stall the others. A monitor thread hands its worker, with
//! the goroutines queued on it, to another thread: within 20 µs to 20 ms for a blocked
//! thread, and after 10 ms for a computation (first by asking the goroutine to yield at its
//! next spawn, then by moving the worker after 20 ms). [`block_in_place`] hands the worker
//! over at once around a call known to block. `GORO_MAXPROCS` thus bounds the threads running
//! goroutines at once, as `GOMAXPROCS` does; threads blocked in system calls come on top,
//! up to `GORO_MAXTHREADS` ([`RuntimeBuilder::max_threads`], 10,000 by default).
//!
//! Caveats of stackful goroutines that move between threads:
//!
//! - **Thread-locals.** A goroutine may resume on another worker thread after any blocking
//!   call. Do not keep a `thread_local!` value, or a `!Send` value bound to a thread (a
//!   `std::sync::MutexGuard`, an `Rc` shared with a thread-local), across a blocking call.
//!   Use [`goroutine_local!`] for per-goroutine state, or [`lock_os_thread`] when thread
//!   identity matters. ARCHITECTURE.md has the full argument.
//! - **Stack size** is fixed: overflowing it aborts the process with
//!   `goroutine N (name) has overflowed its stack`. Ask for more with
//!   [`Builder::stack_size`] or [`RuntimeBuilder::stack_size`].
//!
//! # Async Rust
//!
//! goro and async executors (tokio, or any other) share a program, each on its own threads,
//! and talk through goro's channels and handles, which work from both sides:
//!
//! | from async code | from a goroutine (or thread) |
//! |-----------------|------------------------------|
//! | [`tx.send_async(v).await`](chan::Sender::send_async), [`rx.recv_async().await`](chan::Receiver::recv_async) | `tx.send(v)`, `rx.recv()` |
//! | `rx.stream()` (a `Stream`, feature `futures-core`), `tx.sink()` (a `Sink`, feature `futures-sink`) | `rx.iter()` |
//! | `handle.await` for a [`JoinHandle`] or a pool's [`TaskHandle`](pool::TaskHandle) | `handle.join()`, `handle.join_timeout(d)`, `fut(&mut handle)` in `select!` |
//! | [`ctx.done_async().await`](context::Context::done_async) | `ctx.done().recv()` |
//! | — | [`block_on(fut)`](block_on()): await a future, parking only the goroutine |
//! | — | `select!` with a [`fut(f) -> v`](select!) case: channels, timers and futures at once |
//!
//! The async operations are cancel-safe: a future dropped early never loses a value nor
//! delivers one twice ([`chan`] module docs, "Async"). Goroutines, threads and async tasks
//! may wait on one channel together, first come first served.
//!
//! A blocking goro call (`recv`, `send`, `join`, a contended `Mutex`, `sleep`, ...) must not
//! run on an executor's thread: it would stall every task of that thread. With the `tokio`
//! feature, goro checks this on a tokio runtime's threads and panics with a message naming
//! the async form, as tokio does for a nested `block_on` (tokio's `spawn_blocking` and
//! `block_in_place` stay allowed). Which to pick, and how the two share the machine: the
//! README, "goro and async Rust".

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    clippy::undocumented_unsafe_blocks
)]

mod future;
mod go;
mod inline_fn;
mod loom;
mod rt;
mod runtime;
mod testing;

pub mod chan;
pub mod context;
pub mod diag;
pub mod group;
pub mod leak;
#[cfg(feature = "net")]
pub mod net;
pub mod pattern;
pub mod pool;
pub mod sync;
pub mod time;

pub use diag::{dump, goroutines};
pub use future::block_on;
pub use go::{current_id, go, Builder, GoroutineId, JoinError, JoinHandle};
pub use rt::goroutine::local::{AccessError, LocalKey};
pub use runtime::{
    block_in_place, in_goroutine, lock_os_thread, maxprocs, num_goroutine, run, unlock_os_thread,
    yield_now, InitError, RuntimeBuilder,
};
pub use time::sleep;

/// What goro's macros expand to; not part of the API (no stability promise).
#[doc(hidden)]
pub mod __private {
    pub use crate::chan::select::{
        select, select_biased, wait_for, FutCase, RecvCase, SelectCase, SelectFuture, SelectPeel,
        SelectRecv, SelectSend, SendCase, Wait,
    };
    pub use crate::chan::waiter::{Token, Waiter, Wake};
    pub use crate::context::node::registered as context_registered;
    pub use crate::rt::goroutine::local::local_key;
    pub use crate::rt::timer_entries;
    pub use crate::testing::{run_test, Passed, TestSettings};
}

/// The README's examples, run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// Runs `fn main` as a goroutine, as Go runs its `main`.
///
/// ```
/// #[goro::main]
/// fn main() {
///     let h = goro::go(|| "hello from a goroutine");
///     println!("{}", h.join().unwrap());
/// }
/// ```
///
/// `fn main() -> Result<(), E>` works too; the result is returned from the real `main`.
pub use goro_macros::main;

/// Runs a test as a goroutine, with the leak check ([`leak`]) on; `#[goro::test]` in place
/// of `#[test]`.
///
/// ```no_run
/// #[goro::test]
/// fn ping_pong() {
///     let (tx, rx) = goro::chan::bounded(0);
///     let h = goro::go(move || tx.send("ping").unwrap());
///     assert_eq!(rx.recv(), Ok("ping"));
///     h.join().unwrap();
/// }
///
/// // A runtime with 1 worker: in a child process unless this one has 1 worker.
/// #[goro::test(maxprocs = 1)]
/// fn on_one_worker() {
///     assert_eq!(goro::maxprocs(), 1);
/// }
///
/// // A test that leaves a goroutine behind on purpose.
/// #[goro::test(leak_check = false)]
/// fn leaves_one_behind() {
///     let (_tx, rx) = goro::chan::bounded::<()>(0);
///     goro::go(move || rx.recv());
/// }
/// ```
///
/// The body runs in a goroutine named after the test; a panic fails the test as usual
/// (`#[should_panic]` works), its report written by the test's thread, where the harness
/// captures it (shown if the test fails, silent for a `should_panic` test that passes), and
/// `-> Result<(), E>` is passed through. With the leak check
/// on, the test fails if goroutines it started are still alive a second after it returned,
/// with their dump. The runtime is one per process: a test with `maxprocs = N` runs in a
/// child process (this test binary again, with only that test and `GORO_MAXPROCS=N`) unless
/// this process's runtime has `N` workers.
pub use goro_macros::test;
