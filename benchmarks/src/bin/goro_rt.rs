//! The goro side of the runtime benchmarks; `benchmarks/go/main.go` is the Go side.
//!
//! Usage: `goro_rt spawn | skynet | sleeps | parked N`
//!
//! Each run measures one workload once and prints its `RESULT` line(s). Timing starts inside
//! `main`, after the runtime is up (`#[goro::main]` runs `main` as a goroutine).

use std::process::exit;
use std::time::Instant;

use goro::sync::WaitGroup;
use goro_benchmarks::{
    cpu_time, ms, report, rss_bytes, PARK_SETTLE, SKYNET_FANOUT, SKYNET_LEAVES, SKYNET_SUM, SLEEP,
    SLEEPS_N, SPAWN_N,
};

const USAGE: &str = "usage: goro_rt spawn | skynet | sleeps | parked N";

#[goro::main]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["spawn"] => spawn(),
        ["skynet"] => skynet(),
        ["sleeps"] => sleeps(),
        ["parked", n] => match n.parse() {
            Ok(n) if n > 0 => parked(n),
            _ => fail(USAGE),
        },
        _ => fail(USAGE),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    exit(2)
}

/// 1M goroutines that return a number, spawned from main, then joined in order.
fn spawn() {
    let mut handles = Vec::with_capacity(SPAWN_N);
    let start = Instant::now();
    for i in 0..SPAWN_N {
        handles.push(goro::go(move || i));
    }
    let mut sum = 0;
    for h in handles {
        sum += h.join().unwrap();
    }
    let elapsed = start.elapsed();
    if sum != SPAWN_N * (SPAWN_N - 1) / 2 {
        fail(&format!("spawn: wrong sum {sum}"));
    }
    report(
        "spawn",
        SPAWN_N as u64,
        "ns_per_goroutine",
        elapsed.as_nanos() as f64 / SPAWN_N as f64,
    );
}

/// One skynet node: a leaf returns its number, an inner node spawns its children and sums
/// their results with `join`.
fn skynet_node(num: u64, size: u64) -> u64 {
    if size == 1 {
        return num;
    }
    let child = size / SKYNET_FANOUT;
    let handles: [goro::JoinHandle<u64>; SKYNET_FANOUT as usize] =
        std::array::from_fn(|i| goro::go(move || skynet_node(num + i as u64 * child, child)));
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

/// Skynet: a 10-ary tree of goroutines with 1M leaves (1,111,111 goroutines).
fn skynet() {
    let start = Instant::now();
    let sum = goro::go(|| skynet_node(0, SKYNET_LEAVES)).join().unwrap();
    let elapsed = start.elapsed();
    if sum != SKYNET_SUM {
        fail(&format!("skynet: wrong sum {sum}, want {SKYNET_SUM}"));
    }
    report("skynet", SKYNET_LEAVES, "wall_ms", ms(elapsed));
}

/// 100k goroutines each sleeping 10 ms, all waited for.
fn sleeps() {
    let wg = WaitGroup::new();
    let cpu0 = cpu_time();
    let start = Instant::now();
    for _ in 0..SLEEPS_N {
        wg.go(|| goro::sleep(SLEEP));
    }
    wg.wait();
    let elapsed = start.elapsed();
    let cpu = cpu_time() - cpu0;
    report("sleeps", SLEEPS_N as u64, "wall_ms", ms(elapsed));
    report("sleeps", SLEEPS_N as u64, "cpu_ms", ms(cpu));
}

/// `n` goroutines all blocked at once on one shared gate: resident bytes per goroutine.
fn parked(n: usize) {
    let rss0 = rss_bytes();
    let gate = WaitGroup::new();
    gate.add(1);
    let started = WaitGroup::new();
    started.add(n);
    let all = WaitGroup::new();
    for _ in 0..n {
        let (gate, started) = (gate.clone(), started.clone());
        all.go(move || {
            started.done();
            gate.wait();
        });
    }
    started.wait();
    goro::sleep(PARK_SETTLE);
    let rss1 = rss_bytes();
    gate.done();
    all.wait();
    report(
        "parked",
        n as u64,
        "bytes_per_goroutine",
        (rss1 as f64 - rss0 as f64) / n as f64,
    );
}
