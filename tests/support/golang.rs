//! Helpers of the Go ports in `tests/golang/`: Go's retry loops around non-blocking
//! operations, and the reference primes for the concurrent sieves.

use std::time::{Duration, Instant};

use super::LIVENESS;

/// Go's `sleep()` of test/chan/nonblock.go between retries of a non-blocking operation:
/// two ticks of a 10 µs ticker, then three `runtime.Gosched()`.
fn go_retry_sleep() {
    goro::sleep(Duration::from_micros(10));
    goro::sleep(Duration::from_micros(10));
    goro::yield_now();
    goro::yield_now();
    goro::yield_now();
}

/// Retries `attempt` (a non-blocking operation: Go's select with default) until it returns
/// `Some`, sleeping as Go's nonblock.go does in between. Returns the value and how many
/// attempts failed first. Go bounds the retries by a count (10000); here the bound is
/// [`LIVENESS`], so a slow machine cannot fail the test.
pub fn retry_nonblocking<T>(what: &str, mut attempt: impl FnMut() -> Option<T>) -> (T, usize) {
    let start = Instant::now();
    let mut failed = 0;
    loop {
        if let Some(v) = attempt() {
            return (v, failed);
        }
        failed += 1;
        assert!(
            start.elapsed() < LIVENESS,
            "{what}: still not possible after {failed} tries"
        );
        go_retry_sleep();
    }
}

/// The first `n` primes, by a plain sequential sieve of Eratosthenes: the reference the
/// concurrent sieves are checked against.
pub fn first_primes(n: usize) -> Vec<u64> {
    let mut limit = 128usize;
    loop {
        let mut composite = vec![false; limit];
        let mut primes = Vec::new();
        for i in 2..limit {
            if !composite[i] {
                primes.push(i as u64);
                if primes.len() == n {
                    return primes;
                }
                let mut j = i * i;
                while j < limit {
                    composite[j] = true;
                    j += i;
                }
            }
        }
        limit *= 2;
    }
}

/// The 25 primes below 100, as listed in Go's sieve1.go and sieve2.go.
pub const PRIMES_BELOW_100: [u64; 25] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
];
