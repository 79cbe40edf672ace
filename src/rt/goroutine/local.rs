//! Goroutine-local storage: `goroutine_local!` and [`LocalKey`].
//!
//! Each goroutine owns a small map from key (the address of the `static`) to a boxed value.
//! The map lives in the goroutine, not in the thread, so a value follows its goroutine across
//! workers. On a plain OS thread the same keys resolve to a per-thread map, so code using them
//! works in both contexts.

use std::any::Any;
use std::cell::UnsafeCell;
use std::fmt;

/// The storage of one goroutine (or thread).
pub(crate) struct LocalMap {
    entries: Vec<(usize, Box<dyn Any>)>,
    destroyed: bool,
}

impl LocalMap {
    pub(crate) const fn new() -> LocalMap {
        LocalMap {
            entries: Vec::new(),
            destroyed: false,
        }
    }
}

/// Whether the goroutine's map holds any value (most goroutines never use one, and their
/// exit skips `destroy` and its unwinding guard). Only the owning goroutine may call this.
#[inline]
pub(crate) fn is_empty(map: *mut LocalMap) -> bool {
    // SAFETY: only the owning goroutine touches its map; this reads one field.
    unsafe { (*map).entries.is_empty() }
}

/// Marks an empty map destroyed: later accesses fail, as after `destroy`.
#[inline]
pub(crate) fn close_empty(map: *mut LocalMap) {
    // SAFETY: as in `is_empty`.
    unsafe { (*map).destroyed = true };
}

/// Drops every value of the current goroutine's map, on its own stack, before it finishes.
/// Values created while destructors run are dropped too; accesses after that fail.
pub(crate) fn destroy(map: *mut LocalMap) {
    loop {
        // SAFETY: only the owning goroutine touches its map, and no reference into it is held
        // across this call: the entries are moved out before their destructors run, so a
        // destructor that reaches the map sees a valid (emptied) one.
        let entries = unsafe {
            (*map).destroyed = true;
            std::mem::take(&mut (*map).entries)
        };
        if entries.is_empty() {
            return;
        }
        drop(entries);
    }
}

thread_local! {
    static THREAD_MAP: UnsafeCell<LocalMap> = const { UnsafeCell::new(LocalMap::new()) };
}

#[inline(never)]
fn current_map() -> *mut LocalMap {
    match super::current() {
        Some(g) => g.locals(),
        None => THREAD_MAP.with(|m| m.get()),
    }
}

/// A key of goroutine-local storage, declared with [`goroutine_local!`](crate::goroutine_local).
///
/// Go has no goroutine-local storage; Rust's `thread_local!` is unreliable in goroutines, which
/// move between threads (see the crate docs). `LocalKey` gives each goroutine its own lazily
/// initialised value, dropped when the goroutine finishes. On a plain OS thread it behaves as
/// a thread-local.
pub struct LocalKey<T: 'static> {
    init: fn() -> T,
}

/// The error of [`LocalKey::try_with`]: the goroutine's storage has been destroyed (the access
/// came from the destructor of another goroutine-local value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessError;

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("goroutine-local value accessed after its goroutine's storage was destroyed")
    }
}

impl std::error::Error for AccessError {}

/// The key `goroutine_local!` declares, with its initialiser (in `__private`: the macro's
/// expansion is the only caller).
pub const fn local_key<T: 'static>(init: fn() -> T) -> LocalKey<T> {
    LocalKey { init }
}

impl<T: 'static> LocalKey<T> {
    /// Calls `f` with this goroutine's value, creating it first if needed.
    ///
    /// # Panics
    ///
    /// If the storage has been destroyed (see [`try_with`](Self::try_with)).
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        self.try_with(f).expect(
            "cannot access a goroutine-local value during or after its goroutine's destruction",
        )
    }

    /// Calls `f` with this goroutine's value, creating it first if needed, or fails if the
    /// goroutine's storage has already been destroyed.
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        let key = self as *const LocalKey<T> as usize;
        let map = current_map();
        let value = match find::<T>(map, key)? {
            Some(v) => v,
            None => {
                // Initialise outside any borrow of the map: `init` may use other keys.
                let boxed: Box<dyn Any> = Box::new((self.init)());
                // SAFETY: only the owning goroutine (or thread) touches the map and no
                // reference into `entries` is alive here.
                unsafe {
                    if (*map).destroyed {
                        return Err(AccessError);
                    }
                    match find::<T>(map, key)? {
                        // `init` created it recursively: keep the first value.
                        Some(v) => v,
                        None => {
                            (*map).entries.push((key, boxed));
                            let last = (*map).entries.last().expect("just pushed");
                            last.1.downcast_ref::<T>().expect("key type") as *const T
                        }
                    }
                }
            }
        };
        // SAFETY: the value is boxed, so it does not move when the map grows; it is dropped
        // only by `destroy`, which runs after the goroutine's code (including this call) has
        // returned, and only its own goroutine (or thread) reaches it.
        Ok(f(unsafe { &*value }))
    }
}

fn find<T: 'static>(map: *mut LocalMap, key: usize) -> Result<Option<*const T>, AccessError> {
    // SAFETY: see `try_with`; this is a short shared read.
    let map = unsafe { &*map };
    if map.destroyed {
        return Err(AccessError);
    }
    Ok(map
        .entries
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.downcast_ref::<T>().expect("key type") as *const T))
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey").finish_non_exhaustive()
    }
}

/// Declares goroutine-local storage, as `thread_local!` declares thread-local storage.
///
/// Each goroutine sees its own value, created on first access by the initialiser and dropped
/// when the goroutine finishes. Unlike a `thread_local!`, the value follows the goroutine when
/// it moves to another worker thread. On a plain OS thread the key acts as a thread-local.
///
/// ```
/// use std::cell::Cell;
///
/// goro::goroutine_local! {
///     static COUNTER: Cell<u32> = Cell::new(0);
/// }
///
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         goro::go(|| {
///             for _ in 0..3 {
///                 COUNTER.with(|c| c.set(c.get() + 1));
///                 goro::yield_now(); // may resume on another thread
///             }
///             COUNTER.with(|c| c.get())
///         })
///     })
///     .collect();
/// for h in handles {
///     assert_eq!(h.join().unwrap(), 3);
/// }
/// ```
#[macro_export]
macro_rules! goroutine_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        $crate::goroutine_local!($(#[$attr])* $vis static $name: $t = $init);
        $crate::goroutine_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr) => {
        $(#[$attr])*
        $vis static $name: $crate::LocalKey<$t> = {
            fn __goro_local_init() -> $t {
                $init
            }
            $crate::__private::local_key(__goro_local_init)
        };
    };
}
