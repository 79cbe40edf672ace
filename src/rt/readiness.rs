//! One direction of a socket as the netpoller sees it (`rt::netpoll`): whether an edge came
//! that nobody consumed, who waits for the next one, and the deadline.
//!
//! # Why a readiness event and a parking waiter cannot miss each other
//!
//! The socket is registered edge-triggered, so the kernel reports an edge each time it
//! becomes readable (writable) again, and none while it stays so. A waiter tries its system
//! call first and comes here only after `WouldBlock`, so an edge for whatever arrives next
//! is still to come. Operations of one direction take turns (the socket's operation lock,
//! `net::Socket`, Go's `fdMutex`), from their first system call to their return: two edges
//! can fold into one `ready`, and a reader that consumed it may read less than they
//! announced, so no second reader may be waiting for the next edge meanwhile; in its turn
//! it tries its system call first, and sees what is left. Everything here is under one
//! lock:
//!
//! - the poller's [`fire`](Readiness::fire) sets `ready` and takes the waiter;
//! - a waiter's [`register`](Readiness::register) either consumes `ready` (an edge came
//!   since its system call failed, or since an earlier waiter consumed one: it retries the
//!   call) or lists itself.
//!
//! Because operations take turns, a direction has at most one waiter at a time, and it
//! has a slot rather than a list: nothing is allocated to wait (a list would keep a
//! buffer for every socket that ever had a waiter, the bulk of an idle connection's heap).
//!
//! So the edge for the data a waiter waits for is fired either before the waiter's
//! `register` (which then finds `ready`) or after (it finds the waiter listed and unparks
//! it). The unpark may come before the waiter parks: goro's park keeps the token, and the
//! waiter also checks [`still_waiting`](Readiness::still_waiting) under the lock before each
//! park. A waiter woken for an edge whose data another waiter took retries, gets
//! `WouldBlock`, and registers again, for the next edge; `ready` left set by an edge whose
//! data was already read costs one spurious retry. [`interrupt`](Readiness::interrupt)
//! (a deadline moved, a close, a context) wakes the waiter without readiness: it looks at
//! its conditions and retries.
//!
//! `tests/loom_netpoll.rs` model-checks this with loom: a poller firing edges and readers
//! taking turns, registering and parking, with no packet left unread while a reader sleeps
//! (without the turns, the model finds that lost wake-up).

use std::time::Instant;

use crate::loom::sync::Mutex;

/// The state of one direction; `W` is whom to wake (an `Unparker`).
pub(crate) struct Readiness<W> {
    state: Mutex<State<W>>,
}

struct State<W> {
    ready: bool,
    /// Whom to wake: one waiter at most (see the module docs). An edge or an interrupt
    /// takes it, which is how the waiter learns that it was woken.
    waiter: Option<W>,
    deadline: Option<Instant>,
}

/// What [`Readiness::register`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Registered {
    /// An edge was waiting: consumed, retry the system call.
    Ready,
    /// Listed as the waiter, with the deadline set then: park until `still_waiting` says
    /// not. A close, deadline change or interrupt that came before the listing woke nobody:
    /// the caller checks for them after listing (the deadline is this one, read under the
    /// same lock), and one that comes after wakes it.
    Listed(Option<Instant>),
}

impl<W> Readiness<W> {
    pub(crate) fn new() -> Readiness<W> {
        Readiness {
            state: Mutex::new(State {
                ready: false,
                waiter: None,
                deadline: None,
            }),
        }
    }

    fn lock(&self) -> crate::loom::sync::MutexGuard<'_, State<W>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Clears everything, for a new socket in a recycled slot.
    pub(crate) fn reset(&self) {
        let mut st = self.lock();
        st.ready = false;
        st.waiter = None;
        st.deadline = None;
    }

    /// Consumes an edge, or lists the waiter (made by `waker` only then).
    ///
    /// # Panics
    ///
    /// If another waiter is listed: the caller must hold its direction's turn.
    pub(crate) fn register(&self, waker: impl FnOnce() -> W) -> Registered {
        let mut st = self.lock();
        if st.ready {
            st.ready = false;
            return Registered::Ready;
        }
        assert!(
            st.waiter.is_none(),
            "two waiters on one socket direction: operations must take turns"
        );
        st.waiter = Some(waker());
        Registered::Listed(st.deadline)
    }

    /// Unlists the waiter without consuming an edge (it gives up before waiting: closed,
    /// deadline passed, context ended).
    pub(crate) fn cancel(&self) {
        self.lock().waiter = None;
    }

    /// Whether the waiter is still to be woken (no edge or interrupt took it off).
    pub(crate) fn still_waiting(&self) -> bool {
        self.lock().waiter.is_some()
    }

    /// Ends the wait: unlists the waiter if it is still listed (a deadline, a spurious
    /// wake-up) and consumes an edge that came meanwhile (the caller retries anyway).
    pub(crate) fn done(&self) {
        let mut st = self.lock();
        st.waiter = None;
        st.ready = false;
    }

    /// An edge came: sets `ready` and returns the waiter to wake.
    pub(crate) fn fire(&self) -> Option<W> {
        let mut st = self.lock();
        st.ready = true;
        st.waiter.take()
    }

    /// Wakes the waiter without readiness (it looks at its conditions again): returns
    /// it.
    pub(crate) fn interrupt(&self) -> Option<W> {
        self.lock().waiter.take()
    }

    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        self.lock().deadline = deadline;
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.lock().deadline
    }
}
