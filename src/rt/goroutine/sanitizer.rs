//! Stack switches announced to ThreadSanitizer and AddressSanitizer.
//!
//! A goroutine runs on a stack of its own and moves between worker threads, which neither
//! sanitizer can see by itself: ThreadSanitizer keeps a shadow call stack and a vector clock
//! per thread, and would push a goroutine's frames on one thread's shadow stack and pop them
//! from another's (it crashes at once); AddressSanitizer keeps the bounds of the current stack
//! and its fake stacks per thread, and would take a goroutine's frames for an overflow of the
//! thread's stack. Both offer a fiber API for this, which this module drives.
//!
//! Everything here compiles to nothing unless the crate is built with
//! `-Zsanitizer=thread` or `-Zsanitizer=address` (nightly): the build script turns cargo's
//! `CARGO_CFG_SANITIZE` into `cfg(goro_tsan)` or `cfg(goro_asan)`. Without them [`Fiber`] is
//! empty and every function is an empty `#[inline(always)]` one, so the switch paths of a
//! normal build are unchanged.
//!
//! # ThreadSanitizer
//!
//! Each goroutine is a TSan fiber, made at its first run and destroyed when it returns. The
//! worker announces both switches itself, around `Coroutine::resume`: to the goroutine's fiber
//! just before it, back to its own fiber just after. So everything between the two (the
//! coroutine library's switch code on either side, and the goroutine's own code) is counted
//! to the goroutine. That keeps every shadow stack balanced: the frames the worker's
//! `resume` enters are left by the same fiber when `resume` returns, and the frames the
//! goroutine's `suspend` enters are left by it when it is resumed. Announcing each switch on
//! its own side, as for AddressSanitizer, would push `resume`'s frames on one fiber and pop
//! `suspend`'s from it, and the two paths need not have the same depth: the shadow stacks
//! would drift by a few frames per switch until one overflowed.
//!
//! Both switches synchronise (flags 0: a happens-before edge from the fiber left to the one
//! entered). The runtime needs that: the worker and the goroutines it runs share the
//! thread's thread-locals (the current goroutine, `std::thread::current()`, the panic
//! count), the worker reads the execution state the goroutine wrote when it returns, and
//! a finished goroutine's stack is reused by the next one. As a consequence TSan orders
//! goroutines that run one after the other on the same worker thread, and reports races
//! between goroutines that run at the same time on different workers (see the README's
//! race detector section).
//!
//! # AddressSanitizer
//!
//! ASan's protocol is split over the two sides of a switch: the side that leaves calls
//! `__sanitizer_start_switch_fiber` with the bounds of the stack it goes to, the side that
//! arrives calls `__sanitizer_finish_switch_fiber`, which also reports the bounds of the
//! stack it came from. The worker announces resumes and finishes them; the goroutine
//! finishes its first entry (learning its worker's stack bounds), announces and finishes
//! each suspend (learning the bounds of the worker that resumes it, which may be another
//! thread), and announces its exit with no fake stack to keep, which frees its fake stack.
//! A finished goroutine's stack is unpoisoned before it is reused, as the frames that never
//! returned (the coroutine's entry frame) may have left redzones behind.

/// The per-goroutine sanitizer state, kept in the goroutine's execution state.
pub(crate) struct Fiber {
    /// The TSan fiber of the goroutine.
    #[cfg(goro_tsan)]
    tsan: *mut core::ffi::c_void,
    /// The goroutine's own stack, `(bottom, size)`.
    #[cfg(goro_asan)]
    own: (*const u8, usize),
    /// The stack of the worker that runs the goroutine, as ASan last reported it.
    #[cfg(goro_asan)]
    parent: (*const u8, usize),
    /// The goroutine's fake stack while it is switched out.
    #[cfg(goro_asan)]
    fake: *mut core::ffi::c_void,
}

/// What the worker keeps across one resume.
pub(crate) struct Resume {
    #[cfg(goro_tsan)]
    worker: *mut core::ffi::c_void,
    #[cfg(goro_asan)]
    fake: *mut core::ffi::c_void,
}

#[cfg(goro_tsan)]
mod tsan {
    use core::ffi::{c_char, c_uint, c_void};

    extern "C" {
        pub(super) fn __tsan_get_current_fiber() -> *mut c_void;
        pub(super) fn __tsan_create_fiber(flags: c_uint) -> *mut c_void;
        pub(super) fn __tsan_destroy_fiber(fiber: *mut c_void);
        pub(super) fn __tsan_switch_to_fiber(fiber: *mut c_void, flags: c_uint);
        pub(super) fn __tsan_set_fiber_name(fiber: *mut c_void, name: *const c_char);
    }
}

#[cfg(goro_asan)]
mod asan {
    use core::ffi::c_void;

    extern "C" {
        pub(super) fn __sanitizer_start_switch_fiber(
            fake_stack_save: *mut *mut c_void,
            bottom: *const c_void,
            size: usize,
        );
        pub(super) fn __sanitizer_finish_switch_fiber(
            fake_stack_save: *mut c_void,
            bottom_old: *mut *const c_void,
            size_old: *mut usize,
        );
        pub(super) fn __asan_unpoison_memory_region(addr: *const c_void, size: usize);
    }
}

impl Fiber {
    /// The state of a goroutine about to run for the first time on the stack
    /// `[bottom, bottom + size)`. Called by the worker.
    #[inline(always)]
    #[allow(unused_variables)]
    pub(crate) fn new(id: u64, bottom: usize, size: usize) -> Fiber {
        Fiber {
            #[cfg(goro_tsan)]
            tsan: {
                // SAFETY: the TSan runtime is linked into every program built with
                // `-Zsanitizer=thread`; creating a fiber has no preconditions, and the name
                // is a NUL-terminated string the runtime copies.
                unsafe {
                    let f = tsan::__tsan_create_fiber(0);
                    let mut name = [0u8; 32];
                    let mut w = &mut name[..31];
                    let _ = std::io::Write::write_fmt(&mut w, format_args!("goroutine {id}"));
                    tsan::__tsan_set_fiber_name(f, name.as_ptr().cast());
                    f
                }
            },
            #[cfg(goro_asan)]
            own: (bottom as *const u8, size),
            #[cfg(goro_asan)]
            parent: (std::ptr::null(), 0),
            #[cfg(goro_asan)]
            fake: std::ptr::null_mut(),
        }
    }
}

/// Announces that the worker is about to resume the goroutine owning `fiber`; the worker
/// calls [`resumed`] with the result right after `Coroutine::resume` returns.
///
/// # Safety
///
/// `fiber` is the state of the goroutine the caller resumes next, and the resume follows at
/// once.
#[inline(always)]
#[allow(unused_variables)]
pub(crate) unsafe fn resuming(fiber: *mut Fiber) -> Resume {
    Resume {
        #[cfg(goro_tsan)]
        // SAFETY: `fiber` is live (caller); the fiber switched to is the goroutine's, which
        // runs nowhere else (the caller holds its scheduler reference).
        worker: unsafe {
            let worker = tsan::__tsan_get_current_fiber();
            tsan::__tsan_switch_to_fiber((*fiber).tsan, 0);
            worker
        },
        #[cfg(goro_asan)]
        // SAFETY: `fiber` is live (caller); its `own` bounds are the goroutine's stack.
        fake: unsafe {
            let mut fake = std::ptr::null_mut();
            let (bottom, size) = (*fiber).own;
            asan::__sanitizer_start_switch_fiber(&mut fake, bottom.cast(), size);
            fake
        },
    }
}

/// Back on the worker's stack after a resume (see [`resuming`]).
#[inline(always)]
#[allow(unused_variables)]
pub(crate) fn resumed(r: Resume) {
    #[cfg(goro_tsan)]
    // SAFETY: `r.worker` is the fiber this thread ran before the resume, still alive.
    unsafe {
        tsan::__tsan_switch_to_fiber(r.worker, 0)
    };
    #[cfg(goro_asan)]
    // SAFETY: pairs with the start in `resuming`, on the stack that started it.
    unsafe {
        asan::__sanitizer_finish_switch_fiber(r.fake, std::ptr::null_mut(), std::ptr::null_mut())
    };
}

/// Called by a goroutine first thing on its stack.
///
/// # Safety
///
/// `fiber` is the running goroutine's own state.
#[inline(always)]
#[allow(unused_variables)]
pub(crate) unsafe fn started(fiber: *mut Fiber) {
    #[cfg(goro_asan)]
    // SAFETY: pairs with the worker's start in `resuming`; `fiber` is live (caller).
    unsafe {
        let f = &mut *fiber;
        asan::__sanitizer_finish_switch_fiber(
            std::ptr::null_mut(),
            std::ptr::addr_of_mut!(f.parent.0).cast(),
            &mut f.parent.1,
        )
    };
}

/// Called by a goroutine just before it switches to its worker; it calls
/// [`suspended`] when it runs again.
///
/// # Safety
///
/// As [`started`], and the switch follows at once.
#[inline(always)]
#[allow(unused_variables)]
pub(crate) unsafe fn suspending(fiber: *mut Fiber) {
    #[cfg(goro_asan)]
    // SAFETY: `fiber` is live (caller); `parent` holds the bounds of the worker stack the
    // switch goes to, as reported by the last finish.
    unsafe {
        let f = &mut *fiber;
        asan::__sanitizer_start_switch_fiber(&mut f.fake, f.parent.0.cast(), f.parent.1)
    };
}

/// Called by a goroutine when it runs again after [`suspending`].
///
/// # Safety
///
/// As [`started`].
#[inline(always)]
#[allow(unused_variables)]
pub(crate) unsafe fn suspended(fiber: *mut Fiber) {
    #[cfg(goro_asan)]
    // SAFETY: pairs with the worker's start in `resuming`; the worker that resumed us may be
    // another thread, whose stack bounds ASan reports here.
    unsafe {
        let f = &mut *fiber;
        asan::__sanitizer_finish_switch_fiber(
            f.fake,
            std::ptr::addr_of_mut!(f.parent.0).cast(),
            &mut f.parent.1,
        )
    };
}

/// Called by a goroutine as its last step before its coroutine returns to the worker.
///
/// # Safety
///
/// As [`started`]; the goroutine runs no more code of its own after this.
#[inline(always)]
#[allow(unused_variables)]
pub(crate) unsafe fn exiting(fiber: *mut Fiber) {
    #[cfg(goro_asan)]
    // SAFETY: `fiber` is live (caller); a null save slot tells ASan the fiber ends, so its
    // fake stack is freed.
    unsafe {
        let f = &*fiber;
        asan::__sanitizer_start_switch_fiber(std::ptr::null_mut(), f.parent.0.cast(), f.parent.1)
    };
}

/// Called by the worker once the goroutine owning `fiber` has returned, before its stack
/// `[bottom, bottom + size)` is reused.
///
/// # Safety
///
/// The goroutine has returned, and `fiber` is not used again.
#[inline(always)]
#[allow(unused_variables)]
pub(crate) unsafe fn finished(fiber: Fiber, bottom: usize, size: usize) {
    #[cfg(goro_tsan)]
    // SAFETY: the goroutine's fiber is not running (we are back on the worker's, see
    // `resumed`) and will not be switched to again.
    unsafe {
        tsan::__tsan_destroy_fiber(fiber.tsan)
    };
    #[cfg(goro_asan)]
    // SAFETY: the stack is mapped and no frame lives on it any more.
    unsafe {
        asan::__asan_unpoison_memory_region(bottom as *const _, size)
    };
}
