//! Measuring how much stack a recursion uses, for the tests of goroutine stack sizes.

/// Recurses `depth` times with a 4 KiB frame; returns the stack span used, in bytes, measured
/// from the address `top` (of a local in the caller).
#[inline(never)]
pub fn deep(depth: usize, top: usize) -> usize {
    let mut frame = [0u8; 4096];
    frame[depth % 4096] = depth as u8;
    let frame = std::hint::black_box(&mut frame);
    let here = frame.as_ptr() as usize;
    let span = if depth == 0 {
        top.abs_diff(here)
    } else {
        deep(depth - 1, top)
    };
    // Use the frame after the call, so the recursion is not a tail call.
    std::hint::black_box(span + frame[depth % 4096] as usize - (depth as u8) as usize)
}

/// Runs `deep(depth)` from a fresh frame; returns the stack span used.
pub fn stack_span(depth: usize) -> usize {
    let top = 0u8;
    deep(depth, std::hint::black_box(&top) as *const u8 as usize)
}
