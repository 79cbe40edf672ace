//! Runs the examples (built by `cargo test` alongside the tests) and checks what they print.

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/examples/<name>`, next to this test's `target/<profile>/deps/`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "example binary {} is missing: run the tests with `cargo test`, which builds the examples",
        path.display()
    );
    path
}

fn run(name: &str) -> Vec<String> {
    let out = Command::new(example(name))
        .output()
        .unwrap_or_else(|e| panic!("cannot run example {name}: {e}"));
    assert!(
        out.status.success(),
        "example {name} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8 output")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn goroutines_prints_hello_then_main_finished() {
    assert_eq!(
        run("goroutines"),
        ["Hello from goroutine!", "Main finished."]
    );
}

#[test]
fn waitgroup_waits_for_every_worker() {
    let lines = run("waitgroup");
    assert_eq!(lines.len(), 4, "{lines:?}");
    let mut workers = lines[..3].to_vec();
    workers.sort();
    assert_eq!(workers, ["Worker 0 done", "Worker 1 done", "Worker 2 done"]);
    assert_eq!(lines[3], "All workers finished.");
}

#[test]
fn channels_prints_ping() {
    assert_eq!(run("channels"), ["ping"]);
}

#[test]
fn buffered_prints_in_order() {
    assert_eq!(run("buffered"), ["1", "2"]);
}

#[test]
fn closing_ranges_until_closed() {
    assert_eq!(run("closing"), ["0", "1", "2"]);
}

#[test]
fn select_takes_the_first_ready_channel() {
    assert_eq!(run("select"), ["Received one"]);
}

#[test]
fn timeout_gives_up_on_the_slow_operation() {
    assert_eq!(run("timeout"), ["timeout"]);
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn fanout_processes_every_job_once_and_collects_every_result() {
    let lines = run("fanout");
    let (processing, results): (Vec<_>, Vec<_>) =
        lines.into_iter().partition(|l| l.starts_with("Worker "));
    let jobs: Vec<String> = sorted(
        processing
            .iter()
            .map(|l| l.rsplit(' ').next().unwrap().to_owned())
            .collect(),
    );
    assert_eq!(jobs, ["1", "2", "3", "4", "5"], "{processing:?}");
    for l in &processing {
        let id: usize = l.split(' ').nth(1).unwrap().parse().unwrap();
        assert!((1..=3).contains(&id), "{l}");
    }
    assert_eq!(
        sorted(results),
        [
            "Result: 10",
            "Result: 2",
            "Result: 4",
            "Result: 6",
            "Result: 8"
        ]
    );
}

#[test]
fn workerpool_starts_finishes_and_collects_every_job() {
    let lines = run("workerpool");
    assert_eq!(lines.len(), 15, "{lines:?}");
    for j in 1..=5 {
        let started = lines
            .iter()
            .position(|l| l.starts_with("Worker ") && l.ends_with(&format!("started job {j}")))
            .unwrap_or_else(|| panic!("job {j} never started: {lines:?}"));
        let finished = lines
            .iter()
            .position(|l| l.starts_with("Worker ") && l.ends_with(&format!("finished job {j}")))
            .unwrap_or_else(|| panic!("job {j} never finished: {lines:?}"));
        let result = lines
            .iter()
            .position(|l| *l == format!("Result: {}", j * 2))
            .unwrap_or_else(|| panic!("no result for job {j}: {lines:?}"));
        assert!(started < finished && finished < result, "{lines:?}");
    }
}

#[test]
fn errgroup_fetches_with_a_limit_and_returns_the_first_error() {
    assert_eq!(
        run("errgroup"),
        [
            "after Wait, the group's context is done: context canceled",
            "http://www.golang.org/: 27 bytes",
            "http://www.google.com/: 27 bytes",
            "http://go.dev/: 19 bytes",
            "http://pkg.go.dev/: 23 bytes",
            "Successfully fetched all URLs.",
            "after Wait, the group's context is done: context canceled",
            "Error: Get \"http://www.somestupidname.com/\": dial tcp: lookup \
             www.somestupidname.com: no such host",
        ]
    );
}

#[test]
fn ctx_pool_stops_every_worker_on_failure_and_on_timeout() {
    let lines = run("ctx_pool");
    let split = lines
        .iter()
        .position(|l| l.starts_with("-- the pool's time is up"))
        .unwrap_or_else(|| panic!("second pool missing: {lines:?}"));
    let (failing, timed_out) = lines.split_at(split);
    // The failing pool: jobs 1 to 3 start (one per worker), 3 fails, 1 and 2 are stopped by
    // the cancellation, 4 to 6 never start.
    let mut started: Vec<&str> = failing
        .iter()
        .filter_map(|l| {
            l.strip_prefix("Worker ")?
                .split_once(" started job ")
                .map(|p| p.1)
        })
        .collect();
    started.sort();
    assert_eq!(started, ["1", "2", "3"], "{failing:?}");
    for j in [1, 2] {
        assert!(
            failing
                .iter()
                .any(|l| l.ends_with(&format!("stopped job {j}: context canceled"))),
            "job {j} not stopped: {failing:?}"
        );
    }
    assert!(failing
        .iter()
        .any(|l| l.ends_with("failed job 3: invalid input")));
    assert_eq!(
        &failing[failing.len() - 2..],
        [
            "Error: job 3: invalid input",
            "Pool stopped: context canceled"
        ]
    );
    // The timed-out pool: whatever finished in time, the timeout stops the rest.
    assert_eq!(
        timed_out.last().map(String::as_str),
        Some("Pool stopped: context deadline exceeded"),
        "{timed_out:?}"
    );
    assert!(
        timed_out
            .iter()
            .any(|l| l.ends_with(": context deadline exceeded") && l.contains(" stopped job ")),
        "{timed_out:?}"
    );
    assert!(!timed_out.iter().any(|l| l.starts_with("Error: ")));
}

#[test]
fn ctx_timeout_gives_up_and_stops_the_operation() {
    assert_eq!(
        run("ctx_timeout"),
        [
            "context deadline exceeded",
            "slow operation stopped: context deadline exceeded"
        ]
    );
}

#[test]
fn tour_runs_every_section_in_order() {
    let lines = run("tour");
    let pos = |needle: &str| {
        lines
            .iter()
            .position(|l| l == needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from the tour: {lines:?}"))
    };
    assert!(pos("== Goroutines ==") < pos("Hello from goroutine!"));
    assert!(pos("Hello from goroutine!") < pos("Main finished."));
    assert!(pos("Main finished.") < pos("== Channels =="));
    let sections = [
        "== Goroutines ==",
        "== Channels ==",
        "== Buffered Channels ==",
        "== Closing Channels ==",
        "== Select Statement ==",
        "== Fan-Out / Fan-In ==",
        "== Worker Pool ==",
        "== Error Handling: errgroup ==",
        "== Context-Aware Pools ==",
        "== Timeout with select ==",
        "== Timeout with context ==",
        "== sync.WaitGroup ==",
    ];
    for w in sections.windows(2) {
        assert!(pos(w[0]) < pos(w[1]), "{} must come before {}", w[0], w[1]);
    }
    assert!(pos("== Channels ==") < pos("ping") && pos("ping") < pos("== Buffered Channels =="));
    assert!(pos("== Select Statement ==") < pos("Received one"));
    assert!(pos("== Timeout with select ==") < pos("timeout"));
    assert!(pos("== Error Handling: errgroup ==") < pos("Successfully fetched all URLs."));
    assert!(pos("== Context-Aware Pools ==") < pos("Pool stopped: context canceled"));
    assert!(pos("Pool stopped: context deadline exceeded") < pos("== Timeout with select =="));
    assert!(pos("== Timeout with context ==") < pos("context deadline exceeded"));
    assert!(pos("== sync.WaitGroup ==") < pos("All workers finished."));
    for w in 0..3 {
        let line = format!("Worker {w} done");
        assert!(pos("== sync.WaitGroup ==") < pos(&line));
        assert!(pos(&line) < pos("All workers finished."));
    }
}
