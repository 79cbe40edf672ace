//! The goroutine: a stackful coroutine (corosensei) with its park state, identity and locals.
//!
//! # Ownership
//!
//! A goroutine is an `Arc<Goroutine>` ([`GRef`]). Exactly one *scheduler reference* exists
//! while it is alive: it sits in a run queue, or in the hands of the worker running it, or,
//! while parked, it belongs to the park state (the worker forgets it on a committed park and
//! the waker that wins the `PARKED -> NOTIFIED` swap takes it back, see `park::state`). Other
//! clones (held by waiters lists, timers and `Unparker`s) only ever call `unpark`.
//!
//! # Header and execution state
//!
//! The header ([`Goroutine`]) lives in the goroutine's block from spawn until the last
//! reference goes (a finished goroutine's block waits there for `join`), so it holds only
//! what wakers and joiners need. What only a running goroutine needs ([`Exec`]) is attached at
//! its first run and recycled with its stack when it finishes.
//!
//! # Exclusive fields
//!
//! `exec` (the execution state: coroutine, locals, `lock_os_thread` count) and `extra`'s
//! `dedicated` are touched only by the thread that currently holds the scheduler reference (the worker
//! running the goroutine, or the goroutine itself on that worker). Handing the scheduler reference from
//! one thread to another always goes through a Release/Acquire pair (a run queue, or the park
//! state's commit/unpark), so these accesses never race. `timed_wait` is written only by
//! the goroutine (Relaxed) and read by workers as a hint (see the field).

pub(crate) mod local;
pub(crate) mod overflow;
pub(crate) mod sanitizer;
pub(crate) mod stack;
pub(crate) mod task;

use std::cell::{Cell, UnsafeCell};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};

use corosensei::{Coroutine, CoroutineResult, Yielder};

use std::panic::Location;

use super::park::state::ParkState;
use super::park::{self, Unparker};
use super::registry;
use stack::GoroutineStack;
pub(crate) use task::GRef;
use task::Vtable;

/// Why a goroutine switched back to its worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Suspend {
    /// It wants to park: the worker commits the park (see `park::state`).
    Park,
    /// `yield_now`: requeue it behind the other runnable goroutines.
    Yield,
}

/// What the worker learns from one resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Suspended(Suspend),
    /// The goroutine returned; its stack is back in the pool.
    Finished,
}

type Coro = Coroutine<(), Suspend, (), GoroutineStack>;

/// Goroutines spawned and not yet finished (`runtime.NumGoroutine`): counted when the block
/// is made, uncounted by the goroutine itself just before it publishes its completion, so
/// a joined goroutine no longer counts. Relaxed: a statistic, no memory is published by it.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The number of goroutines that exist now.
pub(crate) fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Value of `pinned` meaning "free to move".
pub(crate) const NOT_PINNED: u32 = u32::MAX;

/// Join states (see `complete` and `wait_done`).
const JOIN_EMPTY: u8 = 0;
const JOIN_WAITING: u8 = 1;
const JOIN_DONE: u8 = 2;

pub(crate) struct Goroutine {
    /// Reference count of the block (see `task::GRef`).
    refs: AtomicUsize,
    pub(crate) vtable: &'static Vtable,
    id: u64,
    /// What few goroutines have (a name, a dedicated stack, a leak-check scope), boxed apart
    /// so that the others' blocks stay small: a block of up to 128 bytes (the header, and a
    /// small closure or result) is served from glibc's fast bins, and one just above it
    /// from its slower small bins (the `skynet` benchmark ran 90 more instructions per
    /// goroutine in `malloc` with a header 24 bytes larger).
    extra: Option<Box<Extra>>,
    /// The execution state, attached at the first run (null before).
    exec: Cell<*mut Exec>,
    /// Id of the runtime thread this goroutine must run on (`lock_os_thread`, see
    /// `rt::thread`), or `NOT_PINNED`. Written by the goroutine itself while running; read by
    /// wakers after the Acquire of `ParkState::unpark`, which pairs with the Release of
    /// `commit`, so a waker always sees the value set before the park.
    pinned: AtomicU32,
    /// While this goroutine blocks its thread during unwinding, that thread's slot in
    /// `park::blocked_threads` (see `park::park_blocking_thread`); `NOT_PINNED` otherwise.
    pub(crate) blocking: AtomicU32,
    pub(crate) park: ParkState,
    /// The number of the goroutine's current timed wait (`park::TimedWait`): the runtime
    /// timer a timed wait arms carries it, and the goroutine bumps it when the wait ends, so
    /// a timer left behind by a wait that ended early is known dead (swept, and it wakes
    /// nobody). Written only by the goroutine itself; read by workers firing or sweeping
    /// timers. It wraps after 2^32 waits: a timer that old and still pending would only be
    /// taken for live again, which costs one spurious wake-up and keeps it until its deadline.
    pub(crate) timed_wait: AtomicU32,
    /// Completion for `JoinHandle::join`: the goroutine stores its result in its block, then
    /// swaps in JOIN_DONE; a joiner stores `joiner`, then CASes JOIN_EMPTY to JOIN_WAITING.
    join: AtomicU8,
    joiner: UnsafeCell<Option<Unparker>>,
    /// Where the goroutine was created (the caller of `go`), and by which goroutine (0: a
    /// plain thread).
    created_at: &'static Location<'static>,
    parent: u64,
}

/// The rarer parts of a goroutine's header (`Goroutine::extra`).
struct Extra {
    name: Option<Box<str>>,
    /// A dedicated stack mapped at spawn (sizes above the pool's), or `None` for a pooled one
    /// taken at the first run.
    dedicated: UnsafeCell<Option<Box<GoroutineStack>>>,
    /// The leak-check scope the goroutine belongs to (`crate::leak`): the one its creator
    /// gave its children at the spawn (0: none).
    scope: u64,
}

/// What a goroutine needs only while it runs. It lives at the top of the goroutine's stack
/// memory (`stack::EXEC_RESERVE`), so it is recycled with the stack.
pub(crate) struct Exec {
    coroutine: Option<Coro>,
    /// Points into the coroutine's stack; set by the coroutine body at start.
    yielder: *const Yielder<(), Suspend>,
    /// Address range of the stack's guard region, for the overflow handler.
    guard: (usize, usize),
    locals: local::LocalMap,
    /// Nesting depth of `lock_os_thread`.
    lock_count: u32,
    /// What the sanitizers track of the goroutine's stack (empty in normal builds).
    fiber: sanitizer::Fiber,
    /// The goroutine's entry in the registry of goroutines that have waited, with what its
    /// last wait was (`rt::registry`). Here rather than in the header, which every
    /// goroutine pays for from its spawn (the `spawn` benchmark allocates a million).
    ///
    /// Unlike the other fields, the node outlives its goroutine: it is never written at the
    /// first run nor moved out at the end, but stays in the stack's reserved top, valid
    /// and unlinked, for the next goroutine on that stack. A stack's memory starts as
    /// zeroes (a fresh mapping, or one dropped with `MADV_DONTNEED`), which is an unlinked
    /// node (`registry::Node`); a goroutine unlinks its node before it finishes. So the
    /// node costs a goroutine that never waits nothing at all.
    node: registry::Node,
    /// The leak-check scope of the goroutines it starts, if a guard it took opened one
    /// (`child_scope`); 0: its own.
    child_scope: Cell<u64>,
}

// SAFETY: the `Cell`/`UnsafeCell` fields (but `joiner`, see `complete`) are accessed only by the holder of the scheduler
// reference (module docs), which is one thread at a time with Release/Acquire hand-offs in
// between. The coroutine's stack may hold `!Send` values of the goroutine's own code; the
// closure that starts it is `Send`, and what code running on it may do with thread-bound
// state is the documented contract of the crate (ARCHITECTURE.md, "Thread-locals").
unsafe impl Send for Goroutine {}
// SAFETY: shared access from other threads is limited to `id`, `name`, `park`, `pinned`,
// `timed_wait`, `created_at` and `parent`, which are immutable or atomic, and to the
// registry node in the execution state, touched only under its registry shard's lock or
// atomic (see `rt::registry`); see above for the rest.
unsafe impl Sync for Goroutine {}

impl Goroutine {
    #[inline]
    fn new(
        id: u64,
        name: Option<Box<str>>,
        dedicated: Option<Box<GoroutineStack>>,
        vtable: &'static Vtable,
        created_at: &'static Location<'static>,
        parent: u64,
        scope: u64,
    ) -> Self {
        let extra = (name.is_some() || dedicated.is_some() || scope != 0).then(|| {
            Box::new(Extra {
                name,
                dedicated: UnsafeCell::new(dedicated),
                scope,
            })
        });
        Goroutine {
            created_at,
            parent,
            refs: AtomicUsize::new(1),
            vtable,
            id,
            extra,
            exec: Cell::new(std::ptr::null_mut()),
            pinned: AtomicU32::new(NOT_PINNED),
            blocking: AtomicU32::new(NOT_PINNED),
            park: ParkState::new(),
            timed_wait: AtomicU32::new(0),
            join: AtomicU8::new(JOIN_EMPTY),
            joiner: UnsafeCell::new(None),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|e| e.name.as_deref())
    }

    /// Where the goroutine was created, and the id of the goroutine that created it (0 for
    /// a plain thread).
    pub(crate) fn created(&self) -> (&'static Location<'static>, u64) {
        (self.created_at, self.parent)
    }

    /// The leak-check scope the goroutine belongs to (`crate::leak`).
    #[inline]
    pub(crate) fn scope(&self) -> u64 {
        self.extra.as_ref().map_or(0, |e| e.scope)
    }

    /// The leak-check scope the goroutine gives the goroutines it starts: its own, unless a
    /// guard it took opened another. Called by the goroutine itself.
    #[inline]
    pub(crate) fn child_scope(&self) -> u64 {
        // SAFETY: as in `note_wait`; only the goroutine itself touches `child_scope`.
        match unsafe { (*self.exec.get()).child_scope.get() } {
            0 => self.scope(),
            scope => scope,
        }
    }

    /// Sets the scope its children get; returns the previous one. Called by the goroutine
    /// itself.
    pub(crate) fn set_child_scope(&self, scope: u64) -> u64 {
        // SAFETY: as in `child_scope`.
        unsafe { (*self.exec.get()).child_scope.replace(scope) }
    }

    /// Whether the goroutine is parked (waiting), rather than running or runnable.
    pub(crate) fn is_parked(&self) -> bool {
        self.park.is_parked()
    }

    /// Records that the goroutine is about to wait for `reason` at `at`, and lists it in the
    /// registry if it is not yet. Called by the goroutine itself (`park::park_as`).
    pub(crate) fn note_wait(&self, reason: registry::Reason, at: &'static Location<'static>) {
        // SAFETY: the goroutine itself is running, so its exec state is attached; the node
        // is only reached through raw field pointers and shared references (see `resume`).
        let node = unsafe { &*std::ptr::addr_of!((*self.exec.get()).node) };
        registry::note_wait(node, self, reason, at);
    }

    /// Takes the goroutine off the registry (`rt::registry`). Called by the goroutine itself
    /// as it finishes, before its result is published.
    pub(crate) fn unlist(&self) {
        // SAFETY: as in `note_wait`.
        let node = unsafe { &*std::ptr::addr_of!((*self.exec.get()).node) };
        registry::unlink(node);
    }

    /// The runtime thread this goroutine is locked to, if any.
    pub(crate) fn pinned_thread(&self) -> Option<u32> {
        // Relaxed: see the field's comment for the edge that orders it.
        match self.pinned.load(Ordering::Relaxed) {
            NOT_PINNED => None,
            t => Some(t),
        }
    }

    /// Runs the goroutine until it suspends or returns. Called only by the worker holding its
    /// scheduler reference, on the worker's own stack.
    ///
    /// # Safety
    ///
    /// The caller holds the scheduler reference and `self` is the goroutine published as the
    /// current one for this thread (see `rt::worker`).
    #[inline(always)]
    pub(crate) unsafe fn resume(&self, stacks: &mut stack::StackCache) -> Outcome {
        let mut exec = self.exec.get();
        if exec.is_null() {
            // First run: the stack is taken only now, so goroutines that have not started
            // cost no stack, and a stack freed by a finished goroutine is reused at once.
            let dedicated = self.extra.as_ref().and_then(|e| {
                // SAFETY: the caller holds the scheduler reference, so no other thread
                // touches the exclusive fields (module docs).
                unsafe { (*e.dedicated.get()).take() }
            });
            let stack = match dedicated {
                Some(stack) => *stack,
                None => stacks.get(),
            };
            let me = NonNull::from(self);
            let run = self.vtable.run;
            let guard = stack.guard();
            let (bottom, size) = stack.bounds();
            exec = stack.exec_slot();
            // SAFETY: `exec` points into the stack's reserved top (see below); this only
            // computes a field address.
            let fiber = unsafe { std::ptr::addr_of_mut!((*exec).fiber) };
            let coroutine = Some(Coroutine::with_stack(stack, move |yielder, ()| {
                // SAFETY: the exec state is attached (the worker writes it before the first
                // resume) and we are its goroutine, on our own stack.
                unsafe { sanitizer::started(fiber) };
                // SAFETY: the worker resuming us holds a reference to the block, and the exec
                // state stays attached until the coroutine returns.
                unsafe { (*me.as_ref().exec.get()).yielder = yielder };
                // SAFETY: the block's vtable matches its type, the stage is `Start` (this is
                // the first run), and we are the goroutine itself.
                unsafe { run(me) };
                // SAFETY: as for `started`; nothing of ours runs after this.
                unsafe { sanitizer::exiting(fiber) };
            }));
            // SAFETY: the slot is the reserved top of the stack now owned by `coroutine`,
            // aligned and unused by the coroutine (see `stack::EXEC_RESERVE`); it holds no
            // live value but the registry node, which is left as it is (see `Exec::node`):
            // the rest of a stack's previous state was moved out when its goroutine ended.
            // Written field by field: the struct is large enough that writing it whole goes
            // through a copy from the worker's stack (`memcpy`), once per goroutine.
            unsafe {
                use std::ptr::addr_of_mut;
                addr_of_mut!((*exec).coroutine).write(coroutine);
                addr_of_mut!((*exec).yielder).write(std::ptr::null());
                addr_of_mut!((*exec).guard).write(guard);
                addr_of_mut!((*exec).locals).write(local::LocalMap::new());
                addr_of_mut!((*exec).lock_count).write(0);
                addr_of_mut!((*exec).fiber).write(sanitizer::Fiber::new(self.id, bottom, size));
                addr_of_mut!((*exec).child_scope).write(Cell::new(0));
            };
            self.exec.set(exec);
        }
        // SAFETY: `exec` is attached, and only the scheduler-reference holder (us) and the
        // goroutine itself (inside the resume below) reach it. The worker uses `guard` and
        // `coroutine`; the goroutine uses only `yielder`, `locals`, `lock_count`, `fiber` and `node`,
        // through raw field pointers, so the `&mut` borrow of `coroutine` held across the
        // switch never overlaps what the goroutine touches (the worker reaches `fiber`
        // only through a raw pointer, before and after the switch).
        let guard = unsafe { (*exec).guard };
        overflow::set_current(guard, self);
        // SAFETY: as above; `coroutine` is set from the first run until it returns.
        let coro = unsafe { (*exec).coroutine.as_mut() }.expect("coroutine attached");
        // SAFETY: `fiber` is this goroutine's, attached with its exec state, and the resume
        // follows at once; no reference to it is held across the switch.
        let switch = unsafe { sanitizer::resuming(std::ptr::addr_of_mut!((*exec).fiber)) };
        let result = coro.resume(());
        sanitizer::resumed(switch);
        overflow::clear_current();
        match result {
            CoroutineResult::Yield(s) => Outcome::Suspended(s),
            CoroutineResult::Return(()) => {
                self.exec.set(std::ptr::null_mut());
                // SAFETY: the coroutine has returned, so the goroutine no longer uses its exec
                // state; moving its parts out of the stack memory (and dropping the rest in
                // place) leaves the slot dead before the stack goes back to the pool. Field
                // by field rather than whole, as for the write in the first run.
                let (coroutine, fiber) = unsafe {
                    use std::ptr::addr_of_mut;
                    std::ptr::drop_in_place(addr_of_mut!((*exec).locals));
                    (
                        addr_of_mut!((*exec).coroutine).read(),
                        addr_of_mut!((*exec).fiber).read(),
                    )
                };
                let stack = coroutine.expect("coroutine attached").into_stack();
                let (bottom, size) = stack.bounds();
                // SAFETY: the goroutine has returned and its fiber state was moved out of the
                // stack.
                unsafe { sanitizer::finished(fiber, bottom, size) };
                stacks.put(stack);
                Outcome::Finished
            }
        }
    }

    /// Publishes the goroutine's completion (its result is stored) and wakes the joiner.
    pub(crate) fn complete(&self) {
        // AcqRel: Release publishes the result to the joiner's Acquire loads in `is_done`;
        // Acquire pairs with the joiner's Release CAS in `wait_done`, making `joiner` visible.
        if self.join.swap(JOIN_DONE, Ordering::AcqRel) == JOIN_WAITING {
            // SAFETY: the joiner wrote `joiner` before publishing JOIN_WAITING and does not
            // touch it again.
            if let Some(w) = unsafe { (*self.joiner.get()).take() } {
                w.unpark();
            }
        }
    }

    /// Whether the goroutine has completed (its result can be taken).
    pub(crate) fn is_done(&self) -> bool {
        // Acquire: pairs with the swap in `complete`.
        self.join.load(Ordering::Acquire) == JOIN_DONE
    }

    /// Parks the caller (the one joiner) until the goroutine completes.
    #[track_caller]
    pub(crate) fn wait_done(&self) {
        if self.is_done() {
            return;
        }
        // SAFETY: the goroutine reads `joiner` only after observing JOIN_WAITING, which is
        // not published yet, and there is one joiner (`JoinHandle::join` takes `self`).
        unsafe { *self.joiner.get() = Some(Unparker::current()) };
        // Release: publishes `joiner`; Acquire on failure pairs with `complete`'s swap.
        if self
            .join
            .compare_exchange(
                JOIN_EMPTY,
                JOIN_WAITING,
                Ordering::Release,
                Ordering::Acquire,
            )
            .is_err()
        {
            return;
        }
        let at = Location::caller();
        while !self.is_done() {
            park::park_as(registry::Reason::Join, at);
        }
    }

    /// Registers `joiner` (an async task's waker) to be woken when the goroutine completes,
    /// for the one joiner that waits asynchronously (`JoinHandle`'s future). Returns false
    /// if it has completed already (nothing registered).
    pub(crate) fn join_async(&self, joiner: Unparker) -> bool {
        if self.is_done() {
            return false;
        }
        // SAFETY: as in `wait_done`: nobody reads `joiner` before JOIN_WAITING is published,
        // and there is one joiner, which registers once.
        unsafe { *self.joiner.get() = Some(joiner) };
        // Release: publishes `joiner`; Acquire on failure pairs with `complete`'s swap.
        self.join
            .compare_exchange(
                JOIN_EMPTY,
                JOIN_WAITING,
                Ordering::Release,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Switches from the goroutine's stack back to its worker. Called only by the goroutine
    /// itself (`self` is the current goroutine).
    pub(crate) fn suspend(&self, why: Suspend) {
        let exec = self.exec.get();
        // SAFETY: the goroutine itself is running, so its exec state is attached; only the
        // `yielder` field is read (see `resume`).
        let y = unsafe { (*exec).yielder };
        debug_assert!(!y.is_null());
        // SAFETY: as above; this only computes the address of the `fiber` field.
        let fiber = unsafe { std::ptr::addr_of_mut!((*exec).fiber) };
        // SAFETY: `fiber` is ours, and the switch follows at once.
        unsafe { sanitizer::suspending(fiber) };
        // SAFETY: `yielder` was set by the coroutine body at start and points into this
        // coroutine's own stack, which is live because we are running on it.
        unsafe { (*y).suspend(why) };
        // SAFETY: running again on our stack, with our exec state attached.
        unsafe { sanitizer::suspended(fiber) };
    }

    /// Locks the goroutine to runtime thread `thread` (or unlocks with `NOT_PINNED`). Called
    /// by the goroutine itself.
    pub(crate) fn set_pinned(&self, thread: u32) {
        self.pinned.store(thread, Ordering::Relaxed);
    }

    /// Counts one more `lock_os_thread`; returns whether it is the outermost one.
    ///
    /// # Safety
    ///
    /// Called by the goroutine itself (`self` is the current goroutine).
    pub(crate) unsafe fn lock_thread(&self) -> bool {
        // SAFETY: the goroutine itself is running, so its exec state is attached, and the
        // worker never touches `lock_count` (see `resume`).
        let count = unsafe { &mut (*self.exec.get()).lock_count };
        *count = count
            .checked_add(1)
            .expect("goro: lock_os_thread nested too deeply");
        *count == 1
    }

    /// Undoes one `lock_os_thread` (none if there is none); returns whether it was the last.
    ///
    /// # Safety
    ///
    /// As [`Goroutine::lock_thread`].
    pub(crate) unsafe fn unlock_thread(&self) -> bool {
        // SAFETY: as in `lock_thread`.
        let count = unsafe { &mut (*self.exec.get()).lock_count };
        match *count {
            0 => false,
            n => {
                *count = n - 1;
                n == 1
            }
        }
    }

    /// The goroutine's local storage. Only the goroutine itself may call this.
    pub(crate) fn locals(&self) -> *mut local::LocalMap {
        // SAFETY: as in `lock_thread`.
        unsafe { std::ptr::addr_of_mut!((*self.exec.get()).locals) }
    }
}

thread_local! {
    /// The goroutine running on this thread, or null in scheduler context and on plain threads.
    static CURRENT: Cell<*const Goroutine> = const { Cell::new(std::ptr::null()) };
}

/// The goroutine running on this thread.
///
/// `#[inline(never)]`: a goroutine may resume on another thread after any park, and LLVM may
/// reuse a thread-local address computed earlier in the same function. Keeping every access to
/// the runtime's thread-locals in its own non-inlined function makes the address be computed
/// afresh on the thread that runs the call.
#[inline(never)]
pub(crate) fn current() -> Option<&'static Goroutine> {
    let p = CURRENT.with(|c| c.get());
    // SAFETY: a non-null CURRENT is the goroutine this worker is running; the worker holds its
    // scheduler reference for as long as CURRENT is set, which covers every call made from
    // the goroutine's stack. The 'static lifetime is a lie bounded by that window: callers on
    // the goroutine use it only while running (they cannot outlive their own stack frames).
    unsafe { p.as_ref() }
}

/// A new reference to the current goroutine.
#[inline(never)]
pub(crate) fn current_ref() -> Option<GRef> {
    let p = CURRENT.with(|c| c.get());
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` is the goroutine whose reference the worker holds (see `set_current`).
    Some(unsafe { GRef::clone_raw(p) })
}

/// Publishes `g` as the current goroutine of this thread (or clears it with `None`).
#[inline(never)]
pub(crate) fn set_current(g: Option<&GRef>) {
    let p = g.map_or(std::ptr::null(), GRef::as_ptr);
    CURRENT.with(|c| c.set(p));
}
