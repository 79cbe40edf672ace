//! What each goroutine is doing, for the goroutine dump, the deadlock detector and the leak
//! check (`crate::diag`).
//!
//! # What is recorded, and when
//!
//! Every goroutine's header carries, fixed at spawn, where it was created (the caller of
//! `go` or `Builder::spawn`, through `#[track_caller]`) and by which goroutine. A goroutine
//! about to wait records, before it parks, why ([`Reason`], Go's wait reasons), where (the
//! user's call of the blocking operation, through `#[track_caller]` down to the park) and
//! since when ([`coarse_now`]): three Relaxed stores to its own header, made only on the way
//! to a park, never on an operation that completes at once. Nothing is cleared on wake-up:
//! the park state (`park::state`) says whether the goroutine waits, and the record is read
//! only while it does.
//!
//! The time is the *coarse* clock, which the monitor advances at each of its looks (every
//! 20 µs to 10 ms while any worker runs): reading the real clock on every park would cost a
//! ping-pong round trip a tenth of its time, and a dump reports waits in minutes, as Go's.
//!
//! # Which goroutines are listed
//!
//! A goroutine joins the registry the first time it waits (it links itself, in
//! `note_wait`), and leaves it when it finishes, before it publishes its result, so the
//! registry never points to a freed goroutine. Listing every goroutine from its spawn would
//! put a shared lock (or list) on the spawn path, which the `spawn` and `skynet` benchmarks
//! would feel; most goroutines of such programs never wait. Those not listed are running or
//! runnable and have never waited: the dump counts them (`num_goroutine` minus the listed
//! ones) without naming them. A deadlock or a leak is made of waiting goroutines, all
//! listed.
//!
//! The registry is split in `SHARDS` lists, each under its own lock; a goroutine links
//! itself into the list of the thread it runs on (`home_shard`) and unlinks itself from the
//! same one. The entry
//! (`Node`: the links and the wait record) sits in the goroutine's execution state, at the
//! top of its stack memory, rather than in its header: linking costs no allocation, and a
//! goroutine that never runs or never waits pays nothing for it in memory (the header is
//! allocated for every goroutine from its spawn, a million at once in the `spawn`
//! benchmark).

use std::cell::Cell;
use std::panic::Location;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::goroutine::Goroutine;

/// Why a goroutine waits, in Go's words (`runtime.waitReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Reason {
    /// Not waiting (or waiting on something goro does not name).
    None = 0,
    /// A channel receive (`recv`, `for v in rx`, a context's `done()`).
    ChanReceive,
    /// A channel send.
    ChanSend,
    /// A `select!` (or `Select`) with cases.
    Select,
    /// A `select!` with no cases: waits forever.
    SelectNoCases,
    /// `goro::sleep`.
    Sleep,
    /// `WaitGroup::wait`.
    WaitGroupWait,
    /// `Mutex::lock`.
    MutexLock,
    /// `RwLock::read`.
    RwLockRLock,
    /// `RwLock::write`.
    RwLockLock,
    /// `Cond::wait`.
    CondWait,
    /// `Semaphore::acquire` and other waits for a permit.
    Semacquire,
    /// `Once::call_once` waiting for another caller's initialisation.
    OnceWait,
    /// `JoinHandle::join`.
    Join,
    /// `goro::block_on`: a future is pending.
    Await,
    /// A `goro::net` socket operation waiting for the socket to be ready.
    IoWait,
}

impl Reason {
    /// The reason as Go's goroutine dump writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::None => "waiting",
            Reason::ChanReceive => "chan receive",
            Reason::ChanSend => "chan send",
            Reason::Select => "select",
            Reason::SelectNoCases => "select (no cases)",
            Reason::Sleep => "sleep",
            Reason::WaitGroupWait => "sync.WaitGroup.Wait",
            Reason::MutexLock => "sync.Mutex.Lock",
            Reason::RwLockRLock => "sync.RWMutex.RLock",
            Reason::RwLockLock => "sync.RWMutex.Lock",
            Reason::CondWait => "sync.Cond.Wait",
            Reason::Semacquire => "semacquire",
            Reason::OnceWait => "sync.Once.Do",
            Reason::Join => "join",
            Reason::Await => "await",
            Reason::IoWait => "IO wait",
        }
    }

    pub(crate) fn from_u8(v: u8) -> Reason {
        const ALL: [Reason; 16] = [
            Reason::None,
            Reason::ChanReceive,
            Reason::ChanSend,
            Reason::Select,
            Reason::SelectNoCases,
            Reason::Sleep,
            Reason::WaitGroupWait,
            Reason::MutexLock,
            Reason::RwLockRLock,
            Reason::RwLockLock,
            Reason::CondWait,
            Reason::Semacquire,
            Reason::OnceWait,
            Reason::Join,
            Reason::Await,
            Reason::IoWait,
        ];
        ALL.get(v as usize).copied().unwrap_or(Reason::None)
    }
}

/// The coarse clock: nanoseconds since the process's first goroutine wait or monitor look,
/// advanced by the monitor at each look (module docs). Relaxed: a timestamp, no data is
/// published through it. On a cache line of its own: every wait reads it, and the monitor
/// writes it; nothing else should move with it.
static COARSE: Coarse = Coarse(AtomicU64::new(0));

#[repr(align(128))]
struct Coarse(AtomicU64);

/// The origin of the coarse clock.
fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// Advances the coarse clock to now (the monitor, at each look; a dump, before it reads).
pub(crate) fn tick_coarse() -> u64 {
    let now = epoch().elapsed().as_nanos() as u64;
    COARSE.0.fetch_max(now, Ordering::Relaxed);
    now
}

/// The coarse clock's time.
pub(crate) fn coarse_now() -> u64 {
    COARSE.0.load(Ordering::Relaxed)
}

/// A goroutine's entry in the registry, in its execution state (`goroutine::Exec`, at the
/// top of its stack memory): the links of its shard's list (touched only under that
/// shard's lock), whether it is linked (touched only by the goroutine itself), and its last
/// wait. All-zero bytes are a valid, unlinked node: a stack's memory starts as zeroes, and
/// its node is kept from one goroutine to the next (`goroutine::Exec::node`), never written
/// until its goroutine waits.
pub(crate) struct Node {
    prev: Cell<*const Node>,
    next: Cell<*const Node>,
    /// The goroutine, set when it links itself (under the lock).
    g: Cell<*const Goroutine>,
    /// The shard it is linked in (touched only by the goroutine itself).
    shard: Cell<u8>,
    linked: Cell<bool>,
    pub(crate) wait: WaitRecord,
}

/// How many lists the registry is split in.
const SHARDS: usize = 16;

/// One list: its first node. On a cache line of its own (two: adjacent-line prefetching),
/// as the shards' locks are taken by different threads at once.
#[repr(align(128))]
struct Shard {
    lock: Mutex<List>,
}

struct List {
    head: *const Node,
}

// SAFETY: the raw pointers are nodes of listed goroutines; they are only followed under the
// shard's mutex, and a goroutine unlinks its node (under the same mutex) before its node or
// its header can go away.
unsafe impl Send for List {}

static REGISTRY: [Shard; SHARDS] = [const {
    Shard {
        lock: Mutex::new(List { head: ptr::null() }),
    }
}; SHARDS];

fn shard(index: u8) -> MutexGuard<'static, List> {
    REGISTRY[index as usize]
        .lock
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// The shard a goroutine running on this thread links itself into: one per thread, handed
/// out in turn, so that a goroutine's link usually takes a lock (and touches neighbours)
/// that this thread used last, and a goroutine usually finishes on the thread it last ran
/// on, where its unlink does the same.
fn home_shard() -> u8 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        // Relaxed: a counter handing out shard numbers.
        static HOME: u8 = (NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS as u64) as u8;
    }
    HOME.with(|h| *h)
}

/// Records that goroutine `g` is about to wait for `reason` at `at`, and links its node into
/// the registry if it is not linked yet. Called by the goroutine itself.
#[inline]
pub(crate) fn note_wait(
    node: &Node,
    g: &Goroutine,
    reason: Reason,
    at: &'static Location<'static>,
) {
    if node.linked.get() {
        node.wait.set(reason, at);
    } else {
        link_slow(node, g, reason, at);
    }
}

#[cold]
fn link_slow(node: &Node, g: &Goroutine, reason: Reason, at: &'static Location<'static>) {
    // The record first: the node may hold the last wait of an earlier goroutine on this
    // stack, which a listing must not see under this one's name.
    node.wait.set(reason, at);
    let home = home_shard();
    let mut s = shard(home);
    node.shard.set(home);
    node.g.set(g);
    node.prev.set(ptr::null());
    node.next.set(s.head);
    if !s.head.is_null() {
        // SAFETY: the head is a listed node, alive while listed; its links are touched only
        // under this shard's lock, which we hold.
        unsafe { (*s.head).prev.set(node) };
    }
    s.head = node;
    node.linked.set(true);
}

/// Unlinks goroutine `g`'s node, if it is linked. Called by the goroutine itself when it
/// finishes, before anything can free its node or its header.
#[inline]
pub(crate) fn unlink(node: &Node) {
    if node.linked.get() {
        unlink_slow(node);
    }
}

#[cold]
fn unlink_slow(node: &Node) {
    let mut s = shard(node.shard.get());
    let (prev, next) = (node.prev.get(), node.next.get());
    if prev.is_null() {
        s.head = next;
    } else {
        // SAFETY: listed neighbours are alive while listed; we hold the shard's lock.
        unsafe { (*prev).next.set(next) };
    }
    if !next.is_null() {
        // SAFETY: as above.
        unsafe { (*next).prev.set(prev) };
    }
    node.linked.set(false);
}

/// Calls `f` on every listed goroutine and its last wait, one shard at a time, under that
/// shard's lock (`f` must not wait on goroutines, nor list or unlist any).
pub(crate) fn for_each(mut f: impl FnMut(&Goroutine, &WaitRecord)) {
    for s in &REGISTRY {
        let s = s.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut p = s.head;
        while !p.is_null() {
            // SAFETY: a listed node, and its goroutine, stay alive while listed, and the
            // goroutine cannot unlink it while we hold its shard's lock; `g` was set under
            // that lock before the node was listed.
            let node = unsafe { &*p };
            // SAFETY: as above.
            f(unsafe { &*node.g.get() }, &node.wait);
            p = node.next.get();
        }
    }
}

/// What a goroutine records before it waits (module docs).
pub(crate) struct WaitRecord {
    reason: std::sync::atomic::AtomicU8,
    since: AtomicU64,
    at: std::sync::atomic::AtomicPtr<Location<'static>>,
}

impl WaitRecord {
    /// Records a wait about to start. Relaxed: read by dumps as a snapshot; the three may
    /// be seen from different waits, which only mislabels one line of one dump.
    pub(crate) fn set(&self, reason: Reason, at: &'static Location<'static>) {
        self.reason.store(reason as u8, Ordering::Relaxed);
        self.since.store(coarse_now(), Ordering::Relaxed);
        self.at
            .store(at as *const Location<'static> as *mut _, Ordering::Relaxed);
    }

    /// The last recorded wait: its reason, start (coarse clock) and place.
    pub(crate) fn get(&self) -> (Reason, u64, Option<&'static Location<'static>>) {
        let at = self.at.load(Ordering::Relaxed);
        (
            Reason::from_u8(self.reason.load(Ordering::Relaxed)),
            self.since.load(Ordering::Relaxed),
            // SAFETY: only ever set from a `&'static Location`.
            unsafe { at.as_ref() },
        )
    }
}
