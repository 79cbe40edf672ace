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

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

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
        return Err(io::Error::new(
            e.kind(),
            format!("goro: cannot map {len} bytes for goroutine stacks: {e}"),
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

/// The runtime-wide pool of default-size stacks.
pub(crate) struct StackPool {
    /// Usable bytes per pooled stack.
    size: usize,
    /// Stacks that may sit in worker caches, kept spare beyond the reservations.
    slack: usize,
    reserved: AtomicUsize,
    /// Mirror of `Free::capacity` for the lock-free fast path of `reserve`.
    capacity: AtomicUsize,
    free: Mutex<Free>,
}

struct Free {
    stacks: Vec<GoroutineStack>,
    /// Pooled stacks mapped so far.
    capacity: usize,
}

impl StackPool {
    pub(crate) fn new(size: usize, workers: usize) -> StackPool {
        StackPool {
            size,
            slack: CACHE_MAX * workers + 1,
            reserved: AtomicUsize::new(0),
            capacity: AtomicUsize::new(0),
            free: Mutex::new(Free {
                stacks: Vec::new(),
                capacity: 0,
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
        for i in 0..stacks {
            let limit = base + i * slot;
            let guarded = i == 0 || !lazy;
            if i > 0 && !lazy {
                // Stacks of this chunk already pushed stay valid; the rest stays mapped but
                // unused.
                install_guard(limit)?;
            }
            free.stacks.push(GoroutineStack {
                top: limit + slot,
                limit,
                dedicated: 0,
                guarded,
            });
            free.capacity += 1;
            self.capacity.store(free.capacity, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Takes up to `n` stacks into `into`.
    fn take(&self, into: &mut Vec<GoroutineStack>, n: usize) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.stacks.is_empty() {
            // Unreachable while reservations hold (module docs), kept as a last resort.
            if let Err(e) = self.grow(&mut free) {
                panic!("{e}");
            }
        }
        let k = free.stacks.len().saturating_sub(n);
        let first = into.len();
        into.extend(free.stacks.drain(k..));
        drop(free);
        guard_batch(&mut into[first..]);
    }

    fn give(&self, from: &mut Vec<GoroutineStack>, n: usize) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let k = from.len() - n;
        free.stacks.extend(from.drain(k..));
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
