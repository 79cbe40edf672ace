//! test/ken/chan1.go: N = 1000 values through a channel with buffer W = 2 to M = 10 receiver
//! goroutines, each looping on a 1-case select (which is a plain receive). A shared array
//! marks each value 0 → 1 when sent and 1 → 2 when received: every value must be received
//! exactly once, and only after it was sent.
//!
//! Go's main returns after the last send, leaking the receivers; here main closes the channel
//! afterwards, joins them, and checks that every mark reached 2.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use goro::chan::{self, Receiver};

use crate::support::go_main;

const N: usize = 1000; // sent messages
const M: usize = 10; // receiving goroutines
const W: usize = 2; // channel buffering

fn r(c: Receiver<usize>, m: usize, h: Arc<Vec<AtomicU8>>) -> usize {
    let mut got = 0;
    for r in &c {
        if let Err(mark) = h[r].compare_exchange(1, 2, Ordering::SeqCst, Ordering::SeqCst) {
            panic!("r m={m} r={r} h={mark}");
        }
        got += 1;
    }
    got
}

#[test]
fn ken_chan1() {
    go_main("ken/chan1", || {
        let h: Arc<Vec<AtomicU8>> = Arc::new((0..N).map(|_| AtomicU8::new(0)).collect());
        let (c_tx, c) = chan::bounded::<usize>(W);
        let mut receivers = Vec::new();
        for m in 0..M {
            let (c, h) = (c.clone(), h.clone());
            receivers.push(goro::go(move || r(c, m, h)));
            goro::yield_now();
        }
        drop(c);
        goro::yield_now();
        goro::yield_now();
        // Go's s(c).
        for n in 0..N {
            if let Err(mark) = h[n].compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst) {
                panic!("s n={n} h={mark}");
            }
            c_tx.send(n).expect("receivers gone");
        }
        drop(c_tx);
        let total: usize = receivers.into_iter().map(|j| j.join().unwrap()).sum();
        assert_eq!(total, N);
        assert!(h.iter().all(|x| x.load(Ordering::SeqCst) == 2));
    });
}
