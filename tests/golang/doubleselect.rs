//! test/chan/doubleselect.go: the regression test for "two cases of one select both fire"
//! (Go codereview 180068), at Go's scale. One sender runs 100,000 selects of 4 send cases, each
//! sending the loop counter to one of four unbuffered channels, and closes all four when done
//! (Go's deferred closes); four mux goroutines each `range` over one channel and forward into
//! one shared unbuffered channel, then signal `done`; a closer goroutine waits for the 4 dones
//! and closes the shared channel. Main ranges over it and fails on any value seen twice; it
//! also checks that every value arrived: the count (100,000) and the sum (n(n-1)/2).

use goro::chan::{self, Receiver, Sender};

use crate::support::go_main;

const ITERATIONS: u64 = 100_000;

fn sender(n: u64, c1: Sender<u64>, c2: Sender<u64>, c3: Sender<u64>, c4: Sender<u64>) {
    for i in 0..n {
        goro::select! {
            send(c1, i) -> r => r.unwrap(),
            send(c2, i) -> r => r.unwrap(),
            send(c3, i) -> r => r.unwrap(),
            send(c4, i) -> r => r.unwrap(),
        }
    }
    // Go: defer close(c1) … close(c4).
    for c in [c1, c2, c3, c4] {
        assert!(c.close());
    }
}

fn mux(out: Sender<u64>, input: Receiver<u64>, done: Sender<bool>) {
    for v in &input {
        out.send(v).unwrap();
    }
    done.send(true).unwrap();
}

fn recver(input: Receiver<u64>) -> (u64, u64) {
    let mut seen = vec![false; ITERATIONS as usize];
    let (mut count, mut sum) = (0, 0);
    for v in &input {
        assert!(!seen[v as usize], "got duplicate value: {v}");
        seen[v as usize] = true;
        count += 1;
        sum += v;
    }
    (count, sum)
}

#[test]
fn doubleselect_100000_four_send_case_selects() {
    go_main("doubleselect", || {
        let (t1, c1) = chan::bounded(0);
        let (t2, c2) = chan::bounded(0);
        let (t3, c3) = chan::bounded(0);
        let (t4, c4) = chan::bounded(0);
        let (cmux_tx, cmux) = chan::bounded(0);
        let (done_tx, done) = chan::bounded(0);
        let s = goro::go(move || sender(ITERATIONS, t1, t2, t3, t4));
        let muxes: Vec<_> = [c1, c2, c3, c4]
            .into_iter()
            .map(|c| {
                let (out, done_tx) = (cmux_tx.clone(), done_tx.clone());
                goro::go(move || mux(out, c, done_tx))
            })
            .collect();
        let closer = goro::go(move || {
            for _ in 0..4 {
                assert_eq!(done.recv(), Ok(true));
            }
            assert!(cmux_tx.close());
        });
        let (count, sum) = recver(cmux);
        assert_eq!(count, ITERATIONS);
        assert_eq!(sum, ITERATIONS * (ITERATIONS - 1) / 2);
        s.join().unwrap();
        for m in muxes {
            m.join().unwrap();
        }
        closer.join().unwrap();
    });
}
