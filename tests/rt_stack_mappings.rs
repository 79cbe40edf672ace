//! Stacks and memory mappings: the `mprotect` fallback fails `Builder::spawn` with a clear
//! error when the kernel refuses more mappings, and the default mode does not run out.
//!
//! Each case runs in a child process (it exhausts or stresses the whole process's mappings).

use std::time::Duration;

use goro::sync::WaitGroup;

mod support;

use support::child;

/// The cases run one at a time: a child exhausting the mappings must not share the machine
/// with a child parking 100,000 goroutines.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn map_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .expect("read /proc/self/maps")
        .lines()
        .count()
}

fn max_map_count() -> usize {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65530)
}

/// Whether the running kernel is Linux 6.13 or later.
fn kernel_has_guard_madvise() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= (6, 13)
}

/// Parks goroutines until spawning fails; checks the error, then releases them and checks
/// that spawning works again.
fn exhaust_mappings() {
    // No thread can start once the mappings are gone (std maps a signal stack for every new
    // thread and aborts when it cannot), so the runtime must not need one meanwhile. The
    // monitor hands a worker to another thread when its thread looks blocked, and a
    // goroutine's first touch of its stack waits in the kernel while another thread changes
    // the mappings: spawning while earlier goroutines start would chain hand-offs. So each
    // goroutine has started before the next spawn, and spare runtime threads are ready
    // anyway (each `block_in_place` hands its worker to another thread; the threads linger
    // as spares).
    let warm = WaitGroup::new();
    for _ in 0..16 {
        warm.go(|| goro::block_in_place(|| std::thread::sleep(Duration::from_millis(50))));
    }
    warm.wait();
    let gate = WaitGroup::new();
    gate.add(1);
    let all = WaitGroup::new();
    let mut spawned = 0usize;
    let err = loop {
        let (g, a) = (gate.clone(), all.clone());
        let started = WaitGroup::new();
        let s = started.clone();
        a.add(1);
        s.add(1);
        match goro::Builder::new().spawn(move || {
            s.done();
            g.wait();
            a.done();
        }) {
            Ok(_) => {
                spawned += 1;
                started.wait();
            }
            Err(e) => {
                all.done();
                break e;
            }
        }
        assert!(
            spawned <= 2 * max_map_count(),
            "spawned {spawned} goroutines with mprotect guards without running out of mappings"
        );
    };
    let msg = err.to_string();
    assert!(
        msg.contains("vm.max_map_count"),
        "error does not name the limit: {msg}"
    );
    assert!(
        spawned > 1_000,
        "only {spawned} goroutines before the error"
    );
    println!("spawned {spawned} goroutines before: {msg}");
    gate.done();
    all.wait();
    // The stacks are back in the pool: spawning works again.
    let h = goro::go(|| 7);
    assert_eq!(h.join().unwrap(), 7);
}

#[test]
fn mprotect_guards_fail_spawn_cleanly_when_mappings_run_out() {
    const NAME: &str = "mprotect_guards_fail_spawn_cleanly_when_mappings_run_out";
    if child::is_child(NAME) {
        exhaust_mappings();
        return;
    }
    let _serial = one_at_a_time();
    let out = child::run_ok(NAME, &[("GORO_GUARD_PAGES", "mprotect")]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("spawned "));
}

/// 100,000 goroutines alive at once cost far fewer mappings than goroutines (guard pages
/// are page-table markers on kernels that have them; skipped elsewhere).
#[test]
fn live_goroutines_do_not_cost_a_mapping_each() {
    const NAME: &str = "live_goroutines_do_not_cost_a_mapping_each";
    const N: usize = 100_000;
    if child::is_child(NAME) {
        let before = map_count();
        let gate = WaitGroup::new();
        gate.add(1);
        let started = WaitGroup::new();
        let all = WaitGroup::new();
        for _ in 0..N {
            started.add(1);
            let (g, s) = (gate.clone(), started.clone());
            all.go(move || {
                s.done();
                g.wait();
            });
        }
        started.wait();
        goro::sleep(Duration::from_millis(20));
        let during = map_count();
        gate.done();
        all.wait();
        println!("mappings before {before}, with {N} parked goroutines {during}");
        assert!(
            during - before < N / 50,
            "{N} parked goroutines added {} mappings",
            during - before
        );
        return;
    }
    if !kernel_has_guard_madvise() {
        eprintln!("skipped: this kernel predates MADV_GUARD_INSTALL (Linux 6.13)");
        return;
    }
    let _serial = one_at_a_time();
    child::run_ok(NAME, &[]);
}

/// Every pooled stack has its guard, not only the first ones handed out: with 300 stacks in
/// use, an overflow on the next one is still caught and reported.
#[test]
fn overflow_is_caught_on_a_stack_deep_in_the_pool() {
    const NAME: &str = "overflow_is_caught_on_a_stack_deep_in_the_pool";
    if child::is_child(NAME) {
        let gate = WaitGroup::new();
        gate.add(1);
        let started = WaitGroup::new();
        for _ in 0..300 {
            started.add(1);
            let (g, s) = (gate.clone(), started.clone());
            goro::go(move || {
                s.done();
                g.wait();
            });
        }
        started.wait();
        let h = goro::Builder::new()
            .name("deep-in-the-pool")
            .spawn(|| support::stack_span(usize::MAX))
            .unwrap();
        let _ = h.join();
        unreachable!("the overflow must abort the process");
    }
    let _serial = one_at_a_time();
    let out = child::run(NAME, &[]);
    child::assert_overflow_abort(&out, "deep-in-the-pool");
}
