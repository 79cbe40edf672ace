//! Helpers shared by the Go ports: running a port as Go runs `main`, with a liveness bound,
//! and Go's retry loops around non-blocking operations.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A port that has not finished within this bound is deadlocked (where Go would report
/// "all goroutines are asleep") or has lost a wake-up. Not a timing assertion: in release
/// mode the slowest port (sieve1's chain of 10,000 filters) takes a few seconds; unoptimised
/// builds are about ten times slower, hence the larger bound there.
pub const LIVENESS: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(300)
} else {
    Duration::from_secs(60)
};

/// Runs `main` as a goroutine (Go's main goroutine, or a test's goroutine), and fails the
/// test if it panics or has not returned within [`LIVENESS`].
pub fn go_main<F>(name: &str, main: F)
where
    F: FnOnce() + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("go-main-{name}"))
        .spawn(move || {
            let r = panic::catch_unwind(AssertUnwindSafe(|| goro::run(main)));
            let _ = tx.send(r);
        })
        .expect("spawn the thread running the port");
    match rx.recv_timeout(LIVENESS) {
        Ok(Ok(())) => {}
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!("{name}: not finished after {LIVENESS:?}: deadlock or lost wake-up"),
    }
}

/// Go's `sleep()` of test/chan/nonblock.go between retries of a non-blocking operation:
/// two ticks of a 10 µs ticker, then three `runtime.Gosched()`.
pub fn go_retry_sleep() {
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

#[test]
fn reference_primes_are_right() {
    assert_eq!(first_primes(25), PRIMES_BELOW_100);
    let p = first_primes(10_000);
    assert_eq!(p[999], 7919);
    assert_eq!(p.iter().filter(|&&x| x < 10_000).count(), 1229);
    assert_eq!(p[9_999], 104_729);
}
