//! Model test (loom) of the run queues, `src/rt/queue.rs`: a worker's local queue, its owner
//! pushing and popping while thieves steal half of it, and the spill of a full queue to the
//! injector.
//!
//! The file is compiled here through the loom seam (see `src/loom.rs`; `support/loom.rs` is
//! its loom side), so its atomics and the injector's mutex are loom's and its ring has 4
//! slots; the `rt::goroutine` module below stands in for goro's goroutines. Each model checks
//! that every goroutine pushed is taken exactly once (none lost, none taken twice: a slot
//! read after it was reused would hand out a goroutine twice, or one that was never there)
//! and that its taker sees what its spawner wrote before pushing it (loom's `UnsafeCell`
//! reports a read that does not happen after that write).
//!
//! Each model bounds loom's preemptions (see `model`), which keeps the file to a few seconds.

#[path = "support/loom.rs"]
mod loom;

mod rt {
    pub(crate) mod goroutine {
        use std::ptr::NonNull;

        use ::loom::cell::UnsafeCell;

        /// The value of a goroutine's `body` once it has been taken.
        const TAKEN: usize = usize::MAX;

        /// A goroutine block: its `body` holds its id from its spawn until its taker marks it
        /// taken.
        pub(crate) struct Goroutine {
            body: UnsafeCell<usize>,
        }

        /// goro's `GRef`: here a plain pointer to a block of a [`Goroutines`] batch, which
        /// owns the memory, so that a goroutine handed out twice is reported rather than
        /// freed twice.
        pub(crate) struct GRef(NonNull<Goroutine>);

        // SAFETY (test): a `GRef` only reaches its block through `take`, whose accesses loom
        // checks.
        unsafe impl Send for GRef {}

        impl GRef {
            pub(crate) fn into_raw(self) -> *mut Goroutine {
                let p = self.0.as_ptr();
                std::mem::forget(self);
                p
            }

            /// # Safety
            ///
            /// `p` is null or points to a block of a live batch.
            pub(crate) unsafe fn from_raw(p: *const Goroutine) -> GRef {
                GRef(NonNull::new(p as *mut Goroutine).expect("took a slot never filled"))
            }

            /// The taker's side: reads the goroutine's id and marks it taken.
            ///
            /// # Safety
            ///
            /// The batch `self` points into is alive.
            pub(crate) unsafe fn take(self) -> usize {
                // SAFETY: the caller keeps the batch alive.
                let g = unsafe { self.0.as_ref() };
                g.body.with_mut(|b| {
                    // SAFETY: loom checks that no other access to `body` is concurrent.
                    let id = unsafe { *b };
                    assert_ne!(id, TAKEN, "a goroutine was taken twice");
                    // SAFETY: as above.
                    unsafe { *b = TAKEN };
                    id
                })
            }
        }

        impl Drop for GRef {
            fn drop(&mut self) {
                // goro's releases a reference here; the batch owns these blocks.
            }
        }

        /// The blocks of one model's goroutines.
        pub(crate) struct Goroutines(Box<[Goroutine]>);

        impl Goroutines {
            pub(crate) fn new(n: usize) -> Goroutines {
                Goroutines(
                    (0..n)
                        .map(|_| Goroutine {
                            body: UnsafeCell::new(TAKEN),
                        })
                        .collect(),
                )
            }

            /// The spawner's side: writes goroutine `id` and returns a reference to it.
            pub(crate) fn spawn(&self, id: usize) -> GRef {
                let g: &Goroutine = &self.0[id];
                // SAFETY: loom checks that no other access to `body` is concurrent.
                g.body.with_mut(|b| unsafe { *b = id });
                GRef(NonNull::from(g))
            }
        }
    }
}

#[allow(dead_code)]
#[path = "../src/rt/queue.rs"]
mod queue;

use ::loom::sync::Arc;
use ::loom::thread;
use queue::{Injector, LocalQueue, CAPACITY};
use rt::goroutine::{GRef, Goroutines};

/// Runs `f` under loom, exploring the interleavings with at most `preemptions` preemptions
/// (3 keeps a model with two threads to a fraction of a second, 2 one with three threads to
/// about two seconds).
fn model(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = ::loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(f);
}

/// Takes `g`, recording its id.
fn take(got: &mut Vec<usize>, g: GRef) {
    // SAFETY: every model keeps its batch alive until its threads are joined.
    got.push(unsafe { g.take() });
}

/// A thief: steals from `victim` into a queue of its own, and takes what it stole.
fn thief(victim: &LocalQueue) -> Vec<usize> {
    let own = LocalQueue::new();
    let mut got = Vec::new();
    if let Some(g) = victim.steal_into(&own) {
        take(&mut got, g);
        while let Some(g) = own.pop() {
            take(&mut got, g);
        }
    }
    got
}

/// Takes what is left in `q` and `injector`.
fn drain(got: &mut Vec<usize>, q: &LocalQueue, injector: &Injector) {
    while let Some(g) = q.pop() {
        take(got, g);
    }
    while let Some(g) = injector.pop_batch(q, 0) {
        take(got, g);
    }
}

/// Asserts that the takers together took each of `0..n` exactly once.
fn assert_each_once(n: usize, takers: &[&[usize]]) {
    let mut all: Vec<usize> = takers.concat();
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>(), "taken: {takers:?}");
}

#[test]
fn the_model_ring_is_small() {
    assert_eq!(CAPACITY, 4);
}

/// The owner pops and pushes past the end of the ring (reusing the slots of goroutines taken
/// already) while a thief steals half.
#[test]
fn a_steal_racing_pop_and_push_takes_each_goroutine_once() {
    model(3, || {
        let gs = Goroutines::new(5);
        let q = Arc::new(LocalQueue::new());
        let injector = Injector::new();
        for id in 0..3 {
            q.push(gs.spawn(id), &injector);
        }
        let t = {
            let q = q.clone();
            thread::spawn(move || thief(&q))
        };
        let mut got = Vec::new();
        if let Some(g) = q.pop() {
            take(&mut got, g);
        }
        q.push(gs.spawn(3), &injector);
        q.push(gs.spawn(4), &injector);
        let stolen = t.join().unwrap();
        drain(&mut got, &q, &injector);
        assert_each_once(5, &[&got, &stolen]);
    });
}

/// The owner pushes onto a full ring while a thief steals: it spills half the ring and the
/// new goroutine to the injector, or finds that the thief made room.
#[test]
fn a_spill_racing_a_steal_takes_each_goroutine_once() {
    model(3, || {
        let gs = Goroutines::new(CAPACITY + 1);
        let q = Arc::new(LocalQueue::new());
        let injector = Injector::new();
        for id in 0..CAPACITY {
            q.push(gs.spawn(id), &injector);
        }
        let t = {
            let q = q.clone();
            thread::spawn(move || thief(&q))
        };
        q.push(gs.spawn(CAPACITY), &injector);
        let mut got = Vec::new();
        if let Some(g) = q.pop() {
            take(&mut got, g);
        }
        let stolen = t.join().unwrap();
        drain(&mut got, &q, &injector);
        assert_each_once(CAPACITY + 1, &[&got, &stolen]);
    });
}

/// Two thieves race the owner's pop, and its pushes past the end of the ring.
#[test]
fn two_thieves_and_the_owner_take_each_goroutine_once() {
    model(2, || {
        let gs = Goroutines::new(5);
        let q = Arc::new(LocalQueue::new());
        let injector = Injector::new();
        for id in 0..3 {
            q.push(gs.spawn(id), &injector);
        }
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || thief(&q))
            })
            .collect();
        let mut got = Vec::new();
        if let Some(g) = q.pop() {
            take(&mut got, g);
        }
        q.push(gs.spawn(3), &injector);
        q.push(gs.spawn(4), &injector);
        let stolen: Vec<Vec<usize>> = thieves.into_iter().map(|t| t.join().unwrap()).collect();
        drain(&mut got, &q, &injector);
        assert_each_once(5, &[&got, &stolen[0], &stolen[1]]);
    });
}

/// A thief steals from the queue another thief is filling with what it stole: the first
/// thief's copy of the slots must be published to the second.
#[test]
fn a_steal_from_a_thief_takes_each_goroutine_once() {
    model(3, || {
        let gs = Goroutines::new(3);
        let q = LocalQueue::new();
        let injector = Injector::new();
        for id in 0..3 {
            q.push(gs.spawn(id), &injector);
        }
        let first = Arc::new(LocalQueue::new());
        let second = {
            let first = first.clone();
            thread::spawn(move || thief(&first))
        };
        let mut got = Vec::new();
        if let Some(g) = q.steal_into(&first) {
            take(&mut got, g);
        }
        while let Some(g) = first.pop() {
            take(&mut got, g);
        }
        let stolen = second.join().unwrap();
        drain(&mut got, &q, &injector);
        assert_each_once(3, &[&got, &stolen]);
    });
}
