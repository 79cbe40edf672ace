//! The async channel workloads (`async_spsc`, `async_mpmc`, `async_pingpong`), written once
//! for every system with async channel operations (goro, tokio, flume, kanal): each binary
//! says how to make, send on and receive from its channels ([`AsyncChannels`]), and runs
//! these functions. Every system's tasks run on the same tokio runtime
//! ([`tokio_runtime`](crate::tokio_runtime): multi-thread, `GORO_MAXPROCS` workers), so the
//! channel is the only difference.
//!
//! As in `tokio_rt`, the workload itself runs as a task on the started runtime; the clock
//! starts before its tasks are spawned and stops when the workload task has the result.
//! Every channel is closed the Rust way, by dropping its last sender.

use std::future::Future;
use std::time::Instant;

use crate::{
    fail, per_op, report_as, tokio_runtime, ASYNC_CAP, ASYNC_MPMC_N, ASYNC_PINGPONG_N,
    ASYNC_SPSC_N, MPMC_CONSUMERS, MPMC_PRODUCERS,
};

/// A channel library with async operations, as the workloads use it (channels of `u64`).
pub trait AsyncChannels: 'static {
    /// The `system=` name in result lines.
    const SYSTEM: &'static str;
    /// The sending half.
    type Tx<T: Send + 'static>: Clone + Send + Sync + 'static;
    /// The receiving half (`&mut` to receive: tokio's `mpsc::Receiver` wants it).
    type Rx<T: Send + 'static>: Send + 'static;
    /// A channel of capacity `cap` (at least 1).
    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>);
    /// Sends `v` with the library's async send; false if the channel is closed.
    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> impl Future<Output = bool> + Send + '_;
    /// Receives with the library's async receive; `None` once the channel is closed and
    /// drained.
    fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>)
        -> impl Future<Output = Option<T>> + Send + '_;
}

/// Runs `workload` as a task on a fresh [`tokio_runtime`] and waits for it.
fn run_task(workload: impl Future<Output = ()> + Send + 'static) {
    let rt = tokio_runtime();
    rt.block_on(async move {
        tokio::spawn(workload)
            .await
            .expect("workload task panicked")
    });
}

/// Sends `range` on `tx`; exits 2 if the channel is closed.
async fn send_all<C: AsyncChannels>(tx: &C::Tx<u64>, range: std::ops::Range<u64>, what: &str) {
    for i in range {
        if !C::send(tx, i).await {
            fail(&format!("{what}: channel closed"));
        }
    }
}

/// Receives until the channel is closed; returns the sum and the count.
async fn drain<C: AsyncChannels>(rx: &mut C::Rx<u64>) -> (u64, u64) {
    let (mut sum, mut count) = (0u64, 0u64);
    while let Some(v) = C::recv(rx).await {
        sum += v;
        count += 1;
    }
    (sum, count)
}

/// Exits 2 unless the count and the sum are `n` and `0 + 1 + ... + (n - 1)`.
fn check(name: &str, sum: u64, count: u64, n: u64) {
    let want = n * (n - 1) / 2;
    if sum != want || count != n {
        fail(&format!(
            "{name}: got sum {sum} count {count}, want {want} and {n}"
        ));
    }
}

/// `async_spsc`: one producer task sends `0..ASYNC_SPSC_N` through a channel of capacity
/// `ASYNC_CAP` and drops its sender (closing the channel); one consumer task receives until
/// it is closed, counting and summing. ns per message.
pub fn spsc<C: AsyncChannels>() {
    run_task(async {
        let (tx, mut rx) = C::bounded::<u64>(ASYNC_CAP);
        let start = Instant::now();
        let producer = tokio::spawn(async move {
            send_all::<C>(&tx, 0..ASYNC_SPSC_N, "async_spsc").await;
        });
        let consumer = tokio::spawn(async move { drain::<C>(&mut rx).await });
        let (sum, count) = consumer.await.expect("consumer panicked");
        let elapsed = start.elapsed();
        producer.await.expect("producer panicked");
        check("async_spsc", sum, count, ASYNC_SPSC_N);
        report_as(
            C::SYSTEM,
            "async_spsc",
            ASYNC_SPSC_N,
            "ns_per_msg",
            per_op(elapsed, ASYNC_SPSC_N),
        );
    });
}

/// `async_mpmc`: `MPMC_PRODUCERS` producer tasks send `0..ASYNC_MPMC_N` (a contiguous
/// quarter each) through one channel of capacity `ASYNC_CAP`; `MPMC_CONSUMERS` consumer
/// tasks receive until it is closed (the last producer's sender dropped), each counting and
/// summing. Timed until the workload task has every consumer's tally. ns per message.
pub fn mpmc<C: AsyncChannels>()
where
    C::Rx<u64>: Clone,
{
    run_task(async {
        let (tx, rx) = C::bounded::<u64>(ASYNC_CAP);
        let per = ASYNC_MPMC_N / MPMC_PRODUCERS;
        let start = Instant::now();
        let consumers: Vec<_> = (0..MPMC_CONSUMERS)
            .map(|_| {
                let mut rx = rx.clone();
                tokio::spawn(async move { drain::<C>(&mut rx).await })
            })
            .collect();
        drop(rx);
        let producers: Vec<_> = (0..MPMC_PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                tokio::spawn(async move {
                    send_all::<C>(&tx, p * per..(p + 1) * per, "async_mpmc").await;
                })
            })
            .collect();
        drop(tx);
        let (mut sum, mut count) = (0, 0);
        for c in consumers {
            let (s, k) = c.await.expect("consumer panicked");
            sum += s;
            count += k;
        }
        let elapsed = start.elapsed();
        for p in producers {
            p.await.expect("producer panicked");
        }
        check("async_mpmc", sum, count, ASYNC_MPMC_N);
        report_as(
            C::SYSTEM,
            "async_mpmc",
            ASYNC_MPMC_N,
            "ns_per_msg",
            per_op(elapsed, ASYNC_MPMC_N),
        );
    });
}

/// `async_pingpong`: the workload task sends `0..ASYNC_PINGPONG_N` on `ping` and awaits
/// each value back on `pong` from one echo task; both channels of capacity 1. ns per round
/// trip.
pub fn pingpong<C: AsyncChannels>() {
    run_task(async {
        let (ping_tx, mut ping_rx) = C::bounded::<u64>(1);
        let (pong_tx, mut pong_rx) = C::bounded::<u64>(1);
        let start = Instant::now();
        let echo = tokio::spawn(async move {
            while let Some(v) = C::recv(&mut ping_rx).await {
                if !C::send(&pong_tx, v).await {
                    fail("async_pingpong: pong closed");
                }
            }
        });
        let (mut sum, mut count) = (0u64, 0u64);
        for i in 0..ASYNC_PINGPONG_N {
            if !C::send(&ping_tx, i).await {
                fail("async_pingpong: ping closed");
            }
            match C::recv(&mut pong_rx).await {
                Some(v) => {
                    sum += v;
                    count += 1;
                }
                None => fail("async_pingpong: pong closed"),
            }
        }
        let elapsed = start.elapsed();
        drop(ping_tx);
        echo.await.expect("echo panicked");
        check("async_pingpong", sum, count, ASYNC_PINGPONG_N);
        report_as(
            C::SYSTEM,
            "async_pingpong",
            ASYNC_PINGPONG_N,
            "ns_per_roundtrip",
            per_op(elapsed, ASYNC_PINGPONG_N),
        );
    });
}
