//! `Key<V>`: a typed key for values carried by a context.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

/// A key under which a context carries a value of type `V`.
///
/// Go: the unexported key type of `context.WithValue(ctx, key, v)`. Declare each key as a
/// `static`; its identity is the static itself, not its name, so two libraries that both
/// name a key `"user"` never see each other's values, and the value's type is fixed by the
/// key, so a lookup cannot fail on a type mismatch.
///
/// ```
/// use goro::context::{self, Key};
///
/// static REQUEST_ID: Key<u64> = Key::new("request id");
///
/// let ctx = context::background().with_value(&REQUEST_ID, 7);
/// assert_eq!(ctx.value(&REQUEST_ID), Some(&7));
/// ```
///
/// A `const` key would be a fresh key at every use and would never find its value; clippy's
/// `declare_interior_mutable_const` lint warns about it.
pub struct Key<V> {
    name: &'static str,
    /// The key's identity, drawn from `NEXT_ID` on first use; 0 until then.
    id: AtomicU64,
    _value: PhantomData<fn() -> V>,
}

/// The next key identity to hand out (0 means "not yet assigned").
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl<V> Key<V> {
    /// A new key; `name` is only used by `Debug` output.
    ///
    /// ```
    /// use goro::context::{self, Key};
    ///
    /// static RETRIES: Key<u32> = Key::new("retries"); // a static, never a const
    /// let ctx = context::background().with_value(&RETRIES, 3);
    /// assert_eq!(ctx.value(&RETRIES), Some(&3));
    /// ```
    pub const fn new(name: &'static str) -> Key<V> {
        Key {
            name,
            id: AtomicU64::new(0),
            _value: PhantomData,
        }
    }

    /// The name the key was created with.
    ///
    /// ```
    /// static TRACE: goro::context::Key<u64> = goro::context::Key::new("trace id");
    /// assert_eq!(TRACE.name(), "trace id");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The key's identity, assigned on first use. Two racing first uses agree through the
    /// compare-exchange: the loser adopts the winner's identity (and wastes a number).
    pub(super) fn id(&self) -> u64 {
        let id = self.id.load(Ordering::Relaxed);
        if id != 0 {
            return id;
        }
        let fresh = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        // Relaxed is enough: the identity is a plain number, nothing else is published with it.
        match self
            .id
            .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => fresh,
            Err(winner) => winner,
        }
    }
}

impl<V> fmt::Debug for Key<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Key").field(&self.name).finish()
    }
}
