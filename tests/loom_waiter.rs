//! Model test (loom) of the channel waiter queues, `src/chan/waiter.rs`: blocked receivers
//! and selects, wakers racing to complete them, and close.
//!
//! The file is compiled here against loom's atomics, through the loom seam (see `src/loom.rs`;
//! `support/loom.rs` is its loom side), and against loom's thread parking (the `rt::park`
//! module below stands in for goro's); the channel lock is a loom `Mutex` around each queue,
//! as the channel holds its lock around every queue operation.

#[path = "support/loom.rs"]
mod loom;

mod rt {
    pub(crate) mod park {
        /// goro's `Unparker`, for loom threads.
        #[derive(Clone)]
        pub(crate) struct Unparker(::loom::thread::Thread);

        impl Unparker {
            pub(crate) fn current() -> Unparker {
                Unparker(::loom::thread::current())
            }

            pub(crate) fn unpark(&self) {
                self.0.unpark();
            }
        }

        /// goro's `WaiterRef`: here simply an owned handle.
        pub(crate) struct WaiterRef(Unparker);

        impl WaiterRef {
            pub(crate) fn current() -> WaiterRef {
                WaiterRef(Unparker::current())
            }

            /// goro's takes async tasks' wakers out; the models have none.
            pub(crate) fn take_waker(_slot: &mut Option<WaiterRef>) -> Option<std::task::Waker> {
                None
            }

            /// As goro's: `this` may be freed by `publish`, so it is read before.
            pub(crate) unsafe fn wake_with(this: *const WaiterRef, publish: impl FnOnce()) {
                // SAFETY: valid until `publish` (the caller's contract).
                let u = unsafe { (*this).0.clone() };
                publish();
                u.unpark();
            }
        }

        use super::registry::Reason;
        use std::panic::Location;

        pub(crate) fn park_as(_reason: Reason, _at: &'static Location<'static>) {
            ::loom::thread::park();
        }

        /// goro's timed wait: the models use no deadline, so it is never reached here.
        pub(crate) struct TimedWait;

        impl TimedWait {
            pub(crate) fn new(_deadline: std::time::Instant) -> TimedWait {
                TimedWait
            }

            pub(crate) fn park_as(
                &mut self,
                _reason: Reason,
                _at: &'static Location<'static>,
            ) -> bool {
                ::loom::thread::park();
                true
            }
        }
    }

    /// goro's wait reasons (the models record none).
    pub(crate) mod registry {
        #[derive(Clone, Copy)]
        pub(crate) enum Reason {
            ChanReceive,
            Select,
        }
    }
}

#[allow(dead_code)]
#[path = "../src/chan/waiter.rs"]
mod waiter;

use std::cell::UnsafeCell;

use ::loom::sync::{Arc, Mutex};
use ::loom::thread;
use waiter::{Queue, Token, Waiter, CLOSED, DONE, NONE};

/// A receiver's destination: 0 until a sender writes a value there (the models send
/// non-zero values).
struct Dest(UnsafeCell<u32>);

impl Dest {
    fn new() -> Dest {
        Dest(UnsafeCell::new(0))
    }

    fn ptr(&self) -> *mut u32 {
        self.0.get()
    }

    /// The value received, once the waiter is completed or unlinked.
    fn get(&self) -> Option<u32> {
        // SAFETY: called once no sender can reach the waiter any more (its state was read
        // with Acquire, or it unlinked itself under the lock).
        Some(unsafe { *self.0.get() }).filter(|&v| v != 0)
    }
}

/// A queue under its channel lock.
struct Chan(Mutex<Queue<u32>>);

// SAFETY (test): the queue's raw pointers are only used under the mutex, while the waiters
// they point to are linked, exactly as in the channel.
unsafe impl Send for Chan {}
// SAFETY (test): as above.
unsafe impl Sync for Chan {}

impl Chan {
    fn new() -> Arc<Chan> {
        Arc::new(Chan(Mutex::new(Queue::new())))
    }

    /// A sender meeting a blocked receiver: writes the value into the receiver's
    /// destination under the lock, as the channel does; returns the value if none was there.
    fn send(&self, v: u32) -> Result<(), u32> {
        let mut q = self.0.lock().unwrap();
        match q.pop_receiver() {
            Some((dst, wake)) => {
                // SAFETY: the receiver was linked until now, so its destination is valid and
                // only ours until `wake` publishes the completion.
                unsafe { dst.write(v) };
                drop(q);
                wake.wake();
                Ok(())
            }
            None => Err(v),
        }
    }

    fn close(&self) {
        let mut wakes = waiter::Wakes::new();
        self.0.lock().unwrap().close_all(&mut wakes);
        wakes.wake_all();
    }
}

#[test]
fn a_blocked_receiver_gets_exactly_the_value_sent() {
    ::loom::model(|| {
        let ch = Chan::new();
        let dst = Dest::new();
        let w = Waiter::new(dst.ptr());
        // SAFETY: `w` is unlinked (by the sender) before this model ends: we wait for it.
        unsafe { ch.0.lock().unwrap().push(&w) };
        let sender = {
            let ch = ch.clone();
            thread::spawn(move || ch.send(7))
        };
        let state = w
            .wait(None, rt::registry::Reason::ChanReceive)
            .expect("no deadline");
        assert_eq!(state, DONE);
        assert_eq!(dst.get(), Some(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn close_racing_a_sender_completes_the_receiver_once() {
    ::loom::model(|| {
        let ch = Chan::new();
        let dst = Dest::new();
        let w = Waiter::new(dst.ptr());
        // SAFETY: as above.
        unsafe { ch.0.lock().unwrap().push(&w) };
        let sender = {
            let ch = ch.clone();
            thread::spawn(move || ch.send(7))
        };
        let closer = {
            let ch = ch.clone();
            thread::spawn(move || ch.close())
        };
        let state = w
            .wait(None, rt::registry::Reason::ChanReceive)
            .expect("no deadline");
        let sent = sender.join().unwrap();
        closer.join().unwrap();
        match state {
            DONE => {
                assert_eq!(dst.get(), Some(7));
                assert_eq!(sent, Ok(()));
            }
            CLOSED => {
                assert_eq!(dst.get(), None);
                assert_eq!(sent, Err(7), "the value goes back to its sender");
            }
            s => panic!("state {s}"),
        }
    });
}

#[test]
fn a_select_over_two_channels_takes_exactly_one_value() {
    ::loom::model(|| {
        let (c1, c2) = (Chan::new(), Chan::new());
        let token = Token::new();
        let (d1, d2) = (Dest::new(), Dest::new());
        let w1 = Waiter::for_select(d1.ptr(), &token, 0);
        let w2 = Waiter::for_select(d2.ptr(), &token, 1);
        // SAFETY: both are unlinked before this model ends (pass 3 below, or a waker).
        unsafe {
            c1.0.lock().unwrap().push(&w1);
            c2.0.lock().unwrap().push(&w2);
        }
        let s1 = {
            let c1 = c1.clone();
            thread::spawn(move || c1.send(1))
        };
        let s2 = {
            let c2 = c2.clone();
            thread::spawn(move || c2.send(2))
        };
        while token.selected() == NONE {
            ::loom::thread::park();
        }
        // The winner's waker publishes its state after unlocking: wait for it.
        let winner = token.selected();
        let state = if winner == 0 {
            w1.completed(rt::registry::Reason::Select)
        } else {
            w2.completed(rt::registry::Reason::Select)
        };
        assert_eq!(state, DONE);
        // Pass 3: under both locks, unlink the loser and read the winner.
        let (mut q1, mut q2) = (c1.0.lock().unwrap(), c2.0.lock().unwrap());
        q1.remove(&w1);
        q2.remove(&w2);
        drop((q1, q2));
        let got = if winner == 0 { d1.get() } else { d2.get() };
        let (r1, r2) = (s1.join().unwrap(), s2.join().unwrap());
        assert_eq!(got, Some(winner as u32 + 1));
        // The losing sender found no claimable receiver and kept its value.
        if winner == 0 {
            assert_eq!((r1, r2), (Ok(()), Err(2)));
        } else {
            assert_eq!((r1, r2), (Err(1), Ok(())));
        }
    });
}

#[test]
fn a_receiver_giving_up_as_it_is_completed_still_gets_the_value() {
    ::loom::model(|| {
        let ch = Chan::new();
        let dst = Dest::new();
        let w = Waiter::new(dst.ptr());
        // SAFETY: `w` is unlinked before this model ends: by itself below, or by the sender.
        unsafe { ch.0.lock().unwrap().push(&w) };
        let sender = {
            let ch = ch.clone();
            thread::spawn(move || ch.send(7))
        };
        // The deadline passes: unlink ourselves, unless the sender already has, in which
        // case its completion is ours once it publishes it.
        let linked = ch.0.lock().unwrap().remove(&w);
        let got = if linked {
            None
        } else {
            assert_eq!(w.completed(rt::registry::Reason::Select), DONE);
            dst.get()
        };
        match (got, sender.join().unwrap()) {
            (Some(7), Ok(())) | (None, Err(7)) => {}
            other => panic!("received and sent disagree: {other:?}"),
        }
    });
}

#[test]
fn a_select_timing_out_as_a_sender_arrives_decides_once() {
    ::loom::model(|| {
        let ch = Chan::new();
        let token = Token::new();
        let dst = Dest::new();
        let w = Waiter::for_select(dst.ptr(), &token, 0);
        // SAFETY: `w` is unlinked before this model ends (below, or by the sender).
        unsafe { ch.0.lock().unwrap().push(&w) };
        let sender = {
            let ch = ch.clone();
            thread::spawn(move || ch.send(1))
        };
        // The deadline passes: the select claims its token for no case, unless the sender
        // claimed it first.
        let got = if token.time_out() {
            None
        } else {
            assert_eq!(token.selected(), 0);
            assert_eq!(w.completed(rt::registry::Reason::Select), DONE);
            dst.get()
        };
        ch.0.lock().unwrap().remove(&w);
        match (got, sender.join().unwrap()) {
            (Some(1), Ok(())) | (None, Err(1)) => {}
            other => panic!("selected and sent disagree: {other:?}"),
        }
    });
}
