//! test/chan/goroutines.go: "make a lot of goroutines, threaded together, and tear them down
//! cleanly". 10,000 goroutines each do `left <- <-right` over unbuffered channels, so all of
//! them are parked at once; one more goroutine sends 1 into the rightmost channel and main
//! receives it from the leftmost. Plus golang/talks' daisy.go, the same chain with
//! `left <- 1 + <-right`, which must print 10001.

use goro::chan::{self, Receiver, Sender};

use crate::support::go_main;

/// Go's n (argv[1] default).
const N: usize = 10_000;

/// Builds the chain: goroutine i forwards `step(<-right)` to `left`. Returns the leftmost
/// receiver, the rightmost sender and the goroutines.
fn chain(
    n: usize,
    step: fn(i64) -> i64,
) -> (Receiver<i64>, Sender<i64>, Vec<goro::JoinHandle<()>>) {
    let (mut left, leftmost) = chan::bounded::<i64>(0);
    let mut hs = Vec::with_capacity(n);
    for _ in 0..n {
        let (right_tx, right) = chan::bounded::<i64>(0);
        hs.push(goro::go(move || {
            let v = right.recv().expect("value from the right");
            left.send(step(v)).expect("a receiver on the left");
        }));
        left = right_tx;
    }
    (leftmost, left, hs)
}

fn run_chain(step: fn(i64) -> i64, want: i64) {
    let (leftmost, rightmost, hs) = chain(N, step);
    // Nothing can finish before the value is sent: all N goroutines are alive, parked
    // (or about to park) in a receive.
    assert!(
        goro::num_goroutine() > N,
        "{} goroutines alive",
        goro::num_goroutine()
    );
    assert!(hs.iter().all(|h| !h.is_finished()));
    goro::go(move || rightmost.send(1).expect("send into the chain"));
    assert_eq!(leftmost.recv(), Ok(want));
    // Torn down cleanly: every goroutine has returned.
    for h in hs {
        h.join().unwrap();
    }
}

#[test]
fn goroutines_10000_chained() {
    go_main("goroutines", || run_chain(|v| v, 1));
}

#[test]
fn daisy_10000_plus_one_each() {
    go_main("daisy", || run_chain(|v| 1 + v, N as i64 + 1));
}
