//! Micro-benchmarks of goro's hot paths, each measured inside a goroutine: a change to the
//! runtime or the channels can be checked in seconds with
//! `cargo bench --manifest-path benchmarks/Cargo.toml --bench hot_paths`.
//!
//! The cross-language comparison is `run.sh`, beside this crate's binaries.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use goro::chan;

/// Runs `f(iters)` as a goroutine and returns the time it measured.
fn in_goroutine<F>(iters: u64, f: F) -> Duration
where
    F: FnOnce(u64) -> Duration + Send + 'static,
{
    goro::run(move || f(iters))
}

fn spawn_join(c: &mut Criterion) {
    c.bench_function("rt_spawn_join", |b| {
        b.iter_custom(|iters| {
            in_goroutine(iters, |n| {
                let start = Instant::now();
                for _ in 0..n {
                    goro::go(|| ()).join().unwrap();
                }
                start.elapsed()
            })
        })
    });
}

fn context_switch(c: &mut Criterion) {
    // Two goroutines taking turns through yield_now: one switch per iteration each way.
    c.bench_function("rt_yield_pair", |b| {
        b.iter_custom(|iters| {
            in_goroutine(iters, |n| {
                let other = goro::go(move || {
                    for _ in 0..n {
                        goro::yield_now();
                    }
                });
                let start = Instant::now();
                for _ in 0..n {
                    goro::yield_now();
                }
                let t = start.elapsed();
                other.join().unwrap();
                t
            })
        })
    });
}

fn park_wake(c: &mut Criterion) {
    // A round trip over two unbuffered channels: two parks and two wakes.
    c.bench_function("chan_pingpong_cap0", |b| {
        b.iter_custom(|iters| {
            in_goroutine(iters, |n| {
                let (tx1, rx1) = chan::bounded::<u64>(0);
                let (tx2, rx2) = chan::bounded::<u64>(0);
                let echo = goro::go(move || {
                    for v in &rx1 {
                        tx2.send(v).unwrap();
                    }
                });
                let start = Instant::now();
                for i in 0..n {
                    tx1.send(i).unwrap();
                    rx2.recv().unwrap();
                }
                let t = start.elapsed();
                drop(tx1);
                echo.join().unwrap();
                t
            })
        })
    });
}

fn uncontended_send_recv(c: &mut Criterion) {
    c.bench_function("chan_send_recv_buffered", |b| {
        b.iter_custom(|iters| {
            in_goroutine(iters, |n| {
                let (tx, rx) = chan::bounded::<u64>(1);
                let start = Instant::now();
                for i in 0..n {
                    tx.send(i).unwrap();
                    rx.recv().unwrap();
                }
                start.elapsed()
            })
        })
    });
}

fn select_ready(c: &mut Criterion) {
    for cases in [2usize, 8] {
        c.bench_function(&format!("select_{cases}_cases_ready"), |b| {
            b.iter_custom(|iters| {
                in_goroutine(iters, move |n| {
                    let chans: Vec<_> = (0..cases).map(|_| chan::bounded::<u64>(1)).collect();
                    let mut sel_time = Duration::ZERO;
                    for i in 0..n {
                        chans[(i as usize) % cases].0.send(i).unwrap();
                        let start = Instant::now();
                        let mut sel = chan::Select::new();
                        for (_, rx) in &chans {
                            sel.recv(rx);
                        }
                        let op = sel.select();
                        let _ = op.recv::<u64>();
                        sel_time += start.elapsed();
                    }
                    sel_time
                })
            })
        });
    }
    c.bench_function("select_macro_2_cases_ready", |b| {
        b.iter_custom(|iters| {
            in_goroutine(iters, |n| {
                let (ta, ra) = chan::bounded::<u64>(1);
                let (_tb, rb) = chan::bounded::<u64>(1);
                let start = Instant::now();
                for i in 0..n {
                    ta.send(i).unwrap();
                    goro::select! {
                        recv(ra) -> v => { v.unwrap(); }
                        recv(rb) -> v => { v.unwrap(); }
                    }
                }
                start.elapsed()
            })
        })
    });
}

fn timers(c: &mut Criterion) {
    c.bench_function("timer_new_stop", |b| {
        b.iter_custom(|iters| {
            in_goroutine(iters, |n| {
                let start = Instant::now();
                for _ in 0..n {
                    let t = goro::time::Timer::new(Duration::from_secs(3600));
                    t.stop();
                }
                start.elapsed()
            })
        })
    });
}

criterion_group!(
    benches,
    spawn_join,
    context_switch,
    park_wake,
    uncontended_send_recv,
    select_ready,
    timers
);
criterion_main!(benches);
