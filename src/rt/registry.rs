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
//! The registry is split in `SHARDS` lists, each under its own lock, by goroutine id; a
//! goroutine links itself into one list and unlinks itself from the same one. The links are
//! in the header (intrusive, as Go's `allgs` holds its `g`s): linking costs no allocation.

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
        }
    }

    pub(crate) fn from_u8(v: u8) -> Reason {
        const ALL: [Reason; 14] = [
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
        ];
        ALL.get(v as usize).copied().unwrap_or(Reason::None)
    }
}

/// The coarse clock: nanoseconds since the process's first goroutine wait or monitor look,
/// advanced by the monitor at each look (module docs). Relaxed: a timestamp, no data is
/// published through it.
static COARSE: AtomicU64 = AtomicU64::new(0);

/// The origin of the coarse clock.
fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// Advances the coarse clock to now (the monitor, at each look; a dump, before it reads).
pub(crate) fn tick_coarse() -> u64 {
    let now = epoch().elapsed().as_nanos() as u64;
    COARSE.fetch_max(now, Ordering::Relaxed);
    now
}

/// The coarse clock's time.
pub(crate) fn coarse_now() -> u64 {
    COARSE.load(Ordering::Relaxed)
}

/// The registry's part of a goroutine header: the links of its shard's list (touched only
/// under that shard's lock) and whether it is linked (touched only by the goroutine).
pub(crate) struct Links {
    prev: Cell<*const Goroutine>,
    next: Cell<*const Goroutine>,
    linked: Cell<bool>,
}

impl Links {
    pub(crate) fn new() -> Links {
        Links {
            prev: Cell::new(ptr::null()),
            next: Cell::new(ptr::null()),
            linked: Cell::new(false),
        }
    }
}

/// How many lists the registry is split in.
const SHARDS: usize = 16;

/// One list: its first goroutine.
struct Shard {
    head: *const Goroutine,
}

// SAFETY: the raw pointers are goroutines linked in the list; they are only followed under
// the shard's mutex, and a goroutine unlinks itself (under the same mutex) before its block
// can be freed.
unsafe impl Send for Shard {}

static REGISTRY: [Mutex<Shard>; SHARDS] =
    [const { Mutex::new(Shard { head: ptr::null() }) }; SHARDS];

fn shard(id: u64) -> MutexGuard<'static, Shard> {
    REGISTRY[(id % SHARDS as u64) as usize]
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Links `g` into the registry, if it is not linked yet. Called by the goroutine itself.
pub(crate) fn link(g: &Goroutine) {
    let links = g.links();
    if links.linked.get() {
        return;
    }
    let mut s = shard(g.id());
    links.prev.set(ptr::null());
    links.next.set(s.head);
    if !s.head.is_null() {
        // SAFETY: the head is a linked goroutine, alive while linked; its links are touched
        // only under this shard's lock, which we hold.
        unsafe { (*s.head).links().prev.set(g) };
    }
    s.head = g;
    links.linked.set(true);
}

/// Unlinks `g` from the registry, if it is linked. Called by the goroutine itself when it
/// finishes, before anything can free its block.
pub(crate) fn unlink(g: &Goroutine) {
    let links = g.links();
    if !links.linked.get() {
        return;
    }
    let mut s = shard(g.id());
    let (prev, next) = (links.prev.get(), links.next.get());
    if prev.is_null() {
        s.head = next;
    } else {
        // SAFETY: linked neighbours are alive while linked; we hold the shard's lock.
        unsafe { (*prev).links().next.set(next) };
    }
    if !next.is_null() {
        // SAFETY: as above.
        unsafe { (*next).links().prev.set(prev) };
    }
    links.linked.set(false);
}

/// Calls `f` on every listed goroutine, one shard at a time, under that shard's lock (`f`
/// must not wait on goroutines, nor link or unlink any).
pub(crate) fn for_each(mut f: impl FnMut(&Goroutine)) {
    for s in &REGISTRY {
        let s = s.lock().unwrap_or_else(|e| e.into_inner());
        let mut p = s.head;
        while !p.is_null() {
            // SAFETY: a listed goroutine stays alive while listed, and it cannot unlink
            // itself while we hold its shard's lock.
            let g = unsafe { &*p };
            f(g);
            p = g.links().next.get();
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
    pub(crate) fn new() -> WaitRecord {
        WaitRecord {
            reason: std::sync::atomic::AtomicU8::new(Reason::None as u8),
            since: AtomicU64::new(0),
            at: std::sync::atomic::AtomicPtr::new(ptr::null_mut()),
        }
    }

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
