//! The flume peer of `goro_rt`: the channel workloads on OS threads
//! (`std::thread::spawn` where Go starts a goroutine), with `flume::bounded`.
//!
//! Usage: `flume_rt <workload>`, the workload names of `goro_rt`. `spawn`, `skynet`,
//! `sleeps`, `parked` and `ring` need thousands to a million goroutines, one OS thread each
//! here: they print `SKIP <workload>: <reason>` on stderr and exit 0.

use std::thread;
use std::time::Instant;

use flume::{bounded, Receiver, Selector, Sender};
use goro_benchmarks::{
    fail, per_op, report_as, skip, MPMC_BIG_CAP, MPMC_BIG_N, MPMC_CONSUMERS, MPMC_PRODUCERS,
    MPMC_SMALL_N, OS_THREAD_RING_SKIP, OS_THREAD_SKIP, PINGPONG_N, POOL_CAP, POOL_JOBS, SELECT_PER,
    SPSC_CAP, SPSC_N,
};

const SYSTEM: &str = "flume";
const USAGE: &str = "usage: flume_rt spawn | skynet | sleeps | parked N | pingpong0 \
                     | pingpong1 | spsc | mpmc1024 | mpmc0 | select4 | workerpool2 \
                     | workerpool8 | ring";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [w @ ("spawn" | "skynet" | "sleeps")] | [w @ "parked", _] => skip(w, OS_THREAD_SKIP),
        ["ring"] => skip("ring", OS_THREAD_RING_SKIP),
        ["pingpong0"] => pingpong("pingpong0", 0),
        ["pingpong1"] => pingpong("pingpong1", 1),
        ["spsc"] => spsc(),
        ["mpmc1024"] => mpmc("mpmc1024", MPMC_BIG_N, MPMC_BIG_CAP),
        ["mpmc0"] => mpmc("mpmc0", MPMC_SMALL_N, 0),
        ["select4"] => select4(),
        ["workerpool2"] => workerpool("workerpool2", 2),
        ["workerpool8"] => workerpool("workerpool8", 8),
        _ => fail(USAGE),
    }
}

/// Main sends `0..PINGPONG_N` on `ping`, one echo thread sends each value back on `pong`;
/// both channels of capacity `cap`. ns per round trip.
fn pingpong(name: &str, cap: usize) {
    let (ping_tx, ping_rx) = bounded::<u64>(cap);
    let (pong_tx, pong_rx) = bounded::<u64>(cap);
    let start = Instant::now();
    let echo = thread::spawn(move || {
        for v in ping_rx.iter() {
            pong_tx.send(v).expect("pingpong: pong closed");
        }
    });
    let mut sum = 0;
    for i in 0..PINGPONG_N {
        ping_tx.send(i).expect("pingpong: ping closed");
        sum += pong_rx.recv().expect("pingpong: pong closed");
    }
    let elapsed = start.elapsed();
    drop(ping_tx);
    echo.join().unwrap();
    let want = PINGPONG_N * (PINGPONG_N - 1) / 2;
    if sum != want {
        fail(&format!("{name}: wrong sum {sum}, want {want}"));
    }
    report_as(
        SYSTEM,
        name,
        PINGPONG_N,
        "ns_per_roundtrip",
        per_op(elapsed, PINGPONG_N),
    );
}

/// One producer thread sends `0..SPSC_N` through a cap-1024 channel and drops it (closing
/// it); one consumer thread ranges over it, counting and summing. ns per message.
fn spsc() {
    let (tx, rx) = bounded::<u64>(SPSC_CAP);
    let start = Instant::now();
    let producer = thread::spawn(move || {
        for i in 0..SPSC_N {
            tx.send(i).expect("spsc: channel closed");
        }
    });
    let consumer = thread::spawn(move || {
        let (mut sum, mut count) = (0u64, 0u64);
        for v in rx.iter() {
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
    report_as(
        SYSTEM,
        "spsc",
        SPSC_N,
        "ns_per_msg",
        per_op(elapsed, SPSC_N),
    );
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

/// 4 producer threads send `n` messages in all (`0..n`, a quarter each) through one channel
/// of capacity `cap`; 4 consumer threads range over it. Main drops its sender once every
/// producer is done, which closes the channel. ns per message.
fn mpmc(name: &str, n: u64, cap: usize) {
    let (tx, rx) = bounded::<u64>(cap);
    let per = n / MPMC_PRODUCERS;
    let start = Instant::now();
    let consumers: Vec<_> = (0..MPMC_CONSUMERS)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                let (mut sum, mut count) = (0u64, 0u64);
                for v in rx.iter() {
                    sum += v;
                    count += 1;
                }
                (sum, count)
            })
        })
        .collect();
    let producers: Vec<_> = (0..MPMC_PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in p * per..(p + 1) * per {
                    tx.send(i).expect("mpmc: channel closed");
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    drop(tx);
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
    report_as(SYSTEM, name, n, "ns_per_msg", per_op(elapsed, n));
}

/// The article's worker, with a tiny job: `results <- j*2`.
fn pool_worker(jobs: &Receiver<u64>, results: &Sender<u64>) {
    for j in jobs.iter() {
        results.send(j * 2).expect("workerpool: results closed");
    }
}

/// The basic worker pool on threads. A feeder thread sends jobs `1..=POOL_JOBS` and drops
/// `jobs`; `workers` worker threads range over `jobs` and send `j*2` on `results`; a thread
/// joins the workers and then drops the last `results` sender; main sums the results.
/// ns per job.
fn workerpool(name: &str, workers: usize) {
    let (jobs_tx, jobs_rx) = bounded::<u64>(POOL_CAP);
    let (results_tx, results_rx) = bounded::<u64>(POOL_CAP);
    let start = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (jobs, results) = (jobs_rx.clone(), results_tx.clone());
            thread::spawn(move || pool_worker(&jobs, &results))
        })
        .collect();
    drop((jobs_rx, results_tx));
    thread::spawn(move || {
        for j in 1..=POOL_JOBS {
            jobs_tx.send(j).expect("workerpool: jobs closed");
        }
    });
    thread::spawn(move || {
        for h in handles {
            h.join().unwrap();
        }
    });
    let (mut sum, mut count) = (0u64, 0u64);
    for r in results_rx.iter() {
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
    report_as(
        SYSTEM,
        name,
        POOL_JOBS,
        "ns_per_job",
        per_op(elapsed, POOL_JOBS),
    );
}
