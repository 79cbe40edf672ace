//! `or_done`: read a channel until a context ends.

use crate::chan::{self, Receiver};
use crate::context::Context;

/// A channel yielding the values of `input` until `input` is closed or `ctx` ends, then
/// closed.
///
/// Go: the or-done channel of *Concurrency in Go*:
///
/// ```go
/// for {
///     select {
///     case <-done: return
///     case v, ok := <-c:
///         if !ok { return }
///         select {
///         case out <- v:
///         case <-done: return
///         }
///     }
/// }
/// ```
///
/// Its goroutine waits on the context in both places where it can block, so it stops as
/// soon as `ctx` ends, whether it is waiting for the next value of `input` or for the
/// consumer to take the last one; it then drops `input`, so a stage feeding `input` stops
/// at its next send. The consumer sees the output close, and `ctx.err()` says whether that
/// was cancellation. A value offered at the very moment `ctx` ends may still be delivered
/// (as in Go, a `select` with both cases ready picks one at random); none is offered after
/// the goroutine has seen `ctx` end.
///
/// It also stops, dropping `input`, when every receiver of the output is dropped.
///
/// ```
/// use goro::chan;
/// use goro::context;
/// use goro::pattern::or_done;
///
/// #[goro::main]
/// fn main() {
///     let (ctx, cancel) = context::background().with_cancel();
///     let (tx, rx) = chan::bounded(0);
///     let out = or_done(&ctx, rx);
///     tx.send(1).unwrap();
///     assert_eq!(out.recv(), Ok(1));
///     cancel(); // `tx` is still open, yet the output closes
///     assert!(out.recv().is_err());
///     assert!(tx.send(2).is_err()); // and `or_done` has let go of `rx`
/// }
/// ```
pub fn or_done<T>(ctx: &Context, input: Receiver<T>) -> Receiver<T>
where
    T: Send + 'static,
{
    let (tx, rx) = chan::bounded(0);
    let ctx = ctx.clone();
    crate::go(move || {
        let done = ctx.done();
        while ctx.err().is_none() {
            let v = crate::select! {
                recv(done) -> _ => return,
                recv(input) -> v => match v {
                    Ok(v) => v,
                    Err(_) => return,
                },
            };
            if ctx.err().is_some() {
                return;
            }
            crate::select! {
                send(tx, v) -> r => if r.is_err() {
                    return;
                },
                recv(done) -> _ => return,
            }
        }
    });
    rx
}
