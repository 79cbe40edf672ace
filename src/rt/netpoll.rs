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
//! readiness event sets `ready` and takes the waiter under the same lock, then unparks it.
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
//!   sleeps (`poll_now`), and runs what that wakes (the first goroutine woken wakes no
//!   other worker, `worker::Machine::poll_for_self`); several may poll at once
//!   (`poll_events` waits on the epoll descriptor itself, so no lock is held across the
//!   wait), but not while a worker blocks in the poller (`blocker_active`): then it leaves
//!   the network to that worker, and if it finds no other work it sleeps on its thread, not
//!   in the poller once the role is free again (Go's `findRunnable`, which polls only while
//!   nobody blocks in `netpoll`, and lets a thread that found nothing block there only if
//!   nobody does). The kernel wakes the blocked worker at every event; had running workers
//!   polled beside it, each event would cost that wake-up for nothing; had the worker that
//!   left the network to it taken the role next, the two would trade it back and forth,
//!   each woken by the kernel in turn. With the rule, the worker woken by the poller
//!   becomes the one that runs and polls, the other stays asleep, and nobody blocks in the
//!   poller while the runner finds work. On one connection (`echo1`) this took the context
//!   switches from about 18,000 to 360 a run, and the CPU time from 1.4 to 0.84 s, below
//!   Go's. Liveness: an event that comes while the runner computes is seen by the monitor,
//!   which polls whenever nobody blocks (below), and by the runner when it next looks for
//!   work;
//! - a worker going to sleep while goroutines wait on sockets blocks in the poller instead
//!   of on its thread (one worker at a time, `try_block`, and not one that left the network
//!   to a blocked poller in the same search, above), for no longer than its nap or the
//!   next timer; waking it for work (`Worker::unpark_thread`) then goes through the poller's
//!   eventfd ([`notify`]), in an epoll instance of its own (`Poller::outer`) so that no
//!   other poller can take that wake-up;
//! - the monitor polls without blocking at a look if no worker blocks in the poller and
//!   nobody polled since its previous look ([`polls`]), so goroutines waiting on sockets
//!   wake while every worker computes, one or two of its periods late (Go's `sysmon` polls
//!   when nobody did for 10 ms). It leaves a network that workers serve alone: its poll
//!   takes events from under the worker about to poll for them, and hands their goroutines
//!   to the other worker, which it wakes. On `echo1`, where the one running worker polls
//!   at every hop and the monitor looked about every 5 ms, polling at each look cost 10% of
//!   the round trips and doubled the p99.
//!
//! Plain threads do not use the poller: they wait in `poll(2)` on the one socket
//! (`net::sys`), in slices, to see deadline changes and closes.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Poll, Registry, Token};

use super::goroutine;
use super::park::{self, Unparker};
use super::readiness::{Readiness, Registered};
use super::registry::Reason;

/// Descs per chunk, and the most chunks: about a million sockets at once.
const CHUNK: usize = 256;
const MAX_CHUNKS: usize = 4096;

/// Events fetched per poll (on the poller's stack).
const EVENTS: usize = 64;

struct Poller {
    /// The epoll instance of the sockets, whose descriptor the pollers wait on directly
    /// (`poll_events`).
    poll: Poll,
    registry: Registry,
    /// Where the blocking poller sleeps: an epoll instance watching the sockets' one (ready
    /// while it has events) and `wake`, an eventfd that `notify` writes. Kept apart from
    /// the sockets' instance, so that a worker polling that one without blocking cannot
    /// take a wake-up meant for the blocked poller.
    outer: OwnedFd,
    wake: OwnedFd,
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
    // SAFETY: a plain system call; the result is checked and owned at once.
    let outer = unsafe { owned(libc::epoll_create1(libc::EPOLL_CLOEXEC))? };
    // SAFETY: as above.
    let wake = unsafe { owned(libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC))? };
    for (fd, key) in [(poll.as_raw_fd(), 0u64), (wake.as_raw_fd(), 1)] {
        // Level-triggered: ready for as long as there are events (or a wake-up unread).
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: key,
        };
        // SAFETY: both descriptors are open and ours; `ev` is a valid event.
        if unsafe { libc::epoll_ctl(outer.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let _ = POLLER.set(Poller {
        poll,
        registry,
        outer,
        wake,
        blocked: AtomicBool::new(false),
    });
    Ok(POLLER.get().expect("set above"))
}

/// Takes ownership of a new descriptor, or the error that kept it from being made.
///
/// # Safety
///
/// `fd` is the result of a call that returns a new descriptor (or -1 with `errno` set).
unsafe fn owned(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor that nothing else owns (the caller's contract).
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Goroutines parked on a socket now. SeqCst: a worker about to sleep reads it after the
/// idle protocol's fence (`worker::sleep`), and a goroutine counts itself before it parks.
static WAITERS: AtomicUsize = AtomicUsize::new(0);

/// Whether any goroutine waits on a socket (then someone must poll).
pub(crate) fn has_waiters() -> bool {
    // SeqCst: pairs with the increments and decrements in `wait`.
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
        debug_assert!(
            goroutine::current().is_some(),
            "netpoll waits are for goroutines"
        );
        let deadline = match dir.register(Unparker::current) {
            Registered::Ready => return Ok(()),
            Registered::Listed(deadline) => deadline,
        };
        // Looked at after listing: a close, a context's end or a deadline change that came
        // before interrupted nobody (we were not listed yet), and one that comes after will
        // wake us (`rt/readiness.rs`). `close` stores its flag before it interrupts.
        let give_up = if self.is_closed() {
            Some(closed_error())
        } else {
            stop()
        };
        let deadline = earliest(deadline, until);
        let give_up = give_up.or_else(|| {
            deadline
                .is_some_and(|t| t <= Instant::now())
                .then(timed_out)
        });
        if let Some(e) = give_up {
            dir.cancel();
            return Err(e);
        }
        // SeqCst: read by workers deciding whether to poll (`try_block`, `has_waiters`).
        // The worker running us reads it when it next looks for work or sleeps, after this.
        WAITERS.fetch_add(1, Ordering::SeqCst);
        let mut timed = deadline.map(park::TimedWait::new);
        while dir.still_waiting() {
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
        // SeqCst: as the increment above.
        WAITERS.fetch_sub(1, Ordering::SeqCst);
        dir.done();
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

/// Unparks the waiter taken from a direction, if there was one.
fn wake(waiter: Option<Unparker>) {
    if let Some(u) = waiter {
        u.unpark();
    }
}

/// Polls for events without blocking and wakes their waiters; returns how many waiters it
/// may have woken. Several threads may poll at once, a blocked poller included: each edge
/// goes to one of them.
pub(crate) fn poll_now() -> usize {
    match POLLER_READY.get() {
        Some(p) => poll_events(p, Some(Duration::ZERO)),
        None => 0,
    }
}

/// Polls made so far, by anyone (`poll_events`).
static POLLS: AtomicUsize = AtomicUsize::new(0);

/// How many polls were made so far: the monitor polls only if nobody did since its last
/// look (module docs, "Who polls").
pub(crate) fn polls() -> usize {
    // Relaxed: see `POLLS`.
    POLLS.load(Ordering::Relaxed)
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
    // SeqCst: pairs with the stores that give the role back (`release_block`, `block`) and
    // the load in `blocker_active`.
    has_waiters()
        && p.blocked
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
}

/// Gives the role back without blocking (the worker found work first).
pub(crate) fn release_block() {
    if let Some(p) = POLLER_READY.get() {
        // SeqCst: pairs with the CAS in `try_block`.
        p.blocked.store(false, Ordering::SeqCst);
    }
}

/// Whether a worker holds the blocking poller's role.
pub(crate) fn blocker_active() -> bool {
    POLLER_READY
        .get()
        // SeqCst: pairs with the CAS in `try_block` and the stores giving the role back.
        .is_some_and(|p| p.blocked.load(Ordering::SeqCst))
}

/// Blocks in the poller for at most `timeout` (or until `notify`), wakes the waiters of
/// what came, and gives the role back.
pub(crate) fn block(timeout: Option<Duration>) {
    let p = POLLER_READY.get().expect("try_block took the role");
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; 2];
    // SAFETY: `events` is a writable buffer of 2 entries for the duration of the call, and
    // `outer` is open for the life of the process.
    let n =
        unsafe { libc::epoll_wait(p.outer.as_raw_fd(), events.as_mut_ptr(), 2, millis(timeout)) };
    // Copied out: the kernel's struct is packed.
    if events[..n.max(0) as usize].iter().any(|e| ({ e.u64 }) == 1) {
        let mut counter = 0u64;
        // SAFETY: reads the eventfd's 8-byte counter into `counter`, which resets it.
        unsafe { libc::read(p.wake.as_raw_fd(), (&mut counter as *mut u64).cast(), 8) };
    }
    poll_events(p, Some(Duration::ZERO));
    // SeqCst: pairs with the CAS in `try_block`.
    p.blocked.store(false, Ordering::SeqCst);
}

/// Wakes a worker blocked in the poller (`Worker::unpark_thread`).
pub(crate) fn notify() {
    if let Some(p) = POLLER_READY.get() {
        let one = 1u64;
        // SAFETY: writes 8 bytes from `one` to the eventfd (a full counter fails with
        // `EAGAIN`, and then a wake-up is pending anyway).
        unsafe { libc::write(p.wake.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }
}

/// A timeout for `epoll_wait`: milliseconds rounded up (a sub-millisecond wait does not
/// spin), -1 for none.
fn millis(timeout: Option<Duration>) -> i32 {
    match timeout {
        None => -1,
        Some(t) => t.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32,
    }
}

/// Waits for events for at most `timeout` (`None`: until one comes) and wakes their
/// waiters.
///
/// This calls `epoll_wait` itself on `mio`'s epoll descriptor rather than `Poll::poll`,
/// which takes `&mut` and so would let one thread poll at a time: a worker blocked in it
/// would keep the workers that run goroutines from polling without blocking, and every
/// readiness would then travel through the blocked thread's wake-up (measured: one
/// connection's echo round trips at 0.66x Go's). `mio` registers each source with its token
/// as the event's data (`epoll_event.u64`), which is what is read back here; the sockets'
/// registrations stay `mio`'s.
fn poll_events(p: &Poller, timeout: Option<Duration>) -> usize {
    // Relaxed: a count the monitor compares between its looks (`polls`), a heuristic that
    // publishes nothing.
    POLLS.fetch_add(1, Ordering::Relaxed);
    let ms = millis(timeout);
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; EVENTS];
    // SAFETY: `events` is a writable buffer of `EVENTS` entries for the duration of the call,
    // and the descriptor is the epoll instance `p.poll` owns for the life of the process.
    let n = unsafe { libc::epoll_wait(p.poll.as_raw_fd(), events.as_mut_ptr(), EVENTS as i32, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            eprintln!("goro: the netpoller failed: {e}");
        }
        return 0;
    }
    let mut woken = 0;
    for ev in &events[..n as usize] {
        // Copied out: the kernel's struct is packed.
        let (flags, key) = (ev.events as i32, ev.u64 as usize);
        let (index, seq) = ((key >> 32) as u32, key as u32);
        let Some(desc) = slot(index) else { continue };
        // Relaxed: a stale event only sets `ready` on a recycled desc, which costs its new
        // socket one spurious retry; the check drops most of them.
        if desc.seq.load(Ordering::Relaxed) != seq {
            continue;
        }
        let failed = flags & (libc::EPOLLERR | libc::EPOLLHUP) != 0;
        if flags & (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLPRI) != 0 || failed {
            woken += 1;
            wake(desc.read.fire());
        }
        if flags & libc::EPOLLOUT != 0 || failed {
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
