//! Go: the runtime's scavenger — memory of a goroutine burst goes back to the system.
//!
//! Parks a burst of goroutines (1,000,000 unless an argument says otherwise) on one
//! `WaitGroup`, so that all of them hold a stack at once, releases them, waits for every one
//! to finish, and then prints the process's resident memory every 250 ms for 10 seconds,
//! and at the end the size of its page tables.
//! Once the burst is over, the runtime keeps only the stacks that recent load needs and
//! gives the rest back to the kernel, so the resident size falls back close to where it was
//! before the burst.
//!
//! ```sh
//! cargo run --release --example burst_rss            # 1,000,000 goroutines
//! cargo run --release --example burst_rss -- 100000  # a smaller burst
//! ```

use std::time::{Duration, Instant};

use goro::sync::WaitGroup;

/// Resident bytes of this process, from `/proc/self/statm`.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("resident pages in /proc/self/statm");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(1) as u64
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[goro::main]
pub fn main() {
    let n: usize = match std::env::args().nth(1) {
        Some(a) => a.parse().expect("usage: burst_rss [GOROUTINES]"),
        None => 1_000_000,
    };
    println!("before: {:.0} MiB resident", mib(rss_bytes()));

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
    println!(
        "{n} goroutines parked: {:.0} MiB resident",
        mib(rss_bytes())
    );

    gate.done();
    all.wait();
    let released = Instant::now();
    for i in 0..=40 {
        let at = released + Duration::from_millis(250 * i);
        goro::sleep(at.saturating_duration_since(Instant::now()));
        println!(
            "{:>5} ms after release: {:.0} MiB resident",
            250 * i,
            mib(rss_bytes())
        );
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    if let Some(pte) = status.lines().find(|l| l.starts_with("VmPTE:")) {
        println!("page tables: {}", pte["VmPTE:".len()..].trim());
    }
}

// Output (the numbers vary with the machine):
// before: 3 MiB resident
// 1000000 goroutines parked: 4200 MiB resident
//     0 ms after release: ... MiB resident
//   ...
// 10000 ms after release: ... MiB resident
// page tables: ... kB
