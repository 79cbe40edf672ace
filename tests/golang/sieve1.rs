//! test/chan/sieve1.go: the classic concurrent prime sieve. A generator sends 2, 3, 4, … on
//! an unbuffered channel; for every prime it reads, the sieve goroutine inserts a Filter
//! goroutine between the old channel and a new one, so the k-th prime has crossed k-1
//! filters. Go checks the 25 primes below 100 (doc/play/sieve.go prints the first 10).
//!
//! At scale: a chain of 10,000 filter goroutines over unbuffered channels produces the first
//! 10,000 primes (the last is 104,729), checked against a sequential sieve.
//!
//! Go leaks every goroutine at exit; here the test tears the sieve down by closing and checks
//! that every goroutine has finished: the generator stops when `quit` is closed (Go:
//! `select { case <-quit: return; default: }`, i.e. `try_recv`), each filter then sees its
//! input closed and returns, closing its output; and the sieve stops when `primes` has no
//! receiver any more (dropping every `Receiver` closes a channel in goro).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use goro::chan::{self, Receiver, Sender, TryRecvError};
use goro::sync::WaitGroup;

use crate::support::{first_primes, go_main, PRIMES_BELOW_100};

/// Sends 2, 3, 4, … on `ch` until `quit` is closed or `ch` has no receiver.
fn generate(ch: Sender<u64>, quit: Receiver<()>) {
    for i in 2.. {
        if quit.try_recv() == Err(TryRecvError::Closed) {
            return;
        }
        if ch.send(i).is_err() {
            return;
        }
    }
}

/// Copies the values of `input` that `prime` does not divide to `output`. Go: `for i :=
/// range in`.
fn filter(input: Receiver<u64>, output: Sender<u64>, prime: u64) {
    for i in &input {
        if i % prime != 0 && output.send(i).is_err() {
            return;
        }
    }
}

/// Daisy-chains filters: every prime read from the chain goes to `primes` and gets a filter.
fn sieve(primes: Sender<u64>, quit: Receiver<()>, wg: WaitGroup, filters: Arc<AtomicUsize>) {
    let (tx, mut ch) = chan::bounded(0);
    wg.go(move || generate(tx, quit));
    while let Ok(prime) = ch.recv() {
        if primes.send(prime).is_err() {
            return;
        }
        let (tx1, ch1) = chan::bounded(0);
        let input = std::mem::replace(&mut ch, ch1);
        filters.fetch_add(1, Ordering::Relaxed);
        wg.go(move || filter(input, tx1, prime));
    }
}

/// Runs the sieve, checks the first `expected.len()` primes, tears it down and checks that
/// every goroutine finished, with one filter per prime read.
fn run_sieve(expected: Vec<u64>) {
    let wg = WaitGroup::new();
    let filters = Arc::new(AtomicUsize::new(0));
    let (primes_tx, primes) = chan::bounded(0);
    let (quit_tx, quit) = chan::bounded::<()>(0);
    {
        let (wg2, filters) = (wg.clone(), filters.clone());
        wg.go(move || sieve(primes_tx, quit, wg2, filters));
    }
    for (i, &want) in expected.iter().enumerate() {
        let got = primes.recv().expect("the sieve stopped early");
        assert_eq!(got, want, "prime #{}", i + 1);
    }
    // Teardown (Go leaks the goroutines instead).
    drop(primes);
    assert!(quit_tx.close());
    wg.wait();
    // The sieve adds a filter after each prime it hands over, and the next hand-over fails.
    assert_eq!(filters.load(Ordering::Relaxed), expected.len());
}

#[test]
fn sieve1_primes_below_100() {
    go_main("sieve1", || run_sieve(PRIMES_BELOW_100.to_vec()));
}

#[test]
fn sieve1_play_first_10_primes() {
    // doc/play/sieve.go prints the first 10 primes, one per line: 2 … 29.
    go_main("sieve1 play", || {
        run_sieve(vec![2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
    });
}

#[test]
fn sieve1_chain_of_10000_filters() {
    go_main("sieve1 10000", || {
        let expected = first_primes(10_000);
        assert_eq!(expected[9_999], 104_729);
        run_sieve(expected);
    });
}

/// The sequential sieve the concurrent ones (here and in sieve2) are checked against.
#[test]
fn reference_primes_are_right() {
    assert_eq!(first_primes(25), PRIMES_BELOW_100);
    let p = first_primes(10_000);
    assert_eq!(p[999], 7919);
    assert_eq!(p.iter().filter(|&&x| x < 10_000).count(), 1229);
    assert_eq!(p[9_999], 104_729);
}
