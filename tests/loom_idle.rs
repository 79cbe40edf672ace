//! Model test (loom) of the idle-worker protocol, `src/rt/idle.rs`: workers that search for
//! work and go to sleep after a final look, against a producer that pushes work and then
//! notifies.
//!
//! The file is compiled here through the loom seam (see `src/loom.rs`; `support/loom.rs` is
//! its loom side), so its atomics, `SeqCst` fences and sleeper list are loom's. The workers
//! run the end of `worker::find_runnable` and `worker::sleep` (look, maybe start searching,
//! look again, register, final look, park), with one run queue standing for all the queues
//! they look at. A worker sleeps as `std::thread::park` does (see `Parker`), over loom's
//! thread parking.
//!
//! The property is that no wake-up is lost: whenever work is pushed, some worker takes it,
//! either because a final look sees it or because the producer (or the last searcher to find
//! work) wakes a sleeper. A model runs until every goroutine pushed has been taken; a lost
//! wake-up leaves work queued with every worker parked, which loom reports as a deadlock.
//!
//! Each model bounds loom's preemptions (see `model`), which keeps the file to seconds.

#[path = "support/loom.rs"]
mod loom;

#[allow(dead_code)]
#[path = "../src/rt/idle.rs"]
mod idle;

use std::sync::OnceLock;

use ::loom::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use ::loom::sync::Arc;
use ::loom::thread::{self, Thread};
use idle::{Idle, Woken};

const EMPTY: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;

/// A worker thread's park token, kept as `std::thread::park` keeps it on Linux: `unpark`
/// leaves the token (`NOTIFIED`) and wakes the thread only if it announced that it blocks
/// (`PARKED`); loom's park and unpark stand for the futex wait and wake.
///
/// So loom's `unpark` only ever reaches a thread that is parking. Loom's park keeps a token
/// too, but an unpark that reaches a thread blocked on a loom mutex (here, the sleeper
/// list's) wakes it there and leaves none, which `std` never does (the cause of loom issue
/// #249); the model would report that as a lost wake-up.
struct Parker {
    state: AtomicU8,
}

impl Parker {
    fn new() -> Parker {
        Parker {
            state: AtomicU8::new(EMPTY),
        }
    }

    /// `std::thread::park`: returns once a token is there, and takes it. Only the worker
    /// itself parks; only `unpark` writes `NOTIFIED`.
    fn park(&self) {
        if self
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            // The token is there: take it. Acquire: pairs with the Release swap of the latest
            // `unpark` (a swap reads the latest value, so no later token is erased).
            self.state.swap(EMPTY, Ordering::Acquire);
            return;
        }
        loop {
            thread::park();
            // Acquire: pairs with the Release swap in `unpark`.
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }

    /// `Thread::unpark`: leaves the token; wakes `thread` if it is parking.
    fn unpark(&self, thread: &Thread) {
        // Release: pairs with the Acquire of `park`.
        if self.state.swap(NOTIFIED, Ordering::Release) == PARKED {
            thread.unpark();
        }
    }
}

/// The scheduler of a model: its workers' idle state and one run queue.
struct Sched {
    idle: Idle,
    workers: usize,
    /// How many goroutines the producer pushes in all.
    total: usize,
    /// The queue's tail: goroutines pushed so far (a Release store, as a local queue's push).
    pushed: AtomicUsize,
    /// The queue's head: goroutines taken so far (claimed by CAS, as `pop` and `steal_into`
    /// claim theirs).
    taken: AtomicUsize,
    /// Every goroutine has been taken: the workers may stop.
    done: AtomicBool,
    /// The workers' park tokens, by index.
    parkers: Vec<Parker>,
    /// The workers' threads, by index; set before the first push, so before any worker can
    /// be woken. (Not a loom type: it is written once, before anyone reads it.)
    threads: OnceLock<Vec<Thread>>,
}

impl Sched {
    fn new(workers: usize, total: usize) -> Arc<Sched> {
        Arc::new(Sched {
            idle: Idle::new(workers),
            workers,
            total,
            pushed: AtomicUsize::new(0),
            taken: AtomicUsize::new(0),
            done: AtomicBool::new(false),
            parkers: (0..workers).map(|_| Parker::new()).collect(),
            threads: OnceLock::new(),
        })
    }

    /// Unparks a worker's thread (`Worker::unpark_thread`).
    fn unpark(&self, worker: usize) {
        let threads = self.threads.get().expect("threads are set before any push");
        self.parkers[worker].unpark(&threads[worker]);
    }

    /// `Runtime::notify_work`.
    fn notify_work(&self) {
        if let Some(w) = self.idle.notify_one() {
            self.unpark(w);
        }
    }

    /// The producer: pushes one goroutine, then notifies (`rt::schedule`).
    fn push(&self) {
        // Only the producer writes `pushed`. Release: pairs with the Acquire loads of it in
        // `try_take`/`work_visible`, as a local queue's tail store with its consumers' loads.
        let n = self.pushed.load(Ordering::Relaxed);
        self.pushed.store(n + 1, Ordering::Release);
        self.notify_work();
    }

    /// Takes a goroutine if one is queued; the taker of the last one ends the model.
    fn try_take(&self) -> bool {
        loop {
            // Acquire on both: `taken` pairs with other takers' AcqRel CAS, `pushed` with the
            // producer's Release.
            let t = self.taken.load(Ordering::Acquire);
            if t >= self.pushed.load(Ordering::Acquire) {
                return false;
            }
            // AcqRel: pairs with the Acquire loads of `taken` by the other takers.
            if self
                .taken
                .compare_exchange(t, t + 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                if t + 1 == self.total {
                    // Release: pairs with the workers' Acquire load of `done`; the unparks
                    // below wake those that sleep.
                    self.done.store(true, Ordering::Release);
                    for w in 0..self.workers {
                        self.unpark(w);
                    }
                }
                return true;
            }
        }
    }

    /// The final look (`worker::work_anywhere`).
    fn work_visible(&self) -> bool {
        // Acquire: as in `try_take`.
        self.pushed.load(Ordering::Acquire) > self.taken.load(Ordering::Acquire)
    }

    /// A worker: the end of `worker::find_runnable`, `worker::found` and `worker::sleep`.
    fn worker(&self, me: usize) {
        let mut searching = false;
        // Acquire: pairs with the Release store of `done`.
        while !self.done.load(Ordering::Acquire) {
            // Its own queue and the injector.
            if self.try_take() {
                self.found(&mut searching);
                continue;
            }
            if !searching && self.workers > 1 && self.idle.may_search() {
                searching = true;
                self.idle.start_searching();
            }
            // Stealing.
            if searching && self.try_take() {
                self.found(&mut searching);
                continue;
            }
            // Step 1 of going to sleep, then step 2: the final look.
            self.idle.register(me, std::mem::take(&mut searching));
            if self.work_visible() {
                if self.idle.unregister(me) == Woken::Idle {
                    self.idle.start_searching();
                }
                searching = true;
                continue;
            }
            // Step 3.
            self.parkers[me].park();
            if self.idle.unregister(me) == Woken::Searching {
                searching = true;
            }
        }
    }

    /// `worker::found`: the last searcher to find work wakes another worker.
    fn found(&self, searching: &mut bool) {
        if std::mem::take(searching) && self.idle.stop_searching() {
            self.notify_work();
        }
    }
}

/// Runs `f` under loom, exploring the interleavings with at most `preemptions` preemptions.
fn model(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = ::loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(f);
}

/// Starts `workers` workers on `s`, then pushes `s.total` goroutines from the calling thread
/// (a plain thread, or a goroutine on a worker that is busy) and waits for the workers to end.
fn run(s: Arc<Sched>) {
    let handles: Vec<_> = (0..s.workers)
        .map(|me| {
            let s = s.clone();
            thread::spawn(move || s.worker(me))
        })
        .collect();
    let threads = handles.iter().map(|h| h.thread().clone()).collect();
    assert!(s.threads.set(threads).is_ok());
    for _ in 0..s.total {
        s.push();
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(s.taken.load(Ordering::Relaxed), s.total);
}

/// One worker, which does not search: its final look sees the push, or it is woken.
#[test]
fn a_lone_sleeping_worker_is_never_left_asleep() {
    model(3, || run(Sched::new(1, 1)));
}

/// Two workers, one maybe searching as the push comes: a producer that sees a searcher wakes
/// nobody, so the searcher must see the work, at the latest in its final look before sleeping.
#[test]
fn a_push_is_taken_by_one_of_two_workers() {
    model(3, || run(Sched::new(2, 1)));
}

/// Two workers, two pushes: the second push may find one worker searching and the other
/// asleep, and the searcher that takes the first goroutine wakes the next.
#[test]
fn two_pushes_are_both_taken_by_two_workers() {
    model(2, || run(Sched::new(2, 2)));
}
