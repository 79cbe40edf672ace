//! Go: `ctx, cancel := context.WithTimeout(ctx, d)` and `case <-ctx.Done():` in a `select` —
//! give up on a slow operation, and tell the operation to stop too.

use std::time::Duration;

use goro::chan;
use goro::context::{self, Context};
use goro::time;

/// An operation that takes 2 s, unless its context ends first.
fn slow_operation(ctx: Context) -> String {
    goro::select! {
        recv(time::after(Duration::from_secs(2))) -> _t => "done".to_string(),
        recv(ctx.done()) -> _d => format!("slow operation stopped: {}", ctx.err().unwrap()),
    }
}

#[goro::main]
pub fn main() {
    let (ctx, cancel) = context::background().with_timeout(Duration::from_millis(100));
    let _guard = cancel.guard(); // defer cancel()

    let (tx, c) = chan::bounded(1);
    let op = {
        let ctx = ctx.clone();
        goro::go(move || {
            let res = slow_operation(ctx);
            let _ = tx.send(res.clone());
            res
        })
    };

    goro::select! {
        recv(c) -> res => println!("{}", res.unwrap()),
        recv(ctx.done()) -> _d => println!("{}", ctx.err().unwrap()),
    }
    // The operation saw the same context end and returned early: nothing leaks.
    println!("{}", op.join().unwrap());
}

// Output:
// context deadline exceeded
// slow operation stopped: context deadline exceeded
