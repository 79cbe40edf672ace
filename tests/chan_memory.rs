//! Memory of channels, counted by a global allocator: an unbounded channel gives back the
//! room it grew to once it is drained (as crossbeam-channel's does).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn a_drained_unbounded_channel_gives_its_room_back() {
    let (tx, rx) = goro::chan::unbounded::<u64>();
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    for i in 0..1_000_000u64 {
        tx.send(i).unwrap();
    }
    let full = LIVE_BYTES.load(Ordering::Relaxed) - before;
    assert!(full >= 8_000_000, "1M values took {full} bytes");
    for i in 0..1_000_000u64 {
        assert_eq!(rx.recv(), Ok(i));
    }
    let drained = LIVE_BYTES.load(Ordering::Relaxed) - before;
    assert!(
        drained < 64 * 1024,
        "a drained channel still holds {drained} bytes (it held {full})"
    );
    // It grows again as needed.
    for i in 0..10_000u64 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.iter().take(10_000).sum::<u64>(), (0..10_000u64).sum());
}

#[test]
fn never_channels_are_all_the_same_channel_and_ends_cross_catch_unwind() {
    let a = goro::chan::never::<i32>();
    assert!(a.same_channel(&goro::chan::never()));
    let (_tx, rx) = goro::chan::bounded::<i32>(0);
    assert!(!a.same_channel(&rx));
    let (tx, rx) = goro::chan::bounded::<i32>(1);
    let r = std::panic::catch_unwind(move || {
        tx.send(1).unwrap();
        drop(rx);
    });
    assert!(r.is_ok());
}
