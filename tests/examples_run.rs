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
        "== Timeout with select ==",
        "== sync.WaitGroup ==",
    ];
    for w in sections.windows(2) {
        assert!(pos(w[0]) < pos(w[1]), "{} must come before {}", w[0], w[1]);
    }
    assert!(pos("== Channels ==") < pos("ping") && pos("ping") < pos("== Buffered Channels =="));
    assert!(pos("== Select Statement ==") < pos("Received one"));
    assert!(pos("== Timeout with select ==") < pos("timeout"));
    assert!(pos("== sync.WaitGroup ==") < pos("All workers finished."));
    for w in 0..3 {
        let line = format!("Worker {w} done");
        assert!(pos("== sync.WaitGroup ==") < pos(&line));
        assert!(pos(&line) < pos("All workers finished."));
    }
}
