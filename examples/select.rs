//! Go: `select` — wait on several channels; the first ready case runs.

use std::time::Duration;

use goro::chan;

#[goro::main]
pub fn main() {
    let (tx1, ch1) = chan::bounded(0);
    let (tx2, ch2) = chan::bounded(0);

    goro::go(move || {
        goro::sleep(Duration::from_secs(1));
        tx1.send("one").unwrap();
    });

    goro::go(move || {
        goro::sleep(Duration::from_secs(2));
        // Nobody receives a second time: the send fails once main is gone (Go would leak it).
        let _ = tx2.send("two");
    });

    goro::select! {
        recv(ch1) -> msg1 => println!("Received {}", msg1.unwrap()),
        recv(ch2) -> msg2 => println!("Received {}", msg2.unwrap()),
    }
}

// Output:
// Received one
