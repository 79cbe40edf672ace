//! Futures from goroutines: [`block_on`].

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::rt::park::{self, Unparker};
use crate::rt::registry::Reason;

/// Runs `fut` to completion on the calling goroutine and returns its output.
///
/// While the future is pending, only the goroutine parks: its worker goes on running other
/// goroutines, and the future's waker makes the goroutine runnable again. On a plain thread
/// the thread blocks, as `futures::executor::block_on` does.
///
/// The future is polled here, on the goroutine; it brings no reactor of its own. Futures
/// that need one (tokio's sockets and timers) must run where it is: spawn them on their
/// runtime and await the join handle, which needs none (`handle.spawn(fut)`, then
/// `block_on` of the `JoinHandle`). Goro's own futures (`recv_async`, `send_async`, an
/// awaited goroutine or pool job, `Context::done_async`) need nothing.
///
/// ```
/// let rt = tokio::runtime::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let h = goro::go(move || {
///     // An async API, called from a goroutine.
///     let task = handle.spawn(async { 6 * 7 });
///     goro::block_on(task).unwrap()
/// });
/// assert_eq!(h.join().unwrap(), 42);
/// ```
///
/// Calling it on a thread that runs async tasks blocks that thread: with the `tokio`
/// feature, goro panics instead on a tokio runtime's thread (see the crate docs, "Async
/// Rust").
#[track_caller]
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let at = Location::caller();
    let mut fut = pin!(fut);
    let signal = Signal::current(true);
    let waker = Waker::from(signal.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        while !signal.take() {
            park::park_as(Reason::Await, at);
        }
    }
}

/// The waker of a [`block_on`] (and of a `select!`'s future cases): a flag, and the
/// goroutine or thread to unpark.
pub(crate) struct Signal {
    unparker: Unparker,
    woken: AtomicBool,
}

impl Signal {
    /// A signal for the calling goroutine or thread, about to wait for it (or, if
    /// `may_wait` is false, perhaps not at all).
    pub(crate) fn current(may_wait: bool) -> Arc<Signal> {
        Arc::new(Signal {
            unparker: if may_wait {
                Unparker::current()
            } else {
                Unparker::current_unchecked()
            },
            woken: AtomicBool::new(false),
        })
    }

    /// Whether the waker was woken since the last `take`; clears it.
    pub(crate) fn take(&self) -> bool {
        // Acquire: pairs with the AcqRel swap in `wake_by_ref`, so the poll after a wake-up
        // sees what was done before it.
        self.woken.swap(false, Ordering::Acquire)
    }

    /// Whether the waker was woken since the last `take`.
    pub(crate) fn is_woken(&self) -> bool {
        // Acquire: as in `take`.
        self.woken.load(Ordering::Acquire)
    }
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // AcqRel: Release publishes what the waker did to the poll that follows (Acquire in
        // `block_on`); only the wake that sets the flag unparks, later ones find it set and
        // the waiter not yet back in `park`, or about to see the flag.
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.unparker.unpark();
        }
    }
}
