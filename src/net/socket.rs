//! What every `goro::net` type is: a non-blocking socket registered with the netpoller, and
//! the loop of an operation that would block (`Socket::io`).

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::context::{Context, ContextError};
use crate::rt::goroutine;
use crate::rt::netpoll::{self, Direction, Registration};

use super::turn::Turn;

/// How long a plain thread waits in `poll(2)` before it looks again at the socket's
/// deadline and whether it was closed (which `poll` does not see).
const THREAD_SLICE: Duration = Duration::from_millis(20);

/// A socket of type `S` (a `std::net` socket, non-blocking) and its registration.
pub(crate) struct Socket<S: AsRawFd> {
    inner: Option<S>,
    reg: Registration,
    /// One operation per direction at a time, from its first system call to its return
    /// (Go's `fdMutex`): the netpoller reports edges, and an edge consumed by one reader
    /// may announce more data than it reads, so a second reader must not be waiting for the
    /// next edge meanwhile; queued here, it tries its system call first once its turn
    /// comes (see `rt/readiness.rs`).
    read_op: Turn,
    write_op: Turn,
    /// `std`'s per-operation timeouts, in nanoseconds (0: none). Relaxed: settings.
    read_timeout: AtomicU64,
    write_timeout: AtomicU64,
}

impl<S: AsRawFd> Socket<S> {
    /// Takes `inner` (made non-blocking by the caller) and registers it.
    pub(crate) fn new(inner: S) -> io::Result<Socket<S>> {
        netpoll::publish()?;
        let reg = Registration::new(inner.as_raw_fd())?;
        Ok(Socket {
            inner: Some(inner),
            reg,
            read_op: Turn::new(),
            write_op: Turn::new(),
            read_timeout: AtomicU64::new(0),
            write_timeout: AtomicU64::new(0),
        })
    }

    pub(crate) fn get(&self) -> &S {
        self.inner
            .as_ref()
            .expect("the socket is there until dropped")
    }

    fn fd(&self) -> RawFd {
        self.get().as_raw_fd()
    }

    /// Gives the socket back, deregistered (still non-blocking).
    pub(crate) fn into_inner(mut self) -> S {
        let inner = self
            .inner
            .take()
            .expect("the socket is there until dropped");
        self.reg.deregister(inner.as_raw_fd());
        std::mem::forget(self);
        inner
    }

    /// Runs `op` until it does not report `WouldBlock`, waiting for direction `d` in
    /// between (module docs of `rt::netpoll`): the deadline, the timeout and `close` apply.
    #[track_caller]
    pub(crate) fn io<R>(&self, d: Direction, op: impl FnMut(&S) -> io::Result<R>) -> io::Result<R> {
        self.io_until(d, None, &|| None, op)
    }

    /// [`io`](Self::io) that gives up when `ctx` ends, with the context's error.
    #[track_caller]
    pub(crate) fn io_ctx<R>(
        &self,
        d: Direction,
        ctx: &Context,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let reg = self.reg;
        // Wakes the waiters when the context ends; they then see it in `stop`.
        let stop_watch = ctx.after_func(move || reg.interrupt(d));
        let r = self.io_until(d, None, &|| ctx.err().map(context_error), op);
        stop_watch();
        r
    }

    /// The loop of `io`, with an extra deadline `until` and a `stop` condition.
    #[track_caller]
    pub(crate) fn io_until<R>(
        &self,
        d: Direction,
        until: Option<Instant>,
        stop: &dyn Fn() -> Option<io::Error>,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let timeout = match d {
            Direction::Read => self.read_timeout.load(Ordering::Relaxed),
            Direction::Write => self.write_timeout.load(Ordering::Relaxed),
        };
        let until = match timeout {
            0 => until,
            ns => earliest(until, Instant::now().checked_add(Duration::from_nanos(ns))),
        };
        let _turn = match d {
            Direction::Read => self.read_op.take(),
            Direction::Write => self.write_op.take(),
        };
        loop {
            if self.reg.is_closed() {
                return Err(netpoll::closed_error());
            }
            if let Some(e) = stop() {
                return Err(e);
            }
            // A deadline already past fails the operation even if it could complete now,
            // as Go's do (`pollDesc.prepare` checks the deadline before the operation).
            if self.reg.deadline(d).is_some_and(|t| t <= Instant::now()) {
                return Err(netpoll::timed_out());
            }
            match op(self.get()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
            self.wait(d, until, stop)?;
        }
    }

    /// Waits until direction `d` may be ready (then `Ok`: retry), or fails: deadline,
    /// `stop`, closed.
    #[track_caller]
    fn wait(
        &self,
        d: Direction,
        until: Option<Instant>,
        stop: &dyn Fn() -> Option<io::Error>,
    ) -> io::Result<()> {
        if goroutine::current().is_some() {
            return self.reg.wait(d, until, stop);
        }
        // A plain thread: `poll(2)` on this socket, in slices (the module constant).
        crate::rt::park::check_thread_may_block("a blocking goro::net operation");
        loop {
            if self.reg.is_closed() {
                return Err(netpoll::closed_error());
            }
            if let Some(e) = stop() {
                return Err(e);
            }
            let deadline = earliest(self.reg.deadline(d), until);
            let now = Instant::now();
            let slice = match deadline {
                Some(t) if t <= now => return Err(netpoll::timed_out()),
                Some(t) => (t - now).min(THREAD_SLICE),
                None => THREAD_SLICE,
            };
            let events = match d {
                Direction::Read => libc::POLLIN,
                Direction::Write => libc::POLLOUT,
            };
            let mut pfd = libc::pollfd {
                fd: self.fd(),
                events,
                revents: 0,
            };
            // Round up, so that a sub-millisecond rest does not spin.
            let ms = slice.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            // SAFETY: `pfd` is one valid `pollfd` for the duration of the call.
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n > 0 {
                return Ok(());
            }
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }

    /// Go's `Close` from any goroutine: see `net`'s module docs. `shutdown` is the
    /// socket's own (a listener has none).
    pub(crate) fn close(&self, shutdown: impl FnOnce(&S)) {
        if !self.reg.is_closed() {
            self.reg.close();
            // Plain threads in `poll(2)` see the close at once through the shutdown.
            shutdown(self.get());
        }
    }

    pub(crate) fn set_deadline(&self, d: Option<Direction>, deadline: Option<Instant>) {
        match d {
            Some(d) => self.reg.set_deadline(d, deadline),
            None => {
                self.reg.set_deadline(Direction::Read, deadline);
                self.reg.set_deadline(Direction::Write, deadline);
            }
        }
    }

    pub(crate) fn set_timeout(&self, d: Direction, t: Option<Duration>) -> io::Result<()> {
        let ns = match t {
            Some(t) if t.is_zero() => {
                // As `std`: a zero timeout is an error.
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "cannot set a 0 duration timeout",
                ));
            }
            Some(t) => u64::try_from(t.as_nanos()).unwrap_or(u64::MAX).max(1),
            None => 0,
        };
        match d {
            Direction::Read => self.read_timeout.store(ns, Ordering::Relaxed),
            Direction::Write => self.write_timeout.store(ns, Ordering::Relaxed),
        }
        Ok(())
    }

    pub(crate) fn timeout(&self, d: Direction) -> Option<Duration> {
        let ns = match d {
            Direction::Read => self.read_timeout.load(Ordering::Relaxed),
            Direction::Write => self.write_timeout.load(Ordering::Relaxed),
        };
        (ns != 0).then(|| Duration::from_nanos(ns))
    }
}

impl<S: AsRawFd> Drop for Socket<S> {
    fn drop(&mut self) {
        if let Some(inner) = &self.inner {
            self.reg.deregister(inner.as_raw_fd());
        }
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// A context's end as an I/O error: `TimedOut` for a deadline, `Other` otherwise.
fn context_error(e: ContextError) -> io::Error {
    let kind = match e {
        ContextError::DeadlineExceeded => io::ErrorKind::TimedOut,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}
