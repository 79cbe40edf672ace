//! Goroutine stacks: guard-paged, carved from large mappings, pooled.
//!
//! # Layout
//!
//! Stacks of the runtime's default size are carved from *chunks*: one anonymous mapping of
//! many slots (64 in the first, doubling up to 2048), each slot being a guard page followed
//! by the usable stack. Memory is
//! reserved lazily by the kernel (`MAP_NORESERVE`), so a stack costs only the pages it touches.
//!
//! The guard page must fault on access without costing a mapping of its own, or a million
//! goroutines would exceed the common `vm.max_map_count` of 65530. Linux 6.13+ offers
//! `madvise(MADV_GUARD_INSTALL)`, which marks pages as guards in the page tables without
//! splitting the mapping: one mapping per chunk. Elsewhere the guard is made with `mprotect`,
//! which splits the mapping (two mappings per stack); when the kernel refuses more mappings,
//! spawning fails with an error that says so.
//!
//! # Reservation
//!
//! A goroutine takes its stack only when it first runs (on the worker that runs it), so the
//! stack freed by a goroutine that just finished is reused at once by the next one, still hot
//! in cache. To keep that late step infallible, every spawn first *reserves* a stack: the pool
//! maps new chunks at spawn time (the only fallible step) so that its capacity always covers
//! every reserved stack plus what the workers' caches may hold (`slack`).
//!
//! Stacks larger than the default get a dedicated mapping at spawn and are unmapped when their
//! goroutine finishes.
//!
//! # Scavenging
//!
//! A pooled stack that a goroutine has used keeps its touched pages: at least the top page,
//! where the goroutine's execution state lives (4.2 KB resident per parked goroutine), and
//! one 4 KiB page-table page per 8 stacks (512 bytes a stack, counted in `VmPTE`, not in
//! RSS). Without scavenging, a burst of a million parked goroutines left the process at
//! 4,069 MiB resident (and 509 MB of page tables) for as long as it ran, though a million
//! short goroutines in a row stay flat: the pool retains, it does not leak.
//!
//! The free stacks are kept in two lists: *warm* ones (returned by a goroutine, pages maybe
//! resident; a deque, the most recently returned at the back) and *cold* ones (released, or
//! never used). Stacks are handed out warm first, the most recently returned first, so a
//! released stack is used only when no warm one is left.
//!
//! The scavenger, like Go's, keeps what the recent working set needs and gives the rest back
//! gradually:
//!
//! 1. The working set is the most stacks *out* of the pool (in use, or in a worker's cache)
//!    during the current window of `SCAVENGE_WINDOW` (500 ms) or the one before it. `take`
//!    raises the current window's peak under the pool's lock; a scavenger step rotates the
//!    windows. A peak is thus remembered for 0.5 to 1 s.
//! 2. The pool keeps `need + need / 10 + SCAVENGE_FLOOR` stacks out or warm, `need` being
//!    the working set: 10% above the recent peak (Go's scavenger keeps 10% above its heap
//!    goal) plus 64 spare stacks, so a program that bursts again within a second, or one
//!    with a steady load, never faults its stacks back in.
//! 3. When stacks come back (`give`) and more are warm than would be kept for the stacks out
//!    now, the pool asks the runtime to wake the scavenger a window later (a timer, fired by
//!    a worker in scheduler context; there is no scavenger thread). Each step releases the
//!    warm stacks beyond the target, the least recently returned first, 256 per lock hold,
//!    for about 1 ms (`SCAVENGE_BUDGET`), and runs again 1 ms later while any are left, so
//!    a release takes at most about half of one worker; otherwise again when the window
//!    ends if the working set may still shrink, or it stops.
//! 4. Releasing keeps a stack's address space and drops its memory: with guard markers,
//!    address-adjacent free stacks form runs whose markers are removed (`MADV_GUARD_REMOVE`)
//!    and which are then dropped whole (`MADV_DONTNEED`), which also frees the page tables
//!    of every 2 MiB a run covers (kernels with `CONFIG_PT_RECLAIM`; a marker would keep its
//!    table alive); the guard is installed again when the stack is next handed out, in the
//!    same batches as a new stack's. With `mprotect` guards, each stack's usable part is
//!    dropped and its guard stays. Both go 1024 ranges per `process_madvise` where the
//!    kernel allows it.
//!
//! The numbers (2 cores, shared and loaded, Linux 6.18): releasing costs 3 µs a stack when
//! only the usable part is dropped and 5 to 7 µs with runs and guard removal, which is worth
//! the 512 bytes of page tables per stack it frees. After a million parked goroutines, the
//! process fell from 4,061 MiB to 10 MiB in 9 s (`examples/burst_rss.rs`, load average 8.6
//! on the 2 cores: the 1 ms budget is wall time), its page tables from 509 MB to 62 MB. MADV_FREE would be cheaper to reuse but counts as
//! resident until the kernel is short of memory, so the process would not look smaller.
//!
//! What the stacks' memory does not cover: the goroutine blocks freed after a burst stay in
//! the C allocator's arenas, which the runtime trims after a large release (`rt`,
//! `trim_heap`), and the injector's buffer, which it shrinks (`queue::Injector::shrink`).
//! The chunks stay mapped: address space is free, and the cold list costs 8 bytes a stack.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use corosensei::stack::{Stack, StackPointer};

/// Smallest stack a goroutine may ask for.
pub(crate) const MIN_STACK_SIZE: usize = 16 * 1024;
/// Default usable size of a goroutine stack.
pub(crate) const DEFAULT_STACK_SIZE: usize = 256 * 1024;
/// Stacks in the first chunk mapping; each new chunk doubles, up to `MAX_CHUNK_STACKS`, so
/// small programs map little and large ones make few `mmap` calls (each takes the process's
/// memory-map lock against every page fault).
const FIRST_CHUNK_STACKS: usize = 64;
const MAX_CHUNK_STACKS: usize = 2048;
/// Most stacks a worker keeps for itself; it gives back half beyond that.
const CACHE_MAX: usize = 32;

const MADV_GUARD_INSTALL: libc::c_int = 102;

/// Whether to use `MADV_GUARD_INSTALL`; cleared at the kernel's first refusal, or at start
/// when `GORO_GUARD_PAGES=mprotect` asks for the fallback (to exercise it on new kernels).
static GUARD_MADVISE: AtomicBool = AtomicBool::new(true);
static GUARD_MODE: std::sync::Once = std::sync::Once::new();

fn use_madvise() -> bool {
    GUARD_MODE.call_once(|| {
        if std::env::var_os("GORO_GUARD_PAGES").is_some_and(|v| v == "mprotect") {
            GUARD_MADVISE.store(false, Ordering::Relaxed);
        }
    });
    GUARD_MADVISE.load(Ordering::Relaxed)
}

pub(crate) fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    match PAGE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: sysconf has no preconditions.
            let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let p = if p > 0 { p as usize } else { 4096 };
            PAGE.store(p, Ordering::Relaxed);
            p
        }
        p => p,
    }
}

/// Rounds a requested size up to whole pages.
pub(crate) fn round_to_pages(size: usize) -> Option<usize> {
    let page = page_size();
    size.checked_add(page - 1).map(|s| s & !(page - 1))
}

/// One goroutine stack: `[limit, limit + guard)` is the guard, `(limit + guard, top]` usable.
#[derive(Debug)]
pub(crate) struct GoroutineStack {
    top: usize,
    limit: usize,
    /// Length of the whole mapping for a dedicated stack; 0 for a pooled one.
    dedicated: usize,
    /// Whether the guard page is in place (pooled stacks get it at first use, see `grow`).
    guarded: bool,
}

// SAFETY: the stack is plain memory owned by this value; moving it between threads is fine.
unsafe impl Send for GoroutineStack {}

/// Bytes at the top of every stack set aside for the goroutine's execution state
/// (`goroutine::Exec`): it lives in the stack's first page, which every running goroutine
/// touches anyway, so it costs no memory of its own and is recycled with the stack.
pub(crate) const EXEC_RESERVE: usize = (std::mem::size_of::<super::Exec>() + 63) & !63;

// SAFETY: `base` (the top minus EXEC_RESERVE, a multiple of 64) and `limit` (page aligned) are
// aligned to STACK_ALIGNMENT; the range between them is mapped read/write except for the
// guard page at `limit`, which faults on access; the usable part is at least
// MIN_STACK_SIZE - EXEC_RESERVE, far above corosensei's MIN_STACK_SIZE.
unsafe impl Stack for GoroutineStack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.top - EXEC_RESERVE).expect("stack top is non-null")
    }

    fn limit(&self) -> StackPointer {
        StackPointer::new(self.limit).expect("stack limit is non-null")
    }
}

impl GoroutineStack {
    /// Where the goroutine's execution state goes: the `EXEC_RESERVE` bytes at the top,
    /// above what the coroutine uses as its stack.
    pub(crate) fn exec_slot(&self) -> *mut super::Exec {
        (self.top - EXEC_RESERVE) as *mut super::Exec
    }

    /// The usable stack below the execution state, as `(bottom, size)`: what the sanitizers
    /// are told the goroutine's stack is.
    pub(crate) fn bounds(&self) -> (usize, usize) {
        let bottom = self.limit + page_size();
        (bottom, self.top - EXEC_RESERVE - bottom)
    }

    /// The guard region, `[start, end)`.
    pub(crate) fn guard(&self) -> (usize, usize) {
        (self.limit, self.limit + page_size())
    }

    /// A stack with a mapping of its own, for sizes above the pool's.
    pub(crate) fn dedicated(size: usize) -> io::Result<GoroutineStack> {
        let size = round_to_pages(size).ok_or_else(|| too_big(size))?;
        let len = size.checked_add(page_size()).ok_or_else(|| too_big(size))?;
        let base = map(len)?;
        if let Err(e) = install_guard(base) {
            // SAFETY: `base..base+len` is the mapping just made and nothing refers to it.
            unsafe { libc::munmap(base as *mut libc::c_void, len) };
            return Err(e);
        }
        Ok(GoroutineStack {
            top: base + len,
            limit: base,
            dedicated: len,
            guarded: true,
        })
    }
}

fn too_big(size: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("goro: stack size of {size} bytes is too large to map"),
    )
}

fn map(len: usize) -> io::Result<usize> {
    // SAFETY: an anonymous private mapping at an address of the kernel's choosing touches no
    // existing memory.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        let e = io::Error::last_os_error();
        // ENOMEM from mmap means either memory or mappings ran out; name both limits.
        let hint = match e.raw_os_error() {
            Some(libc::ENOMEM) => {
                " (the process may have reached vm.max_map_count, or its memory limit)"
            }
            _ => "",
        };
        return Err(io::Error::new(
            e.kind(),
            format!("goro: cannot map {len} bytes for goroutine stacks: {e}{hint}"),
        ));
    }
    Ok(p as usize)
}

/// Makes the page at `addr` a guard page.
fn install_guard(addr: usize) -> io::Result<()> {
    let page = page_size();
    if use_madvise() {
        // SAFETY: `addr` is the first page of a mapping this module owns and nothing lives
        // there; a guard marker only makes accesses fault.
        let r = unsafe { libc::madvise(addr as *mut libc::c_void, page, MADV_GUARD_INSTALL) };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINVAL) {
            return Err(io::Error::new(
                e.kind(),
                format!("goro: cannot install a stack guard page: {e}"),
            ));
        }
        // Kernel older than 6.13: fall back to mprotect from now on.
        GUARD_MADVISE.store(false, Ordering::Relaxed);
    }
    // SAFETY: as above; PROT_NONE on a page nothing uses.
    let r = unsafe { libc::mprotect(addr as *mut libc::c_void, page, libc::PROT_NONE) };
    if r == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    Err(io::Error::new(
        e.kind(),
        format!(
            "goro: cannot install a stack guard page ({e}); each guard page costs a memory \
             mapping on this kernel (no MADV_GUARD_INSTALL), so the process may have reached \
             vm.max_map_count"
        ),
    ))
}

/// Whether `process_madvise` takes guard markers; cleared at its first refusal.
static GUARD_BATCH: AtomicBool = AtomicBool::new(true);

/// Installs the missing guard markers of `stacks` in one `process_madvise` call (for at most
/// 1024 stacks); leaves them unguarded if the kernel refuses (`StackCache::get` then installs
/// them one by one).
fn guard_batch(stacks: &mut [GoroutineStack]) {
    if !GUARD_BATCH.load(Ordering::Relaxed) {
        return;
    }
    let page = page_size();
    let iov: Vec<libc::iovec> = stacks
        .iter()
        .filter(|s| !s.guarded)
        .take(1024)
        .map(|s| libc::iovec {
            iov_base: s.limit as *mut libc::c_void,
            iov_len: page,
        })
        .collect();
    if iov.is_empty() {
        return;
    }
    let Some(pidfd) = self_pidfd() else {
        GUARD_BATCH.store(false, Ordering::Relaxed);
        return;
    };
    // SAFETY: the ranges are the guard pages of pooled stacks that no goroutine uses (they
    // are being handed out), in mappings this module owns; a guard marker only makes
    // accesses fault. `pidfd` refers to this process (see `self_pidfd`).
    let r = unsafe {
        libc::syscall(
            libc::SYS_process_madvise,
            pidfd,
            iov.as_ptr(),
            iov.len(),
            MADV_GUARD_INSTALL,
            0,
        )
    };
    if r != (iov.len() * page) as libc::c_long {
        // Refused (kernel without guard support in process_madvise): one by one from now
        // on. A partial success only leaves some markers to be installed twice, which is
        // harmless.
        GUARD_BATCH.store(false, Ordering::Relaxed);
        return;
    }
    for s in stacks.iter_mut().filter(|s| !s.guarded).take(1024) {
        s.guarded = true;
    }
}

/// A pidfd for this process, reopened after a `fork` (a pidfd inherited from the parent
/// would name the parent).
fn self_pidfd() -> Option<libc::c_int> {
    static CACHE: Mutex<Option<(libc::pid_t, libc::c_int)>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    match *cache {
        Some((p, fd)) if p == pid => Some(fd),
        _ => {
            // SAFETY: pidfd_open has no memory-safety preconditions; failure returns -1.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
            if fd < 0 {
                return None;
            }
            let fd = fd as libc::c_int;
            *cache = Some((pid, fd));
            Some(fd)
        }
    }
}

/// Applies `advice` to every range: up to 1024 ranges in one `process_madvise` call while
/// `batch` holds, one `madvise` per range otherwise (`batch` is cleared at the kernel's first
/// refusal: before Linux 6.13, `process_madvise` takes only a few kinds of advice). Returns
/// whether every range was advised.
///
/// # Safety
///
/// The ranges lie in mappings this module owns, and `advice` is harmless to them: no
/// goroutine uses their memory, or the advice does not change its contents.
unsafe fn advise_all(ranges: &[libc::iovec], advice: libc::c_int, batch: &AtomicBool) -> bool {
    let mut ok = true;
    for part in ranges.chunks(1024) {
        if batch.load(Ordering::Relaxed) {
            if let Some(pidfd) = self_pidfd() {
                let len: usize = part.iter().map(|v| v.iov_len).sum();
                // SAFETY: the caller's guarantee; `pidfd` refers to this process (see
                // `self_pidfd`), and `part` is a valid array of iovecs.
                let r = unsafe {
                    libc::syscall(
                        libc::SYS_process_madvise,
                        pidfd,
                        part.as_ptr(),
                        part.len(),
                        advice,
                        0,
                    )
                };
                if r == len as libc::c_long {
                    continue;
                }
            }
            // Refused, or stopped part-way: one by one from now on (advising a range twice
            // is harmless).
            batch.store(false, Ordering::Relaxed);
        }
        for v in part {
            // SAFETY: the caller's guarantee.
            ok &= unsafe { libc::madvise(v.iov_base, v.iov_len, advice) } == 0;
        }
    }
    ok
}

/// Whether `process_madvise` takes `MADV_GUARD_REMOVE` and `MADV_DONTNEED`.
static RELEASE_BATCH: AtomicBool = AtomicBool::new(true);
/// Cleared if removing guard markers fails: released stacks then keep their guards.
static RELEASE_GUARDS: AtomicBool = AtomicBool::new(true);

const MADV_GUARD_REMOVE: libc::c_int = 103;

/// Gives the resident pages of the free stacks `slots` back to the kernel, keeping their
/// address space: the next use of such a stack faults in zeroed pages (module docs,
/// "Scavenging").
///
/// With guard markers, address-adjacent stacks are released as one run, guards included:
/// the markers are removed first (the stack gets its guard again when next handed out, as a
/// new one does), and the run is then dropped with `MADV_DONTNEED`, which also frees the
/// page tables of every whole 2 MiB the run covers (kernels with `CONFIG_PT_RECLAIM`; a
/// table holding a guard marker is never empty, and one table per 8 stacks is 512 bytes a
/// stack). With `mprotect` guards, only each stack's usable part is dropped.
fn release(slots: &mut [Slot], slot_len: usize) {
    let ranges: Vec<libc::iovec>;
    if use_madvise() && RELEASE_GUARDS.load(Ordering::Relaxed) {
        slots.sort_unstable_by_key(|s| s.limit());
        let mut runs: Vec<libc::iovec> = Vec::new();
        for s in slots.iter() {
            match runs.last_mut() {
                Some(r) if r.iov_base as usize + r.iov_len == s.limit() => r.iov_len += slot_len,
                _ => runs.push(libc::iovec {
                    iov_base: s.limit() as *mut libc::c_void,
                    iov_len: slot_len,
                }),
            }
        }
        // SAFETY: the runs are whole slots of free pooled stacks (in the pool's lists, whose
        // lock the caller holds), in this module's chunks; removing a guard marker only makes
        // its page ordinary memory, and no stack is in use.
        if unsafe { advise_all(&runs, MADV_GUARD_REMOVE, &RELEASE_BATCH) } {
            for s in slots.iter_mut() {
                *s = Slot::new(s.limit(), false);
            }
            ranges = runs;
        } else {
            // Guards may be partly removed: mark none as guarded, so every one is installed
            // again before use, and release usable parts only from now on.
            RELEASE_GUARDS.store(false, Ordering::Relaxed);
            for s in slots.iter_mut() {
                *s = Slot::new(s.limit(), false);
            }
            ranges = usable_ranges(slots, slot_len);
        }
    } else {
        ranges = usable_ranges(slots, slot_len);
    }
    // SAFETY: the ranges lie in free pooled stacks (above); their contents are dead (a
    // finished goroutine's execution state was moved out before its stack came back), and
    // MADV_DONTNEED leaves private anonymous memory mapped, reading as zeroes.
    unsafe { advise_all(&ranges, libc::MADV_DONTNEED, &RELEASE_BATCH) };
}

/// The usable part (above the guard page) of each stack.
fn usable_ranges(slots: &[Slot], slot_len: usize) -> Vec<libc::iovec> {
    let page = page_size();
    slots
        .iter()
        .map(|s| libc::iovec {
            iov_base: (s.limit() + page) as *mut libc::c_void,
            iov_len: slot_len - page,
        })
        .collect()
}

/// A free pooled stack, in 8 bytes: its `limit` (page aligned), with bit 0 set when its
/// guard is in place. A million free stacks cost 8 MiB of lists.
#[derive(Clone, Copy, Debug)]
struct Slot(usize);

impl Slot {
    fn new(limit: usize, guarded: bool) -> Slot {
        Slot(limit | guarded as usize)
    }

    fn limit(self) -> usize {
        self.0 & !1
    }

    fn guarded(self) -> bool {
        self.0 & 1 != 0
    }
}

/// The scavenger's window: the working set is the most stacks out of the pool during the
/// current window or the one before it, so a peak is remembered for one to two windows.
pub(crate) const SCAVENGE_WINDOW: Duration = Duration::from_millis(500);
/// Time a worker spends in one scavenger step (it stops after the batch that reaches it)...
const SCAVENGE_BUDGET: Duration = Duration::from_millis(1);
/// ... and the pause before the next step while stacks are still to be released.
const SCAVENGE_STEP: Duration = Duration::from_millis(1);
/// Stacks released per lock hold.
const SCAVENGE_BATCH: usize = 256;
/// Warm free stacks always kept, whatever the working set.
const SCAVENGE_FLOOR: usize = 64;

/// What the scavenger should do after a step (see [`StackPool::scavenge`]).
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scavenge {
    /// Run again after this long.
    After(Duration),
    /// Nothing is left that a shrinking working set could release: stop until stacks come
    /// back to the pool again. `released` stacks were released since the scavenger woke.
    Idle { released: usize },
}

/// The runtime-wide pool of default-size stacks.
pub(crate) struct StackPool {
    /// Usable bytes per pooled stack.
    size: usize,
    /// Stacks that may sit in worker caches, kept spare beyond the reservations.
    slack: usize,
    reserved: AtomicUsize,
    /// Mirror of `Free::capacity` for the lock-free fast path of `reserve`.
    capacity: AtomicUsize,
    /// Called (outside the lock) when the free stacks exceed what the scavenger would keep
    /// and no scavenger step is pending: the runtime arms a timer that calls `scavenge`.
    wake_scavenger: fn(Duration),
    free: Mutex<Free>,
}

struct Free {
    /// Free stacks whose pages may be resident, the most recently returned at the back.
    warm: VecDeque<Slot>,
    /// Free stacks with no resident pages: released by the scavenger, or never used.
    cold: Vec<Slot>,
    /// Pooled stacks mapped so far.
    capacity: usize,
    /// The scavenger's working-set windows (module docs): the most stacks out of the pool
    /// (in use or in worker caches) in the current window and in the one before.
    peak: usize,
    prev_peak: usize,
    window_start: Option<Instant>,
    /// Whether a scavenger step is pending (armed, not yet run).
    scavenging: bool,
    /// Stacks released since the scavenger was last woken.
    released: usize,
}

impl Free {
    /// Stacks out of the pool: held by goroutines or in worker caches.
    fn out(&self) -> usize {
        self.capacity - self.warm.len() - self.cold.len()
    }

    /// Warm free stacks kept for a working set of `need` stacks when `out` are out.
    fn keep(need: usize, out: usize) -> usize {
        (need + need / 10 + SCAVENGE_FLOOR).saturating_sub(out)
    }
}

impl StackPool {
    /// A pool of stacks of `size` usable bytes for `workers` workers; `wake_scavenger(delay)`
    /// must arrange for [`StackPool::scavenge`] to be called after `delay`.
    pub(crate) fn new(size: usize, workers: usize, wake_scavenger: fn(Duration)) -> StackPool {
        StackPool {
            size,
            slack: CACHE_MAX * workers + 1,
            reserved: AtomicUsize::new(0),
            capacity: AtomicUsize::new(0),
            wake_scavenger,
            free: Mutex::new(Free {
                warm: VecDeque::new(),
                cold: Vec::new(),
                capacity: 0,
                peak: 0,
                prev_peak: 0,
                window_start: None,
                scavenging: false,
                released: 0,
            }),
        }
    }

    /// Usable size of a pooled stack.
    pub(crate) fn stack_size(&self) -> usize {
        self.size
    }

    /// Reserves one pooled stack for a goroutine about to be spawned, mapping memory if the
    /// pool could otherwise run dry. The only fallible step of stack management.
    pub(crate) fn reserve(&self) -> io::Result<()> {
        let want = self.reserved.fetch_add(1, Ordering::Relaxed) + 1 + self.slack;
        // Relaxed: only a count; stacks themselves are handed out under the lock.
        if want <= self.capacity.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while free.capacity < want {
            if let Err(e) = self.grow(&mut free) {
                drop(free);
                self.reserved.fetch_sub(1, Ordering::Relaxed);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Gives back the reservation of a goroutine that has finished.
    pub(crate) fn unreserve(&self) {
        self.reserved.fetch_sub(1, Ordering::Relaxed);
    }

    /// Maps one more chunk. The first guard is installed at once, which tells whether the
    /// kernel has `MADV_GUARD_INSTALL`; if so the other guards are installed when their
    /// stacks are first handed to a worker, a batch at a time (`guard_batch`), so memory
    /// reserved for goroutines that never run costs no system call (a guard marker costs no
    /// mapping and cannot run out). With `mprotect` guards, which can run out of mappings,
    /// every guard is installed here, where a failure can still be reported to the spawner.
    /// The new stacks are cold: nothing of them is resident yet.
    fn grow(&self, free: &mut Free) -> io::Result<()> {
        let page = page_size();
        let slot = self.size + page;
        let stacks = free.capacity.clamp(FIRST_CHUNK_STACKS, MAX_CHUNK_STACKS);
        let len = slot * stacks;
        let base = map(len)?;
        if let Err(e) = install_guard(base) {
            // SAFETY: the chunk was just mapped and nothing refers to it.
            unsafe { libc::munmap(base as *mut libc::c_void, len) };
            return Err(e);
        }
        let lazy = use_madvise();
        // Pushed in reverse so that the chunk is handed out from its lowest address up.
        for i in (0..stacks).rev() {
            let limit = base + i * slot;
            let guarded = i == 0 || !lazy;
            if i > 0 && !lazy {
                // Stacks of this chunk already pushed stay valid; the rest stays mapped but
                // unused.
                install_guard(limit)?;
            }
            free.cold.push(Slot::new(limit, guarded));
            free.capacity += 1;
            self.capacity.store(free.capacity, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Takes up to `n` stacks into `into`: warm ones first, the most recently returned
    /// first, then cold ones (which cost page faults when first touched).
    // Out of line, as `give`: the callers are on every goroutine's start and exit, and only
    // one call in `CACHE_MAX / 2` gets here.
    #[inline(never)]
    fn take(&self, into: &mut Vec<GoroutineStack>, n: usize) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.warm.is_empty() && free.cold.is_empty() {
            // Unreachable while reservations hold (module docs), kept as a last resort.
            if let Err(e) = self.grow(&mut free) {
                panic!("{e}");
            }
        }
        let first = into.len();
        let slot = self.size + page_size();
        let stack = |s: Slot| GoroutineStack {
            top: s.limit() + slot,
            limit: s.limit(),
            dedicated: 0,
            guarded: s.guarded(),
        };
        // The cache hands out from its end: cold stacks go in first, to be used last.
        let warm = n.min(free.warm.len());
        let cold = (n - warm).min(free.cold.len());
        let k = free.cold.len() - cold;
        into.extend(free.cold.drain(k..).map(stack));
        let k = free.warm.len() - warm;
        into.extend(free.warm.drain(k..).map(stack));
        let out = free.out();
        free.peak = free.peak.max(out);
        drop(free);
        guard_batch(&mut into[first..]);
    }

    #[inline(never)]
    fn give(&self, from: &mut Vec<GoroutineStack>, n: usize) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let k = from.len() - n;
        free.warm
            .extend(from.drain(k..).map(|s| Slot::new(s.limit, s.guarded)));
        // Wake the scavenger if, once the working set shrinks to what is out now, some of
        // the warm stacks would be released. Its first step is a window away, and the
        // windows restart here with the peak so far as the previous one, so a burst that
        // winds down is remembered for one to two windows.
        let out = free.out();
        if free.scavenging || free.warm.len() <= Free::keep(out, out) {
            return;
        }
        free.scavenging = true;
        free.prev_peak = free.peak.max(out);
        free.peak = out;
        free.window_start = Some(Instant::now());
        drop(free);
        (self.wake_scavenger)(SCAVENGE_WINDOW);
    }

    /// One scavenger step, at `now`: releases the pages of warm free stacks beyond what the
    /// working set needs, the least recently returned first, for about `SCAVENGE_BUDGET`
    /// (module docs, "Scavenging"), and says when to run again.
    pub(crate) fn scavenge(&self, now: Instant) -> Scavenge {
        let slot_len = self.size + page_size();
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let start = *free.window_start.get_or_insert(now);
        if now.saturating_duration_since(start) >= SCAVENGE_WINDOW {
            free.prev_peak = free.peak;
            free.peak = free.out();
            free.window_start = Some(now);
        }
        let mut released: Vec<Slot> = Vec::new();
        let excess = loop {
            let out = free.out();
            free.peak = free.peak.max(out);
            let need = free.peak.max(free.prev_peak);
            let excess = free.warm.len().saturating_sub(Free::keep(need, out));
            // At least one batch per step, however late the step runs.
            if excess == 0 || (!released.is_empty() && now.elapsed() >= SCAVENGE_BUDGET) {
                break excess;
            }
            // Released under the lock, so the stacks never leave the pool's count and the
            // reservations' guarantee (module docs) holds throughout; the lock is dropped
            // between batches, so a worker that needs stacks waits for one batch at most.
            released.clear();
            released.extend(free.warm.drain(..excess.min(SCAVENGE_BATCH)));
            release(&mut released, slot_len);
            free.cold.extend_from_slice(&released);
            free.released += released.len();
            drop(free);
            free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        };
        let out = free.out();
        if excess > 0 {
            Scavenge::After(SCAVENGE_STEP)
        } else if free.warm.len() > Free::keep(out, out) {
            // The working set may still shrink to `out`: look again when this window ends.
            let end = free.window_start.map_or(now, |s| s + SCAVENGE_WINDOW);
            Scavenge::After(end.saturating_duration_since(now).max(SCAVENGE_STEP))
        } else {
            free.scavenging = false;
            // The list grew with the burst; keep room for twice what is left.
            let len = free.warm.len();
            if free.warm.capacity() > 4 * len.max(1024) {
                free.warm.shrink_to(2 * len);
            }
            Scavenge::Idle {
                released: std::mem::take(&mut free.released),
            }
        }
    }
}

/// A worker's private cache of pooled stacks.
pub(crate) struct StackCache {
    pool: &'static StackPool,
    stacks: Vec<GoroutineStack>,
}

impl StackCache {
    pub(crate) fn new(pool: &'static StackPool) -> StackCache {
        StackCache {
            pool,
            stacks: Vec::with_capacity(CACHE_MAX + 1),
        }
    }

    /// A pooled stack for a goroutine that holds a reservation.
    pub(crate) fn get(&mut self) -> GoroutineStack {
        if self.stacks.is_empty() {
            self.pool.take(&mut self.stacks, CACHE_MAX / 2);
        }
        let mut stack = self.stacks.pop().expect("stack pool refilled");
        if !stack.guarded {
            if let Err(e) = install_guard(stack.limit) {
                panic!("{e}");
            }
            stack.guarded = true;
        }
        stack
    }

    /// Gives every cached stack back to the pool (the worker thread is exiting).
    pub(crate) fn release_all(&mut self) {
        let n = self.stacks.len();
        if n > 0 {
            self.pool.give(&mut self.stacks, n);
        }
    }

    /// Returns the stack of a finished goroutine.
    pub(crate) fn put(&mut self, stack: GoroutineStack) {
        if stack.dedicated != 0 {
            // SAFETY: a dedicated stack owns its whole mapping, and its goroutine has finished,
            // so nothing refers to the memory any more.
            unsafe { libc::munmap(stack.limit as *mut libc::c_void, stack.dedicated) };
            return;
        }
        self.pool.unreserve();
        self.stacks.push(stack);
        if self.stacks.len() > CACHE_MAX {
            self.pool.give(&mut self.stacks, CACHE_MAX / 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static WOKEN: AtomicUsize = AtomicUsize::new(0);

    fn note_wake(delay: Duration) {
        assert_eq!(delay, SCAVENGE_WINDOW);
        WOKEN.fetch_add(1, Ordering::Relaxed);
    }

    /// A burst of 1000 stacks, all returned: nothing is released while the burst is within
    /// the window, then everything but the floor is, least recently returned first; the
    /// released stacks read as zeroes and are handed out after the warm ones.
    #[test]
    fn scavenger_keeps_the_recent_peak_then_releases_the_rest() {
        let pool = StackPool::new(MIN_STACK_SIZE, 1, note_wake);
        for _ in 0..1000 {
            pool.reserve().unwrap();
        }
        let mut stacks = Vec::new();
        pool.take(&mut stacks, 1000);
        assert_eq!(stacks.len(), 1000);
        for s in &stacks {
            // SAFETY: the stack's usable part is mapped read/write and unused.
            unsafe { ((s.top - 8) as *mut u64).write(0x5ca7) };
        }
        let limits: Vec<usize> = stacks.iter().map(|s| s.limit).collect();
        pool.give(&mut stacks, 1000);
        assert_eq!(
            WOKEN.load(Ordering::Relaxed),
            1,
            "the first give wakes the scavenger"
        );

        let start = pool
            .free
            .lock()
            .unwrap()
            .window_start
            .expect("window started");
        // Within the window the burst's peak is the working set: all 1000 stay warm, and the
        // scavenger looks again when the window ends.
        assert_eq!(pool.scavenge(start), Scavenge::After(SCAVENGE_WINDOW));
        assert_eq!(pool.free.lock().unwrap().warm.len(), 1000);
        // A window later the peak is forgotten: only the floor stays warm. (The instant is
        // far ahead of the clock, so the step's time budget does not cut it short.)
        let later = start + 100 * SCAVENGE_WINDOW;
        assert_eq!(
            pool.scavenge(later),
            Scavenge::Idle {
                released: 1000 - SCAVENGE_FLOOR
            }
        );
        let free = pool.free.lock().unwrap();
        assert_eq!(free.warm.len(), SCAVENGE_FLOOR);
        // The kept ones are the last returned.
        let kept: Vec<usize> = free.warm.iter().map(|s| s.limit()).collect();
        assert_eq!(kept, limits[1000 - SCAVENGE_FLOOR..]);
        drop(free);
        let slot = MIN_STACK_SIZE + page_size();
        for &limit in &limits[..1000 - SCAVENGE_FLOOR] {
            // SAFETY: as above; the page was released and reads as zero.
            assert_eq!(unsafe { ((limit + slot - 8) as *const u64).read() }, 0);
        }
        for &limit in &kept {
            // SAFETY: as above; a warm stack keeps its contents.
            assert_eq!(unsafe { ((limit + slot - 8) as *const u64).read() }, 0x5ca7);
        }
        // Warm stacks are handed out first.
        let mut again = Vec::new();
        pool.take(&mut again, SCAVENGE_FLOOR);
        let mut got: Vec<usize> = again.iter().map(|s| s.limit).collect();
        got.sort_unstable();
        let mut want = kept.clone();
        want.sort_unstable();
        assert_eq!(got, want);
        pool.give(&mut again, SCAVENGE_FLOOR);
    }
}
