//! What `#[goro::test]` expands to (`goro_macros::test`): the test body as a goroutine,
//! the leak check, and a child process for a test that needs another worker count.

use std::process::{Command, Stdio};

/// What a `#[goro::test]` says about its test.
#[derive(Debug, Clone, Copy)]
pub struct TestSettings {
    /// `module_path!()` where the test is.
    pub module: &'static str,
    /// The test function's name.
    pub name: &'static str,
    /// `maxprocs = N`.
    pub maxprocs: Option<usize>,
    /// `leak_check` (default true).
    pub leak_check: bool,
    /// Whether the test is `#[should_panic]`.
    pub should_panic: bool,
}

/// The result of a test run in a child process, which passed: `()` or `Ok(())`.
pub trait Passed {
    /// The value of a test that passed.
    fn passed() -> Self;
}

impl Passed for () {
    fn passed() -> Self {}
}

impl<E> Passed for Result<(), E> {
    fn passed() -> Self {
        Ok(())
    }
}

/// Set in the child process that runs one test with its own worker count.
const CHILD: &str = "GORO_TEST_CHILD";

/// Runs a `#[goro::test]` body (see `goro_macros::test`).
pub fn run_test<T, F>(settings: TestSettings, body: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Passed + Send + 'static,
{
    // libtest names a test by its module path without the crate, then the function.
    let full = match settings.module.split_once("::") {
        Some((_, rest)) => format!("{rest}::{}", settings.name),
        None => settings.name.to_string(),
    };
    if let Some(n) = settings.maxprocs {
        let in_child = std::env::var(CHILD).is_ok_and(|v| v == full);
        if !in_child && crate::maxprocs() != n {
            run_in_child(&full, n, settings.should_panic);
            return T::passed();
        }
    }
    let guard = settings.leak_check.then(crate::leak::guard);
    // The body's panic report is printed by this thread, where the test harness captures
    // it like a plain test's: shown if the test fails, quiet for a `should_panic` test.
    let handle = crate::Builder::new()
        .name(settings.name)
        .spawn(move || {
            crate::rt::panic::defer_report_of_current();
            body()
        })
        .unwrap_or_else(|e| panic!("goro::test: cannot spawn the test's goroutine: {e}"));
    let id = handle.id().as_u64();
    let joined = handle.join();
    let report = crate::rt::panic::take_deferred(id);
    match joined {
        Ok(v) => {
            if let Some(guard) = guard {
                if let Err(leaked) = guard.check() {
                    panic!("{leaked}");
                }
            }
            v
        }
        // The guard is dropped while unwinding, which skips its check: the panic is the
        // failure to report.
        Err(e) => {
            if let Some(report) = report {
                eprint!("{report}");
            }
            std::panic::resume_unwind(e.into_panic())
        }
    }
}

/// Runs test `full` of this binary in a child process with `GORO_MAXPROCS=n`; panics if it
/// fails (or, for a `#[should_panic]` test, with the child's output if it passed, which it
/// did by panicking).
fn run_in_child(full: &str, n: usize, should_panic: bool) {
    let exe = std::env::current_exe().expect("goro::test: the test binary's path");
    let out = Command::new(exe)
        .args(["--exact", full, "--nocapture", "--test-threads=1"])
        .env(CHILD, full)
        .env("GORO_MAXPROCS", n.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("goro::test: cannot start the child process for maxprocs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ran = stdout.contains("1 passed") || stdout.contains("1 failed");
    if !ran {
        panic!(
            "goro::test: the child process for `{full}` (maxprocs = {n}) did not run it \
             ({}):\n{stdout}\n{stderr}",
            out.status
        );
    }
    if !out.status.success() {
        panic!("test `{full}` failed in its child process (maxprocs = {n}):\n{stdout}\n{stderr}");
    }
    if should_panic {
        panic!("{stderr}");
    }
    print!("{stdout}");
    eprint!("{stderr}");
}
