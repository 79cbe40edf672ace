//! `#[goro::test]`: the body runs as a goroutine, with the leak check on by default, and
//! `maxprocs = N` gives it a runtime with `N` workers (a child process when this one has
//! another count).

use goro::chan;

#[goro::test]
fn the_body_runs_in_a_goroutine() {
    assert!(goro::in_goroutine());
    let (tx, rx) = chan::bounded(0);
    let h = goro::go(move || tx.send(7).unwrap());
    assert_eq!(rx.recv(), Ok(7));
    h.join().unwrap();
}

#[goro::test(maxprocs = 1)]
fn maxprocs_one() {
    assert_eq!(goro::maxprocs(), 1);
}

#[goro::test(maxprocs = 3, leak_check = true)]
fn maxprocs_three() {
    assert_eq!(goro::maxprocs(), 3);
}

#[goro::test]
#[should_panic(expected = "1 goroutine leaked")]
fn a_leaked_goroutine_fails_the_test() {
    let (tx, rx) = chan::bounded::<()>(0);
    std::mem::forget(tx);
    goro::go(move || rx.recv());
}

#[goro::test(leak_check = false)]
fn leak_check_false_lets_it_be() {
    let (tx, rx) = chan::bounded::<()>(0);
    std::mem::forget(tx);
    goro::go(move || rx.recv());
}

#[goro::test]
#[should_panic(expected = "boom")]
fn a_panic_fails_the_test() {
    goro::go(|| ()).join().unwrap();
    panic!("boom");
}

#[goro::test(maxprocs = 1)]
#[should_panic(expected = "boom on one worker")]
fn a_panic_in_a_child_process_fails_the_test() {
    panic!("boom on one worker");
}

#[goro::test]
fn a_result_is_passed_through() -> Result<(), String> {
    let h = goro::go(|| 2 + 2);
    if h.join().unwrap() == 4 {
        Ok(())
    } else {
        Err("arithmetic".into())
    }
}

mod nested {
    #[goro::test(maxprocs = 1)]
    fn a_test_in_a_module_runs_in_its_child_too() {
        assert_eq!(goro::maxprocs(), 1);
    }
}

/// Fails only when asked to, in a child process (`a_failing_body_shows_its_report`).
#[goro::test]
fn fails_when_asked() {
    if std::env::var_os("GORO_TEST_ATTR_FAIL").is_some() {
        panic!("failing on purpose");
    }
}

/// Runs test `name` of this binary in a child process, the harness capturing its output.
fn run_alone(name: &str, fail: bool) -> std::process::Output {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--test-threads=1"]);
    if fail {
        cmd.env("GORO_TEST_ATTR_FAIL", "1");
    }
    cmd.output().expect("run the test binary")
}

#[test]
fn a_should_panic_body_that_passes_prints_nothing() {
    let out = run_alone("a_panic_fails_the_test", false);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stdout.contains("panicked"), "{stdout}");
}

#[test]
fn a_failing_body_shows_its_report() {
    let out = run_alone("fails_when_asked", true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    // In the harness's report of the failure, with the goroutine's name and the location.
    assert!(
        stdout.contains("(fails_when_asked) panicked at tests/goro_test_attr.rs")
            && stdout.contains("failing on purpose"),
        "{stdout}"
    );
}
