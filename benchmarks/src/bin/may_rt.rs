//! The may peer of `goro_rt`: stackful coroutines on may's work-stealing scheduler
//! (`workers` = `GORO_MAXPROCS` if set, else the available parallelism). `may::go!` where Go
//! starts a goroutine: spawning is `unsafe` in may (`may::coroutine::spawn` is an `unsafe
//! fn`: a coroutine must not overflow its fixed stack or hold thread-local references
//! across a yield), and the `go!` macro wraps that call in its own `unsafe` block.
//!
//! Usage: `may_rt <workload>`, the workload names of `goro_rt`. may's channels
//! (`may::sync::mpsc`, `may::sync::mpmc`) are unbounded, so the channel workloads that need
//! capacity 0, 1 or 1024 print `SKIP <workload>: <reason>` on stderr and exit 0; `ring`
//! (one token in flight, so capacity does not matter) uses unbounded links. `blocking` is
//! skipped too: a blocking call in a may coroutine blocks its worker thread. So are the async
//! workloads: may's channels block a coroutine and have no async operations to await from
//! tokio tasks. The network workloads (`echo1`, `echo100`, `echo10k`, `idle10k`,
//! `idle100k`) use `may::net` over loopback, a coroutine per connection.

use std::io::{Read, Write};
use std::time::Instant;

use goro_benchmarks::net::{self as netw, Net, MSG_LEN, SERVER_BUF};
use goro_benchmarks::{
    cpu_time, fail, ms, per_op, report_as, rss_bytes, skip, NOT_POOL_SKIP, NO_ASYNC_SKIP,
    PARK_SETTLE, RING_HOPS, RING_SIZE, SKYNET_FANOUT, SKYNET_LEAVES, SKYNET_SUM, SLEEP, SLEEPS_N,
    SPAWN_N,
};
use may::coroutine::JoinHandle;
use may::net::{TcpListener, TcpStream};
use may::sync::{mpmc, mpsc};

const SYSTEM: &str = "may";
/// Coroutines in the skynet tree: 1 + 10 + ... + 1,000,000.
const SKYNET_TREE: usize = 1_111_111;
const USAGE: &str = "usage: may_rt spawn | skynet | sleeps | parked N | pingpong0 | pingpong1 \
                     | spsc | spsc1k | mpmc1024 | mpmc0 | select4 | workerpool2 | workerpool8 \
                     | ring | async_spsc | async_mpmc | async_pingpong | echo1 | echo100 \
                     | echo10k | idle10k | idle100k  (a network workload may be followed by a \
                     connection count)";
const NO_SYNC: &str = "not ported: may's Mutex and cancellation (Coroutine::cancel) differ \
                       from a mutex around a counter and a context tree; goro, Go and tokio \
                       cover these";
const BLOCKING_IN_COROUTINE: &str = "a blocking call inside a may coroutine blocks its \
                                     worker thread, the problem the workload measures, and \
                                     may asks for its own non-blocking calls instead; its \
                                     channels have no capacity 0 for the ping-pong either";
const UNBOUNDED: &str = "may's channels (may::sync::mpsc, mpmc) are unbounded: no capacity 0, \
                         1 or 1024, and no select over channels";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let net = netw::parse(&args, USAGE);
    let parked_n = match args[..] {
        _ if net.is_some() => 0,
        ["spawn" | "skynet" | "sleeps" | "ring"] => 0,
        ["parked", n] => match n.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => fail(USAGE),
        },
        [w @ ("pingpong0" | "pingpong1" | "spsc" | "spsc1k" | "mpmc1024" | "mpmc0" | "select4"
        | "workerpool2" | "workerpool8")] => skip(w, UNBOUNDED),
        [w @ ("mutex1" | "mutex8" | "ctxcancel")] => skip(w, NO_SYNC),
        ["blocking"] => skip("blocking", BLOCKING_IN_COROUTINE),
        [w @ ("pool2" | "pooldyn2" | "poolmap2")] => skip(w, NOT_POOL_SKIP),
        [w @ ("async_spsc" | "async_mpmc" | "async_pingpong")] => skip(w, NO_ASYNC_SKIP),
        _ => fail(USAGE),
    };
    let workers = std::env::var("GORO_MAXPROCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
    // may gives every coroutine its own mmap'd stack with a guard page (two mappings): past
    // vm.max_map_count / 2 live coroutines the stack allocation fails and may panics.
    let live = match args[0] {
        "spawn" => SPAWN_N,
        "skynet" => SKYNET_TREE,
        "sleeps" => SLEEPS_N,
        "parked" => parked_n,
        // A coroutine per connection on each side, and the acceptor.
        _ if net.is_some() => 2 * net.map_or(0, |w| w.conns()) + 1,
        _ => RING_SIZE,
    };
    let limit = max_map_count() / 2;
    if live > limit {
        skip(
            args[0],
            &format!(
                "may maps a stack plus guard page per coroutine: {live} live coroutines exceed \
                 vm.max_map_count / 2 = {limit} (raise vm.max_map_count to run it)"
            ),
        );
    }
    may::config().set_workers(workers);
    if let Some(w) = net {
        netw::prepare(&w);
        may::go!(move || match w {
            Net::Echo { .. } => echo(&w),
            Net::Idle { .. } => idle(&w),
        })
        .join()
        .expect("workload coroutine panicked");
        return;
    }
    let workload = args[0].to_string();
    // As `#[goro::main]` does, run the workload as a coroutine on the started runtime.
    may::go!(move || match workload.as_str() {
        "spawn" => spawn(),
        "skynet" => skynet(),
        "sleeps" => sleeps(),
        "parked" => parked(parked_n),
        "ring" => ring(),
        _ => unreachable!(),
    })
    .join()
    .expect("workload coroutine panicked");
}

/// `/proc/sys/vm/max_map_count`, or Linux's default 65,530 if it cannot be read.
fn max_map_count() -> usize {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65_530)
}

/// 1M coroutines that return a number, spawned from the main coroutine, then joined in order.
fn spawn() {
    let mut handles = Vec::with_capacity(SPAWN_N);
    let start = Instant::now();
    for i in 0..SPAWN_N {
        handles.push(may::go!(move || i));
    }
    let mut sum = 0;
    for h in handles {
        sum += h.join().unwrap();
    }
    let elapsed = start.elapsed();
    if sum != SPAWN_N * (SPAWN_N - 1) / 2 {
        fail(&format!("spawn: wrong sum {sum}"));
    }
    report_as(
        SYSTEM,
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
    let handles: [JoinHandle<u64>; SKYNET_FANOUT as usize] =
        std::array::from_fn(|i| may::go!(move || skynet_node(num + i as u64 * child, child)));
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

/// Skynet: a 10-ary tree of coroutines with 1M leaves (1,111,111 coroutines).
fn skynet() {
    let start = Instant::now();
    let sum = may::go!(|| skynet_node(0, SKYNET_LEAVES)).join().unwrap();
    let elapsed = start.elapsed();
    if sum != SKYNET_SUM {
        fail(&format!("skynet: wrong sum {sum}, want {SKYNET_SUM}"));
    }
    report_as(SYSTEM, "skynet", SKYNET_LEAVES, "wall_ms", ms(elapsed));
}

/// 100k coroutines each sleeping 10 ms, all joined.
fn sleeps() {
    let cpu0 = cpu_time();
    let start = Instant::now();
    let handles: Vec<_> = (0..SLEEPS_N)
        .map(|_| may::go!(|| may::coroutine::sleep(SLEEP)))
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = start.elapsed();
    let cpu = cpu_time() - cpu0;
    report_as(SYSTEM, "sleeps", SLEEPS_N as u64, "wall_ms", ms(elapsed));
    report_as(SYSTEM, "sleeps", SLEEPS_N as u64, "cpu_ms", ms(cpu));
}

/// `n` coroutines all blocked at once on one shared gate (an mpmc channel, closed at the end
/// by dropping its only sender): resident bytes per coroutine.
fn parked(n: usize) {
    let rss0 = rss_bytes();
    let (gate_tx, gate) = mpmc::channel::<()>();
    let (started_tx, started) = mpsc::channel::<()>();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (gate, started_tx) = (gate.clone(), started_tx.clone());
            may::go!(move || {
                started_tx.send(()).expect("parked: started closed");
                drop(started_tx);
                let _ = gate.recv();
            })
        })
        .collect();
    for _ in 0..n {
        started.recv().expect("parked: started closed");
    }
    may::coroutine::sleep(PARK_SETTLE);
    let rss1 = rss_bytes();
    drop(gate_tx);
    for h in handles {
        h.join().unwrap();
    }
    report_as(
        SYSTEM,
        "parked",
        n as u64,
        "bytes_per_goroutine",
        (rss1 as f64 - rss0 as f64) / n as f64,
    );
}

/// `RING_SIZE` coroutines, coroutine `i` receiving on link `i` and sending on link `i + 1`
/// (mod `RING_SIZE`), every link an unbounded may channel. The main coroutine starts the ring,
/// waits until every coroutine has started, then sends a token 0 into link 0; every hop adds
/// one, and the coroutine that makes it `RING_HOPS` hands it to main instead of passing it
/// on; it then sends `u64::MAX` around once, which stops every coroutine. ns per hop.
fn ring() {
    let (links, ins): (Vec<mpsc::Sender<u64>>, Vec<mpsc::Receiver<u64>>) =
        (0..RING_SIZE).map(|_| mpsc::channel()).unzip();
    let (done_tx, done_rx) = mpsc::channel::<(u64, usize)>();
    let (started_tx, started) = mpsc::channel::<()>();
    let handles: Vec<_> = ins
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let out = links[(i + 1) % RING_SIZE].clone();
            let (done, started_tx) = (done_tx.clone(), started_tx.clone());
            may::go!(move || {
                started_tx.send(()).expect("ring: started closed");
                drop(started_tx);
                while let Ok(t) = input.recv() {
                    if t == u64::MAX {
                        // Stop: pass the stop token on (the next one may already be gone).
                        let _ = out.send(t);
                        return;
                    }
                    let t = t + 1;
                    if t == RING_HOPS {
                        done.send((t, i)).expect("ring: done closed");
                    } else {
                        out.send(t).expect("ring: link closed");
                    }
                }
            })
        })
        .collect();
    for _ in 0..RING_SIZE {
        started.recv().expect("ring: started closed");
    }
    let start = Instant::now();
    links[0].send(0).expect("ring: link closed");
    let (token, who) = done_rx.recv().expect("ring: done closed");
    let elapsed = start.elapsed();
    links[0].send(u64::MAX).expect("ring: link closed");
    for h in handles {
        h.join().unwrap();
    }
    let want_who = ((RING_HOPS - 1) % RING_SIZE as u64) as usize;
    if token != RING_HOPS || who != want_who {
        fail(&format!(
            "ring: token {token} ended at goroutine {who}, want {RING_HOPS} at {want_who}"
        ));
    }
    report_as(
        SYSTEM,
        "ring",
        RING_HOPS,
        "ns_per_hop",
        per_op(elapsed, RING_HOPS),
    );
}

/// Binds the loopback listener of a network workload and starts its server: a coroutine
/// accepting connections, and a coroutine per accepted connection that sends on
/// `accepted`, then reads into a [`SERVER_BUF`]-byte buffer and writes back what it read,
/// until end of file (or an error: the process is ending).
fn start_server(accepted: mpsc::Sender<()>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| fail(&format!("bind: {e}")));
    let addr = listener.local_addr().expect("listener address");
    may::go!(move || loop {
        let (mut conn, _) = listener
            .accept()
            .unwrap_or_else(|e| fail(&format!("accept: {e}")));
        conn.set_nodelay(true)
            .unwrap_or_else(|e| fail(&format!("set_nodelay: {e}")));
        let accepted = accepted.clone();
        may::go!(move || {
            let _ = accepted.send(());
            drop(accepted);
            let mut buf = [0u8; SERVER_BUF];
            while let Ok(n @ 1..) = conn.read(&mut buf) {
                if conn.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        });
    });
    addr
}

/// A client connection of a network workload, `TCP_NODELAY` set.
fn dial(name: &str, addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| fail(&format!("{name}: connect: {e}")));
    s.set_nodelay(true)
        .unwrap_or_else(|e| fail(&format!("{name}: set_nodelay: {e}")));
    s
}

/// Waits for `n` messages on `rx` (one per started coroutine).
fn count(rx: &mpsc::Receiver<()>, n: usize) {
    for _ in 0..n {
        rx.recv().expect("counting channel closed");
    }
}

/// `echo1`, `echo100`, `echo10k`: the main coroutine connects every client (a coroutine
/// each, waiting on a gate: a channel whose sender is dropped to open it) and waits until
/// the server has accepted them all; then it opens the gate and every client makes its
/// round trips, timing each, and closes its connection. Round trips per second from the
/// gate's opening until every client is done, and the 99th percentile of the round trips.
fn echo(w: &Net) {
    let Net::Echo { name, conns, trips } = *w else {
        unreachable!()
    };
    let (accepted_tx, accepted) = mpsc::channel();
    let addr = start_server(accepted_tx);
    let (gate_tx, gate) = mpmc::channel::<()>();
    let clients: Vec<JoinHandle<Vec<u64>>> = (0..conns)
        .map(|c| {
            let mut s = dial(name, addr);
            let gate = gate.clone();
            may::go!(move || {
                let mut lat = Vec::with_capacity(trips);
                let (mut msg, mut got) = ([0u8; MSG_LEN], [0u8; MSG_LEN]);
                let _ = gate.recv();
                for t in 0..trips {
                    netw::fill_msg(&mut msg, c, t);
                    let t0 = Instant::now();
                    s.write_all(&msg)
                        .unwrap_or_else(|e| fail(&format!("{name}: write: {e}")));
                    s.read_exact(&mut got)
                        .unwrap_or_else(|e| fail(&format!("{name}: read: {e}")));
                    lat.push(t0.elapsed().as_nanos() as u64);
                    netw::check_echo(name, &msg, &got);
                }
                lat
            })
        })
        .collect();
    count(&accepted, conns);
    let start = Instant::now();
    drop(gate_tx);
    let lats: Vec<Vec<u64>> = clients
        .into_iter()
        .map(|h| h.join().expect("client panicked"))
        .collect();
    let elapsed = start.elapsed();
    let mut lat = lats.concat();
    netw::report_echo(SYSTEM, w, elapsed, &mut lat);
}

/// `idle10k`, `idle100k`: the main coroutine opens the connections one after another; for
/// each, the server's coroutine blocks reading it and a client coroutine blocks reading the
/// other end. Once every coroutine has started (and `PARK_SETTLE` more, for the last ones
/// to block), resident bytes per connection over the resident size before the first
/// connection. The connections close when the process exits.
fn idle(w: &Net) {
    let (name, conns) = (w.name(), w.conns());
    let rss0 = rss_bytes();
    let (accepted_tx, accepted) = mpsc::channel();
    let addr = start_server(accepted_tx);
    let (parked_tx, parked) = mpsc::channel();
    for _ in 0..conns {
        let mut s = dial(name, addr);
        let parked_tx = parked_tx.clone();
        may::go!(move || {
            let _ = parked_tx.send(());
            drop(parked_tx);
            let mut buf = [0u8; MSG_LEN];
            let _ = s.read(&mut buf);
        });
    }
    count(&accepted, conns);
    count(&parked, conns);
    may::coroutine::sleep(PARK_SETTLE);
    let rss1 = rss_bytes();
    netw::report_idle(SYSTEM, w, rss0, rss1);
    // Leave at once, without waiting for the blocked coroutines.
    std::process::exit(0);
}
