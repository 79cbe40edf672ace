//! The goroutine's allocation: one block holding the header ([`Goroutine`]), the function
//! to run and, later, its result; and [`GRef`], the counted reference to it.
//!
//! One allocation per goroutine (not three: header, boxed closure, result slot) matters
//! because goroutines are usually freed on another thread than the one that spawned them,
//! where general-purpose allocators are at their slowest. The header sits first in a
//! `#[repr(C)]` block whose tail is generic; the header's `vtable` holds the three
//! operations that need the tail's type (the design of tokio's raw tasks).

use std::cell::UnsafeCell;
use std::ops::Deref;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use super::stack::GoroutineStack;
use super::{local, Goroutine, LIVE};

/// The operations on a goroutine's block that depend on its function and result types.
pub(crate) struct Vtable {
    /// Runs the function on the goroutine's own stack and stores its result.
    pub(crate) run: unsafe fn(NonNull<Goroutine>),
    /// Moves the result into `*out`, an `Option<std::thread::Result<T>>`.
    pub(crate) take_output: unsafe fn(NonNull<Goroutine>, *mut ()),
    /// Drops the block's contents and frees it.
    dealloc: unsafe fn(NonNull<Goroutine>),
}

enum Stage<F, T> {
    Start(F),
    Done(std::thread::Result<T>),
    Taken,
}

#[repr(C)]
struct Task<F, T> {
    header: Goroutine,
    stage: UnsafeCell<Stage<F, T>>,
}

/// A counted reference to a goroutine (as `Arc<Goroutine>`, for a block whose full type only
/// the vtable knows).
pub(crate) struct GRef(NonNull<Goroutine>);

// SAFETY: the header is `Sync` (see `Goroutine`), and the tail is reached only through the
// vtable under the protocols documented there (`F: Send` moves to the running worker,
// `T: Send` moves to the joiner).
unsafe impl Send for GRef {}
// SAFETY: as above; a shared `GRef` only gives `&Goroutine`.
unsafe impl Sync for GRef {}

impl GRef {
    /// Allocates a goroutine block with one reference, returned.
    #[inline]
    pub(crate) fn new<F, T>(
        id: u64,
        name: Option<Box<str>>,
        dedicated: Option<Box<GoroutineStack>>,
        created: (&'static std::panic::Location<'static>, u64, u64),
        f: F,
    ) -> GRef
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let vtable: &'static Vtable = &Vtable {
            run: run::<F, T>,
            take_output: take_output::<F, T>,
            dealloc: dealloc::<F, T>,
        };
        let task = Box::new(Task {
            header: Goroutine::new(id, name, dedicated, vtable, created.0, created.1, created.2),
            stage: UnsafeCell::new(Stage::<F, T>::Start(f)),
        });
        LIVE.fetch_add(1, Ordering::Relaxed);
        // The header is the first field of a `repr(C)` struct: same address.
        GRef(NonNull::from(Box::leak(task)).cast())
    }

    pub(crate) fn as_ptr(&self) -> *const Goroutine {
        self.0.as_ptr()
    }

    pub(crate) fn as_nonnull(&self) -> NonNull<Goroutine> {
        self.0
    }

    /// Gives up the reference without dropping it, for storage as a raw pointer.
    pub(crate) fn into_raw(self) -> *mut Goroutine {
        let p = self.0.as_ptr();
        std::mem::forget(self);
        p
    }

    /// Takes back a reference given up by `into_raw` (or forgotten by a committed park).
    ///
    /// # Safety
    ///
    /// `p` must carry a reference: it came from `into_raw`, or from a `GRef` that was
    /// forgotten, and that reference has not been taken back yet.
    pub(crate) unsafe fn from_raw(p: *const Goroutine) -> GRef {
        // SAFETY: the caller passes a pointer that came from a `GRef`, hence non-null.
        GRef(unsafe { NonNull::new_unchecked(p as *mut Goroutine) })
    }

    /// A new reference to the goroutine at `p`.
    ///
    /// # Safety
    ///
    /// `p` points to a live goroutine block (some reference to it is held for the call).
    pub(crate) unsafe fn clone_raw(p: *const Goroutine) -> GRef {
        // SAFETY: the caller guarantees the block is live.
        let g = unsafe { &*p };
        g.refs.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above, and we just counted the new reference.
        unsafe { GRef::from_raw(p) }
    }
}

impl Clone for GRef {
    fn clone(&self) -> GRef {
        // Relaxed: as `Arc::clone`, a new reference is made from an existing one, which keeps
        // the block alive; no other memory is published.
        let old = self.refs.fetch_add(1, Ordering::Relaxed);
        if old > isize::MAX as usize {
            std::process::abort();
        }
        GRef(self.0)
    }
}

impl Drop for GRef {
    fn drop(&mut self) {
        // Release: as `Arc::drop`, every use of the block through this reference happens
        // before the free; the Acquire fence below pairs with it on the last drop.
        if self.refs.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // ThreadSanitizer does not model fences, so under it the Acquire is a load of the
        // count instead (as `Arc` does): it reads the last decrement, and through the chain of
        // Release decrements before it (a release sequence) pairs with all of them.
        #[cfg(not(goro_tsan))]
        std::sync::atomic::fence(Ordering::Acquire);
        #[cfg(goro_tsan)]
        self.refs.load(Ordering::Acquire);
        // SAFETY: this was the last reference; the vtable was set by `GRef::new` for this
        // block's true type.
        unsafe { (self.vtable.dealloc)(self.0) };
    }
}

impl Deref for GRef {
    type Target = Goroutine;

    fn deref(&self) -> &Goroutine {
        // SAFETY: a reference keeps the block alive.
        unsafe { self.0.as_ref() }
    }
}

/// # Safety
///
/// `p` is a `Task<F, T>` whose stage is `Start`; called once, by the goroutine itself.
unsafe fn run<F, T>(p: NonNull<Goroutine>)
where
    F: FnOnce() -> T,
{
    let task = p.cast::<Task<F, T>>().as_ptr();
    // SAFETY: only the goroutine itself touches the stage until it publishes its result
    // (`Goroutine::complete`), and the block is alive because its worker holds a reference.
    let f = match unsafe { std::mem::replace(&mut *(*task).stage.get(), Stage::Taken) } {
        Stage::Start(f) => f,
        _ => unreachable!("goroutine started twice"),
    };
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    // SAFETY: the block is live (see above), and we are the goroutine itself.
    unsafe { exiting(&(*task).header) };
    // Off the registry before anyone can free the block (`rt::registry`).
    // SAFETY: as above.
    unsafe { (*task).header.unlist() };
    // SAFETY: as above; the joiner reads the stage only after `complete`.
    unsafe { *(*task).stage.get() = Stage::Done(result) };
    // SAFETY: the block is live (see above).
    unsafe { (*task).header.complete() };
}

/// The goroutine's last steps before it publishes its result: its locals are dropped (on its
/// own stack, so their destructors may still block) and it stops counting as live.
///
/// # Safety
///
/// Called by the goroutine `g` itself (its locals are reached through `g.locals()`).
unsafe fn exiting(g: &Goroutine) {
    if g.scope() != 0 {
        crate::leak::finished(g.scope());
    }
    let locals = g.locals();
    if local::is_empty(locals) {
        local::close_empty(locals);
        LIVE.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let destroyed = panic::catch_unwind(AssertUnwindSafe(|| local::destroy(locals)));
    if destroyed.is_err() {
        eprintln!(
            "goro: a goroutine-local destructor of goroutine {} panicked; aborting",
            g.id()
        );
        std::process::abort();
    }
    LIVE.fetch_sub(1, Ordering::Relaxed);
}

/// # Safety
///
/// `p` is a `Task<F, T>` whose goroutine has completed (`Goroutine::is_done`), `out` points
/// to an `Option<std::thread::Result<T>>`, and the caller is the one joiner.
unsafe fn take_output<F, T>(p: NonNull<Goroutine>, out: *mut ()) {
    let task = p.cast::<Task<F, T>>().as_ptr();
    // SAFETY: the goroutine no longer touches the stage after `complete`, and only the
    // joiner takes it.
    let stage = unsafe { std::mem::replace(&mut *(*task).stage.get(), Stage::Taken) };
    if let Stage::Done(r) = stage {
        // SAFETY: the caller passes a valid, writable `Option<thread::Result<T>>`.
        unsafe { *out.cast::<Option<std::thread::Result<T>>>() = Some(r) };
    }
}

/// # Safety
///
/// `p` is a `Task<F, T>` with no reference left.
unsafe fn dealloc<F, T>(p: NonNull<Goroutine>) {
    // SAFETY: the block was made by `Box::new` in `GRef::new` with this exact type, and no
    // reference is left.
    drop(unsafe { Box::from_raw(p.cast::<Task<F, T>>().as_ptr()) });
}
