//! The flume peer of `goro_rt`: the channel workloads on OS threads
//! (`std::thread::spawn` where Go starts a goroutine), with `flume::bounded`, and the async
//! workloads (`goro_benchmarks::tasks`) with `send_async`/`recv_async` in tokio tasks.
//!
//! Usage: `flume_rt <workload>`, the workload names of `goro_rt`. `spawn`, `skynet`,
//! `sleeps`, `parked` and `ring` need thousands to a million goroutines, one OS thread each
//! here, and `blocking` would measure the kernel's threads: they print `SKIP <workload>:
//! <reason>` on stderr and exit 0, as they do for the network workloads (a channel crate
//! has no network I/O).

use std::thread;
use std::time::Instant;

use flume::{bounded, Selector};
use goro_benchmarks::tasks::{self, AsyncChannels};
use goro_benchmarks::threads::{self, ThreadChannels};
use goro_benchmarks::{
    fail, per_op, report_as, skip, MPMC_BIG_CAP, MPMC_BIG_N, MPMC_SMALL_N, NOT_CHANNEL_SKIP,
    NOT_POOL_SKIP, OS_THREAD_BLOCKING_SKIP, OS_THREAD_RING_SKIP, OS_THREAD_SKIP, SELECT_PER,
};

const SYSTEM: &str = "flume";
const USAGE: &str = "usage: flume_rt spawn | skynet | sleeps | parked N | pingpong0 \
                     | pingpong1 | spsc | spsc1k | mpmc1024 | mpmc0 | select4 | workerpool2 \
                     | workerpool8 | ring | async_spsc | async_mpmc | async_pingpong";

/// flume's channels, for the shared thread and async workloads.
struct Flume;

impl ThreadChannels for Flume {
    const SYSTEM: &'static str = SYSTEM;
    type Tx<T: Send + 'static> = flume::Sender<T>;
    type Rx<T: Send + 'static> = flume::Receiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        flume::bounded(cap)
    }

    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send(v).is_ok()
    }

    fn recv<T: Send + 'static>(rx: &Self::Rx<T>) -> Option<T> {
        rx.recv().ok()
    }
}

impl AsyncChannels for Flume {
    const SYSTEM: &'static str = SYSTEM;
    type Tx<T: Send + 'static> = flume::Sender<T>;
    type Rx<T: Send + 'static> = flume::Receiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        flume::bounded(cap)
    }

    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send_async(v).await.is_ok()
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv_async().await.ok()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [w @ ("spawn" | "skynet" | "sleeps")] | [w @ "parked", _] => skip(w, OS_THREAD_SKIP),
        ["ring"] => skip("ring", OS_THREAD_RING_SKIP),
        [w, ..] if goro_benchmarks::net::nominal(w).is_some() => {
            skip(w, goro_benchmarks::net::NOT_NET_SKIP)
        }
        ["blocking"] => skip("blocking", OS_THREAD_BLOCKING_SKIP),
        [w @ ("mutex1" | "mutex8" | "ctxcancel")] => skip(w, NOT_CHANNEL_SKIP),
        [w @ ("pool2" | "pooldyn2" | "poolmap2")] => skip(w, NOT_POOL_SKIP),
        ["pingpong0"] => threads::pingpong::<Flume>("pingpong0", 0),
        ["pingpong1"] => threads::pingpong::<Flume>("pingpong1", 1),
        ["spsc"] => threads::spsc::<Flume>(),
        ["spsc1k"] => threads::spsc1k::<Flume>(),
        ["mpmc1024"] => threads::mpmc::<Flume>("mpmc1024", MPMC_BIG_N, MPMC_BIG_CAP),
        ["mpmc0"] => threads::mpmc::<Flume>("mpmc0", MPMC_SMALL_N, 0),
        ["select4"] => select4(),
        ["workerpool2"] => threads::workerpool::<Flume>("workerpool2", 2),
        ["workerpool8"] => threads::workerpool::<Flume>("workerpool8", 8),
        ["async_spsc"] => tasks::spsc::<Flume>(),
        ["async_mpmc"] => tasks::mpmc::<Flume>(),
        ["async_pingpong"] => tasks::pingpong::<Flume>(),
        _ => fail(USAGE),
    }
}

/// 4 producers, each on its own unbuffered channel, `SELECT_PER` messages each; main
/// receives all of them with a `flume::Selector` over the channels still open, dropping each
/// one once it is closed. ns per message.
fn select4() {
    let mut rxs = Vec::new();
    let start = Instant::now();
    for _ in 0..4 {
        let (tx, rx) = bounded::<u64>(0);
        rxs.push(rx);
        thread::spawn(move || {
            for i in 0..SELECT_PER {
                tx.send(i).expect("select4: channel closed");
            }
        });
    }
    let (mut sum, mut count) = (0u64, 0u64);
    while !rxs.is_empty() {
        let mut sel = Selector::new();
        for (i, rx) in rxs.iter().enumerate() {
            sel = sel.recv(rx, move |v| (i, v));
        }
        match sel.wait() {
            (_, Ok(v)) => {
                sum += v;
                count += 1;
            }
            (i, Err(_)) => {
                rxs.swap_remove(i);
            }
        }
    }
    let elapsed = start.elapsed();
    let n = 4 * SELECT_PER;
    let want = 4 * SELECT_PER * (SELECT_PER - 1) / 2;
    if sum != want || count != n {
        fail(&format!(
            "select4: got sum {sum} count {count}, want {want} and {n}"
        ));
    }
    report_as(SYSTEM, "select4", n, "ns_per_msg", per_op(elapsed, n));
}
