//! The crossbeam-channel peer of `goro_rt`: the channel workloads on OS threads
//! (`std::thread::spawn` where Go starts a goroutine), with `crossbeam_channel::bounded`.
//!
//! Usage: `crossbeam_rt <workload>`, the workload names of `goro_rt`. `spawn`, `skynet`,
//! `sleeps`, `parked` and `ring` need thousands to a million goroutines, one OS thread each
//! here, and `blocking` would measure the kernel's threads; crossbeam-channel has no async
//! operations for the async workloads: they print `SKIP <workload>: <reason>` on stderr and
//! exit 0, as they do for the network workloads (a channel crate has no network I/O).

use std::thread;
use std::time::Instant;

use crossbeam_channel::{bounded, select};
use goro_benchmarks::threads::{self, ThreadChannels};
use goro_benchmarks::{
    fail, per_op, report_as, skip, MPMC_BIG_CAP, MPMC_BIG_N, MPMC_SMALL_N, NOT_CHANNEL_SKIP,
    NOT_POOL_SKIP, NO_ASYNC_SKIP, OS_THREAD_BLOCKING_SKIP, OS_THREAD_RING_SKIP, OS_THREAD_SKIP,
    SELECT_PER,
};

const SYSTEM: &str = "crossbeam";
const USAGE: &str = "usage: crossbeam_rt spawn | skynet | sleeps | parked N | pingpong0 \
                     | pingpong1 | spsc | spsc1k | mpmc1024 | mpmc0 | select4 | workerpool2 \
                     | workerpool8 | ring | async_spsc | async_mpmc | async_pingpong";

/// crossbeam_channel's channels, for the shared thread workloads.
struct Crossbeam;

impl ThreadChannels for Crossbeam {
    const SYSTEM: &'static str = SYSTEM;
    type Tx<T: Send + 'static> = crossbeam_channel::Sender<T>;
    type Rx<T: Send + 'static> = crossbeam_channel::Receiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        crossbeam_channel::bounded(cap)
    }

    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send(v).is_ok()
    }

    fn recv<T: Send + 'static>(rx: &Self::Rx<T>) -> Option<T> {
        rx.recv().ok()
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
        [w @ ("async_spsc" | "async_mpmc" | "async_pingpong")] => skip(w, NO_ASYNC_SKIP),
        ["pingpong0"] => threads::pingpong::<Crossbeam>("pingpong0", 0),
        ["pingpong1"] => threads::pingpong::<Crossbeam>("pingpong1", 1),
        ["spsc"] => threads::spsc::<Crossbeam>(),
        ["spsc1k"] => threads::spsc1k::<Crossbeam>(),
        ["mpmc1024"] => threads::mpmc::<Crossbeam>("mpmc1024", MPMC_BIG_N, MPMC_BIG_CAP),
        ["mpmc0"] => threads::mpmc::<Crossbeam>("mpmc0", MPMC_SMALL_N, 0),
        ["select4"] => select4(),
        ["workerpool2"] => threads::workerpool::<Crossbeam>("workerpool2", 2),
        ["workerpool8"] => threads::workerpool::<Crossbeam>("workerpool8", 8),
        _ => fail(USAGE),
    }
}

/// 4 producers, each on its own unbuffered channel, `SELECT_PER` messages each; main
/// receives all of them with a 4-case `select!`, turning each channel off (`never()`) once
/// it is closed. ns per message.
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
    let never = crossbeam_channel::never::<u64>();
    let [mut a, mut b, mut c, mut d] = [0, 1, 2, 3].map(|i| rxs[i].clone());
    let mut open = 4;
    let (mut sum, mut count) = (0u64, 0u64);
    while open > 0 {
        let (v, closed) = select! {
            recv(a) -> v => (v, &mut a),
            recv(b) -> v => (v, &mut b),
            recv(c) -> v => (v, &mut c),
            recv(d) -> v => (v, &mut d),
        };
        match v {
            Ok(v) => {
                sum += v;
                count += 1;
            }
            Err(_) => {
                *closed = never.clone();
                open -= 1;
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
