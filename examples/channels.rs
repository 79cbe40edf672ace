//! Go: `ch := make(chan string)`, `ch <- "ping"`, `msg := <-ch` — an unbuffered channel.

use goro::chan;

#[goro::main]
pub fn main() {
    let (tx, rx) = chan::bounded::<&str>(0);

    goro::go(move || {
        tx.send("ping").unwrap();
    });

    let msg = rx.recv().unwrap();
    println!("{msg}"); // prints: ping
}

// Output:
// ping
