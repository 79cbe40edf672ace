//! Channel patterns: generators, fan-in, fan-out, ordered parallel maps, tee, or-done, and
//! pipelines that stop at the first error.
//!
//! Go has no package for these: they are idioms, written out by hand in every program that
//! needs them (the Go blog's "Pipelines and cancellation", the or-done and tee channels of
//! *Concurrency in Go*, the pipeline example of x/sync's errgroup). Here each one is a
//! function that starts the goroutines of a stage and returns the
//! [`Receiver`](crate::chan::Receiver) its results come out of, so stages chain by passing
//! one stage's output to the next.
//!
//! | Go idiom | goro |
//! |----------|------|
//! | `gen(nums...)`: a goroutine sending a sequence, then `close(out)` | [`generate(iter)`](generate) |
//! | `merge(cs...)`: one goroutine per input and a `WaitGroup` that closes `out` (fan-in) | [`merge(inputs)`](merge) |
//! | `n` workers ranging over one channel, results merged (fan-out) | [`fan_out(input, n, f)`](fan_out) |
//! | a channel of per-item result channels (ordered concurrency) | [`map_ordered(input, n, f)`](map_ordered) |
//! | `tee(done, in)`: every value to two outputs | [`tee(input)`](tee) |
//! | `orDone(done, c)`: stop reading when `done` closes | [`or_done(&ctx, input)`](or_done) |
//! | `g, ctx := errgroup.WithContext(ctx)` + stages that `return ctx.Err()` | [`Pipeline`] |
//!
//! ```
//! use goro::pattern::{fan_out, generate, map_ordered, merge};
//!
//! #[goro::main]
//! fn main() {
//!     // Two sources, fanned in; the squares computed by 4 workers; then, in order, +1.
//!     let numbers = merge([generate(1..=3), generate(4..=6)]);
//!     let squares = fan_out(numbers, 4, |x: u64| x * x);
//!     let mut got: Vec<u64> = map_ordered(squares, 2, |x| x + 1).iter().collect();
//!     got.sort();
//!     assert_eq!(got, [2, 5, 10, 17, 26, 37]);
//! }
//! ```
//!
//! # When outputs close
//!
//! A stage closes its outputs (drops its last [`Sender`](crate::chan::Sender)) when it is
//! through, which happens in one of three ways:
//!
//! - **Its inputs are exhausted.** Once every input is closed and drained and every value
//!   taken from them has been passed on, the output closes: `for v in &out` ends, as
//!   `for v := range out` does after Go's `defer close(out)`.
//! - **Its consumer is gone.** Dropping every `Receiver` of a goro channel closes it, so
//!   a stage's next send fails. The stage then returns and drops its input receivers, which
//!   makes the stage before it fail at *its* next send, and so on back to the source. Go
//!   threads a `done` channel through every stage for this; here dropping the final
//!   receiver is enough, and no goroutine is left behind. A stage that is waiting for its
//!   input notices when that input next yields or closes: a [`generate`] source always
//!   yields, while an input fed by a goroutine of your own must be fed, closed, or cut with
//!   [`or_done`].
//! - **Its context ends** ([`or_done`] and every stage of a [`Pipeline`]), even while it is
//!   blocked on its input or its output.
//!
//! Every value taken from an input is passed on exactly once, or dropped (exactly once)
//! when the stage stops early.
//!
//! # Capacities
//!
//! Every output is unbuffered ([`chan::bounded(0)`](crate::chan::bounded)), as the
//! channels of Go's idioms are: a stage holds at most one finished value (one per worker
//! for [`fan_out`], `n` for [`map_ordered`]) that its consumer has not taken, so memory
//! stays bounded and a slow consumer slows the whole chain down instead of filling
//! queues. To let a stage run further ahead, put a buffered channel and a forwarding
//! goroutine after it.
//!
//! # Panics
//!
//! The functions of this module run `f` in plain goroutines: a panic in `f` is reported on
//! stderr and ends that goroutine, as any goroutine panic does. [`fan_out`] loses the value
//! being mapped and goes on with its other workers; [`map_ordered`] ends its output just
//! before the value whose `f` panicked, so the sequence never has a hole. A [`Pipeline`]
//! catches the panic instead, cancels the other stages, and re-raises it from
//! [`wait`](Pipeline::wait).
//!
//! # Differences from Go
//!
//! - No `done` channel argument: dropping a stage's output receiver stops it (see above),
//!   and [`or_done`] and [`Pipeline`] take a [`Context`](crate::context::Context), whose
//!   [`done`](crate::context::Context::done) is Go's `done` channel.
//! - Functions take and return `Receiver`s; a `Receiver` is `Clone`, so a stage's output
//!   can be read by several consumers (each value goes to one of them), as a Go channel can.
//!
//! Built from goro's public API only: goroutines, channels, [`select!`](crate::select),
//! [`context`](crate::context) and, for pipelines, [`group`](crate::group).

mod fan;
mod or_done;
mod ordered;
mod pipeline;
mod source;
mod tee;

pub use fan::{fan_out, merge};
pub use or_done::or_done;
pub use ordered::map_ordered;
pub use pipeline::Pipeline;
pub use source::generate;
pub use tee::tee;
