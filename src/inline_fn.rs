//! A call-once function in a value of fixed size: [`InlineFn`] stands for a
//! `Box<dyn FnOnce(A) -> R + Send>`, but keeps a function of up to two words (a closure
//! capturing a few numbers, references or `Arc`s: the common case) in place, so making one
//! allocates nothing; a larger function is boxed. The worker pool queues its jobs in it:
//! boxing every job instead made the pool's tiny-job benchmarks (`pool2`, `pooldyn2`, two
//! cores) 1.5 to 1.9 times slower per job, as each job then costs a `malloc` on the
//! submitting thread and a `free` on a worker's.
//!
//! The function's type is erased behind a table of three functions made for it (call, drop,
//! type id), as a trait object's vtable is. The type can be asked back
//! ([`InlineFn::downcast`]) to return a function that was not called to whoever made it.
//!
//! This module uses nothing from the rest of goro, so its tests also run under Miri:
//! `cargo +nightly miri test --lib inline_fn`.

use std::any::TypeId;
use std::marker::PhantomData;
use std::mem::{align_of, size_of, ManuallyDrop, MaybeUninit};

/// The storage in place: two words.
type Storage = MaybeUninit<[usize; 2]>;

/// A function called once with an `A`, giving an `R`: what an [`InlineFn`] holds.
///
/// Every `FnOnce(A) -> R + Send + 'static` closure is one. A named type implements it
/// directly when it must be given back by [`InlineFn::downcast`] (a closure's type cannot be
/// named).
pub(crate) trait CallOnce<A, R>: Send + 'static {
    /// Calls the function, consuming it.
    fn call_once(self, arg: A) -> R;
}

impl<A, R, F> CallOnce<A, R> for F
where
    F: FnOnce(A) -> R + Send + 'static,
{
    fn call_once(self, arg: A) -> R {
        self(arg)
    }
}

/// Whether an `F` is stored in place rather than boxed.
pub(crate) const fn fits<F>() -> bool {
    size_of::<F>() <= size_of::<Storage>() && align_of::<F>() <= align_of::<Storage>()
}

/// A [`CallOnce`] of any type, three words in size: the function in place if it [`fits`],
/// boxed otherwise. Dropping it uncalled drops the function.
pub(crate) struct InlineFn<A: 'static, R: 'static> {
    vtable: &'static VTable<A, R>,
    /// The function: an `F` in place, or a `Box<F>`, for the `F` the vtable was made for.
    /// It is there from `new` until a consuming method or `drop` moves it out.
    data: Storage,
    /// Makes the auto traits those of the box this stands for: `Send` (every function held
    /// is) and not `Sync`.
    _marker: PhantomData<Box<dyn FnOnce(A) -> R + Send>>,
}

/// What an [`InlineFn`] does with the function in its storage, made for each type.
struct VTable<A, R> {
    /// Moves the function out of the storage and calls it.
    call: unsafe fn(*mut u8, A) -> R,
    /// Drops the function in the storage.
    drop: unsafe fn(*mut u8),
    /// The function's type.
    type_id: fn() -> TypeId,
}

/// The vtable for an `F`.
struct VTableOf<F, A, R>(PhantomData<(F, A, R)>);

impl<F: CallOnce<A, R>, A: 'static, R: 'static> VTableOf<F, A, R> {
    const VTABLE: VTable<A, R> = VTable {
        call: Self::call,
        drop: Self::drop,
        type_id: TypeId::of::<F>,
    };

    /// Moves the function out of the storage at `data`.
    ///
    /// # Safety
    ///
    /// `data` is the storage of an [`InlineFn`] that `new::<F>` made, still holding its
    /// function, and nothing uses that storage after this call.
    unsafe fn take(data: *mut u8) -> F {
        if fits::<F>() {
            // SAFETY: an `F` that fits is stored in place (`new`); the caller's contract
            // makes this the one move out of it.
            unsafe { data.cast::<F>().read() }
        } else {
            // SAFETY: an `F` that does not fit is stored as a `Box<F>` (`new`); as above.
            *unsafe { data.cast::<Box<F>>().read() }
        }
    }

    /// # Safety
    ///
    /// As for [`take`](Self::take).
    unsafe fn call(data: *mut u8, arg: A) -> R {
        // SAFETY: the caller's contract (`InlineFn::call` forgets the storage after this).
        unsafe { Self::take(data) }.call_once(arg)
    }

    /// # Safety
    ///
    /// As for [`take`](Self::take).
    unsafe fn drop(data: *mut u8) {
        if fits::<F>() {
            // SAFETY: the caller's contract (`InlineFn::drop`), and the `F` is in place.
            unsafe { data.cast::<F>().drop_in_place() }
        } else {
            // SAFETY: the caller's contract (`InlineFn::drop`), and the `F` is boxed.
            unsafe { data.cast::<Box<F>>().drop_in_place() }
        }
    }
}

impl<A: 'static, R: 'static> InlineFn<A, R> {
    /// Stores `f`: in place if it [`fits`], else in a box.
    pub(crate) fn new<F: CallOnce<A, R>>(f: F) -> InlineFn<A, R> {
        let mut data = Storage::uninit();
        if fits::<F>() {
            // SAFETY: `data` is large and aligned enough for an `F` (`fits`), and unused.
            unsafe { data.as_mut_ptr().cast::<F>().write(f) };
        } else {
            // SAFETY: a `Box<F>` is one pointer, which `data` is large and aligned enough
            // for, and `data` is unused.
            unsafe { data.as_mut_ptr().cast::<Box<F>>().write(Box::new(f)) };
        }
        InlineFn {
            vtable: &VTableOf::<F, A, R>::VTABLE,
            data,
            _marker: PhantomData,
        }
    }

    /// Calls the function with `arg`.
    pub(crate) fn call(self, arg: A) -> R {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `data` holds the function the vtable was made for (`new`); `call` moves
        // it out, and `this` is never dropped, so the storage is not used again.
        unsafe { (this.vtable.call)(this.data.as_mut_ptr().cast(), arg) }
    }

    /// The function, if it is an `F`; else `self`, unchanged.
    pub(crate) fn downcast<F: CallOnce<A, R>>(self) -> Result<F, InlineFn<A, R>> {
        if (self.vtable.type_id)() != TypeId::of::<F>() {
            return Err(self);
        }
        let mut this = ManuallyDrop::new(self);
        // SAFETY: the function is an `F` (same type id), so `new::<F>` stored it, and the
        // vtable is `VTableOf::<F, A, R>`'s; it is moved out here once, and `this` is never
        // dropped, so the storage is not used again.
        Ok(unsafe { VTableOf::<F, A, R>::take(this.data.as_mut_ptr().cast()) })
    }
}

impl<A: 'static, R: 'static> Drop for InlineFn<A, R> {
    fn drop(&mut self) {
        // SAFETY: `data` still holds the function: every method that moves it out forgets
        // `self` first, so `drop` does not run after it.
        unsafe { (self.vtable.drop)(self.data.as_mut_ptr().cast()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Counts its drops.
    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Zero-sized but over-aligned: boxed (a box of a zero-sized type allocates nothing).
    #[derive(Clone, Copy)]
    #[repr(align(32))]
    struct ZeroAlign32;

    /// A closure holding `pad` and a counter of its drops; it returns `x + 1` and panics
    /// on 0.
    fn closure<P: Copy + Send + 'static>(
        pad: P,
        drops: &Arc<AtomicUsize>,
    ) -> impl FnOnce(u64) -> u64 + Send + 'static {
        let counted = Counted(Arc::clone(drops));
        move |x| {
            let _held = (pad, &counted);
            assert!(x != 0, "called with 0");
            x + 1
        }
    }

    fn fits_val<F>(_: &F) -> bool {
        fits::<F>()
    }

    /// Every way to end an `InlineFn` of closures holding `pad` drops the closure once.
    fn drops_once<P: Copy + Send + 'static>(pad: P, inline: bool) {
        let drops = Arc::new(AtomicUsize::new(0));
        let f = closure(pad, &drops);
        assert_eq!(fits_val(&f), inline);

        // Called.
        assert_eq!(InlineFn::new(f).call(41), 42);
        assert_eq!(drops.load(Ordering::Relaxed), 1);

        // Dropped uncalled.
        drop(InlineFn::new(closure(pad, &drops)));
        assert_eq!(drops.load(Ordering::Relaxed), 2);

        // Panicking: the closure is dropped while unwinding, and only then.
        let f = InlineFn::new(closure(pad, &drops));
        let r = catch_unwind(AssertUnwindSafe(|| f.call(0)));
        assert_eq!(
            r.unwrap_err().downcast_ref::<&str>(),
            Some(&"called with 0")
        );
        assert_eq!(drops.load(Ordering::Relaxed), 3);

        // Moved around before the call.
        let mut v: Vec<InlineFn<u64, u64>> = (0..3)
            .map(|_| closure(pad, &drops))
            .map(InlineFn::new)
            .collect();
        v.reverse();
        let sum: u64 = v.into_iter().map(|f| f.call(1)).sum();
        assert_eq!(sum, 6);
        assert_eq!(drops.load(Ordering::Relaxed), 6);

        // Asked for the wrong type: comes back whole, and still works.
        let f = InlineFn::new(closure(pad, &drops));
        let f = f
            .downcast::<fn(u64) -> u64>()
            .expect_err("not a fn pointer");
        assert_eq!(drops.load(Ordering::Relaxed), 6);
        assert_eq!(f.call(2), 3);
        assert_eq!(drops.load(Ordering::Relaxed), 7);
    }

    #[test]
    fn one_word_is_in_place() {
        drops_once((), true);
    }

    #[test]
    fn two_words_are_in_place() {
        drops_once(0usize, true);
    }

    #[test]
    fn three_words_are_boxed() {
        drops_once([0usize; 2], false);
    }

    #[test]
    fn over_aligned_is_boxed() {
        drops_once(0u128, false);
        drops_once(ZeroAlign32, false);
        // Small enough, but aligned to more than a word.
        let v = 5u128;
        let f = move |x: u64| x + v as u64;
        assert_eq!((size_of_val(&f), align_of_val(&f)), (16, 16));
        assert!(!fits_val(&f));
        assert_eq!(InlineFn::new(f).call(37), 42);
    }

    #[test]
    fn is_three_words() {
        assert_eq!(size_of::<InlineFn<u64, u64>>(), 3 * size_of::<usize>());
        assert_eq!(size_of::<InlineFn<(), String>>(), 3 * size_of::<usize>());
    }

    #[test]
    fn zero_sized_closure() {
        let f = |x: u64| x * 2;
        assert!(fits_val(&f) && size_of_val(&f) == 0);
        assert_eq!(InlineFn::new(f).call(21), 42);
        drop(InlineFn::new(f));
    }

    /// A named function type: given back by `downcast`, and counting its drops.
    struct Named<P> {
        pad: P,
        _drops: Counted,
    }

    impl<P: Send + 'static> CallOnce<u64, u64> for Named<P> {
        fn call_once(self, x: u64) -> u64 {
            x + 10
        }
    }

    fn downcast_gives_back<P: Send + PartialEq + std::fmt::Debug + Copy + 'static>(
        pad: P,
        inline: bool,
    ) {
        assert_eq!(fits::<Named<P>>(), inline);
        let drops = Arc::new(AtomicUsize::new(0));
        let named = |pad| Named {
            pad,
            _drops: Counted(Arc::clone(&drops)),
        };
        let back = InlineFn::new(named(pad))
            .downcast::<Named<P>>()
            .ok()
            .expect("the type it was made with");
        assert_eq!(back.pad, pad);
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        assert_eq!(back.call_once(1), 11);
        assert_eq!(drops.load(Ordering::Relaxed), 1);

        // The wrong type parameter is another type.
        let f = InlineFn::new(named(pad))
            .downcast::<Named<[u64; 7]>>()
            .err()
            .unwrap();
        assert_eq!(f.call(1), 11);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn downcast_in_place_and_boxed() {
        downcast_gives_back(7u8, true);
        downcast_gives_back([7u64; 4], false);
    }

    /// A zero-sized function with a drop of its own.
    struct Zst;

    static ZST_DROPS: AtomicUsize = AtomicUsize::new(0);

    impl Drop for Zst {
        fn drop(&mut self) {
            ZST_DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }

    impl CallOnce<(), &'static str> for Zst {
        fn call_once(self, (): ()) -> &'static str {
            "zst"
        }
    }

    #[test]
    fn zero_sized_with_drop() {
        assert!(fits::<Zst>());
        assert_eq!(InlineFn::new(Zst).call(()), "zst");
        assert_eq!(ZST_DROPS.load(Ordering::Relaxed), 1);
        drop(InlineFn::<(), &str>::new(Zst));
        assert_eq!(ZST_DROPS.load(Ordering::Relaxed), 2);
        let z = InlineFn::<(), &str>::new(Zst)
            .downcast::<Zst>()
            .ok()
            .unwrap();
        assert_eq!(ZST_DROPS.load(Ordering::Relaxed), 2);
        drop(z);
        assert_eq!(ZST_DROPS.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn argument_and_result_move_through() {
        let drops = Arc::new(AtomicUsize::new(0));
        let f = InlineFn::new(|c: Counted| vec![c]);
        let v = f.call(Counted(Arc::clone(&drops)));
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        drop(v);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn sent_to_another_thread() {
        let drops = Arc::new(AtomicUsize::new(0));
        let f: InlineFn<u64, u64> = InlineFn::new(closure(3u32, &drops));
        let g: InlineFn<u64, u64> = InlineFn::new(closure([3u64; 3], &drops));
        let r = std::thread::spawn(move || f.call(1) + g.call(1))
            .join()
            .unwrap();
        assert_eq!(r, 4);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    }
}
