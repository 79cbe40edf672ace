//! Child processes, for tests that need a runtime of their own (a different `GORO_MAXPROCS`,
//! settings before start-up, aborts). Such a test starts with `if child::is_child(NAME)`: in
//! the child it runs its body there and returns; in the parent it calls `child::run(NAME,
//! env)`, which re-runs this test binary with `--exact NAME` and `GORO_TEST_CHILD=NAME`, and
//! then asserts on the child's exit status and output.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ENV: &str = "GORO_TEST_CHILD";
const TIMEOUT: Duration = Duration::from_secs(120);

/// Whether this process is the child started for `test`.
pub fn is_child(test: &str) -> bool {
    let yes = std::env::var(ENV).is_ok_and(|v| v == test);
    if yes {
        eprintln!("goro-test-child: {test}");
    }
    yes
}

/// Runs `test` of this test binary in a fresh process with `envs` (and no inherited
/// `GORO_MAXPROCS`), and returns its output once it exits.
pub fn run(test: &str, envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::current_exe().expect("current_exe"));
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ENV, test)
        .env_remove("GORO_MAXPROCS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn the child test process");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let err = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
            panic!("child `{test}` did not finish within {TIMEOUT:?}; stderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&format!("goro-test-child: {test}")),
        "the child did not run `{test}`:\n{}",
        describe(&output)
    );
    output
}

/// The child's status and output, for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs `test` in a child and asserts that it passed.
pub fn run_ok(test: &str, envs: &[(&str, &str)]) -> Output {
    let o = run(test, envs);
    assert!(
        o.status.success(),
        "child `{test}` failed:\n{}",
        describe(&o)
    );
    o
}

/// In a child, for a test in which a stuck goroutine would hold the only worker (so that
/// nothing else in the process could report it): ends the process with exit status 3 unless
/// the returned sender is dropped within `bound`, a liveness bound.
pub fn watchdog(test: &'static str, bound: Duration) -> mpsc::Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(bound) {
            eprintln!("{test}: no progress after {bound:?}: a waiter holds its worker");
            std::process::exit(3);
        }
    });
    tx
}

/// Asserts that the child aborted (SIGABRT) reporting that goroutine `name` overflowed its
/// stack.
pub fn assert_overflow_abort(out: &Output, name: &str) {
    use std::os::unix::process::ExitStatusExt;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGABRT),
        "{}",
        describe(out)
    );
    assert!(
        stderr.contains("goroutine")
            && stderr.contains(&format!("({name}) has overflowed its stack")),
        "{stderr}"
    );
}
