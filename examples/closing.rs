//! Go: `close(ch)` and `for val := range ch` — closing a channel ends the receiver's loop.

use goro::chan;

#[goro::main]
pub fn main() {
    let (tx, rx) = chan::bounded(0);
    goro::go(move || {
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        tx.close();
    });

    for val in &rx {
        println!("{val}");
    }
}

// Output:
// 0
// 1
// 2
