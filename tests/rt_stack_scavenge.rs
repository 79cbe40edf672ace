//! The stack scavenger: after a burst of goroutines, the memory of their stacks goes back to
//! the kernel, and a stack released that way is still a guarded stack when used again.
//!
//! Each case runs in a child process (resident memory is the whole process's).

use goro::sync::WaitGroup;

mod support;

use support::child;
use support::eventually;
use support::rss_bytes;

/// Parks `n` goroutines on one gate until all of them have started, then returns the gate
/// (release it with `done`) and the group to wait for them with.
fn park_burst(n: usize) -> (WaitGroup, WaitGroup) {
    let gate = WaitGroup::new();
    gate.add(1);
    let started = WaitGroup::new();
    started.add(n);
    let all = WaitGroup::new();
    for _ in 0..n {
        let (gate, started) = (gate.clone(), started.clone());
        all.go(move || {
            started.done();
            gate.wait();
        });
    }
    started.wait();
    (gate, all)
}

/// 150,000 parked goroutines hold a stack page each (about 600 MB); once they have finished,
/// resident memory falls back to well under a quarter of what the burst added.
#[test]
fn stacks_of_a_finished_burst_go_back_to_the_kernel() {
    const NAME: &str = "stacks_of_a_finished_burst_go_back_to_the_kernel";
    const N: usize = 150_000;
    if child::is_child(NAME) {
        goro::run(|| {
            let before = rss_bytes();
            let (gate, all) = park_burst(N);
            let peak = rss_bytes();
            gate.done();
            all.wait();
            let bound = before + (peak - before) / 4;
            println!("before {before}, with {N} parked {peak}, bound {bound}");
            assert!(
                peak - before > N * 2048,
                "the burst added only {} bytes",
                peak - before
            );
            eventually("resident memory falls after the burst", || {
                rss_bytes() < bound
            });
            println!("after {}", rss_bytes());
        });
        return;
    }
    child::run_ok(NAME, &[]);
}

/// A stack whose memory was released (and, with guard markers, its guard too) is guarded
/// again when a goroutine gets it: an overflow there is still caught and reported.
#[test]
fn overflow_is_caught_on_a_released_stack() {
    const NAME: &str = "overflow_is_caught_on_a_released_stack";
    if child::is_child(NAME) {
        goro::run(|| {
            let before = rss_bytes();
            let (gate, all) = park_burst(20_000);
            let peak = rss_bytes();
            gate.done();
            all.wait();
            let bound = before + (peak - before) / 4;
            eventually("resident memory falls after the burst", || {
                rss_bytes() < bound
            });
            // The scavenger keeps a few warm stacks; park more than that, so the next
            // goroutine gets a released one.
            let (gate, all) = park_burst(2_000);
            let h = goro::Builder::new()
                .name("on-a-released-stack")
                .spawn(|| support::stack_span(usize::MAX))
                .unwrap();
            let _ = h.join();
            gate.done();
            all.wait();
        });
        unreachable!("the overflow must abort the process");
    }
    let out = child::run(NAME, &[]);
    child::assert_overflow_abort(&out, "on-a-released-stack");
}
