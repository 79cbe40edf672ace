//! Cheap per-thread random numbers, for choices that only need to be spread out (Go's
//! `cheaprand`): a worker's stealing victims, a select's order among ready cases.

use std::cell::Cell;

/// A xorshift generator: a few instructions per number, statistically weak, never zero.
#[derive(Debug, Clone)]
pub(crate) struct Rng(Cell<u64>);

impl Rng {
    /// A generator started from `seed` (zero is replaced).
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(Cell::new(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        }))
    }

    /// The next number.
    pub(crate) fn next(&self) -> u64 {
        let mut x = self.0.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.set(x);
        x
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A number in `0..n` (`n > 0`) from the calling thread's generator.
///
/// `#[inline(never)]`: a goroutine may resume on another thread after a park, so the
/// thread-local's address is computed afresh in every call (see `goroutine::current`).
#[inline(never)]
pub(crate) fn below(n: usize) -> usize {
    thread_local! {
        static RNG: Rng = Rng::new(seed());
    }
    RNG.with(|r| r.below(n))
}

/// A seed distinct per thread and per run: the time and the address of a local.
#[cfg(not(miri))]
fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let local = 0u8;
    t ^ (&local as *const u8 as u64).rotate_left(32)
}

/// Under Miri, whose isolation hides the wall clock: the standard library's per-thread
/// random hash keys (which Miri draws from its own seeded generator), so runs with
/// different `-Zmiri-seed`s still choose differently.
#[cfg(miri)]
fn seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_in_range_and_spread() {
        let r = Rng::new(1);
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            seen[r.below(5)] += 1;
        }
        assert!(seen.iter().all(|&c| c > 500), "{seen:?}");
        assert!((0..100).all(|_| below(3) < 3));
    }
}
