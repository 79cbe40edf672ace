//! The goro side of the runtime benchmarks; `benchmarks/go/main.go` is the Go side.
//!
//! Usage: `goro_rt spawn | skynet | sleeps | parked N | pingpong0 | pingpong1 | spsc | spsc1k
//! | mpmc1024
//! | mpmc0 | workerpool2 | workerpool8 | ring | mutex1 | mutex8 | ctxcancel | pool2 | pooldyn2
//! | poolmap2 | blocking | async_spsc | async_mpmc | async_pingpong | echo1 | echo100 | echo10k
//! | idle10k | idle100k` (a network workload takes an optional connection count after its
//! name)
//!
//! Each run measures one workload once and prints its `RESULT` line(s). Timing starts inside
//! `main`, after the runtime is up: `main` runs as a goroutine (`goro::run`, which is what
//! `#[goro::main]` expands to). The async workloads are the exception: they use goro's
//! channels through `send_async`/`recv_async` from tokio tasks, on the tokio runtime that
//! every system's async workloads share (`goro_benchmarks::tasks`), and never start the goro
//! runtime. The network workloads use `goro::net` over loopback, server and clients
//! on the one runtime (`goro_benchmarks::net` has their sizes and checks).

use std::io::{Read, Write};
use std::process::exit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::chan::{self, Receiver, Sender};
use goro::net::{TcpListener, TcpStream};
use goro::sync::WaitGroup;
use goro_benchmarks::net::{self as netw, Net, MSG_LEN, SERVER_BUF};
use goro_benchmarks::tasks::{self, AsyncChannels};
use goro_benchmarks::{
    cpu_time, ms, msg1k, msg1k_index, report, rss_bytes, Msg1k, BLOCKING_N, BLOCKING_SLEEP,
    BLOCKING_TRIPS, CTX_WAITERS, MPMC_BIG_CAP, MPMC_BIG_N, MPMC_CONSUMERS, MPMC_PRODUCERS,
    MPMC_SMALL_N, MUTEX_GOROUTINES, MUTEX_N, PARK_SETTLE, PINGPONG_N, POOL_CAP, POOL_JOBS,
    POOL_WORKERS, RING_HOPS, RING_SIZE, SKYNET_FANOUT, SKYNET_LEAVES, SKYNET_SUM, SLEEP, SLEEPS_N,
    SPAWN_N, SPSC1K_N, SPSC_CAP, SPSC_N,
};

const USAGE: &str = "usage: goro_rt spawn | skynet | sleeps | parked N | pingpong0 | pingpong1 \
                     | spsc | spsc1k | mpmc1024 | mpmc0 | workerpool2 | workerpool8 | ring | mutex1 \
                     | mutex8 | ctxcancel | pool2 | pooldyn2 | poolmap2 | blocking | async_spsc \
                     | async_mpmc | async_pingpong | echo1 | echo100 | echo10k | idle10k \
                     | idle100k  (a network workload may be followed by a connection count)";

/// goro's channels used from async code (`send_async`, `recv_async`), for the shared async
/// workloads.
struct GoroAsync;

impl AsyncChannels for GoroAsync {
    const SYSTEM: &'static str = "goro";
    type Tx<T: Send + 'static> = Sender<T>;
    type Rx<T: Send + 'static> = Receiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        chan::bounded(cap)
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
    // The async workloads run in tokio tasks, outside the goro runtime.
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["async_spsc"] => return tasks::spsc::<GoroAsync>(),
        ["async_mpmc"] => return tasks::mpmc::<GoroAsync>(),
        ["async_pingpong"] => return tasks::pingpong::<GoroAsync>(),
        _ => {}
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    if let Some(w) = netw::parse(&argv, USAGE) {
        // Raise the descriptor limit, or skip, before the runtime starts.
        netw::prepare(&w);
        goro::run(move || match w {
            Net::Echo { .. } => echo(&w),
            Net::Idle { .. } => idle(&w),
        });
        return;
    }
    goro::run(move || goroutine_main(&args));
}

/// The goroutine workloads, run as the main goroutine.
fn goroutine_main(args: &[String]) {
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["spawn"] => spawn(),
        ["skynet"] => skynet(),
        ["sleeps"] => sleeps(),
        ["parked", n] => match n.parse() {
            Ok(n) if n > 0 => parked(n),
            _ => fail(USAGE),
        },
        ["pingpong0"] => pingpong("pingpong0", 0),
        ["pingpong1"] => pingpong("pingpong1", 1),
        ["spsc"] => spsc(),
        ["spsc1k"] => spsc1k(),
        ["mpmc1024"] => mpmc("mpmc1024", MPMC_BIG_N, MPMC_BIG_CAP),
        ["mpmc0"] => mpmc("mpmc0", MPMC_SMALL_N, 0),
        ["workerpool2"] => workerpool("workerpool2", 2),
        ["workerpool8"] => workerpool("workerpool8", 8),
        ["select4"] => select4(),
        ["ring"] => ring(),
        ["mutex1"] => mutex_uncontended(),
        ["mutex8"] => mutex_contended(),
        ["ctxcancel"] => ctx_cancel(),
        ["pool2"] => pool_tiny("pool2", false),
        ["pooldyn2"] => pool_tiny("pooldyn2", true),
        ["poolmap2"] => pool_map(),
        ["blocking"] => blocking(),
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
    // As in Go: every goroutine blocks receiving from one shared unbuffered channel, which
    // is closed at the end.
    let (gate_tx, gate) = goro::chan::bounded::<()>(0);
    let started = WaitGroup::new();
    started.add(n);
    let all = WaitGroup::new();
    for _ in 0..n {
        let (gate, started) = (gate.clone(), started.clone());
        all.go(move || {
            started.done();
            let _ = gate.recv();
        });
    }
    started.wait();
    goro::sleep(PARK_SETTLE);
    let rss1 = rss_bytes();
    gate_tx.close();
    all.wait();
    report(
        "parked",
        n as u64,
        "bytes_per_goroutine",
        (rss1 as f64 - rss0 as f64) / n as f64,
    );
}

/// The elapsed time in nanoseconds divided by `n`.
fn per_op(d: Duration, n: u64) -> f64 {
    d.as_nanos() as f64 / n as f64
}

/// Main sends `0..PINGPONG_N` on `ping`, one echo goroutine sends each value back on `pong`;
/// both channels of capacity `cap`. ns per round trip.
fn pingpong(name: &str, cap: usize) {
    let (ping_tx, ping_rx) = chan::bounded::<u64>(cap);
    let (pong_tx, pong_rx) = chan::bounded::<u64>(cap);
    let start = Instant::now();
    let echo = goro::go(move || {
        for v in &ping_rx {
            pong_tx.send(v).expect("pingpong: pong closed");
        }
    });
    let mut sum = 0;
    for i in 0..PINGPONG_N {
        ping_tx.send(i).expect("pingpong: ping closed");
        sum += pong_rx.recv().expect("pingpong: pong closed");
    }
    let elapsed = start.elapsed();
    ping_tx.close();
    echo.join().unwrap();
    let want = PINGPONG_N * (PINGPONG_N - 1) / 2;
    if sum != want {
        fail(&format!("{name}: wrong sum {sum}, want {want}"));
    }
    report(
        name,
        PINGPONG_N,
        "ns_per_roundtrip",
        per_op(elapsed, PINGPONG_N),
    );
}

/// One producer goroutine sends `0..SPSC_N` through a cap-1024 channel and closes it; one
/// consumer goroutine ranges over it, counting and summing. ns per message.
fn spsc() {
    let (tx, rx) = chan::bounded::<u64>(SPSC_CAP);
    let start = Instant::now();
    let producer = goro::go(move || {
        for i in 0..SPSC_N {
            tx.send(i).expect("spsc: channel closed");
        }
        tx.close();
    });
    let consumer = goro::go(move || {
        let (mut sum, mut count) = (0u64, 0u64);
        for v in &rx {
            sum += v;
            count += 1;
        }
        (sum, count)
    });
    let (sum, count) = consumer.join().unwrap();
    let elapsed = start.elapsed();
    producer.join().unwrap();
    let want = SPSC_N * (SPSC_N - 1) / 2;
    if sum != want || count != SPSC_N {
        fail(&format!(
            "spsc: got sum {sum} count {count}, want {want} and {SPSC_N}"
        ));
    }
    report("spsc", SPSC_N, "ns_per_msg", per_op(elapsed, SPSC_N));
}

/// `spsc` with 1 KiB messages (`Msg1k`): one producer goroutine sends messages
/// `0..SPSC1K_N` through a cap-1024 channel and closes it; one consumer goroutine ranges over
/// it, counting and summing the numbers they carry. ns per message. (The channel's slots
/// take just over 1 MiB, so goro gives it its locked flavour, not the lock-free ring.)
fn spsc1k() {
    let (tx, rx) = chan::bounded::<Msg1k>(SPSC_CAP);
    let start = Instant::now();
    let producer = goro::go(move || {
        for i in 0..SPSC1K_N {
            tx.send(msg1k(i)).expect("spsc1k: channel closed");
        }
        tx.close();
    });
    let consumer = goro::go(move || {
        let (mut sum, mut count) = (0u64, 0u64);
        for m in &rx {
            sum += msg1k_index(&m);
            count += 1;
        }
        (sum, count)
    });
    let (sum, count) = consumer.join().unwrap();
    let elapsed = start.elapsed();
    producer.join().unwrap();
    let want = SPSC1K_N * (SPSC1K_N - 1) / 2;
    if sum != want || count != SPSC1K_N {
        fail(&format!(
            "spsc1k: got sum {sum} count {count}, want {want} and {SPSC1K_N}"
        ));
    }
    report("spsc1k", SPSC1K_N, "ns_per_msg", per_op(elapsed, SPSC1K_N));
}

/// 4 producers, each on its own unbuffered channel, 1,000,000 messages each; one consumer
/// receives all of them with a 4-case `select!`, turning each channel off once it is closed
/// (Go's nil-channel idiom). ns per message.
fn select4() {
    const PER: u64 = 1_000_000;
    let mut rxs = Vec::new();
    let start = Instant::now();
    for _ in 0..4 {
        let (tx, rx) = chan::bounded::<u64>(0);
        rxs.push(rx);
        goro::go(move || {
            for i in 0..PER {
                tx.send(i).expect("select4: channel closed");
            }
        });
    }
    let (mut a, mut b, mut c, mut d) = (Some(&rxs[0]), Some(&rxs[1]), Some(&rxs[2]), Some(&rxs[3]));
    let (mut sum, mut count) = (0u64, 0u64);
    while a.is_some() || b.is_some() || c.is_some() || d.is_some() {
        goro::select! {
            recv(a) -> v => match v { Ok(v) => { sum += v; count += 1 } Err(_) => a = None },
            recv(b) -> v => match v { Ok(v) => { sum += v; count += 1 } Err(_) => b = None },
            recv(c) -> v => match v { Ok(v) => { sum += v; count += 1 } Err(_) => c = None },
            recv(d) -> v => match v { Ok(v) => { sum += v; count += 1 } Err(_) => d = None },
        }
    }
    let elapsed = start.elapsed();
    let want = 4 * PER * (PER - 1) / 2;
    if sum != want || count != 4 * PER {
        fail(&format!(
            "select4: got sum {sum} count {count}, want {want} and {}",
            4 * PER
        ));
    }
    report("select4", 4 * PER, "ns_per_msg", per_op(elapsed, 4 * PER));
}

/// 4 producers send `n` messages in all (`0..n`, a quarter each) through one channel of
/// capacity `cap`; 4 consumers range over it. Main closes the channel once every producer is
/// done. ns per message.
fn mpmc(name: &str, n: u64, cap: usize) {
    let (tx, rx) = chan::bounded::<u64>(cap);
    let per = n / MPMC_PRODUCERS;
    let producers = WaitGroup::new();
    let start = Instant::now();
    let consumers: Vec<_> = (0..MPMC_CONSUMERS)
        .map(|_| {
            let rx = rx.clone();
            goro::go(move || {
                let (mut sum, mut count) = (0u64, 0u64);
                for v in &rx {
                    sum += v;
                    count += 1;
                }
                (sum, count)
            })
        })
        .collect();
    for p in 0..MPMC_PRODUCERS {
        let tx = tx.clone();
        producers.go(move || {
            for i in p * per..(p + 1) * per {
                tx.send(i).expect("mpmc: channel closed");
            }
        });
    }
    producers.wait();
    tx.close();
    let (mut sum, mut count) = (0, 0);
    for c in consumers {
        let (s, k) = c.join().unwrap();
        sum += s;
        count += k;
    }
    let elapsed = start.elapsed();
    let want = n * (n - 1) / 2;
    if sum != want || count != n {
        fail(&format!(
            "{name}: got sum {sum} count {count}, want {want} and {n}"
        ));
    }
    report(name, n, "ns_per_msg", per_op(elapsed, n));
}

/// The article's worker, with a tiny job: `results <- j*2`.
fn pool_worker(jobs: &Receiver<u64>, results: &Sender<u64>) {
    for j in jobs {
        results.send(j * 2).expect("workerpool: results closed");
    }
}

/// The basic worker pool. A feeder goroutine sends jobs `1..=POOL_JOBS` and closes `jobs`;
/// `workers` workers range over `jobs` and send `j*2` on `results`; a goroutine closes
/// `results` once the `WaitGroup` of the workers is done; main sums the results. ns per job.
fn workerpool(name: &str, workers: usize) {
    let (jobs_tx, jobs_rx) = chan::bounded::<u64>(POOL_CAP);
    let (results_tx, results_rx) = chan::bounded::<u64>(POOL_CAP);
    let wg = WaitGroup::new();
    let start = Instant::now();
    for _ in 0..workers {
        let (jobs, results) = (jobs_rx.clone(), results_tx.clone());
        wg.go(move || pool_worker(&jobs, &results));
    }
    goro::go(move || {
        for j in 1..=POOL_JOBS {
            jobs_tx.send(j).expect("workerpool: jobs closed");
        }
        jobs_tx.close();
    });
    goro::go(move || {
        wg.wait();
        results_tx.close();
    });
    let (mut sum, mut count) = (0u64, 0u64);
    for r in &results_rx {
        sum += r;
        count += 1;
    }
    let elapsed = start.elapsed();
    let want = POOL_JOBS * (POOL_JOBS + 1);
    if sum != want || count != POOL_JOBS {
        fail(&format!(
            "{name}: got sum {sum} count {count}, want {want} and {POOL_JOBS}"
        ));
    }
    report(name, POOL_JOBS, "ns_per_job", per_op(elapsed, POOL_JOBS));
}

/// `RING_SIZE` goroutines, goroutine `i` receiving on link `i` and sending on link `i + 1`
/// (mod `RING_SIZE`), all links unbuffered. Main starts the ring, waits until every goroutine
/// has started, then sends a token 0 into link 0; every hop adds one, and the goroutine that
/// makes it `RING_HOPS` hands it to main instead of passing it on. ns per hop.
fn ring() {
    let (links, ins): (Vec<Sender<u64>>, Vec<Receiver<u64>>) =
        (0..RING_SIZE).map(|_| chan::bounded(0)).unzip();
    let (done_tx, done_rx) = chan::bounded::<(u64, usize)>(1);
    let started = WaitGroup::new();
    started.add(RING_SIZE);
    let all = WaitGroup::new();
    for (i, input) in ins.into_iter().enumerate() {
        let out = links[(i + 1) % RING_SIZE].clone();
        let (done, started) = (done_tx.clone(), started.clone());
        all.go(move || {
            started.done();
            for t in &input {
                let t = t + 1;
                if t == RING_HOPS {
                    done.send((t, i)).expect("ring: done closed");
                } else {
                    out.send(t).expect("ring: link closed");
                }
            }
        });
    }
    started.wait();
    let start = Instant::now();
    links[0].send(0).expect("ring: link closed");
    let (token, who) = done_rx.recv().expect("ring: done closed");
    let elapsed = start.elapsed();
    for l in &links {
        l.close();
    }
    all.wait();
    let want_who = ((RING_HOPS - 1) % RING_SIZE as u64) as usize;
    if token != RING_HOPS || who != want_who {
        fail(&format!(
            "ring: token {token} ended at goroutine {who}, want {RING_HOPS} at {want_who}"
        ));
    }
    report("ring", RING_HOPS, "ns_per_hop", per_op(elapsed, RING_HOPS));
}

/// One goroutine locks and unlocks a `goro::sync::Mutex` `MUTEX_N` times around a counter
/// increment. ns per lock/unlock pair.
fn mutex_uncontended() {
    // On the heap, as Go's escapes there.
    let mu = Box::new(goro::sync::Mutex::new(0u64));
    let start = Instant::now();
    for _ in 0..MUTEX_N {
        *mu.lock() += 1;
    }
    let elapsed = start.elapsed();
    let counter = mu.into_inner();
    if counter != MUTEX_N {
        fail(&format!("mutex1: counter {counter}, want {MUTEX_N}"));
    }
    report("mutex1", MUTEX_N, "ns_per_op", per_op(elapsed, MUTEX_N));
}

/// `MUTEX_GOROUTINES` goroutines share one mutex, each doing its share of `MUTEX_N`
/// lock/increment/unlock rounds. ns per lock/unlock pair.
fn mutex_contended() {
    let mu = std::sync::Arc::new(goro::sync::Mutex::new(0u64));
    let per = MUTEX_N / MUTEX_GOROUTINES;
    let wg = WaitGroup::new();
    let start = Instant::now();
    for _ in 0..MUTEX_GOROUTINES {
        let mu = mu.clone();
        wg.go(move || {
            for _ in 0..per {
                *mu.lock() += 1;
            }
        });
    }
    wg.wait();
    let elapsed = start.elapsed();
    let counter = *mu.lock();
    if counter != per * MUTEX_GOROUTINES {
        fail(&format!(
            "mutex8: counter {counter}, want {}",
            per * MUTEX_GOROUTINES
        ));
    }
    report("mutex8", MUTEX_N, "ns_per_op", per_op(elapsed, MUTEX_N));
}

/// `CTX_WAITERS` goroutines each wait on their own child of one cancellable parent context;
/// once all of them are parked, the parent is cancelled. Timed from the cancel until every
/// goroutine has seen its child's `done()` channel closed and exited. ns per waiter.
fn ctx_cancel() {
    let (parent, cancel) = goro::context::background().with_cancel();
    let (ready, done) = (WaitGroup::new(), WaitGroup::new());
    for _ in 0..CTX_WAITERS {
        let (child, child_cancel) = parent.with_cancel();
        ready.add(1);
        let ready = ready.clone();
        done.go(move || {
            ready.done();
            let _ = child.done().recv();
            child_cancel();
        });
    }
    ready.wait();
    goro::sleep(PARK_SETTLE);
    let start = Instant::now();
    cancel();
    done.wait();
    let elapsed = start.elapsed();
    report(
        "ctxcancel",
        CTX_WAITERS as u64,
        "ns_per_waiter",
        per_op(elapsed, CTX_WAITERS as u64),
    );
}

/// `POOL_JOBS` tiny jobs (one multiplication each) through a `goro::pool::Pool` of
/// `POOL_WORKERS` workers and a queue of `POOL_CAP`: fixed (`pool2`: min = max = 2) or
/// dynamic (`pooldyn2`: min 0, max 2, workers started on demand). Timed from the first
/// submit until `wait` returns. ns per job.
fn pool_tiny(name: &str, dynamic: bool) {
    let min = if dynamic { 0 } else { POOL_WORKERS };
    let pool = goro::pool::Pool::builder()
        .min_workers(min)
        .max_workers(POOL_WORKERS)
        .queue_capacity(POOL_CAP)
        .build();
    let start = Instant::now();
    for j in 1..=POOL_JOBS {
        pool.submit(move || {
            std::hint::black_box(j * 2);
        })
        .unwrap_or_else(|_| fail(&format!("{name}: the pool refused a job")));
    }
    let r = pool.wait();
    let elapsed = start.elapsed();
    if r.completed != POOL_JOBS {
        fail(&format!(
            "{name}: {} jobs completed, want {POOL_JOBS}",
            r.completed
        ));
    }
    report(name, POOL_JOBS, "ns_per_job", per_op(elapsed, POOL_JOBS));
}

/// `Pool::map` over `1..=POOL_JOBS` computing `2j`, results summed in input order, on a
/// pool of `POOL_WORKERS` workers. ns per item.
fn pool_map() {
    let pool = goro::pool::Pool::builder()
        .min_workers(POOL_WORKERS)
        .max_workers(POOL_WORKERS)
        .queue_capacity(POOL_CAP)
        .build();
    let start = Instant::now();
    let mut sum = 0u64;
    for r in pool.map(1..=POOL_JOBS, |j| j * 2) {
        sum += r.unwrap_or_else(|e| fail(&format!("poolmap2: {e}")));
    }
    pool.wait();
    let elapsed = start.elapsed();
    if sum != POOL_JOBS * (POOL_JOBS + 1) {
        fail(&format!("poolmap2: wrong sum {sum}"));
    }
    report(
        "poolmap2",
        POOL_JOBS,
        "ns_per_job",
        per_op(elapsed, POOL_JOBS),
    );
}

/// `BLOCKING_N` goroutines each make one blocking system call, `std::thread::sleep` for
/// `BLOCKING_SLEEP` (plain blocking code, as a user writes it in a goroutine), while two other
/// goroutines ping-pong `BLOCKING_TRIPS` values over two unbuffered channels. Main starts the
/// sleepers first, then the ping-pong, so that the ping-pong runs while they block. Wall ms
/// from before the first spawn until every sleeper and both ping-pong goroutines are done; ns
/// per round trip of the ping-pong, timed by the pinging goroutine from its first send to its
/// last receive.
fn blocking() {
    let (ping_tx, ping_rx) = chan::bounded::<u64>(0);
    let (pong_tx, pong_rx) = chan::bounded::<u64>(0);
    let slept = Arc::new(AtomicUsize::new(0));
    let sleepers = WaitGroup::new();
    let start = Instant::now();
    for _ in 0..BLOCKING_N {
        let slept = slept.clone();
        sleepers.go(move || {
            std::thread::sleep(BLOCKING_SLEEP);
            slept.fetch_add(1, Ordering::Relaxed);
        });
    }
    let echo = goro::go(move || {
        for v in &ping_rx {
            pong_tx.send(v).expect("blocking: pong closed");
        }
    });
    let pinger = goro::go(move || {
        let t0 = Instant::now();
        let mut sum = 0u64;
        for i in 0..BLOCKING_TRIPS {
            ping_tx.send(i).expect("blocking: ping closed");
            sum += pong_rx.recv().expect("blocking: pong closed");
        }
        let elapsed = t0.elapsed();
        ping_tx.close();
        (sum, elapsed)
    });
    sleepers.wait();
    let (sum, pp_elapsed) = pinger.join().unwrap();
    echo.join().unwrap();
    let elapsed = start.elapsed();
    let want = BLOCKING_TRIPS * (BLOCKING_TRIPS - 1) / 2;
    if sum != want {
        fail(&format!("blocking: ping-pong sum {sum}, want {want}"));
    }
    // Relaxed: `sleepers.wait()` returned after every sleeper's `done`, which orders their
    // increments before this load.
    let n = slept.load(Ordering::Relaxed);
    if n != BLOCKING_N {
        fail(&format!(
            "blocking: {n} sleepers finished, want {BLOCKING_N}"
        ));
    }
    report("blocking", BLOCKING_N as u64, "wall_ms", ms(elapsed));
    report(
        "blocking",
        BLOCKING_TRIPS,
        "ns_per_roundtrip",
        per_op(pp_elapsed, BLOCKING_TRIPS),
    );
}

/// Binds the loopback listener of a network workload and starts its server: a goroutine
/// accepting connections, and a goroutine per accepted connection that calls
/// `accepted.done()`, then reads into a [`SERVER_BUF`]-byte buffer and writes back what it
/// read, until end of file (or an error: the process is ending).
fn start_server(accepted: &WaitGroup) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| fail(&format!("bind: {e}")));
    let addr = listener.local_addr().expect("listener address");
    let accepted = accepted.clone();
    goro::go(move || loop {
        let (mut conn, _) = listener
            .accept()
            .unwrap_or_else(|e| fail(&format!("accept: {e}")));
        conn.set_nodelay(true)
            .unwrap_or_else(|e| fail(&format!("set_nodelay: {e}")));
        let accepted = accepted.clone();
        goro::go(move || {
            accepted.done();
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

/// `echo1`, `echo100`, `echo10k`: main connects every client (a goroutine each, waiting on
/// a gate) and waits until the server has accepted them all; then it opens the gate and
/// every client makes its round trips, timing each, and closes its connection. Round trips
/// per second from the gate's opening until every client is done, and the 99th percentile
/// of the round trips.
fn echo(w: &Net) {
    let Net::Echo { name, conns, trips } = *w else {
        unreachable!()
    };
    let accepted = WaitGroup::new();
    accepted.add(conns);
    let addr = start_server(&accepted);
    let (gate_tx, gate) = chan::bounded::<()>(0);
    let done = WaitGroup::new();
    let clients: Vec<goro::JoinHandle<Vec<u64>>> = (0..conns)
        .map(|c| {
            let mut s = dial(name, addr);
            let (gate, done) = (gate.clone(), done.clone());
            done.add(1);
            goro::go(move || {
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
                drop(s);
                done.done();
                lat
            })
        })
        .collect();
    accepted.wait();
    let start = Instant::now();
    gate_tx.close();
    done.wait();
    let elapsed = start.elapsed();
    let mut lat = Vec::with_capacity(conns * trips);
    for h in clients {
        lat.extend(h.join().unwrap());
    }
    netw::report_echo("goro", w, elapsed, &mut lat);
}

/// `idle10k`, `idle100k`: main opens the connections one after another; for each, the
/// server's goroutine blocks reading it and a client goroutine blocks reading the other
/// end. Once every goroutine has started (and `PARK_SETTLE` more, for the last ones to
/// park), resident bytes per connection over the resident size before the first
/// connection. The connections close when the process exits.
fn idle(w: &Net) {
    let (name, conns) = (w.name(), w.conns());
    let rss0 = rss_bytes();
    let accepted = WaitGroup::new();
    accepted.add(conns);
    let addr = start_server(&accepted);
    let parked = WaitGroup::new();
    parked.add(conns);
    for _ in 0..conns {
        let mut s = dial(name, addr);
        let parked = parked.clone();
        goro::go(move || {
            parked.done();
            let mut buf = [0u8; MSG_LEN];
            let _ = s.read(&mut buf);
        });
    }
    accepted.wait();
    parked.wait();
    goro::sleep(PARK_SETTLE);
    let rss1 = rss_bytes();
    netw::report_idle("goro", w, rss0, rss1);
}
