//! Model test (loom) of the goroutine park protocol, `src/rt/park/state.rs`.
//!
//! The state machine is compiled here against loom's atomics (through the loom seam, see
//! `src/loom.rs`; `support/loom.rs` is its loom side) and driven by threads: one
//! thread plays the goroutine and its worker (token check, switch out, commit, resume), the
//! others play wakers. Loom explores every interleaving and checks that a wake-up is never
//! lost (the goroutine always gets past its park once its condition holds) and that a
//! goroutine is never resumed twice or while it is still on its stack.

#[path = "support/loom.rs"]
mod loom;

#[allow(dead_code)]
#[path = "../src/rt/park/state.rs"]
mod state;

use ::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use ::loom::sync::Arc;
use ::loom::thread;
use state::{Commit, ParkState, Unpark};

/// What the goroutine and its wakers share.
struct Shared {
    park: ParkState,
    /// The goroutine is running on its stack (not switched out).
    on_stack: AtomicBool,
    /// Set by the waker that scheduled a parked goroutine; its worker then resumes it.
    resumed: AtomicBool,
    /// How many times the goroutine was resumed after leaving its stack.
    resumes: AtomicUsize,
    /// The condition the goroutine waits for: how many wakers have signalled.
    signals: AtomicUsize,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            park: ParkState::new(),
            on_stack: AtomicBool::new(true),
            resumed: AtomicBool::new(false),
            resumes: AtomicUsize::new(0),
            signals: AtomicUsize::new(0),
        }
    }

    /// The goroutine's `park`: returns when it runs again.
    fn park(&self) {
        if self.park.try_consume() {
            return;
        }
        // Switched out: from here the worker runs, the goroutine's stack is idle.
        self.on_stack.store(false, SeqCst);
        match self.park.commit() {
            Commit::Aborted => {}
            Commit::Parked => {
                // Wait for a waker to hand us back to a worker.
                while !self.resumed.swap(false, SeqCst) {
                    thread::yield_now();
                }
            }
        }
        assert!(
            !self.on_stack.swap(true, SeqCst),
            "resumed while on its stack"
        );
        self.resumes.fetch_add(1, SeqCst);
        self.park.consume();
    }

    /// A waker: makes the condition true, then unparks.
    fn signal(&self) {
        self.signals.fetch_add(1, SeqCst);
        if self.park.unpark() == Unpark::Schedule {
            assert!(!self.on_stack.load(SeqCst), "scheduled while on its stack");
            assert!(!self.resumed.swap(true, SeqCst), "scheduled twice");
        }
    }
}

#[test]
fn one_waker_no_lost_wakeup() {
    ::loom::model(|| {
        let s = Arc::new(Shared::new());
        let w = {
            let s = s.clone();
            thread::spawn(move || s.signal())
        };
        while s.signals.load(SeqCst) < 1 {
            s.park();
        }
        w.join().unwrap();
        assert!(s.resumes.load(SeqCst) <= 1);
    });
}

#[test]
fn two_wakers_never_double_run() {
    ::loom::model(|| {
        let s = Arc::new(Shared::new());
        let ws: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || s.signal())
            })
            .collect();
        while s.signals.load(SeqCst) < 2 {
            s.park();
        }
        for w in ws {
            w.join().unwrap();
        }
    });
}

#[test]
fn repeated_parks_with_one_waker() {
    ::loom::model(|| {
        let s = Arc::new(Shared::new());
        let w = {
            let s = s.clone();
            thread::spawn(move || {
                s.signal();
                s.signal();
            })
        };
        for round in 1..=2 {
            while s.signals.load(SeqCst) < round {
                s.park();
            }
        }
        w.join().unwrap();
    });
}
