//! `fork()` after the runtime started: the child refuses to use the runtime with a message
//! naming the cause, instead of hanging (Go does not support such a child either).

use std::panic;
use std::time::{Duration, Instant};

mod support;

use support::{child, payload_str};

/// Forks; in the child runs `body`, then ends the child at once with the status `body`
/// returns; in the parent waits for the child (within a liveness bound) and returns its
/// exit status.
fn fork_and_wait(body: impl FnOnce() -> i32) -> i32 {
    let status = fork_and_wait_status(|| {
        let code = panic::catch_unwind(panic::AssertUnwindSafe(body)).unwrap_or(90);
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    });
    assert!(
        libc::WIFEXITED(status),
        "child ended abnormally: {status:#x}"
    );
    libc::WEXITSTATUS(status)
}

/// Forks; the child runs `body` (which may return: then the child goes on from the fork);
/// the parent waits for the child within a liveness bound and returns its wait status.
fn fork_and_wait_status(body: impl FnOnce()) -> i32 {
    // SAFETY: the child calls only what `body` calls and then `_exit`s; the parent goes on
    // as usual. This test runs in a process of its own (see `child`) with no other thread
    // holding a lock the child could need.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        body();
        return 0;
    }
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: `pid` is our child; `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(
            r >= 0,
            "waitpid failed: {}",
            std::io::Error::last_os_error()
        );
        if r == pid {
            return status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            // SAFETY: `pid` is our child, still running.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the forked child hung instead of refusing to use the runtime");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `f`, expecting a panic that names fork; returns 0 if so, 1 otherwise.
fn refuses(f: impl FnOnce()) -> i32 {
    match panic::catch_unwind(panic::AssertUnwindSafe(f)) {
        Err(p) if payload_str(&*p).is_some_and(|m| m.contains("forked")) => 0,
        Err(_) => 1,
        Ok(()) => 2,
    }
}

#[test]
fn a_forked_child_refuses_the_runtime_instead_of_hanging() {
    const NAME: &str = "a_forked_child_refuses_the_runtime_instead_of_hanging";
    if child::is_child(NAME) {
        // Start the runtime, and leave a goroutine parked on a channel nobody sends on.
        assert_eq!(goro::go(|| 1).join().unwrap(), 1);
        let (tx, rx) = goro::chan::bounded::<i32>(0);
        let stuck = goro::go(move || rx.recv().unwrap_or(-1));

        // Joining a goroutine of the parent: it can never run in the child.
        assert_eq!(fork_and_wait(|| refuses(|| drop(stuck.join()))), 0);
        // Starting a goroutine.
        assert_eq!(fork_and_wait(|| refuses(|| drop(goro::go(|| 2)))), 0);
        // A timer.
        assert_eq!(
            fork_and_wait(|| refuses(|| drop(goro::time::after(Duration::from_millis(1))))),
            0
        );
        // Forked from a goroutine: the child's only thread is a worker.
        let from_goroutine = goro::go(|| fork_and_wait(|| refuses(|| drop(goro::go(|| 4)))));
        assert_eq!(from_goroutine.join().unwrap(), 0);
        // A goroutine that forks and lets its child go on: once the child's goroutine is
        // done, its worker is alone with nothing to run and ends the child with the message
        // instead of hanging.
        let status = goro::go(|| fork_and_wait_status(|| {})).join().unwrap();
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGABRT,
            "the child should abort: {status:#x}"
        );
        // The parent is unaffected.
        assert_eq!(goro::go(|| 3).join().unwrap(), 3);
        drop(tx);
        return;
    }
    let out = child::run_ok(NAME, &[("GORO_MAXPROCS", "2")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("forked after the goro runtime started"),
        "the aborting child names the cause:\n{stderr}"
    );
}

#[test]
fn a_child_forked_before_the_runtime_started_can_use_it() {
    const NAME: &str = "a_child_forked_before_the_runtime_started_can_use_it";
    if child::is_child(NAME) {
        let code = fork_and_wait(|| {
            let (tx, rx) = goro::chan::bounded(0);
            goro::go(move || tx.send(7).unwrap());
            i32::from(rx.recv() != Ok(7))
        });
        assert_eq!(code, 0, "the child's own runtime must work");
        return;
    }
    child::run_ok(NAME, &[]);
}
