//! test/chan/select2.go without its heap measurement: a sender sends 100,000 values on an
//! unbuffered channel; the receiver takes each with a two-case select whose other case, on a
//! `dummy` channel nobody sends on, must never be chosen. Two rounds, as in Go (warm-up, then
//! measured). Go's check that the second round does not grow the heap needs a counting global
//! allocator, which would affect every test of this binary: not ported. Every value arrives
//! once, in order.

use goro::chan::{self, Receiver};

use crate::support::go_main;

const N: u64 = 100_000;

fn round(c: &Receiver<u64>, dummy: &Receiver<u64>) -> u64 {
    let mut sum = 0;
    for i in 0..N {
        goro::select! {
            recv(c) -> v => { let v = v.unwrap(); assert_eq!(v, i); sum += v; }
            recv(dummy) -> _v => panic!("dummy chosen"),
        }
    }
    sum
}

#[test]
fn select2_100000_two_case_selects() {
    go_main("select2", || {
        let (tx, c) = chan::bounded::<u64>(0);
        let (_dummy_tx, dummy) = chan::bounded::<u64>(0);
        let sender = goro::go(move || {
            for _ in 0..2 {
                for i in 0..N {
                    tx.send(i).unwrap();
                }
            }
        });
        for _ in 0..2 {
            assert_eq!(round(&c, &dummy), N * (N - 1) / 2);
        }
        sender.join().unwrap();
    });
}
