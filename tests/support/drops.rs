//! Values that count their drops: a check that a channel, a select, a goroutine or a context
//! hands every value on, or drops it, exactly once, and keeps nothing alive for longer than
//! it should.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Adds one to its counter when it is dropped.
pub struct Counted(pub Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts the live instances: adds one to its counter when made, takes one off when dropped.
pub struct Tracked(Arc<AtomicUsize>);

impl Tracked {
    pub fn new(live: &Arc<AtomicUsize>) -> Tracked {
        live.fetch_add(1, Ordering::SeqCst);
        Tracked(live.clone())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
