//! Go: `select` with `case <-time.After(1 * time.Second)` — give up on a slow operation.

use std::time::Duration;

use goro::{chan, time};

#[goro::main]
pub fn main() {
    let (tx, c) = chan::bounded(0);

    goro::go(move || {
        goro::sleep(Duration::from_secs(2));
        let _ = tx.send("done"); // fails once nobody listens any more
    });

    goro::select! {
        recv(c) -> res => println!("{}", res.unwrap()),
        recv(time::after(Duration::from_secs(1))) -> _t => println!("timeout"),
    }
}

// Output:
// timeout
