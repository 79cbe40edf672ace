//! The workers: the loop that takes and runs jobs, and the dynamic sizing (starting a
//! worker for a job, retiring an idle one).

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::error::{self, JobError};
use super::job::{Job, Outcome};
use super::report::{WorkerSlot, BUSY, IDLE, RUNNING};
use super::{lock, ErrorPolicy, PanicPolicy, Shared};

crate::goroutine_local! {
    /// The id of the pool whose worker the current goroutine is (0: none), and its slot
    /// (valid while that worker runs, which is when this is read).
    static CURRENT_POOL: Cell<(u64, *const WorkerSlot)> = Cell::new((0, std::ptr::null()));
}

impl Shared {
    /// The slot of the calling goroutine, if it is one of this pool's workers.
    pub(super) fn in_own_worker(&self) -> Option<*const WorkerSlot> {
        let (pool, slot) = CURRENT_POOL.with(|c| c.get());
        (pool == self.id).then_some(slot)
    }

    /// Starts a worker if fewer workers are idle than there are jobs to take (the queued
    /// ones plus `extra` about to be sent), below the limit; returns whether it started
    /// one. A worker counts as idle from its start (see `register`) until it takes a job.
    #[inline]
    pub(super) fn grow_if_needed(self: &Arc<Self>, extra: usize) -> bool {
        // At the limit (a fixed pool, always): nothing to do, and no slot is read.
        if self.workers.load(Ordering::Relaxed) >= self.max.load(Ordering::Relaxed) {
            return false;
        }
        self.grow_below_limit(extra)
    }

    #[cold]
    #[inline(never)]
    fn grow_below_limit(self: &Arc<Self>, extra: usize) -> bool {
        // An idle worker already woken for a queued job still counts as idle until it runs,
        // hence the comparison with the queue rather than "no idle worker".
        // SeqCst fence: pairs with the one in `wait_for_job` (a worker stores its state,
        // then looks at the queue; we pushed, then look at the states).
        std::sync::atomic::fence(Ordering::SeqCst);
        let idle = self.counts().idle;
        if idle >= self.jobs_rx.len() + extra || !self.claim_slot() {
            return false;
        }
        spawn_worker(self);
        true
    }

    /// Gives up a worker slot if there are more workers than `floor`; returns whether it
    /// did (the caller then exits).
    fn retire_above(&self, floor: usize) -> bool {
        let mut n = self.workers.load(Ordering::Relaxed);
        loop {
            if n <= floor {
                return false;
            }
            match self
                .workers
                .compare_exchange_weak(n, n - 1, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(cur) => n = cur,
            }
        }
    }

    /// Runs a job in the calling worker (a nested submit on a full or closed queue).
    pub(super) fn run_here(&self, job: Job) {
        let slot = self
            .in_own_worker()
            .expect("jobs run in place only in the pool's own workers");
        // SAFETY: the slot belongs to the calling worker, which is running (this is one of
        // its jobs) until this returns, so its `Arc` in the worker's frame keeps the slot
        // alive; it is only ever shared (its fields are atomics).
        let slot = unsafe { &*slot };
        WorkerSlot::bump(&slot.taken);
        let outcome = job.run();
        self.record(slot, outcome);
    }

    /// Counts a finished job and applies the error and panic policies.
    fn record(&self, slot: &WorkerSlot, outcome: Outcome) {
        let err = match outcome {
            Outcome::Completed => {
                WorkerSlot::bump(&slot.completed);
                return;
            }
            Outcome::Cancelled => {
                WorkerSlot::bump(&slot.cancelled);
                return;
            }
            Outcome::Failed(e) => {
                WorkerSlot::bump(&slot.failed);
                Some(JobError::Failed(e))
            }
            Outcome::FailedToHandle => {
                WorkerSlot::bump(&slot.failed);
                None
            }
            Outcome::Panicked(p) => {
                WorkerSlot::bump(&slot.panicked);
                match self.panic_policy {
                    PanicPolicy::Abort => {
                        eprintln!(
                            "goro::pool: a job panicked ({}); aborting (PanicPolicy::Abort)",
                            error::panic_message(&*p)
                        );
                        std::process::abort();
                    }
                    PanicPolicy::Resume => {
                        let msg = error::panic_message(&*p);
                        let mut first = lock(&self.panic);
                        if first.is_none() {
                            *first = Some(p);
                        }
                        drop(first);
                        Some(JobError::Panicked(msg))
                    }
                    PanicPolicy::Error => Some(JobError::Panicked(error::panic_message(&*p))),
                }
            }
        };
        if let Some(err) = err {
            self.report_error(err);
        }
        if self.error_policy == ErrorPolicy::FailFast {
            (self.cancel)();
        }
    }

    /// Sends a job's error to `errors()`, or counts it as dropped if the channel is full
    /// (nobody reads it, or not fast enough): a worker never waits for a reader.
    fn report_error(&self, err: JobError) {
        if let Some(tx) = lock(&self.errors_tx).as_ref() {
            if tx.try_send(err).is_err() {
                self.errors_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Takes a worker slot below the limit (for a new worker, or a retiring one that
    /// stays); false at the limit.
    fn claim_slot(&self) -> bool {
        let max = self.max.load(Ordering::Relaxed);
        let mut n = self.workers.load(Ordering::Relaxed);
        loop {
            if n >= max {
                return false;
            }
            match self
                .workers
                .compare_exchange_weak(n, n + 1, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(cur) => n = cur,
            }
        }
    }
}

pub(super) fn spawn_worker(shared: &Arc<Shared>) {
    shared.live.add(1);
    let slot = shared.register();
    let s = Arc::clone(shared);
    let mut b = crate::Builder::new();
    if let Some(name) = &shared.name {
        b = b.name(name.clone());
    }
    let worker_slot = Arc::clone(&slot);
    let spawned = b.spawn(move || {
        worker(&s, worker_slot);
        s.live.done();
    });
    if let Err(e) = spawned {
        // The closure (and its `done`) was dropped unrun.
        shared.unregister(&slot);
        shared.workers.fetch_sub(1, Ordering::Relaxed);
        shared.live.done();
        panic!("goro::pool: cannot start a worker: {e}");
    }
}

/// A worker: takes jobs until the queue is closed and drained, or it is surplus.
fn worker(s: &Arc<Shared>, slot: Arc<WorkerSlot>) {
    CURRENT_POOL.with(|c| c.set((s.id, Arc::as_ptr(&slot))));
    work(s, &slot);
    CURRENT_POOL.with(|c| c.set((0, std::ptr::null())));
    s.unregister(&slot);
}

fn work(s: &Arc<Shared>, slot: &WorkerSlot) {
    loop {
        if s.workers.load(Ordering::Relaxed) > s.max.load(Ordering::Relaxed)
            && s.retire_above(s.max.load(Ordering::Relaxed))
        {
            // Shrunk by `resize`.
            return;
        }
        // A queued job is taken without reading the clock; waiting (and its bookkeeping)
        // is for an empty queue only, out of line.
        let job = match s.jobs_rx.try_recv() {
            Ok(job) => job,
            Err(_) => match wait_for_job(s, slot) {
                Waited::Job(job) => job,
                Waited::Again => continue,
                Waited::Exit => return,
            },
        };
        WorkerSlot::bump(&slot.taken);
        if s.ctx.err().is_some() {
            // The pool's context ended: queued jobs are cancelled, not run.
            job.cancel();
            WorkerSlot::bump(&slot.cancelled);
            continue;
        }
        slot.state.store(RUNNING, Ordering::Relaxed);
        let outcome = job.run();
        slot.state.store(BUSY, Ordering::Relaxed);
        if !matches!(outcome, Outcome::Completed) {
            s.record(slot, outcome);
        } else {
            WorkerSlot::bump(&slot.completed);
        }
    }
}

/// What an idle worker's wait gave.
enum Waited {
    Job(Job),
    /// Look again (a timeout below the floor, or a slot taken back).
    Again,
    /// Exit: idle too long above the floor, or the queue is closed and drained.
    Exit,
}

#[cold]
#[inline(never)]
fn wait_for_job(s: &Arc<Shared>, slot: &WorkerSlot) -> Waited {
    slot.state.store(IDLE, Ordering::Relaxed);
    // Workers above the floor time out when idle; the floor waits as long as it takes.
    let next = if s.workers.load(Ordering::Relaxed) > s.min {
        s.jobs_rx
            .recv_timeout(s.idle_timeout)
            .map_err(|e| e.is_timeout())
    } else {
        s.jobs_rx.recv().map_err(|_| false)
    };
    slot.state.store(BUSY, Ordering::Relaxed);
    // SeqCst fence: pairs with the one in `grow_if_needed` (see there).
    std::sync::atomic::fence(Ordering::SeqCst);
    match next {
        Ok(job) => {
            // Woken with more jobs behind this one: the submitters may have seen this
            // worker idle and started no other; start one if the limit allows.
            if !s.jobs_rx.is_empty() {
                s.grow_if_needed(0);
            }
            Waited::Job(job)
        }
        // Idle too long: exit if above the floor, else keep waiting.
        Err(true) => {
            if s.retire_above(s.min) {
                // A job may have arrived as we gave up the slot, with nobody to take it:
                // take the slot back if it is still free.
                if !s.jobs_rx.is_empty() && s.claim_slot() {
                    return Waited::Again;
                }
                return Waited::Exit;
            }
            Waited::Again
        }
        // Closed and drained.
        Err(false) => {
            s.workers.fetch_sub(1, Ordering::Relaxed);
            Waited::Exit
        }
    }
}
