//! Model test (loom) of worker ownership, `src/rt/own.rs`: the thread holding a worker runs
//! a goroutine that pushes to the worker's queue, while the monitor retakes the worker and
//! gives it to a new thread, which pops the queue and pushes in turn; and a thread without a
//! worker that retakes it for itself (`monitor::take_blocked`) racing the monitor.
//!
//! The file is compiled here through the loom seam (see `src/loom.rs`; `support/loom.rs` is
//! its loom side). The worker's queue stands as a loom `UnsafeCell<Vec<_>>` that only its
//! owner may touch: loom fails the model if two threads touch it without a happens-before
//! edge between them, which is exactly the race the protocol rules out. A push that finds the
//! worker retaken goes to the injector (a mutex), as `worker::schedule_here` does.
//!
//! Properties: no two threads touch the queue at once (loom's cell checks); every item
//! pushed is in exactly one place at the end (the queue, the injector, or taken by the new
//! owner); an old owner's `end_run` and `enter` fail once the worker was retaken, whatever
//! the new owner is doing with the word.

#[path = "support/loom.rs"]
mod loom;

#[allow(dead_code)]
#[path = "../src/rt/own.rs"]
mod own;

use ::loom::cell::UnsafeCell;
use ::loom::sync::{Arc, Mutex};
use ::loom::thread;
use own::Ownership;

struct Worker {
    own: Ownership,
    queue: UnsafeCell<Vec<u32>>,
}

// SAFETY: `queue` is touched only by the worker's owner, which the ownership protocol makes
// one thread at a time; loom checks that claim in every execution.
unsafe impl Sync for Worker {}

/// A goroutine on the owner of `generation` makes `item` runnable (`schedule_here`).
fn push(w: &Worker, generation: u64, injector: &Mutex<Vec<u32>>, item: u32) -> bool {
    if w.own.enter(generation) {
        w.queue.with_mut(|q| {
            // SAFETY: inside an owner-only section (module docs).
            unsafe { (*q).push(item) }
        });
        w.own.leave(generation);
        true
    } else {
        injector.lock().unwrap().push(item);
        false
    }
}

/// The owner in scheduler context pops everything queued.
fn pop_all(w: &Worker) -> Vec<u32> {
    w.queue.with_mut(|q| {
        // SAFETY: the caller owns the worker in scheduler context.
        unsafe { std::mem::take(&mut *q) }
    })
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = ::loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

#[test]
fn a_retaken_worker_is_touched_by_one_thread_at_a_time_and_loses_nothing() {
    model(|| {
        let w = Arc::new(Worker {
            own: Ownership::new(),
            queue: UnsafeCell::new(Vec::new()),
        });
        let injector = Arc::new(Mutex::new(Vec::new()));
        let taken = Arc::new(Mutex::new(Vec::new()));

        // The monitor: retake generation 0 while its goroutine runs; the new owner (a new
        // thread) takes the queue and runs a goroutine of its own that pushes item 3.
        let monitor = {
            let (w, injector, taken) = (w.clone(), injector.clone(), taken.clone());
            thread::spawn(move || {
                let next = w.own.retake(0)?;
                assert_eq!(next, 1);
                let new_owner = thread::spawn(move || {
                    taken.lock().unwrap().extend(pop_all(&w));
                    w.own.begin_run(next);
                    assert!(push(&w, next, &injector, 3), "nobody retakes generation 1");
                    assert!(w.own.end_run(next));
                });
                Some(new_owner)
            })
        };

        // The old owner of generation 0 runs a goroutine that pushes items 1 and 2.
        w.own.begin_run(0);
        let first = push(&w, 0, &injector, 1);
        let second = push(&w, 0, &injector, 2);
        assert!(first || !second, "once retaken, a worker stays retaken");
        let still_owner = w.own.end_run(0);
        if still_owner {
            // Scheduler context: the owner takes what its goroutine queued.
            taken.lock().unwrap().extend(pop_all(&w));
        } else {
            // Lost: the generation moved on, and no later attempt of the old owner works.
            assert!(!w.own.enter(0));
            assert!(!w.own.end_run(0));
        }

        let new_owner = monitor.join().unwrap();
        let retaken = new_owner.is_some();
        if let Some(h) = new_owner {
            h.join().unwrap();
        }
        assert_eq!(
            still_owner, !retaken,
            "the old owner keeps the worker exactly when the retake failed"
        );

        let mut all: Vec<u32> = taken.lock().unwrap().clone();
        all.extend(injector.lock().unwrap().iter().copied());
        all.extend(pop_all(&w));
        all.sort_unstable();
        let want: &[u32] = if retaken { &[1, 2, 3] } else { &[1, 2] };
        assert_eq!(all, want, "every item in exactly one place");
    });
}

#[test]
fn a_worker_cannot_be_retaken_outside_a_running_goroutine() {
    model(|| {
        let w = Arc::new(Ownership::new());
        // Scheduler context: no retake.
        assert_eq!(w.retake(0), None);
        w.begin_run(0);
        let monitor = {
            let w = w.clone();
            thread::spawn(move || w.retake(0))
        };
        // An owner-only section in progress makes the retake fail, not wait.
        let entered = w.enter(0);
        if entered {
            w.leave(0);
        }
        let retaken = monitor.join().unwrap();
        let ended = w.end_run(0);
        assert_eq!(ended, retaken.is_none());
        if retaken.is_some() {
            // A second retake of the same generation fails.
            assert_eq!(w.retake(0), None);
        }
    });
}

#[test]
fn a_worker_is_retaken_once_when_a_returning_thread_and_the_monitor_race() {
    model(|| {
        let w = Arc::new(Worker {
            own: Ownership::new(),
            queue: UnsafeCell::new(Vec::new()),
        });
        let injector = Arc::new(Mutex::new(Vec::new()));
        let taken = Arc::new(Mutex::new(Vec::new()));

        // A thread without a worker (`monitor::take_blocked`): retakes generation 0 for
        // itself, then owns the worker in scheduler context at once: it takes the queue and
        // runs a goroutine that pushes item 3.
        let thief = {
            let (w, injector, taken) = (w.clone(), injector.clone(), taken.clone());
            thread::spawn(move || {
                let next = w.own.retake(0)?;
                taken.lock().unwrap().extend(pop_all(&w));
                w.own.begin_run(next);
                assert!(push(&w, next, &injector, 3), "nobody retakes generation 1");
                assert!(w.own.end_run(next));
                Some(next)
            })
        };
        // The monitor tries to retake the same generation for a new thread.
        let monitor = {
            let w = w.clone();
            thread::spawn(move || w.own.retake(0))
        };

        // The old owner of generation 0 runs a goroutine that pushes item 1.
        w.own.begin_run(0);
        push(&w, 0, &injector, 1);
        let still_owner = w.own.end_run(0);
        if still_owner {
            taken.lock().unwrap().extend(pop_all(&w));
        }

        let stolen = thief.join().unwrap();
        let retaken = monitor.join().unwrap();
        assert!(
            stolen.is_none() || retaken.is_none(),
            "one generation is retaken once"
        );
        assert_eq!(still_owner, stolen.is_none() && retaken.is_none());
        // The monitor's new thread would pop here; nobody else touches the queue after.
        let mut all: Vec<u32> = taken.lock().unwrap().clone();
        all.extend(injector.lock().unwrap().iter().copied());
        all.extend(pop_all(&w));
        all.sort_unstable();
        let want: &[u32] = if stolen.is_some() { &[1, 3] } else { &[1] };
        assert_eq!(all, want, "every item in exactly one place");
    });
}
