//! `map_ordered`: a parallel map that keeps the input's order.
//!
//! Go's idiom for this is a channel of result channels: for each value, a dispatcher makes a
//! one-value channel, queues it, and starts a goroutine that computes the result into it; a
//! collector takes the queued channels in order and waits on each in turn. The queue's
//! capacity bounds how far the dispatcher can run ahead of the collector.
//!
//! # The bound
//!
//! The dispatcher queues a value's result channel *before* starting its goroutine, and the
//! queue holds `n - 1` channels. A value's goroutine can therefore only be running while
//! its channel is in the queue or is the one the collector is waiting on: every earlier
//! value has been taken by the collector, which only moves past a value once its result has
//! come. So at most `(n - 1) + 1 = n` calls of `f` run at once, and at most `n` results wait
//! to be passed on (plus the one being sent). With `n == 1` the queue is a rendezvous: a
//! value is dispatched only once the collector is ready for it, and `f` runs one at a time.
//!
//! # Stopping
//!
//! - Input exhausted: the dispatcher drops the queue's sender; the collector drains the
//!   queue and returns, closing the output.
//! - Consumer gone: the collector's send fails; it returns and drops the queue's receiver,
//!   so the dispatcher's next queueing fails and it returns too, dropping the input. The
//!   goroutines still computing finish `f`, find their result channel without a receiver,
//!   and end.
//! - `f` panics: its goroutine ends without sending, dropping its result channel's sender;
//!   the collector sees that channel closed and returns, so the output ends just before that
//!   value (and the dispatcher stops as above).
//!
//! Rejected: `n` long-lived workers fed by a jobs channel, with results put back in order by
//! sequence number. It saves the spawns, but needs a reorder buffer whose size must be
//! bounded separately (a fast worker can otherwise race ahead of a slow one), and a panic in
//! `f` would take a worker away rather than one value. A goroutine costs one allocation and
//! a stack from its worker's cache, which is cheap next to the hand-offs each value needs
//! anyway.

use std::sync::Arc;

use crate::chan::{self, Receiver};

/// The results of `f` applied to every value of `input`, in the input's order, with at most
/// `n` calls of `f` running at once; closed once `input` is closed and every result has been
/// taken.
///
/// Go: a channel of result channels (or `errgroup` with `SetLimit` and a slice of results),
/// written out by hand.
///
/// Each value is mapped in a goroutine of its own. A slow value holds back the results of
/// the values after it (they wait, done, for their turn) but not their computation, up to
/// `n` values ahead. Memory is bounded: at most `n` values are being mapped or waiting to
/// be passed on.
///
/// When every receiver of the output is dropped, no new call of `f` starts, and the input
/// is dropped. If `f` panics, the panic is reported on stderr, and the output ends just
/// before that value: the values before it are all delivered, none after it.
///
/// # Panics
///
/// If `n` is 0: no value could ever be mapped.
///
/// ```
/// use goro::pattern::{generate, map_ordered};
/// use std::time::Duration;
///
/// #[goro::main]
/// fn main() {
///     // Earlier values take longer, yet come out first.
///     let out = map_ordered(generate(0..5u64), 5, |i| {
///         goro::sleep(Duration::from_millis(5 * (5 - i)));
///         i * 10
///     });
///     assert_eq!(out.iter().collect::<Vec<_>>(), [0, 10, 20, 30, 40]);
/// }
/// ```
pub fn map_ordered<T, U, F>(input: Receiver<T>, n: usize, f: F) -> Receiver<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> U + Send + Sync + 'static,
{
    assert!(
        n > 0,
        "goro::pattern::map_ordered: n is 0, so no value could ever be mapped"
    );
    let f = Arc::new(f);
    let (out_tx, out_rx) = chan::bounded(0);
    // The result channels of the values dispatched and not yet collected, in input order.
    let (queue_tx, queue_rx) = chan::bounded::<Receiver<U>>(n - 1);

    // Dispatcher.
    crate::go(move || {
        for v in &input {
            let (result_tx, result_rx) = chan::bounded(1);
            if queue_tx.send(result_rx).is_err() {
                return; // the collector has stopped
            }
            let f = Arc::clone(&f);
            crate::go(move || {
                // Capacity 1: never blocks; fails only if the collector has stopped.
                let _ = result_tx.send(f(v));
            });
        }
    });

    // Collector.
    crate::go(move || {
        for result in &queue_rx {
            let Ok(u) = result.recv() else {
                return; // `f` panicked on this value
            };
            if out_tx.send(u).is_err() {
                return; // no receiver left
            }
        }
    });

    out_rx
}
