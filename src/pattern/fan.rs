//! `merge` (fan-in) and `fan_out`.

use std::sync::Arc;

use crate::chan::{self, Receiver, Sender};

/// One channel yielding every value of every input, closed once all inputs are closed and
/// drained.
///
/// Go: fan-in, the `merge` function of the pipelines blog post (a goroutine per input
/// copying into one output, and a `WaitGroup` that closes the output after the last copy).
///
/// Each input gets a forwarding goroutine, so values of one input keep their order while
/// values of different inputs interleave as they come. With no input, the output is closed
/// at once. When every receiver of the output is dropped, each forwarder stops at its next
/// value and drops its input.
///
/// ```
/// use goro::pattern::{generate, merge};
///
/// #[goro::main]
/// fn main() {
///     let merged = merge([generate(0..100), generate(100..200), generate(200..300)]);
///     let mut all: Vec<i32> = merged.iter().collect();
///     all.sort();
///     assert_eq!(all, (0..300).collect::<Vec<_>>()); // each value exactly once
/// }
/// ```
pub fn merge<T, I>(inputs: I) -> Receiver<T>
where
    I: IntoIterator<Item = Receiver<T>>,
    T: Send + 'static,
{
    let (tx, rx) = chan::bounded(0);
    for input in inputs {
        let tx = tx.clone();
        crate::go(move || forward(&input, &tx));
    }
    // The forwarders hold the only senders now: the last one to return closes `rx`.
    rx
}

/// Copies `input` into `out` until `input` is closed or `out` has no receiver left.
fn forward<T: Send>(input: &Receiver<T>, out: &Sender<T>) {
    for v in input {
        if out.send(v).is_err() {
            return;
        }
    }
}

/// The results of `f` applied to every value of `input` by `n` goroutines, in the order
/// they are finished; closed once `input` is closed and every result has been taken.
///
/// Go: fan-out followed by fan-in, the article's workers, each running
/// `for j := range jobs { results <- f(j) }`, with the results channel closed after the
/// last worker returns.
///
/// At most `n` calls of `f` run at once. Results come in no particular order: use
/// [`map_ordered`](super::map_ordered) to keep the input's. When every receiver of the
/// output is dropped, each worker stops after its current call of `f`, and the input is
/// dropped once the last one has.
///
/// If `f` panics, that worker's goroutine ends (the panic is reported on stderr) and the
/// value it was mapping is lost; the other workers carry on.
///
/// # Panics
///
/// If `n` is 0: no worker would ever take a value.
///
/// ```
/// use goro::pattern::{fan_out, generate};
///
/// #[goro::main]
/// fn main() {
///     let lengths = fan_out(generate(["go", "goro", "gopher"]), 3, |s: &str| s.len());
///     let total: usize = lengths.iter().sum();
///     assert_eq!(total, 12);
/// }
/// ```
pub fn fan_out<T, U, F>(input: Receiver<T>, n: usize, f: F) -> Receiver<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> U + Send + Sync + 'static,
{
    assert!(
        n > 0,
        "goro::pattern::fan_out: n is 0, so no worker would ever take a value"
    );
    let f = Arc::new(f);
    let (tx, rx) = chan::bounded(0);
    for _ in 0..n {
        let (input, tx, f) = (input.clone(), tx.clone(), Arc::clone(&f));
        crate::go(move || {
            for v in &input {
                if tx.send(f(v)).is_err() {
                    return;
                }
            }
        });
    }
    rx
}
