//! test/chan/sieve2.go: a sieve of Eratosthenes built from goroutines. `odds` sends 5, 7, 9, …
//! (buffer 50); for each prime p, `multiples(p)` sends p², p²+2p, … (buffer 10); a merger
//! goroutine keeps a heap of the multiple streams, each with its head value peeked, and
//! emits the odd composites in increasing order (buffer 50); the sieve goroutine outputs
//! every candidate that is not the next composite, and feeds each prime back to the merger,
//! which needs the primes to open new multiple streams. The output is pre-seeded with 2 and
//! 3, the feedback with 3. Go checks the 25 primes below 100; at scale, the first 10,000.
//!
//! Go's feedback goes through `sendproxy`, a goroutine that buffers without bound behind a
//! select with a nil-disabled send case, because the merger reads primes much more slowly
//! than the sieve finds them. Both are run: Go's sendproxy (a `VecDeque` for Go's growable
//! ring, in front of Go's cap-10 `primes` channel, the send case `None` while the queue is
//! empty), and goro's `unbounded` channel, which is exactly that buffer. Go leaks the goroutines at exit; here the
//! test drops the output and checks that every goroutine returns, each seeing its channel
//! closed when its reader or writer is gone.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use goro::chan::{self, Receiver, Sender};
use goro::sync::WaitGroup;

use crate::support::{first_primes, go_main, PRIMES_BELOW_100};

/// Sends `from`, `from + step`, … on a channel with buffer `cap`, until it has no receiver.
fn counter(wg: &WaitGroup, from: u64, step: u64, cap: usize) -> Receiver<u64> {
    let (tx, rx) = chan::bounded(cap);
    wg.go(move || {
        let mut n = from;
        while tx.send(n).is_ok() {
            n += step;
        }
    });
    rx
}

/// Go's odds(): 5, 7, 9, …
fn odds(wg: &WaitGroup) -> Receiver<u64> {
    counter(wg, 5, 2, 50)
}

/// Go's multiples(p): the odd multiples of p from p².
fn multiples(wg: &WaitGroup, p: u64) -> Receiver<u64> {
    counter(wg, p * p, 2 * p, 10)
}

/// The merger: odd composites in increasing order (each once), from the multiple streams of
/// the primes read from `primes`. Returns when a channel it uses is closed.
fn merge(wg: WaitGroup, primes: Receiver<u64>, composites: Sender<u64>) -> Option<()> {
    let mut streams: Vec<Receiver<u64>> = Vec::new();
    // (head, stream index), smallest head first: Go's PeekChHeap.
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut next = primes.recv().ok()?;
    let mut last = 0;
    loop {
        match heap.peek() {
            Some(&Reverse((min, i))) if min < next * next => {
                heap.pop();
                if min != last {
                    composites.send(min).ok()?;
                    last = min;
                }
                let head = streams[i].recv().ok()?;
                heap.push(Reverse((head, i)));
            }
            _ => {
                // Every composite below next² is out, and next² is the smallest one left:
                // open next's stream and emit its head before waiting for another prime
                // (the sieve needs a composite above its candidates to pass them as primes).
                let m = multiples(&wg, next);
                let head = m.recv().ok()?;
                composites.send(head).ok()?;
                last = head;
                heap.push(Reverse((m.recv().ok()?, streams.len())));
                streams.push(m);
                next = primes.recv().ok()?;
            }
        }
    }
}

/// Go's sendproxy: a goroutine that accepts every value sent on the returned channel
/// (buffer 10) at once, queues it without bound, and forwards the queue in order to `out`. Its
/// select has a receive case on the proxy channel and a send case on `out` that is disabled
/// (Go: set to nil, here `None`) while the queue is empty. It returns when either side is
/// gone.
fn sendproxy(wg: &WaitGroup, out: Sender<u64>) -> Sender<u64> {
    let (proxy_tx, proxy) = chan::bounded(10);
    wg.go(move || {
        let mut queue = std::collections::VecDeque::with_capacity(16);
        loop {
            let c = if queue.is_empty() { None } else { Some(&out) };
            // Go sends its stale `e` on the nil channel; any value will do here.
            let e = queue.front().copied().unwrap_or(0);
            goro::select! {
                recv(proxy) -> v => match v {
                    Ok(v) => queue.push_back(v),
                    Err(_) => return,
                },
                send(c, e) -> r => {
                    if r.is_err() {
                        return;
                    }
                    queue.pop_front();
                }
            }
        }
    });
    proxy_tx
}

/// How the sieve feeds primes back to the merger.
#[derive(Clone, Copy)]
enum Feedback {
    /// goro's `unbounded` channel.
    Unbounded,
    /// Go's `sendproxy` in front of a cap-10 channel.
    SendProxy,
}

/// Go's Sieve(): the output channel of primes.
fn sieve(wg: &WaitGroup, feedback: Feedback) -> Receiver<u64> {
    let (out_tx, out) = chan::bounded(10);
    out_tx.send(2).unwrap();
    out_tx.send(3).unwrap();
    let (composites_tx, composites) = chan::bounded(50);
    let (primes_tx, primes) = match feedback {
        Feedback::Unbounded => chan::unbounded(),
        Feedback::SendProxy => chan::bounded(10),
    };
    primes_tx.send(3).unwrap();
    let primes_tx = match feedback {
        Feedback::Unbounded => primes_tx,
        // Go: `primes := sendproxy(primes)`, in the sieve goroutine.
        Feedback::SendProxy => sendproxy(wg, primes_tx),
    };
    {
        let wg2 = wg.clone();
        wg.go(move || {
            merge(wg2, primes, composites_tx);
        });
    }
    let candidates = odds(wg);
    wg.go(move || {
        let run = || -> Option<()> {
            let mut p = candidates.recv().ok()?;
            loop {
                let c = composites.recv().ok()?;
                while p < c {
                    primes_tx.send(p).ok()?;
                    out_tx.send(p).ok()?;
                    p = candidates.recv().ok()?;
                }
                if p == c {
                    p = candidates.recv().ok()?;
                }
            }
        };
        run();
    });
    out
}

fn run_sieve2(expected: &[u64], feedback: Feedback) {
    let wg = WaitGroup::new();
    let primes = sieve(&wg, feedback);
    for (i, &want) in expected.iter().enumerate() {
        assert_eq!(primes.recv(), Ok(want), "prime #{}", i + 1);
    }
    // Teardown: without a reader of the output, every goroutine must end.
    drop(primes);
    wg.wait();
}

#[test]
fn sieve2_primes_below_100() {
    go_main("sieve2", || {
        run_sieve2(&PRIMES_BELOW_100, Feedback::Unbounded)
    });
}

#[test]
fn sieve2_sendproxy_primes_below_100() {
    go_main("sieve2 sendproxy", || {
        run_sieve2(&PRIMES_BELOW_100, Feedback::SendProxy)
    });
}

#[test]
fn sieve2_sendproxy_first_10000_primes() {
    go_main("sieve2 sendproxy 10000", || {
        let expected = first_primes(10_000);
        run_sieve2(&expected, Feedback::SendProxy);
    });
}

#[test]
fn sieve2_first_10000_primes() {
    go_main("sieve2 10000", || {
        let expected = first_primes(10_000);
        run_sieve2(&expected, Feedback::Unbounded);
    });
}
