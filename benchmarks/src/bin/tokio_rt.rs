//! The tokio peer of `goro_rt`: tasks on tokio's multi-thread runtime (`worker_threads` =
//! `GORO_MAXPROCS` if set, else the available parallelism), `tokio::spawn` where Go starts a
//! goroutine, `tokio::time::sleep`, `tokio::sync::mpsc` channels and `tokio::select!`.
//!
//! Usage: `tokio_rt <workload>`, the workload names of `goro_rt`. tokio's `mpsc` has one
//! receiver and a capacity of at least 1, so `pingpong0` and `mpmc0` (rendezvous channels),
//! `mpmc1024` and the worker pools (several receivers on one channel) print
//! `SKIP <workload>: <reason>` on stderr and exit 0, and so does `blocking` (plain blocking
//! code inside a task, which tokio asks to move to `spawn_blocking`). `select4` and `ring`,
//! unbuffered in Go, use capacity 1 here. `mutex1` and `mutex8` use `tokio::sync::Mutex`; `ctxcancel` uses
//! tokio-util's `CancellationToken` (a child token per waiter), tokio's counterpart of a
//! context tree. `async_spsc` and `async_pingpong` are the shared async workloads
//! (`goro_benchmarks::tasks`) on `mpsc`; `async_mpmc` needs several receivers and skips.
//! The network workloads (`echo1`, `echo100`, `echo10k`, `idle10k`, `idle100k`) use
//! `tokio::net` over loopback, a task per connection, on a runtime with its I/O driver on.

use std::sync::Arc;
use std::time::Instant;

use goro_benchmarks::net::{self as netw, Net, MSG_LEN, SERVER_BUF};
use goro_benchmarks::tasks::{self, AsyncChannels};
use goro_benchmarks::{
    cpu_time, fail, ms, msg1k, msg1k_index, per_op, report_as, rss_bytes, skip, tokio_runtime,
    Msg1k, CTX_WAITERS, MUTEX_GOROUTINES, MUTEX_N, NOT_POOL_SKIP, PARK_SETTLE, PINGPONG_N,
    RING_HOPS, RING_SIZE, SELECT_PER, SKYNET_FANOUT, SKYNET_LEAVES, SKYNET_SUM, SLEEP, SLEEPS_N,
    SPAWN_N, SPSC1K_N, SPSC_CAP, SPSC_N,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;

const SYSTEM: &str = "tokio";
const USAGE: &str = "usage: tokio_rt spawn | skynet | sleeps | parked N | pingpong0 | pingpong1 \
                     | spsc | spsc1k | mpmc1024 | mpmc0 | select4 | workerpool2 | workerpool8 | ring \
                     | mutex1 | mutex8 | ctxcancel | async_spsc | async_mpmc | async_pingpong \
                     | echo1 | echo100 | echo10k | idle10k | idle100k  (a network workload may \
                     be followed by a connection count)";
const NO_RENDEZVOUS: &str = "tokio::sync::mpsc has no capacity-0 (rendezvous) channel";
const BLOCKING_IN_TASK: &str = "a blocking call inside a task blocks its worker thread, a \
                                misuse of tokio; its answer is tokio::task::spawn_blocking, \
                                a different program (and mpsc has no capacity 0 for the \
                                ping-pong)";
const NO_MPMC: &str = "tokio::sync::mpsc has a single receiver; several consumers on one \
                       channel would need a lock around it or another crate";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if let Some(w) = netw::parse(&args, USAGE) {
        return net_main(w);
    }
    // Argument errors and skips before the runtime starts.
    let parked_n = match args[..] {
        ["spawn" | "skynet" | "sleeps" | "pingpong1" | "spsc" | "spsc1k" | "select4" | "ring"
        | "mutex1" | "mutex8" | "ctxcancel"] => 0,
        ["parked", n] => match n.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => fail(USAGE),
        },
        ["pingpong0"] => skip("pingpong0", NO_RENDEZVOUS),
        ["mpmc0"] => skip("mpmc0", NO_RENDEZVOUS),
        ["blocking"] => skip("blocking", BLOCKING_IN_TASK),
        [w @ ("mpmc1024" | "workerpool2" | "workerpool8" | "async_mpmc")] => skip(w, NO_MPMC),
        ["async_spsc"] => return tasks::spsc::<TokioMpsc>(),
        ["async_pingpong"] => return tasks::pingpong::<TokioMpsc>(),
        [w @ ("pool2" | "pooldyn2" | "poolmap2")] => skip(w, NOT_POOL_SKIP),
        _ => fail(USAGE),
    };
    let rt = tokio_runtime();
    let workload = args[0].to_string();
    // As `#[goro::main]` does, run the workload as a task on the started runtime.
    rt.block_on(async move {
        tokio::spawn(async move {
            match workload.as_str() {
                "spawn" => spawn().await,
                "skynet" => skynet().await,
                "sleeps" => sleeps().await,
                "parked" => parked(parked_n).await,
                "pingpong1" => pingpong1().await,
                "spsc" => spsc().await,
                "spsc1k" => spsc1k().await,
                "select4" => select4().await,
                "ring" => ring().await,
                "mutex1" => mutex_uncontended().await,
                "mutex8" => mutex_contended().await,
                "ctxcancel" => ctx_cancel().await,
                _ => unreachable!(),
            }
        })
        .await
        .expect("workload task panicked")
    });
}

/// tokio's `mpsc` channels, for the shared async workloads (`send(v).await`,
/// `recv().await`).
struct TokioMpsc;

impl AsyncChannels for TokioMpsc {
    const SYSTEM: &'static str = SYSTEM;
    type Tx<T: Send + 'static> = mpsc::Sender<T>;
    type Rx<T: Send + 'static> = mpsc::Receiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        mpsc::channel(cap)
    }

    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send(v).await.is_ok()
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await
    }
}

/// 1M tasks that return a number, spawned from the main task, then awaited in order.
async fn spawn() {
    let mut handles = Vec::with_capacity(SPAWN_N);
    let start = Instant::now();
    for i in 0..SPAWN_N {
        handles.push(tokio::spawn(async move { i }));
    }
    let mut sum = 0;
    for h in handles {
        sum += h.await.unwrap();
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

/// One skynet node: a leaf returns its number, an inner node spawns its children as tasks
/// and sums their results.
fn skynet_node(num: u64, size: u64) -> JoinHandle<u64> {
    tokio::spawn(async move {
        if size == 1 {
            return num;
        }
        let child = size / SKYNET_FANOUT;
        let handles: [JoinHandle<u64>; SKYNET_FANOUT as usize] =
            std::array::from_fn(|i| skynet_node(num + i as u64 * child, child));
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    })
}

/// Skynet: a 10-ary tree of tasks with 1M leaves (1,111,111 tasks).
async fn skynet() {
    let start = Instant::now();
    let sum = skynet_node(0, SKYNET_LEAVES).await.unwrap();
    let elapsed = start.elapsed();
    if sum != SKYNET_SUM {
        fail(&format!("skynet: wrong sum {sum}, want {SKYNET_SUM}"));
    }
    report_as(SYSTEM, "skynet", SKYNET_LEAVES, "wall_ms", ms(elapsed));
}

/// 100k tasks each sleeping 10 ms, all awaited.
async fn sleeps() {
    let cpu0 = cpu_time();
    let start = Instant::now();
    let handles: Vec<_> = (0..SLEEPS_N)
        .map(|_| tokio::spawn(tokio::time::sleep(SLEEP)))
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let elapsed = start.elapsed();
    let cpu = cpu_time() - cpu0;
    report_as(SYSTEM, "sleeps", SLEEPS_N as u64, "wall_ms", ms(elapsed));
    report_as(SYSTEM, "sleeps", SLEEPS_N as u64, "cpu_ms", ms(cpu));
}

/// `n` tasks all blocked at once on one shared gate: resident bytes per task. The gate is a
/// semaphore with no permits, closed at the end (tokio has no closable multi-receiver
/// channel); every task reports it started on an mpsc channel first.
async fn parked(n: usize) {
    let rss0 = rss_bytes();
    let gate = Arc::new(Semaphore::new(0));
    let (started_tx, mut started) = mpsc::unbounded_channel::<()>();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (gate, started_tx) = (gate.clone(), started_tx.clone());
            tokio::spawn(async move {
                started_tx.send(()).expect("parked: started closed");
                drop(started_tx);
                let _ = gate.acquire().await;
            })
        })
        .collect();
    for _ in 0..n {
        started.recv().await.expect("parked: started closed");
    }
    tokio::time::sleep(PARK_SETTLE).await;
    let rss1 = rss_bytes();
    gate.close();
    for h in handles {
        h.await.unwrap();
    }
    report_as(
        SYSTEM,
        "parked",
        n as u64,
        "bytes_per_goroutine",
        (rss1 as f64 - rss0 as f64) / n as f64,
    );
}

/// The main task sends `0..PINGPONG_N` on `ping`, one echo task sends each value back on
/// `pong`; both channels of capacity 1. ns per round trip.
async fn pingpong1() {
    let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
    let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
    let start = Instant::now();
    let echo = tokio::spawn(async move {
        while let Some(v) = ping_rx.recv().await {
            pong_tx.send(v).await.expect("pingpong: pong closed");
        }
    });
    let mut sum = 0;
    for i in 0..PINGPONG_N {
        ping_tx.send(i).await.expect("pingpong: ping closed");
        sum += pong_rx.recv().await.expect("pingpong: pong closed");
    }
    let elapsed = start.elapsed();
    drop(ping_tx);
    echo.await.unwrap();
    let want = PINGPONG_N * (PINGPONG_N - 1) / 2;
    if sum != want {
        fail(&format!("pingpong1: wrong sum {sum}, want {want}"));
    }
    report_as(
        SYSTEM,
        "pingpong1",
        PINGPONG_N,
        "ns_per_roundtrip",
        per_op(elapsed, PINGPONG_N),
    );
}

/// One producer task sends `0..SPSC_N` through a cap-1024 channel and drops it (closing it);
/// one consumer task receives until it is closed, counting and summing. ns per message.
async fn spsc() {
    let (tx, mut rx) = mpsc::channel::<u64>(SPSC_CAP);
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..SPSC_N {
            tx.send(i).await.expect("spsc: channel closed");
        }
    });
    let consumer = tokio::spawn(async move {
        let (mut sum, mut count) = (0u64, 0u64);
        while let Some(v) = rx.recv().await {
            sum += v;
            count += 1;
        }
        (sum, count)
    });
    let (sum, count) = consumer.await.unwrap();
    let elapsed = start.elapsed();
    producer.await.unwrap();
    let want = SPSC_N * (SPSC_N - 1) / 2;
    if sum != want || count != SPSC_N {
        fail(&format!(
            "spsc: got sum {sum} count {count}, want {want} and {SPSC_N}"
        ));
    }
    report_as(
        SYSTEM,
        "spsc",
        SPSC_N,
        "ns_per_msg",
        per_op(elapsed, SPSC_N),
    );
}

/// `spsc` with 1 KiB messages (`Msg1k`), counting and summing the numbers they carry. ns per
/// message.
async fn spsc1k() {
    let (tx, mut rx) = mpsc::channel::<Msg1k>(SPSC_CAP);
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..SPSC1K_N {
            tx.send(msg1k(i)).await.expect("spsc1k: channel closed");
        }
    });
    let consumer = tokio::spawn(async move {
        let (mut sum, mut count) = (0u64, 0u64);
        while let Some(m) = rx.recv().await {
            sum += msg1k_index(&m);
            count += 1;
        }
        (sum, count)
    });
    let (sum, count) = consumer.await.unwrap();
    let elapsed = start.elapsed();
    producer.await.unwrap();
    let want = SPSC1K_N * (SPSC1K_N - 1) / 2;
    if sum != want || count != SPSC1K_N {
        fail(&format!(
            "spsc1k: got sum {sum} count {count}, want {want} and {SPSC1K_N}"
        ));
    }
    report_as(
        SYSTEM,
        "spsc1k",
        SPSC1K_N,
        "ns_per_msg",
        per_op(elapsed, SPSC1K_N),
    );
}

/// 4 producer tasks, each on its own channel of capacity 1 (tokio has no capacity 0),
/// `SELECT_PER` messages each; the main task receives all of them with a 4-branch
/// `tokio::select!`, disabling each branch once its channel is closed. ns per message.
async fn select4() {
    let mut rxs = Vec::new();
    let start = Instant::now();
    for _ in 0..4 {
        let (tx, rx) = mpsc::channel::<u64>(1);
        rxs.push(rx);
        tokio::spawn(async move {
            for i in 0..SELECT_PER {
                tx.send(i).await.expect("select4: channel closed");
            }
        });
    }
    let [mut a, mut b, mut c, mut d]: [mpsc::Receiver<u64>; 4] =
        rxs.try_into().expect("4 receivers");
    let [mut a_open, mut b_open, mut c_open, mut d_open] = [true; 4];
    let (mut sum, mut count) = (0u64, 0u64);
    while a_open || b_open || c_open || d_open {
        let v = tokio::select! {
            v = a.recv(), if a_open => v.or_else(|| { a_open = false; None }),
            v = b.recv(), if b_open => v.or_else(|| { b_open = false; None }),
            v = c.recv(), if c_open => v.or_else(|| { c_open = false; None }),
            v = d.recv(), if d_open => v.or_else(|| { d_open = false; None }),
        };
        if let Some(v) = v {
            sum += v;
            count += 1;
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

/// `RING_SIZE` tasks, task `i` receiving on link `i` and sending on link `i + 1` (mod
/// `RING_SIZE`), every link an mpsc channel of capacity 1. The main task starts the ring,
/// waits until every task has started, then sends a token 0 into link 0; every hop adds
/// one, and the task that makes it `RING_HOPS` hands it to the main task instead of passing
/// it on. ns per hop.
async fn ring() {
    let (links, ins): (Vec<mpsc::Sender<u64>>, Vec<mpsc::Receiver<u64>>) =
        (0..RING_SIZE).map(|_| mpsc::channel(1)).unzip();
    let (done_tx, mut done_rx) = mpsc::channel::<(u64, usize)>(1);
    let (started_tx, mut started) = mpsc::unbounded_channel::<()>();
    let handles: Vec<_> = ins
        .into_iter()
        .enumerate()
        .map(|(i, mut input)| {
            let out = links[(i + 1) % RING_SIZE].clone();
            let (done, started_tx) = (done_tx.clone(), started_tx.clone());
            tokio::spawn(async move {
                started_tx.send(()).expect("ring: started closed");
                drop(started_tx);
                while let Some(t) = input.recv().await {
                    let t = t + 1;
                    if t == RING_HOPS {
                        done.send((t, i)).await.expect("ring: done closed");
                    } else {
                        out.send(t).await.expect("ring: link closed");
                    }
                }
            })
        })
        .collect();
    drop(started_tx);
    for _ in 0..RING_SIZE {
        started.recv().await.expect("ring: started closed");
    }
    let start = Instant::now();
    links[0].send(0).await.expect("ring: link closed");
    let (token, who) = done_rx.recv().await.expect("ring: done closed");
    let elapsed = start.elapsed();
    // Every task holds a sender of the next link: close the receivers' side by dropping
    // ours and aborting the ring (no task can see its link closed while its neighbour
    // holds a sender).
    drop(links);
    for h in &handles {
        h.abort();
    }
    for h in handles {
        let _ = h.await;
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

/// One task locks and unlocks a `tokio::sync::Mutex` `MUTEX_N` times around a counter
/// increment. ns per lock/unlock pair.
async fn mutex_uncontended() {
    let mu = tokio::sync::Mutex::new(0u64);
    let start = Instant::now();
    for _ in 0..MUTEX_N {
        *mu.lock().await += 1;
    }
    let elapsed = start.elapsed();
    let counter = mu.into_inner();
    if counter != MUTEX_N {
        fail(&format!("mutex1: counter {counter}, want {MUTEX_N}"));
    }
    report_as(
        SYSTEM,
        "mutex1",
        MUTEX_N,
        "ns_per_op",
        per_op(elapsed, MUTEX_N),
    );
}

/// `MUTEX_GOROUTINES` tasks share one `tokio::sync::Mutex`, each doing its share of
/// `MUTEX_N` lock/increment/unlock rounds. ns per lock/unlock pair.
async fn mutex_contended() {
    let mu = Arc::new(tokio::sync::Mutex::new(0u64));
    let per = MUTEX_N / MUTEX_GOROUTINES;
    let start = Instant::now();
    let tasks: Vec<_> = (0..MUTEX_GOROUTINES)
        .map(|_| {
            let mu = mu.clone();
            tokio::spawn(async move {
                for _ in 0..per {
                    *mu.lock().await += 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    let counter = *mu.lock().await;
    if counter != per * MUTEX_GOROUTINES {
        fail(&format!(
            "mutex8: counter {counter}, want {}",
            per * MUTEX_GOROUTINES
        ));
    }
    report_as(
        SYSTEM,
        "mutex8",
        MUTEX_N,
        "ns_per_op",
        per_op(elapsed, MUTEX_N),
    );
}

/// `CTX_WAITERS` tasks each wait on their own child of one `CancellationToken`; once all
/// have started (and had time to park), the parent is cancelled. Timed from the cancel until
/// every task has finished. ns per waiter.
async fn ctx_cancel() {
    let parent = tokio_util::sync::CancellationToken::new();
    let started = Arc::new(Semaphore::new(0));
    let tasks: Vec<_> = (0..CTX_WAITERS)
        .map(|_| {
            let child = parent.child_token();
            let started = started.clone();
            tokio::spawn(async move {
                started.add_permits(1);
                child.cancelled().await;
            })
        })
        .collect();
    let all = started
        .acquire_many(CTX_WAITERS as u32)
        .await
        .expect("semaphore closed");
    all.forget();
    tokio::time::sleep(PARK_SETTLE).await;
    let start = Instant::now();
    parent.cancel();
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    report_as(
        SYSTEM,
        "ctxcancel",
        CTX_WAITERS as u64,
        "ns_per_waiter",
        per_op(elapsed, CTX_WAITERS as u64),
    );
}

/// Runs a network workload as a task on a runtime like [`tokio_runtime`]'s with the I/O
/// driver on as well, after raising the descriptor limit (or skipping).
fn net_main(w: Net) {
    netw::prepare(&w);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(goro_benchmarks::worker_threads())
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        tokio::spawn(async move {
            match w {
                Net::Echo { .. } => echo(&w).await,
                Net::Idle { .. } => idle(&w).await,
            }
        })
        .await
        .expect("workload task panicked")
    });
}

/// Binds the loopback listener of a network workload and starts its server: a task
/// accepting connections, and a task per accepted connection that sends on `accepted`,
/// then reads into a [`SERVER_BUF`]-byte buffer and writes back what it read, until end of
/// file (or an error: the process is ending).
async fn start_server(accepted: mpsc::UnboundedSender<()>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| fail(&format!("bind: {e}")));
    let addr = listener.local_addr().expect("listener address");
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener
                .accept()
                .await
                .unwrap_or_else(|e| fail(&format!("accept: {e}")));
            conn.set_nodelay(true)
                .unwrap_or_else(|e| fail(&format!("set_nodelay: {e}")));
            let accepted = accepted.clone();
            tokio::spawn(async move {
                let _ = accepted.send(());
                drop(accepted);
                let mut buf = [0u8; SERVER_BUF];
                while let Ok(n @ 1..) = conn.read(&mut buf).await {
                    if conn.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A client connection of a network workload, `TCP_NODELAY` set.
async fn dial(name: &str, addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| fail(&format!("{name}: connect: {e}")));
    s.set_nodelay(true)
        .unwrap_or_else(|e| fail(&format!("{name}: set_nodelay: {e}")));
    s
}

/// Waits for `n` messages on `rx` (one per started task).
async fn count(rx: &mut mpsc::UnboundedReceiver<()>, n: usize) {
    for _ in 0..n {
        rx.recv().await.expect("counting channel closed");
    }
}

/// `echo1`, `echo100`, `echo10k`: the main task connects every client (a task each,
/// waiting on a gate, a `watch` channel) and waits until the server has accepted them all;
/// then it opens the gate and every client makes its round trips, timing each, and closes
/// its connection. Round trips per second from the gate's opening until every client is
/// done, and the 99th percentile of the round trips.
async fn echo(w: &Net) {
    let Net::Echo { name, conns, trips } = *w else {
        unreachable!()
    };
    let (accepted_tx, mut accepted) = mpsc::unbounded_channel();
    let addr = start_server(accepted_tx).await;
    let (gate_tx, gate) = watch::channel(false);
    let mut clients = Vec::with_capacity(conns);
    for c in 0..conns {
        let mut s = dial(name, addr).await;
        let mut gate = gate.clone();
        clients.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(trips);
            let (mut msg, mut got) = ([0u8; MSG_LEN], [0u8; MSG_LEN]);
            let _ = gate.wait_for(|&open| open).await;
            for t in 0..trips {
                netw::fill_msg(&mut msg, c, t);
                let t0 = Instant::now();
                s.write_all(&msg)
                    .await
                    .unwrap_or_else(|e| fail(&format!("{name}: write: {e}")));
                s.read_exact(&mut got)
                    .await
                    .unwrap_or_else(|e| fail(&format!("{name}: read: {e}")));
                lat.push(t0.elapsed().as_nanos() as u64);
                netw::check_echo(name, &msg, &got);
            }
            lat
        }));
    }
    count(&mut accepted, conns).await;
    let start = Instant::now();
    gate_tx.send(true).expect("gate closed");
    let mut lats = Vec::with_capacity(conns);
    for h in clients {
        lats.push(h.await.expect("client panicked"));
    }
    let elapsed = start.elapsed();
    let mut lat: Vec<u64> = lats.concat();
    netw::report_echo(SYSTEM, w, elapsed, &mut lat);
}

/// `idle10k`, `idle100k`: the main task opens the connections one after another; for
/// each, the server's task waits reading it and a client task waits reading the other end.
/// Once every task has started (and `PARK_SETTLE` more, for the last ones to reach their
/// read), resident bytes per connection over the resident size before the first
/// connection. The connections close when the process exits.
async fn idle(w: &Net) {
    let (name, conns) = (w.name(), w.conns());
    let rss0 = rss_bytes();
    let (accepted_tx, mut accepted) = mpsc::unbounded_channel();
    let addr = start_server(accepted_tx).await;
    let (parked_tx, mut parked) = mpsc::unbounded_channel();
    for _ in 0..conns {
        let mut s = dial(name, addr).await;
        let parked_tx = parked_tx.clone();
        tokio::spawn(async move {
            let _ = parked_tx.send(());
            drop(parked_tx);
            let mut buf = [0u8; MSG_LEN];
            let _ = s.read(&mut buf).await;
        });
    }
    count(&mut accepted, conns).await;
    count(&mut parked, conns).await;
    tokio::time::sleep(PARK_SETTLE).await;
    let rss1 = rss_bytes();
    netw::report_idle(SYSTEM, w, rss0, rss1);
    // Leave at once: the runtime's shutdown would wait for no task, but dropping 2N tasks
    // and sockets is not part of the measurement.
    std::process::exit(0);
}
