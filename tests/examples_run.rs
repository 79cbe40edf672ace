//! Runs the examples (built by `cargo test` alongside the tests) and checks what they print.

use std::ffi::{CString, OsStr};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::net::UnixListener;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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
fn parallelism_compares_one_worker_with_every_core() {
    let lines = run("parallelism");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with("4 goroutines waiting 100 ms each: ")
            && lines[0].ends_with(" ms in all (concurrency: waiting takes no core)"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("4 computing jobs on 1 worker goroutine: "),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("4 computing jobs on ") && lines[2].contains("x faster)"),
        "{lines:?}"
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
            "http://www.golang.org/: 27 bytes",
            "http://www.google.com/: 27 bytes",
            "http://go.dev/: 19 bytes",
            "http://pkg.go.dev/: 23 bytes",
            "Successfully fetched all URLs.",
            "the fetches still running stopped: context canceled",
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

/// What `dynamic_pool` prints, on every run.
const DYNAMIC_POOL: &[&str] = &[
    "quiet: 1 worker",
    "job 1 submitted: workers 1, queued 0",
    "job 2 submitted: workers 2, queued 0",
    "job 3 submitted: workers 3, queued 0",
    "job 4 submitted: workers 4, queued 0",
    "job 5 submitted: workers 4, queued 1",
    "job 6 submitted: workers 4, queued 2",
    "burst over: the workers finish the 6 jobs",
    "results: [2, 4, 6, 8, 10, 12]",
    "idle for 200ms: back to 1 worker",
    "report: 6 submitted, 6 completed",
];

/// What `errchan_pool` prints, on every run.
const ERRCHAN_POOL: &[&str] = &[
    "Result: 2",
    "Result: 6",
    "Result: 8",
    "Result: 12",
    "Error: job 2: invalid input",
    "Error: job 5: invalid input",
    "6 jobs: 4 completed, 2 failed",
];

#[test]
fn dynamic_pool_grows_under_load_and_shrinks_when_idle() {
    assert_eq!(run("dynamic_pool"), DYNAMIC_POOL);
}

#[test]
fn errchan_pool_collects_every_error() {
    assert_eq!(run("errchan_pool"), ERRCHAN_POOL);
}

/// The lines of the tour's section `title`: from its header to the blank line before the
/// next one.
fn section<'a>(lines: &'a [String], title: &str) -> &'a [String] {
    let header = format!("== {title} ==");
    let start = lines
        .iter()
        .position(|l| *l == header)
        .unwrap_or_else(|| panic!("{header:?} missing from the tour: {lines:?}"))
        + 1;
    let len = lines[start..]
        .windows(2)
        .position(|w| w[0].is_empty() && w[1].starts_with("== "))
        .unwrap_or(lines.len() - start);
    &lines[start..start + len]
}

/// A directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("goro-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `files:` line of hashdir's summary, as (hashed, failed, cancelled).
fn hashdir_counts(stderr: &str) -> (u64, u64, u64) {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("files:"))
        .unwrap_or_else(|| panic!("no summary: {stderr}"));
    let count = |what: &str| -> u64 {
        line.split(',')
            .find_map(|part| part.trim().strip_suffix(what))
            .unwrap_or_else(|| panic!("no {what:?} count in {line:?}"))
            .trim()
            .parse()
            .unwrap()
    };
    (count(" hashed"), count(" failed"), count(" cancelled"))
}

#[test]
fn hashdir_prints_sha256_lines_and_a_summary() {
    let dir = TempDir::new("hashdir-known");
    let hello = dir.file("hello.txt", "hello\n");
    let empty = dir.file("empty", "");
    let abc = dir.file("a/b/c/abc.txt", "abc");
    // A broken link fails (reported through the pool's errors), as in sha256sum.
    let broken = dir.0.join("a/broken");
    std::os::unix::fs::symlink("nowhere", &broken).unwrap();

    let out = Command::new(example("hashdir"))
        .arg(&dir.0)
        .args(["--workers", "2", "--print"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "a file failed: {stderr}");

    let line = |digest: &str, path: &Path| format!("{digest}  {}", path.display());
    let mut expected = vec![
        line(
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
            &hello,
        ),
        line(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            &empty,
        ),
        line(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            &abc,
        ),
    ];
    expected.sort();
    assert_eq!(
        sorted(stdout.lines().map(str::to_owned).collect()),
        expected
    );

    assert_eq!(hashdir_counts(&stderr), (3, 1, 0), "{stderr}");
    assert!(stderr.contains("bytes:      9 B\n"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "hashdir: {}: No such file or directory",
            broken.display()
        )),
        "{stderr}"
    );
    for label in ["elapsed:", "throughput:"] {
        assert!(stderr.lines().any(|l| l.starts_with(label)), "{stderr}");
    }
    // No progress bar in captured output: stderr is not a terminal.
    assert!(!stderr.contains('['), "{stderr}");

    // Without --print, only the summary; without failures, exit code 0.
    std::fs::remove_file(&broken).unwrap();
    let out = Command::new(example("hashdir"))
        .arg(&dir.0)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(hashdir_counts(&stderr), (3, 0, 0), "{stderr}");
}

#[test]
fn hashdir_stops_cleanly_on_ctrl_c() {
    const FILES: usize = 3000;
    let dir = TempDir::new("hashdir-sigint");
    for i in 0..FILES {
        dir.file(&format!("d{}/f{i:04}", i % 10), "");
    }
    let mut child = Command::new(example("hashdir"))
        .arg(&dir.0)
        .args(["--workers", "1", "--print"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Its first line says the Ctrl-C handler is in place. The test does not read stdout
    // yet, so the hashes fill the pipe (64 KiB, a few hundred lines) and the job printing
    // blocks: the run cannot be over before the signal comes.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(first.starts_with("hashdir: hashing "), "{first}");
    // SAFETY: `kill` has no memory-safety preconditions; the pid is our own child's.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);

    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    let stderr = rest.join().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("hashdir: interrupted"), "{stderr}");
    assert!(stderr.contains("\ninterrupted: "), "{stderr}");

    let printed = stdout.lines().count() as u64;
    let (hashed, failed, cancelled) = hashdir_counts(&stderr);
    assert_eq!(hashed, printed, "{stderr}");
    assert_eq!(failed, 0, "{stderr}");
    assert!(
        hashed + cancelled < FILES as u64,
        "the walk should have stopped early: {stderr}"
    );
}

/// Waits for `child`, killing it and failing the test if it is still running after a
/// generous bound (a liveness check, not a timing).
fn wait_at_most(child: &mut std::process::Child, bound: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn hashdir_ends_quietly_when_stdout_closes() {
    const FILES: usize = 3000;
    let dir = TempDir::new("hashdir-head");
    for i in 0..FILES {
        dir.file(&format!("d{}/f{i:04}", i % 10), "");
    }
    let mut child = Command::new(example("hashdir"))
        .arg(&dir.0)
        .args(["--workers", "2", "--print"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        BufReader::new(stderr).read_to_string(&mut s).unwrap();
        s
    });
    // `| head -3`: read three lines and close the pipe. 3000 lines are several times what a
    // pipe holds, so the example is still printing when the pipe closes.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..3 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(line.contains(dir.0.to_str().unwrap()), "{line:?}");
    }
    drop(stdout);

    let status = wait_at_most(&mut child, Duration::from_secs(20));
    let stderr = stderr.join().unwrap();
    // Killed by SIGPIPE, as sha256sum is (a shell reports 141), and without a word beyond
    // the opening line: no error per remaining file, no summary.
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("hashdir: hashing "), "{stderr}");
}

#[test]
fn hashdir_print_escapes_names_as_sha256sum_does() {
    let dir = TempDir::new("hashdir-names");
    // A newline, a backslash, a carriage return, a byte that is not UTF-8, and a plain name.
    let names: [&[u8]; 5] = [
        b"two\nlines",
        b"back\\slash",
        b"carriage\rreturn",
        b"caf\xe9",
        b"plain",
    ];
    let paths: Vec<PathBuf> = names
        .iter()
        .map(|name| {
            let path = dir.0.join(OsStr::from_bytes(name));
            std::fs::write(&path, name).unwrap();
            path
        })
        .collect();

    let out = Command::new(example("hashdir"))
        .arg(&dir.0)
        .arg("--print")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(hashdir_counts(&stderr), (5, 0, 0), "{stderr}");
    let mut lines: Vec<&[u8]> = out.stdout.split(|&b| b == b'\n').collect();
    assert_eq!(
        lines.pop(),
        Some(&b""[..]),
        "the output ends with a newline"
    );
    lines.sort();

    // Without sha256sum at hand, the rule itself: the backslash name's line.
    let digest = "1498e0b566ad7dd265d5f2deebc80abb7b9446c3e943decbb8637b433fe65f6a";
    let mut expected = format!("\\{digest}  ").into_bytes();
    expected.extend_from_slice(dir.0.as_os_str().as_bytes());
    expected.extend_from_slice(b"/back\\\\slash");
    assert!(
        lines.contains(&&expected[..]),
        "{:?} not in {lines:?}",
        String::from_utf8_lossy(&expected)
    );

    let sha256sum = |args: &[&OsStr], stdin: &[u8]| {
        let mut child = Command::new("sha256sum")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        Some(child.wait_with_output().unwrap())
    };
    let Some(theirs) = sha256sum(
        &paths.iter().map(|p| p.as_os_str()).collect::<Vec<_>>(),
        b"",
    ) else {
        eprintln!("sha256sum is not on PATH: skipping the comparison with it");
        return;
    };
    assert!(theirs.status.success(), "{theirs:?}");
    // Byte for byte what sha256sum prints for the same files...
    let mut their_lines: Vec<&[u8]> = theirs.stdout.split(|&b| b == b'\n').collect();
    their_lines.pop();
    their_lines.sort();
    assert_eq!(lines, their_lines);
    // ...and what `sha256sum -c` accepts.
    let check = sha256sum(&["-c".as_ref()], &out.stdout).unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{check:?}");
    assert_eq!(report.matches(": OK").count(), 5, "{report}");
}

#[test]
fn hashdir_counts_the_special_files_it_skips() {
    let dir = TempDir::new("hashdir-special");
    dir.file("a.txt", "a");
    dir.file("sub/b.txt", "b");
    let fifo = CString::new(dir.0.join("sub/fifo").into_os_string().into_vec()).unwrap();
    // SAFETY: `fifo` is a NUL-terminated path that lives across the call.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let _socket = UnixListener::bind(dir.0.join("socket")).unwrap();
    // Links count as what they point to: one more FIFO, and a character device.
    std::os::unix::fs::symlink("sub/fifo", dir.0.join("to-fifo")).unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.0.join("to-null")).unwrap();

    let out = Command::new(example("hashdir"))
        .arg(&dir.0)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        out.status.success(),
        "skipped files are no failure: {stderr}"
    );
    assert_eq!(hashdir_counts(&stderr), (2, 0, 0), "{stderr}");
    assert!(
        stderr.contains("\nspecial:    4 skipped (2 FIFOs, 1 socket, 1 device)\n"),
        "{stderr}"
    );

    // Nothing skipped, no `special:` line.
    let out = Command::new(example("hashdir"))
        .arg(dir.0.join("sub/b.txt"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("special:"), "{stderr}");
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
        "== Concurrency vs. Parallelism ==",
        "== Goroutines ==",
        "== Channels ==",
        "== Buffered Channels ==",
        "== Closing Channels ==",
        "== Select Statement ==",
        "== Fan-Out / Fan-In ==",
        "== Worker Pool ==",
        "== Dynamic Pools ==",
        "== Error Handling: errChan ==",
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
    assert_eq!(section(&lines, "Dynamic Pools"), DYNAMIC_POOL);
    assert_eq!(section(&lines, "Error Handling: errChan"), ERRCHAN_POOL);
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

#[test]
fn tokio_offload_gets_every_result_back_as_futures() {
    let lines = run("tokio_offload");
    assert_eq!(
        lines,
        [
            "24 jobs done by goroutines, 148357 primes in all",
            "the executor stayed responsive: 3 ticks meanwhile",
            "primes below 200000: 17984",
            "primes below 1000: 168",
        ]
    );
}

#[test]
fn goroutines_call_async_gets_every_answer_and_cancels_the_slow_call() {
    let lines = run("goroutines_call_async");
    assert_eq!(
        lines,
        [
            "10: user-10",
            "11: user-11",
            "12: user-12",
            "13: error: user 13: not found",
            "14: user-14",
            "15: user-15",
            "cancelled the slow call",
        ]
    );
}

/// A server example started on a free port: the child, and the address it printed.
struct Server {
    child: std::process::Child,
    stdout: BufReader<std::process::ChildStdout>,
    addr: String,
}

impl Server {
    fn start(name: &str) -> Server {
        let mut child = Command::new(example(name))
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{name} printed {first:?}"))
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Server {
            child,
            stdout,
            addr,
        }
    }

    fn connect(&self) -> std::net::TcpStream {
        let s = std::net::TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        s
    }

    /// Ctrl-C, then what it printed after, and its exit status.
    fn interrupt(mut self) -> (String, std::process::ExitStatus) {
        // SAFETY: `kill` has no memory-safety preconditions; the pid is our own child's.
        assert_eq!(
            unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) },
            0
        );
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        (rest, self.child.wait().unwrap())
    }
}

#[test]
fn echo_server_echoes_and_shuts_down_on_ctrl_c() {
    use std::io::Write;
    let server = Server::start("echo_server");
    let mut clients: Vec<_> = (0..5).map(|_| server.connect()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        let msg = format!("hello {i}\n");
        c.write_all(msg.as_bytes()).unwrap();
        let mut back = vec![0; msg.len()];
        c.read_exact(&mut back).unwrap();
        assert_eq!(back, msg.as_bytes());
    }
    drop(clients.pop());
    // The other four are still open at the Ctrl-C: the server closes them and ends.
    let (rest, status) = server.interrupt();
    assert!(status.success(), "{status}: {rest}");
    assert_eq!(rest.trim(), "shut down: 5 connections served");
    for mut c in clients {
        assert_eq!(c.read(&mut [0; 8]).unwrap_or(0), 0, "closed by the server");
    }
}

#[test]
fn chat_server_broadcasts_arrivals_and_messages() {
    use std::io::Write;
    let server = Server::start("chat_server");
    let mut alice = BufReader::new(server.connect());
    let mut line = String::new();
    alice.read_line(&mut line).unwrap();
    assert!(line.starts_with("You are "), "{line}");
    // As in Go's program, a client is announced to those already there, not to itself.
    let mut bob = BufReader::new(server.connect());
    let mut bob_name = String::new();
    bob.read_line(&mut bob_name).unwrap();
    let bob_name = bob_name
        .trim()
        .strip_prefix("You are ")
        .unwrap()
        .to_string();
    line.clear();
    alice.read_line(&mut line).unwrap();
    assert_eq!(line, format!("{bob_name} has arrived\n"));
    bob.get_mut().write_all(b"hi all\n").unwrap();
    line.clear();
    alice.read_line(&mut line).unwrap();
    assert_eq!(line, format!("{bob_name}: hi all\n"));
    let (rest, status) = server.interrupt();
    assert!(status.success(), "{status}: {rest}");
    assert_eq!(rest.trim(), "shut down: 2 clients served");
}

#[test]
fn http_hello_answers_keep_alive_requests() {
    use std::io::Write;
    let server = Server::start("http_hello");
    let mut c = server.connect();
    for _ in 0..3 {
        c.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        let mut r = BufReader::new(&c);
        let mut status = String::new();
        r.read_line(&mut status).unwrap();
        assert_eq!(status, "HTTP/1.1 200 OK\r\n");
        let mut len = 0;
        loop {
            let mut h = String::new();
            r.read_line(&mut h).unwrap();
            if h == "\r\n" {
                break;
            }
            if let Some(v) = h.strip_prefix("Content-Length: ") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        assert_eq!(body, b"Hello, world!\n");
    }
    c.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut all = String::new();
    c.read_to_string(&mut all).unwrap();
    assert!(all.contains("Connection: close") && all.ends_with("Hello, world!\n"));
    let (rest, status) = server.interrupt();
    assert!(status.success(), "{status}: {rest}");
    assert_eq!(rest.trim(), "shut down: 4 requests answered");
}

#[test]
fn pool_fetch_gets_every_page_and_times_out_the_slow_one() {
    let mut want: Vec<String> = (1..=11)
        .map(|n: usize| {
            let body: usize = (1..=n).map(|i| format!("line {i}\n").len()).sum();
            format!("/page/{n}: {body} bytes")
        })
        .collect();
    want.insert(5, "/slow: failed: GET /slow: i/o timeout".to_string());
    assert_eq!(run("pool_fetch"), want);
}
