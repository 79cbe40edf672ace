//! `generate`: the source of a chain.

use crate::chan::{self, Receiver};

/// A channel yielding the items of `iter`, in order, then closed.
///
/// Go: the generator function of the pipelines blog post,
///
/// ```go
/// func gen(nums ...int) <-chan int {
///     out := make(chan int)
///     go func() {
///         for _, n := range nums { out <- n }
///         close(out)
///     }()
///     return out
/// }
/// ```
///
/// One goroutine pulls the items from the iterator and sends them on an unbuffered channel,
/// so the iterator is advanced only as fast as the consumer takes items (at most one item
/// ahead). It may be endless: once every receiver of the returned channel is dropped, the
/// goroutine's next send fails and it stops, dropping the iterator.
///
/// ```
/// use goro::pattern::generate;
///
/// #[goro::main]
/// fn main() {
///     let squares = generate((1..).map(|n: u64| n * n)); // endless
///     let first: Vec<u64> = squares.iter().take(4).collect();
///     assert_eq!(first, [1, 4, 9, 16]);
///     drop(squares); // the generating goroutine stops
/// }
/// ```
pub fn generate<I>(iter: I) -> Receiver<I::Item>
where
    I: IntoIterator,
    I::IntoIter: Send + 'static,
    I::Item: Send + 'static,
{
    let (tx, rx) = chan::bounded(0);
    let items = iter.into_iter();
    crate::go(move || {
        for item in items {
            if tx.send(item).is_err() {
                return; // no receiver left
            }
        }
    });
    rx
}
