//! The kanal peer of `goro_rt`: the channel workloads on OS threads
//! (`std::thread::spawn` where Go starts a goroutine), with `kanal::bounded`, and the async
//! workloads (`goro_benchmarks::tasks`) with `kanal::bounded_async` in tokio tasks.
//!
//! Usage: `kanal_rt <workload>`, the workload names of `goro_rt`. `spawn`, `skynet`,
//! `sleeps`, `parked` and `ring` need thousands to a million goroutines, one OS thread each
//! here, `blocking` would measure the kernel's threads, and kanal has no `select` for
//! `select4`: they print `SKIP <workload>: <reason>` on stderr and exit 0, as they do for
//! the network workloads (a channel crate has no network I/O).

use goro_benchmarks::tasks::{self, AsyncChannels};
use goro_benchmarks::threads::{self, ThreadChannels};
use goro_benchmarks::{
    fail, skip, MPMC_BIG_CAP, MPMC_BIG_N, MPMC_SMALL_N, NOT_CHANNEL_SKIP, NOT_POOL_SKIP,
    OS_THREAD_BLOCKING_SKIP, OS_THREAD_RING_SKIP, OS_THREAD_SKIP,
};

const SYSTEM: &str = "kanal";
const USAGE: &str = "usage: kanal_rt spawn | skynet | sleeps | parked N | pingpong0 \
                     | pingpong1 | spsc | spsc1k | mpmc1024 | mpmc0 | select4 | workerpool2 \
                     | workerpool8 | ring | async_spsc | async_mpmc | async_pingpong";

/// kanal's channels, for the shared thread workloads.
struct Kanal;

impl ThreadChannels for Kanal {
    const SYSTEM: &'static str = SYSTEM;
    type Tx<T: Send + 'static> = kanal::Sender<T>;
    type Rx<T: Send + 'static> = kanal::Receiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        kanal::bounded(cap)
    }

    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send(v).is_ok()
    }

    fn recv<T: Send + 'static>(rx: &Self::Rx<T>) -> Option<T> {
        rx.recv().ok()
    }
}

/// kanal's async channels (`kanal::bounded_async`), for the shared async workloads.
struct KanalAsync;

impl AsyncChannels for KanalAsync {
    const SYSTEM: &'static str = SYSTEM;
    type Tx<T: Send + 'static> = kanal::AsyncSender<T>;
    type Rx<T: Send + 'static> = kanal::AsyncReceiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        kanal::bounded_async(cap)
    }

    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send(v).await.is_ok()
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await.ok()
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
        ["pingpong0"] => threads::pingpong::<Kanal>("pingpong0", 0),
        ["pingpong1"] => threads::pingpong::<Kanal>("pingpong1", 1),
        ["spsc"] => threads::spsc::<Kanal>(),
        ["spsc1k"] => threads::spsc1k::<Kanal>(),
        ["mpmc1024"] => threads::mpmc::<Kanal>("mpmc1024", MPMC_BIG_N, MPMC_BIG_CAP),
        ["mpmc0"] => threads::mpmc::<Kanal>("mpmc0", MPMC_SMALL_N, 0),
        ["select4"] => skip("select4", "kanal has no select over several channels"),
        ["workerpool2"] => threads::workerpool::<Kanal>("workerpool2", 2),
        ["workerpool8"] => threads::workerpool::<Kanal>("workerpool8", 8),
        ["async_spsc"] => tasks::spsc::<KanalAsync>(),
        ["async_mpmc"] => tasks::mpmc::<KanalAsync>(),
        ["async_pingpong"] => tasks::pingpong::<KanalAsync>(),
        _ => fail(USAGE),
    }
}
