//! Go: `ch := make(chan int, 2)` — a buffered channel: sends do not block until it is full.

use goro::chan;

#[goro::main]
pub fn main() {
    let (tx, rx) = chan::bounded(2);

    tx.send(1).unwrap();
    tx.send(2).unwrap();
    println!("{}", rx.recv().unwrap());
    println!("{}", rx.recv().unwrap());
}

// Output:
// 1
// 2
