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
    assert!(pos("Main finished.") < pos("== sync.WaitGroup =="));
    assert!(pos("== sync.WaitGroup ==") < pos("All workers finished."));
    for w in 0..3 {
        let line = format!("Worker {w} done");
        assert!(pos("== sync.WaitGroup ==") < pos(&line));
        assert!(pos(&line) < pos("All workers finished."));
    }
}
