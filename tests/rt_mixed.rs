//! Threads and goroutines together: spawning, cross-joining, accounting.
//!
//! Stress sizes are multiplied by `GORO_STRESS_SCALE` (default 1).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use goro::sync::WaitGroup;
use goro::JoinHandle;

mod support;

use support::scaled;

/// Handles delivered to one consumer, and a group that reaches zero once all have arrived.
struct Mailbox {
    handles: Mutex<Vec<JoinHandle<usize>>>,
    filled: WaitGroup,
}

impl Mailbox {
    fn new(expected: usize) -> Mailbox {
        let filled = WaitGroup::new();
        filled.add(expected);
        Mailbox {
            handles: Mutex::new(Vec::new()),
            filled,
        }
    }

    fn deliver(&self, h: JoinHandle<usize>) {
        self.handles.lock().unwrap().push(h);
        self.filled.done();
    }

    /// Waits for every expected handle, then joins them all; returns their values.
    fn collect(&self) -> Vec<usize> {
        self.filled.wait();
        let handles = std::mem::take(&mut *self.handles.lock().unwrap());
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    }
}

/// The body of every spawned goroutine: a little parking, then its own index.
fn task(idx: usize) -> usize {
    match idx % 10 {
        0 => goro::yield_now(),
        1 if idx % 1000 == 1 => goro::sleep(Duration::from_millis(1)),
        _ => {}
    }
    idx
}

#[test]
fn threads_and_goroutines_spawn_and_join_each_others_goroutines() {
    const THREADS: usize = 4;
    const GOROUTINES: usize = 1000;
    // Half the goroutines are spawned by the threads, half by the goroutines.
    let per_goroutine = (scaled(200_000) / 2 / GOROUTINES).max(1);
    let per_thread = per_goroutine * GOROUTINES / THREADS;
    let from_threads = per_thread * THREADS;
    let total = from_threads + per_goroutine * GOROUTINES;

    // Handles made by thread t go to goroutine mailboxes, round robin, and the other way.
    let to_goroutines: Arc<Vec<Mailbox>> = Arc::new(
        (0..GOROUTINES)
            .map(|_| Mailbox::new(from_threads / GOROUTINES))
            .collect(),
    );
    let to_threads: Arc<Vec<Mailbox>> = Arc::new(
        (0..THREADS)
            .map(|_| Mailbox::new(per_goroutine * GOROUTINES / THREADS))
            .collect(),
    );
    let seen: Arc<Vec<AtomicBool>> = Arc::new((0..total).map(|_| AtomicBool::new(false)).collect());
    let mark = |seen: &[AtomicBool], values: Vec<usize>| -> usize {
        for &v in &values {
            assert!(
                !seen[v].swap(true, Ordering::Relaxed),
                "value {v} joined twice"
            );
        }
        values.len()
    };

    let consumers: Vec<JoinHandle<usize>> = (0..GOROUTINES)
        .map(|g| {
            let (to_g, to_t, seen) = (to_goroutines.clone(), to_threads.clone(), seen.clone());
            goro::go(move || {
                for j in 0..per_goroutine {
                    let idx = from_threads + g * per_goroutine + j;
                    to_t[idx % THREADS].deliver(goro::go(move || task(idx)));
                }
                mark(&seen, to_g[g].collect())
            })
        })
        .collect();
    let threads: Vec<std::thread::JoinHandle<usize>> = (0..THREADS)
        .map(|t| {
            let (to_g, to_t, seen) = (to_goroutines.clone(), to_threads.clone(), seen.clone());
            std::thread::spawn(move || {
                for j in 0..per_thread {
                    let idx = t * per_thread + j;
                    to_g[idx % GOROUTINES].deliver(goro::go(move || task(idx)));
                }
                mark(&seen, to_t[t].collect())
            })
        })
        .collect();

    let by_goroutines: usize = consumers.into_iter().map(|h| h.join().unwrap()).sum();
    let by_threads: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(by_goroutines, from_threads);
    assert_eq!(by_threads, total - from_threads);
    assert!(seen.iter().all(|s| s.load(Ordering::Relaxed)));
}

#[test]
fn goroutines_wait_on_threads_and_threads_on_goroutines() {
    // Ping-pong through WaitGroups between a plain thread and a goroutine, many rounds.
    let rounds = 2000;
    let ping: Arc<Vec<WaitGroup>> = Arc::new(
        (0..rounds)
            .map(|_| {
                let wg = WaitGroup::new();
                wg.add(1);
                wg
            })
            .collect(),
    );
    let pong: Arc<Vec<WaitGroup>> = Arc::new(
        (0..rounds)
            .map(|_| {
                let wg = WaitGroup::new();
                wg.add(1);
                wg
            })
            .collect(),
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let g = {
        let (ping, pong, hits) = (ping.clone(), pong.clone(), hits.clone());
        goro::go(move || {
            for i in 0..rounds {
                ping[i].wait();
                assert_eq!(hits.fetch_add(1, Ordering::SeqCst), 2 * i + 1);
                pong[i].done();
            }
        })
    };
    let t = {
        let (ping, pong, hits) = (ping.clone(), pong.clone(), hits.clone());
        std::thread::spawn(move || {
            for i in 0..rounds {
                assert_eq!(hits.fetch_add(1, Ordering::SeqCst), 2 * i);
                ping[i].done();
                pong[i].wait();
            }
        })
    };
    t.join().unwrap();
    g.join().unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2 * rounds);
}

#[test]
fn spawn_storm_from_everywhere() {
    // Threads spawn goroutines that spawn goroutines that start threads that spawn goroutines.
    let count = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let count = count.clone();
            std::thread::spawn(move || {
                let hs: Vec<_> = (0..50)
                    .map(|_| {
                        let count = count.clone();
                        goro::go(move || {
                            let inner: Vec<_> = (0..10)
                                .map(|_| {
                                    let count = count.clone();
                                    goro::go(move || {
                                        count.fetch_add(1, Ordering::Relaxed);
                                    })
                                })
                                .collect();
                            let count2 = count.clone();
                            let th = std::thread::spawn(move || {
                                goro::go(move || {
                                    count2.fetch_add(1, Ordering::Relaxed);
                                })
                                .join()
                                .unwrap();
                            });
                            for h in inner {
                                h.join().unwrap();
                            }
                            // Wait for the thread without blocking the worker.
                            while !th.is_finished() {
                                goro::sleep(Duration::from_micros(200));
                            }
                            th.join().unwrap();
                        })
                    })
                    .collect();
                for h in hs {
                    h.join().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(count.load(Ordering::Relaxed), 4 * 50 * 11);
}
