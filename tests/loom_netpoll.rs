//! Model test (loom) of a socket direction's readiness protocol, `src/rt/readiness.rs`:
//! goroutines reading a socket (try the system call, on `WouldBlock` register, park until
//! woken, retry) against the netpoller, which reports an edge for each arrival
//! (`Readiness::fire`) and unparks the waiters it takes.
//!
//! The file is compiled here through the loom seam (see `src/loom.rs`), so its lock is
//! loom's. The socket is a counter of unread packets; an arrival adds one and then fires,
//! as the kernel reports an edge after the data is queued. A waiter parks with loom's
//! thread parking, which keeps a token as goro's park does.
//!
//! The property is that no wake-up is lost: every reader gets its packet. A lost wake-up
//! leaves a reader parked with a packet unread, which loom reports as a deadlock.

#[path = "support/loom.rs"]
mod loom;

#[allow(dead_code)]
#[path = "../src/rt/readiness.rs"]
mod readiness;

use ::loom::sync::atomic::{AtomicUsize, Ordering};
use ::loom::sync::{Arc, Mutex};
use ::loom::thread::{self, Thread};
use readiness::{Readiness, Registered};

/// The socket: packets queued, its readiness, and the readers' turns (`net::Socket`'s
/// operation lock, a goro mutex there).
struct Socket {
    queued: AtomicUsize,
    ready: Readiness<Thread>,
    turn: Mutex<()>,
}

impl Socket {
    /// The read system call: takes a packet, or `None` for `WouldBlock`.
    fn try_read(&self) -> Option<()> {
        let mut n = self.queued.load(Ordering::SeqCst);
        while n > 0 {
            match self
                .queued
                .compare_exchange(n, n - 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return Some(()),
                Err(m) => n = m,
            }
        }
        None
    }

    /// A packet arrives: queued, then the edge is reported and the waiters woken.
    fn arrive(&self) {
        self.queued.fetch_add(1, Ordering::SeqCst);
        if let Some(t) = self.ready.fire() {
            t.unpark();
        }
    }

    /// A reader's loop (`net::Socket::io` and `netpoll::Registration::wait`).
    fn read(&self) {
        let _turn = self.turn.lock().unwrap();
        loop {
            if self.try_read().is_some() {
                return;
            }
            match self.ready.register(thread::current) {
                Registered::Ready => continue,
                Registered::Listed(_deadline) => {
                    while self.ready.still_waiting() {
                        thread::park();
                    }
                    self.ready.done();
                }
            }
        }
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = ::loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

#[test]
fn one_reader_one_packet() {
    model(|| {
        let s = Arc::new(Socket {
            queued: AtomicUsize::new(0),
            ready: Readiness::new(),
            turn: Mutex::new(()),
        });
        let reader = {
            let s = s.clone();
            thread::spawn(move || s.read())
        };
        s.arrive();
        reader.join().unwrap();
    });
}

#[test]
fn two_readers_two_packets() {
    model(|| {
        let s = Arc::new(Socket {
            queued: AtomicUsize::new(0),
            ready: Readiness::new(),
            turn: Mutex::new(()),
        });
        let readers: Vec<_> = (1..=2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || s.read())
            })
            .collect();
        s.arrive();
        s.arrive();
        for r in readers {
            r.join().unwrap();
        }
    });
}

#[test]
fn an_interrupt_wakes_without_losing_the_packet() {
    // A deadline moved (an interrupt) while a reader waits: it looks again, and still gets
    // the packet that arrives after.
    model(|| {
        let s = Arc::new(Socket {
            queued: AtomicUsize::new(0),
            ready: Readiness::new(),
            turn: Mutex::new(()),
        });
        let reader = {
            let s = s.clone();
            thread::spawn(move || s.read())
        };
        if let Some(t) = s.ready.interrupt() {
            t.unpark();
        }
        s.arrive();
        reader.join().unwrap();
    });
}

#[test]
fn a_close_is_never_missed() {
    // `close` stores its flag, then interrupts; a reader looks at the flag after listing
    // itself (`netpoll::Registration::wait`), so either sees it or is woken.
    model(|| {
        let s = Arc::new(Socket {
            queued: AtomicUsize::new(0),
            ready: Readiness::new(),
            turn: Mutex::new(()),
        });
        let closed = Arc::new(::loom::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (s, closed) = (s.clone(), closed.clone());
            thread::spawn(move || loop {
                if s.try_read().is_some() {
                    return;
                }
                if closed.load(Ordering::Acquire) {
                    return;
                }
                match s.ready.register(thread::current) {
                    Registered::Ready => continue,
                    Registered::Listed(_) => {
                        if closed.load(Ordering::Acquire) {
                            s.ready.cancel();
                            return;
                        }
                        while s.ready.still_waiting() {
                            thread::park();
                        }
                        s.ready.done();
                    }
                }
            })
        };
        closed.store(true, Ordering::Release);
        if let Some(t) = s.ready.interrupt() {
            t.unpark();
        }
        reader.join().unwrap();
    });
}
