//! The buffer of a bounded channel: a lock-free ring of slots.
//!
//! Senders and receivers of a buffered channel meet here without the channel lock: a sender
//! reserves the slot at `tail` with one CAS, writes its value and publishes it through the
//! slot's `stamp`; a receiver reserves the slot at `head` the same way, reads the value and
//! frees the slot for the next lap. A sender touches `tail` and receivers touch `head`, each
//! on its own cache line, and a slot's line moves between them once per few values instead
//! of a lock word moving on every operation, which is what makes the ring scale when both
//! ends run on different cores. (This is the bounded MPMC queue of Dmitry Vyukov, in the
//! shape crossbeam-channel's `array` flavour gives it; the blocking layer around it is
//! goro's, see `flavor/lockfree.rs`.)
//!
//! # Positions and stamps
//!
//! `head` and `tail` are positions: a lap number in the high bits (a multiple of
//! `one_lap`), an index below `mark_bit`, and, in `tail` only, `mark_bit` itself once the
//! channel is closed. A slot's stamp says whose turn it is:
//!
//! - `stamp == tail` (the position a sender would write at): free for that sender;
//! - `stamp == head + 1`: holds the value for the receiver at `head`;
//! - after reading at position `p`, the receiver stores `p + one_lap`: free for the sender
//!   one lap later.
//!
//! A sender that finds the slot still holding last lap's value compares `head` with `tail`
//! to tell "full" from "a receiver is reading it right now"; a receiver that finds its slot
//! not yet written compares `tail` with `head` to tell "empty" from "a sender is writing it
//! right now". In the second case of each, the other party is between two instructions of
//! its own operation and finishes in a moment: wait for it with [`Backoff`].

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{fence, AtomicUsize, Ordering};

/// Keeps a value on a cache line of its own (two lines: adjacent-line prefetching pairs
/// them on x86).
#[repr(align(128))]
struct Padded<T>(T);

struct Slot<T> {
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// Why a push did not happen; the value stayed where it was.
pub(crate) enum PushError {
    Full,
    Closed,
}

/// Why a pop did not happen.
pub(crate) enum PopError {
    Empty,
    /// Closed, and every value sent before the close has been received.
    Closed,
}

pub(crate) struct Ring<T> {
    /// The next position to receive from.
    head: Padded<AtomicUsize>,
    /// The next position to send to, with `mark_bit` set once closed.
    tail: Padded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    /// The lowest bit above the index bits; set in `tail` when the channel is closed.
    mark_bit: usize,
    /// One lap: the next bit above `mark_bit`.
    one_lap: usize,
}

// SAFETY: a value moves from one sender to one receiver through a slot, and the stamp
// protocol (module docs) gives each slot exactly one accessor at a time; `T: Send` is what
// moving values between threads needs.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// A ring of `cap` slots, `cap >= 1`.
    pub(crate) fn new(cap: usize) -> Ring<T> {
        assert!(cap >= 1, "a ring has at least one slot");
        let mark_bit = (cap + 1).next_power_of_two();
        let slots = (0..cap)
            .map(|i| Slot {
                // Slot `i` is free for the sender at position `i` of lap 0.
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
            slots,
            mark_bit,
            one_lap: mark_bit * 2,
        }
    }

    /// The memory one slot takes.
    pub(crate) fn slot_bytes() -> usize {
        std::mem::size_of::<Slot<T>>()
    }

    /// The position after `pos` (which has no mark bit).
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.mark_bit - 1);
        if index + 1 < self.slots.len() {
            pos + 1
        } else {
            // Index 0 of the next lap.
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    fn slot(&self, pos: usize) -> &Slot<T> {
        &self.slots[pos & (self.mark_bit - 1)]
    }

    /// Sends the value at `v` if there is room and the ring is not closed: copies it into
    /// its slot, once. On `Ok` the value belongs to the ring; on `Err` nothing was read.
    ///
    /// The successful reservation is a SeqCst CAS on `tail`: the channel orders it before
    /// its SeqCst look at the receivers' waiting flag (see `flavor/lockfree.rs`).
    ///
    /// # Safety
    ///
    /// `v` points to a valid `T` that the caller owns and, on `Ok`, gives up (it must not
    /// drop or use it any more).
    #[inline]
    pub(crate) unsafe fn push(&self, v: *const T) -> Result<(), PushError> {
        let mut backoff = Backoff::new();
        let mut tail = self.tail.0.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return Err(PushError::Closed);
            }
            let slot = self.slot(tail);
            // Acquire: pairs with the Release store of the receiver that freed the slot, so
            // its read of the old value is done before we overwrite it.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                // SeqCst: the reservation takes part in the waiting-flag protocol (above).
                match self.tail.0.compare_exchange_weak(
                    tail,
                    self.next(tail),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: winning the CAS at a slot whose stamp is `tail` makes us
                        // its only accessor until we publish the new stamp; `v` is a valid
                        // `T` whose ownership the caller hands over (function contract),
                        // and a slot of the ring cannot overlap the caller's value.
                        unsafe {
                            std::ptr::copy_nonoverlapping(v, (*slot.value.get()).as_mut_ptr(), 1)
                        };
                        // Release: pairs with the Acquire stamp load of the receiver at this
                        // position, publishing the value.
                        slot.stamp.store(tail + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(t) => {
                        tail = t;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds last lap's value. SeqCst fence: pairs with the
                // SeqCst head CAS of receivers (and the channel's SeqCst flag store), so a
                // "full" answer is not based on a stale head.
                fence(Ordering::SeqCst);
                let head = self.head.0.load(Ordering::Relaxed);
                if head.wrapping_add(self.one_lap) == tail {
                    return Err(PushError::Full);
                }
                // A receiver has reserved that value and is reading it.
                backoff.snooze();
                tail = self.tail.0.load(Ordering::Relaxed);
            } else {
                // Another sender took this position; look again.
                backoff.spin();
                tail = self.tail.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Receives the oldest value, if any, into `dst`: copies it out of its slot, once. On
    /// `Err` nothing was written.
    ///
    /// The successful reservation is a SeqCst CAS on `head`, ordered before the channel's
    /// look at the senders' waiting flag (see `flavor/lockfree.rs`).
    ///
    /// # Safety
    ///
    /// `dst` is valid for writing a `T` (its old contents, if any, are overwritten without
    /// being dropped).
    #[inline]
    pub(crate) unsafe fn pop(&self, dst: *mut T) -> Result<(), PopError> {
        let mut backoff = Backoff::new();
        let mut head = self.head.0.load(Ordering::Relaxed);
        loop {
            let slot = self.slot(head);
            // Acquire: pairs with the sender's Release stamp store, making the value visible.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == head + 1 {
                // SeqCst: the reservation takes part in the waiting-flag protocol (above).
                match self.head.0.compare_exchange_weak(
                    head,
                    self.next(head),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: winning the CAS at a slot whose stamp is `head + 1` makes us
                        // its only accessor, and the sender initialised it (stamp Acquire);
                        // `dst` is valid for a write (function contract) and outside the
                        // ring. The slot counts as empty from the stamp store below on.
                        unsafe {
                            std::ptr::copy_nonoverlapping((*slot.value.get()).as_ptr(), dst, 1)
                        };
                        // Release: pairs with the Acquire stamp load of the sender one lap
                        // later: our read happens before its write.
                        slot.stamp
                            .store(head.wrapping_add(self.one_lap), Ordering::Release);
                        return Ok(());
                    }
                    Err(h) => {
                        head = h;
                        backoff.spin();
                    }
                }
            } else if stamp == head {
                // Not written this lap. SeqCst fence: pairs with the SeqCst tail CAS of
                // senders (and the channel's SeqCst flag store), as in `push`.
                fence(Ordering::SeqCst);
                let tail = self.tail.0.load(Ordering::Relaxed);
                if tail & !self.mark_bit == head {
                    return Err(if tail & self.mark_bit != 0 {
                        PopError::Closed
                    } else {
                        PopError::Empty
                    });
                }
                // A sender has reserved this slot and is writing it.
                backoff.snooze();
                head = self.head.0.load(Ordering::Relaxed);
            } else {
                // Another receiver took this position; look again.
                backoff.spin();
                head = self.head.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Marks the ring closed; false if it already was. Values already sent stay receivable.
    pub(crate) fn close(&self) -> bool {
        // SeqCst: a sender's CAS either precedes the mark (its value is in) or fails on it.
        self.tail.0.fetch_or(self.mark_bit, Ordering::SeqCst) & self.mark_bit == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        // SeqCst: ordered with the `close` fetch_or.
        self.tail.0.load(Ordering::SeqCst) & self.mark_bit != 0
    }

    /// A number that changes whenever a value is sent or received, or the ring is closed:
    /// the sum of both positions, which only move forward (wrapping after 2^64 moves), so
    /// two equal readings mean that nothing moved in between (`select`'s non-blocking
    /// poll, `select::settle`).
    pub(crate) fn version(&self) -> usize {
        // SeqCst: in the single total order with the SeqCst compare-and-swaps that move the
        // positions (`push`, `pop`) and the `fetch_or` of `close`, so a move between two
        // readings is seen by the second.
        let head = self.head.0.load(Ordering::SeqCst);
        head.wrapping_add(self.tail.0.load(Ordering::SeqCst))
    }

    /// The number of slots.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The number of values in the ring (a snapshot).
    pub(crate) fn len(&self) -> usize {
        loop {
            // SeqCst: a consistent pair, re-checked below.
            let tail = self.tail.0.load(Ordering::SeqCst);
            let head = self.head.0.load(Ordering::SeqCst);
            if self.tail.0.load(Ordering::SeqCst) != tail {
                continue;
            }
            let (hix, tix) = (head & (self.mark_bit - 1), tail & (self.mark_bit - 1));
            let cap = self.slots.len();
            return if hix < tix {
                tix - hix
            } else if hix > tix {
                cap - hix + tix
            } else if tail & !self.mark_bit == head {
                0
            } else {
                cap
            };
        }
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // Values sent and never received are dropped with the channel, all of them even if
        // one's `Drop` panics (as `Vec` does): the rest are dropped while unwinding.
        let head = *self.head.0.get_mut();
        let tail = *self.tail.0.get_mut() & !self.mark_bit;
        let mut rest = Unreceived {
            ring: self,
            pos: head,
            tail,
        };
        rest.drop_all();
    }
}

/// The values of a ring being dropped that are not dropped yet, from `pos` to `tail`.
struct Unreceived<'a, T> {
    ring: &'a mut Ring<T>,
    pos: usize,
    tail: usize,
}

impl<T> Unreceived<'_, T> {
    fn drop_all(&mut self) {
        while self.pos != self.tail {
            let index = self.pos & (self.ring.mark_bit - 1);
            // Step past the slot first: if its value panics while dropping, the unwind
            // (`Drop for Unreceived`) goes on from the next one.
            self.pos = self.ring.next(self.pos);
            let slot = &mut self.ring.slots[index];
            // SAFETY: the ring is being dropped (`&mut`), so no operation is in flight and
            // every slot between head and tail holds a value written by a completed push;
            // each is visited once, as `pos` moves past it before the drop.
            unsafe { slot.value.get_mut().assume_init_drop() };
        }
    }
}

impl<T> Drop for Unreceived<'_, T> {
    fn drop(&mut self) {
        // Only reached with values left when one of them panicked in `drop_all`. A second
        // panic here aborts the process, as for a `Vec`.
        self.drop_all();
    }
}

/// Waiting for another thread to finish a step it has started (not for the channel to
/// change state: that is what the waiter queues are for).
struct Backoff {
    step: u32,
}

impl Backoff {
    fn new() -> Backoff {
        Backoff { step: 0 }
    }

    /// After a lost CAS: a short pause, growing a little.
    fn spin(&mut self) {
        for _ in 0..(1u32 << self.step.min(4)) {
            std::hint::spin_loop();
        }
        self.step = (self.step + 1).min(6);
    }

    /// While another thread is inside its push or pop: pause, and after a few rounds give
    /// the CPU away (that thread may have been descheduled mid-operation).
    fn snooze(&mut self) {
        if self.step <= 6 {
            for _ in 0..(1u32 << self.step) {
                std::hint::spin_loop();
            }
            self.step += 1;
        } else {
            std::thread::yield_now();
        }
    }
}
