//! Run queues: each worker's bounded local queue, and the global injector.
//!
//! # Local queue
//!
//! A ring of `CAPACITY` goroutine pointers in the manner of Go's `runq`: `tail` is written
//! only by the owning worker; `head` is advanced by CAS, by the owner (pop) and by thieves
//! (steal half). Slots are atomics so that a thief's speculative read of a slot the owner is
//! overwriting is not a data race; such a read is always discarded, because the owner can only
//! reuse a slot after `head` has moved past it, which makes the thief's CAS fail.
//!
//! Ownership: a pointer in a slot between `head` and `tail` owns one strong reference (the
//! goroutine's scheduler reference, see `goroutine`). Whoever moves `head` past a slot owns
//! the reference it read from it.
//!
//! When the ring is full, the owner moves half of it and the new goroutine to the injector in
//! one batch (Go's `runqputslow`), so a burst of spawns spills to the other workers.
//!
//! This file is loom-checked (see `crate::loom`): `tests/loom_queue.rs` compiles it with
//! loom's atomics and mutex, a ring of 4, and a stand-in `GRef`, and checks that pushes,
//! pops, steals (also from a thief's queue) and spills take every goroutine exactly once.

use std::collections::VecDeque;

use crate::loom::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use crate::loom::sync::Mutex;
use crate::rt::goroutine::{GRef, Goroutine};

/// Slots per local queue (a power of two); a loom model explores a small ring.
pub(crate) const CAPACITY: usize = if crate::loom::MODEL { 4 } else { 256 };
const MASK: u32 = (CAPACITY as u32) - 1;

pub(crate) struct LocalQueue {
    head: AtomicU32,
    tail: AtomicU32,
    slots: Box<[AtomicPtr<Goroutine>]>,
}

impl LocalQueue {
    pub(crate) fn new() -> LocalQueue {
        LocalQueue {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            slots: (0..CAPACITY)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
        }
    }

    fn slot(&self, i: u32) -> &AtomicPtr<Goroutine> {
        &self.slots[(i & MASK) as usize]
    }

    /// Number of goroutines queued (a snapshot).
    pub(crate) fn len(&self) -> usize {
        let t = self.tail.load(Ordering::Acquire);
        let h = self.head.load(Ordering::Acquire);
        t.wrapping_sub(h) as usize
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `g` if there is room; owner only.
    pub(crate) fn try_push(&self, g: GRef) -> Result<(), GRef> {
        // Acquire: pairs with the Release CAS of `pop`/`steal_into`, so slots they freed are
        // no longer read when we overwrite them.
        let h = self.head.load(Ordering::Acquire);
        let t = self.tail.load(Ordering::Relaxed);
        if t.wrapping_sub(h) >= CAPACITY as u32 {
            return Err(g);
        }
        self.slot(t).store(g.into_raw(), Ordering::Relaxed);
        // Release: pairs with the Acquire loads of `tail` in `pop`/`steal_into`, publishing
        // the slot.
        self.tail.store(t.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Appends `g`; owner only. Spills half the queue to `injector` when full.
    pub(crate) fn push(&self, g: GRef, injector: &Injector) {
        let p = g.into_raw();
        loop {
            // Acquire: pairs with the Release CAS of `pop`/`steal_into`, so slots they freed
            // are no longer read when we overwrite them.
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Relaxed);
            if t.wrapping_sub(h) < CAPACITY as u32 {
                self.slot(t).store(p, Ordering::Relaxed);
                // Release: pairs with the Acquire loads of `tail` in `pop`/`steal_into`,
                // publishing the slot.
                self.tail.store(t.wrapping_add(1), Ordering::Release);
                return;
            }
            if self.spill(p, h, t, injector) {
                return;
            }
            // A thief moved `head` meanwhile: there is room now.
        }
    }

    /// Moves half of the full ring plus `p` to the injector.
    fn spill(&self, p: *mut Goroutine, h: u32, t: u32, injector: &Injector) -> bool {
        let n = (t.wrapping_sub(h) / 2) as usize;
        let mut batch: Vec<GRef> = Vec::with_capacity(n + 1);
        let ptrs: Vec<*mut Goroutine> = (0..n as u32)
            .map(|i| self.slot(h.wrapping_add(i)).load(Ordering::Relaxed))
            .collect();
        // Release/Relaxed: the slots read above are owned only once this CAS succeeds; on
        // failure they are discarded.
        if self
            .head
            .compare_exchange(
                h,
                h.wrapping_add(n as u32),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return false;
        }
        for q in ptrs {
            // SAFETY: the successful CAS transferred the references in these slots to us.
            batch.push(unsafe { GRef::from_raw(q) });
        }
        // SAFETY: `p` came from `Arc::into_raw` in `push` and was not published.
        batch.push(unsafe { GRef::from_raw(p) });
        injector.push_batch(batch);
        true
    }

    /// Takes the oldest goroutine; owner only.
    pub(crate) fn pop(&self) -> Option<GRef> {
        loop {
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Relaxed);
            if t == h {
                return None;
            }
            let p = self.slot(h).load(Ordering::Relaxed);
            // Release: pairs with the Acquire load of `head` in `push`, so the owner does not
            // overwrite the slot before we have read it.
            if self
                .head
                .compare_exchange(h, h.wrapping_add(1), Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                // SAFETY: the CAS transferred the slot's reference to us.
                return Some(unsafe { GRef::from_raw(p) });
            }
        }
    }

    /// Steals about half of `self`'s goroutines into `dst` (owned by the caller) and returns
    /// one of them to run.
    pub(crate) fn steal_into(&self, dst: &LocalQueue) -> Option<GRef> {
        let dt = dst.tail.load(Ordering::Relaxed);
        // Never overrun our own ring: steal only into free space (it is empty in practice,
        // as we steal only when our queue is empty).
        let room = CAPACITY as u32 - dt.wrapping_sub(dst.head.load(Ordering::Acquire));
        loop {
            // Acquire on both: `head` pairs with other consumers' Release CAS, `tail` with
            // the owner's Release store, which publishes the slots up to it.
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Acquire);
            let len = t.wrapping_sub(h);
            if len == 0 {
                return None;
            }
            if len > CAPACITY as u32 {
                // Inconsistent snapshot (head moved between the loads): retry.
                continue;
            }
            let n = (len - len / 2).min(room);
            if n == 0 {
                return None;
            }
            for i in 0..n {
                let p = self.slot(h.wrapping_add(i)).load(Ordering::Relaxed);
                dst.slot(dt.wrapping_add(i)).store(p, Ordering::Relaxed);
            }
            // AcqRel: Release pairs with the owner's Acquire load of `head` in `push` (it must
            // not overwrite slots before we copied them); Acquire orders our reads after the
            // CAS that makes them ours.
            if self
                .head
                .compare_exchange(h, h.wrapping_add(n), Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                let last = dst.slot(dt.wrapping_add(n - 1)).load(Ordering::Relaxed);
                if n > 1 {
                    // Release: publishes the copied slots to thieves of `dst`.
                    dst.tail.store(dt.wrapping_add(n - 1), Ordering::Release);
                }
                // SAFETY: the CAS transferred all `n` references to us; `n - 1` now sit in
                // `dst`, and this one is returned.
                return Some(unsafe { GRef::from_raw(last) });
            }
        }
    }
}

impl Drop for LocalQueue {
    fn drop(&mut self) {
        while let Some(g) = self.pop() {
            drop(g);
        }
    }
}

/// The global queue: goroutines made runnable outside a worker, and spills from full local
/// queues.
pub(crate) struct Injector {
    queue: Mutex<VecDeque<GRef>>,
    /// Length mirror for lock-free emptiness checks. Updated under the lock; SeqCst so the
    /// idle protocol (see `idle`) can order "pushed work" before "looked for sleepers".
    len: AtomicUsize,
}

impl Injector {
    pub(crate) fn new() -> Injector {
        Injector {
            queue: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::SeqCst) == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    pub(crate) fn push(&self, g: GRef) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.push_back(g);
        self.len.store(q.len(), Ordering::SeqCst);
    }

    pub(crate) fn push_batch(&self, batch: Vec<GRef>) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.extend(batch);
        self.len.store(q.len(), Ordering::SeqCst);
    }

    /// Gives back the memory of a queue that grew in a burst and is mostly empty now: the
    /// buffer keeps the room for the largest burst otherwise (8 bytes a goroutine, 8 MiB
    /// after a million spawns from a plain thread). Called by the scavenger when it has
    /// nothing more to release (see `goroutine::stack`).
    pub(crate) fn shrink(&self) {
        const KEEP: usize = 4096;
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if q.capacity() > KEEP && q.len() < q.capacity() / 4 {
            let keep = (2 * q.len()).max(KEEP);
            q.shrink_to(keep);
        }
    }

    /// Takes one goroutine to run and moves up to `max` more into `local`.
    pub(crate) fn pop_batch(&self, local: &LocalQueue, max: usize) -> Option<GRef> {
        if self.is_empty() {
            return None;
        }
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let first = q.pop_front()?;
        let room = CAPACITY - local.len();
        for _ in 0..max.min(room) {
            match q.pop_front() {
                Some(g) => {
                    if let Err(g) = local.try_push(g) {
                        q.push_front(g);
                        break;
                    }
                }
                None => break,
            }
        }
        self.len.store(q.len(), Ordering::SeqCst);
        Some(first)
    }
}
