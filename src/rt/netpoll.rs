//! The netpoller: goroutines that wait for a socket to become readable or writable park,
//! and an epoll instance (through `mio`) tells the scheduler when to wake them (Go's
//! `runtime/netpoll.go`).
//!
//! # Descriptors
//!
//! Every socket of `goro::net` is registered once, edge-triggered, for reading and writing,
//! from its creation to its close, with a [`Desc`]: per direction, whether an edge was seen
//! and not yet consumed (`ready`), who waits, and the deadline. Descs live in chunks that
//! are never freed (Go's `pollCache`), so an event fetched by a poller just before its
//! socket closed still points to valid memory; the event's token carries the desc's
//! sequence number, which a close bumps, so a stale event is recognised and dropped.
//!
//! # No lost wake-up
//!
//! An I/O operation tries its system call first; on `WouldBlock` it waits for its
//! direction ([`Desc::wait`]): under the direction's lock, it consumes `ready` if set (an
//! edge came since the last wait: try again) or else lists itself as a waiter and parks. A
//! readiness event sets `ready` and takes the waiters under the same lock, then unparks them.
//! So an edge either comes before the waiter looks (it finds `ready` and retries the
//! system call), or after it listed itself (it is unparked; goro's park keeps the token if
//! the unpark comes before the park). Since the socket is edge-triggered, the kernel reports
//! an edge for every change that makes it readable (writable) again, after any `WouldBlock`;
//! a `ready` left set by an edge whose data was already consumed costs one spurious retry.
//!
//! # Who polls
//!
//! As in Go, nobody polls while no goroutine waits on a socket (`WAITERS`). Otherwise:
//!
//! - a worker that runs out of goroutines polls without blocking before it steals or
//!   sleeps (`poll_now`), and runs what that wakes;
//! - a worker going to sleep while goroutines wait on sockets blocks in the poller instead
//!   of on its thread (one worker at a time, `try_block`), for no longer than its nap or the
//!   next timer; waking it for work (`Worker::unpark_thread`) then goes through the poller's
//!   waker ([`notify`]);
//! - the monitor polls without blocking at each of its looks while no worker blocks in the
//!   poller, so goroutines waiting on sockets wake while every worker computes (Go's
//!   `sysmon` polls every 10 ms).
//!
//! Plain threads do not use the poller: they wait in `poll(2)` on the one socket
//! (`net::sys`), in slices, to see deadline changes and closes.

use std::io;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use super::goroutine;
use super::park::{self, Unparker};
use super::readiness::{Readiness, Registered};
use super::registry::Reason;

/// The waker's token; descs' tokens have a slot index below 2^32 in their high half.
const WAKER: Token = Token(usize::MAX);

/// Descs per chunk, and the most chunks: about a million sockets at once.
const CHUNK: usize = 256;
const MAX_CHUNKS: usize = 4096;

/// Events fetched per poll.
const EVENTS: usize = 256;

struct Poller {
    /// The epoll instance and its event buffer: one poller at a time.
    poll: Mutex<(Poll, Events)>,
    registry: Registry,
    waker: Waker,
    /// Whether a thread is blocked in the poll (so `notify` must wake it). SeqCst: see
    /// `try_block`.
    blocked: AtomicBool,
}

fn poller() -> io::Result<&'static Poller> {
    static POLLER: OnceLock<Poller> = OnceLock::new();
    if let Some(p) = POLLER.get() {
        return Ok(p);
    }
    let poll = Poll::new()?;
    let registry = poll.registry().try_clone()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let _ = POLLER.set(Poller {
        poll: Mutex::new((poll, Events::with_capacity(EVENTS))),
        registry,
        waker,
        blocked: AtomicBool::new(false),
    });
    Ok(POLLER.get().expect("set above"))
}

/// Goroutines parked on a socket now. SeqCst: a worker about to sleep reads it after the
/// idle protocol's fence (`worker::sleep`), and a goroutine counts itself before it parks.
static WAITERS: AtomicUsize = AtomicUsize::new(0);

/// Whether any goroutine waits on a socket (then someone must poll).
pub(crate) fn has_waiters() -> bool {
    WAITERS.load(Ordering::SeqCst) != 0
}

/// A socket's registration: see the module docs.
pub(crate) struct Desc {
    /// Bumped when the socket is closed, so that its stale events are ignored.
    seq: AtomicU32,
    read: Readiness<Unparker>,
    write: Readiness<Unparker>,
    /// Set by `close` (Go's `pollDesc.closing`): every wait fails from then on.
    closed: AtomicBool,
}

impl Desc {
    fn new() -> Desc {
        Desc {
            seq: AtomicU32::new(0),
            read: Readiness::new(),
            write: Readiness::new(),
            closed: AtomicBool::new(false),
        }
    }

    fn dir(&self, d: Direction) -> &Readiness<Unparker> {
        match d {
            Direction::Read => &self.read,
            Direction::Write => &self.write,
        }
    }
}

/// Reading or writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// The chunks of descs (module docs): filled in order, never freed.
static CHUNKS: [AtomicPtr<[Desc; CHUNK]>; MAX_CHUNKS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX_CHUNKS];

/// Free slots, and how many slots exist.
struct Slots {
    free: Vec<u32>,
    made: u32,
}

static SLOTS: Mutex<Slots> = Mutex::new(Slots {
    free: Vec::new(),
    made: 0,
});

fn slot(index: u32) -> Option<&'static Desc> {
    let chunk = CHUNKS.get(index as usize / CHUNK)?;
    // Acquire: pairs with the Release store that published the chunk (`alloc_slot`).
    let p = chunk.load(Ordering::Acquire);
    // SAFETY: a published chunk is a leaked, initialised array that is never freed.
    (!p.is_null()).then(|| unsafe { &(*p)[index as usize % CHUNK] })
}

fn alloc_slot() -> io::Result<u32> {
    let mut s = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = s.free.pop() {
        return Ok(i);
    }
    let i = s.made;
    if i as usize % CHUNK == 0 {
        let c = i as usize / CHUNK;
        if c >= MAX_CHUNKS {
            return Err(io::Error::other(format!(
                "goro::net: more than {} sockets open at once",
                MAX_CHUNKS * CHUNK
            )));
        }
        let chunk: Box<[Desc; CHUNK]> = Box::new(std::array::from_fn(|_| Desc::new()));
        // Release: pairs with the Acquire load in `slot`.
        CHUNKS[c].store(Box::into_raw(chunk), Ordering::Release);
    }
    s.made += 1;
    Ok(i)
}

/// A socket's registration with the poller, for as long as the socket is open: a slot
/// index and the sequence number it had when registered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Registration {
    index: u32,
    seq: u32,
}

impl Registration {
    /// Registers the socket `fd` (non-blocking already), edge-triggered, for both
    /// directions.
    pub(crate) fn new(fd: std::os::fd::RawFd) -> io::Result<Registration> {
        let p = poller()?;
        let index = alloc_slot()?;
        let desc = slot(index).expect("allocated");
        // Relaxed: the slot was handed to us by the free list's lock.
        let seq = desc.seq.load(Ordering::Relaxed);
        desc.read.reset();
        desc.write.reset();
        // Relaxed: published to the poller by the registration system call below, and to
        // other users of the socket by the socket's own hand-over.
        desc.closed.store(false, Ordering::Relaxed);
        let token = Token(((index as usize) << 32) | seq as usize);
        if let Err(e) = p.registry.register(
            &mut SourceFd(&fd),
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            SLOTS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .free
                .push(index);
            return Err(e);
        }
        Ok(Registration { index, seq })
    }

    fn desc(&self) -> &'static Desc {
        slot(self.index).expect("a registration's slot exists")
    }

    /// Deregisters the socket `fd` before it is closed, and frees the slot (its sequence
    /// number moves on, so events still in flight for it are dropped).
    pub(crate) fn deregister(self, fd: std::os::fd::RawFd) {
        let desc = self.desc();
        self.close();
        if let Ok(p) = poller() {
            let _ = p.registry.deregister(&mut SourceFd(&fd));
        }
        // Relaxed: the slot goes back through the free list's lock.
        desc.seq.fetch_add(1, Ordering::Relaxed);
        SLOTS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .free
            .push(self.index);
    }

    /// Marks the socket closed: every waiter wakes and fails, and so does every later wait
    /// (Go's `pollDesc.evict`).
    pub(crate) fn close(&self) {
        let desc = self.desc();
        // Release: pairs with the Acquire load in `is_closed`.
        desc.closed.store(true, Ordering::Release);
        wake(desc.read.interrupt());
        wake(desc.write.interrupt());
    }

    /// Whether `close` was called.
    pub(crate) fn is_closed(&self) -> bool {
        // Acquire: pairs with the Release store in `close`.
        self.desc().closed.load(Ordering::Acquire)
    }

    /// Go's `SetReadDeadline` / `SetWriteDeadline`: waiters of that direction look again.
    pub(crate) fn set_deadline(&self, d: Direction, deadline: Option<Instant>) {
        let dir = self.desc().dir(d);
        dir.set_deadline(deadline);
        wake(dir.interrupt());
    }

    /// The deadline set for direction `d`.
    pub(crate) fn deadline(&self, d: Direction) -> Option<Instant> {
        self.desc().dir(d).deadline()
    }

    /// Wakes the waiters of direction `d` without readiness (a context ended, see
    /// `net::Socket::wait_ctx`): they look at their conditions again.
    pub(crate) fn interrupt(&self, d: Direction) {
        // Relaxed: a stale registration (the socket was closed since) interrupts nobody.
        if self.desc().seq.load(Ordering::Relaxed) == self.seq {
            wake(self.desc().dir(d).interrupt());
        }
    }

    /// Waits, on the calling goroutine, until direction `d` may be ready, the deadline
    /// `until` (the earlier of the socket's deadline and the operation's timeout) passes, or
    /// `stop` says to stop. Returns `Ok` to retry the operation.
    ///
    /// # Errors
    ///
    /// `TimedOut` once the deadline passed; the error of `stop`; the closed socket's error.
    #[track_caller]
    pub(crate) fn wait(
        &self,
        d: Direction,
        until: Option<Instant>,
        stop: &dyn Fn() -> Option<io::Error>,
    ) -> io::Result<()> {
        let at = Location::caller();
        let desc = self.desc();
        let dir = desc.dir(d);
        let g = goroutine::current().expect("netpoll waits are for goroutines");
        let id = g.id();
        if self.is_closed() {
            return Err(closed_error());
        }
        if let Some(e) = stop() {
            return Err(e);
        }
        let deadline = earliest(dir.deadline(), until);
        if deadline.is_some_and(|t| t <= Instant::now()) {
            return Err(timed_out());
        }
        let generation = match dir.register(id, Unparker::current) {
            Registered::Ready => return Ok(()),
            Registered::Listed(generation) => generation,
        };
        // SeqCst: read by workers deciding whether to poll (`try_block`, `has_waiters`).
        // The worker running us reads it when it next looks for work or sleeps, after this.
        WAITERS.fetch_add(1, Ordering::SeqCst);
        let mut timed = deadline.map(park::TimedWait::new);
        while dir.still_waiting(id, generation) {
            match &mut timed {
                None => park::park_as(Reason::IoWait, at),
                Some(t) => {
                    if !t.park_as(Reason::IoWait, at) {
                        break;
                    }
                }
            }
        }
        drop(timed);
        WAITERS.fetch_sub(1, Ordering::SeqCst);
        dir.done(id);
        // Whatever woke us (readiness, a deadline, an interrupt, a close), the caller
        // retries its operation, which checks them all again.
        Ok(())
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The error of an operation on a socket closed with `close` (Go's `net.ErrClosed`).
pub(crate) fn closed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "use of closed network connection",
    )
}

/// The error of an operation whose deadline passed (Go's `os.ErrDeadlineExceeded`).
pub(crate) fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "i/o timeout")
}

/// Unparks the waiters taken from a direction.
fn wake(waiters: Vec<(u64, Unparker)>) {
    for (_, u) in waiters {
        u.unpark();
    }
}

/// Polls for events without blocking (if nobody else is polling) and wakes their waiters;
/// returns how many waiters it may have woken.
pub(crate) fn poll_now() -> usize {
    let Some(p) = POLLER_READY.get() else {
        return 0;
    };
    let Ok(mut guard) = p.poll.try_lock() else {
        return 0;
    };
    poll_locked(&mut guard, Some(Duration::ZERO))
}

/// Set once the poller exists, for the pollers' quick checks.
static POLLER_READY: OnceLock<&'static Poller> = OnceLock::new();

/// Takes the blocking poller's role if nobody holds it and a goroutine waits on a socket.
/// The caller must then `block`, and must have made `notify` reach it first: it sets its
/// `in_netpoll` flag before it announces that it sleeps (`worker::sleep`).
pub(crate) fn try_block() -> bool {
    let Some(p) = POLLER_READY.get() else {
        return false;
    };
    has_waiters()
        && p.blocked
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
}

/// Gives the role back without blocking (the worker found work first).
pub(crate) fn release_block() {
    if let Some(p) = POLLER_READY.get() {
        p.blocked.store(false, Ordering::SeqCst);
    }
}

/// Whether a worker holds the blocking poller's role.
pub(crate) fn blocker_active() -> bool {
    POLLER_READY
        .get()
        .is_some_and(|p| p.blocked.load(Ordering::SeqCst))
}

/// Blocks in the poller for at most `timeout` (or until `notify`), wakes the waiters of
/// what came, and gives the role back.
pub(crate) fn block(timeout: Option<Duration>) {
    let p = POLLER_READY.get().expect("try_block took the role");
    {
        let mut guard = p.poll.lock().unwrap_or_else(|e| e.into_inner());
        poll_locked(&mut guard, timeout);
    }
    p.blocked.store(false, Ordering::SeqCst);
}

/// Wakes a worker blocked in the poller (`Worker::unpark_thread`).
pub(crate) fn notify() {
    if let Some(p) = POLLER_READY.get() {
        let _ = p.waker.wake();
    }
}

fn poll_locked(guard: &mut MutexGuard<'_, (Poll, Events)>, timeout: Option<Duration>) -> usize {
    let (poll, events) = &mut **guard;
    if let Err(e) = poll.poll(events, timeout) {
        if e.kind() != io::ErrorKind::Interrupted {
            eprintln!("goro: the netpoller failed: {e}");
        }
        return 0;
    }
    let mut woken = 0;
    for ev in events.iter() {
        if ev.token() == WAKER {
            continue;
        }
        let key = ev.token().0;
        let (index, seq) = ((key >> 32) as u32, key as u32);
        let Some(desc) = slot(index) else { continue };
        // Relaxed: a stale event only sets `ready` on a recycled desc, which costs its new
        // socket one spurious retry; the check drops most of them.
        if desc.seq.load(Ordering::Relaxed) != seq {
            continue;
        }
        let failed = ev.is_error();
        if ev.is_readable() || ev.is_read_closed() || failed {
            woken += 1;
            wake(desc.read.fire());
        }
        if ev.is_writable() || ev.is_write_closed() || failed {
            woken += 1;
            wake(desc.write.fire());
        }
    }
    woken
}

/// Makes the poller known to the scheduler's quick checks once a socket is registered.
pub(crate) fn publish() -> io::Result<()> {
    let p = poller()?;
    let _ = POLLER_READY.set(p);
    Ok(())
}
