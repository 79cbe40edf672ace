//! Deadlock detection: a program in which every goroutine waits on another ends with Go's
//! message, the goroutine dump and status 2; programs that can still make progress (a timer
//! pending, a goroutine in a system call, an OS thread that sends later) run to the end
//! undisturbed, and so do those goro cannot see into (a goroutine locked to its thread, a
//! thread blocked outside goro).
//!
//! Each case runs in a child process of this binary (its own `main`, no test harness: the
//! harness's threads would be threads goro cannot see into), with `goro::run` on the
//! child's main thread, as `#[goro::main]` does.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use goro::chan;
use goro::sync::{Mutex, WaitGroup};

const CASE: &str = "GORO_DEADLOCK_CASE";
const HEADER: &str = "fatal error: all goroutines are asleep - deadlock!\n\n";

/// The cases: name, body, and what the parent expects.
enum Expect {
    /// Status 2, the header, and these strings in the dump.
    Deadlock(&'static [&'static str]),
    /// Status 0 and this on stdout.
    Finishes(&'static str),
    /// Still running, silent, after a while (then killed).
    Silent,
    /// Sent `SIGQUIT` once it printed `ready`: status 2, `SIGQUIT: quit` and the dump with
    /// these strings.
    QuitDump(&'static [&'static str]),
    /// Sent `SIGQUIT` once it printed `ready`: ended by the signal, no dump.
    QuitDefault,
}

fn cases() -> Vec<(&'static str, fn(), Expect)> {
    vec![
        (
            "two_goroutines_wait_on_each_other",
            two_goroutines_wait_on_each_other,
            Expect::Deadlock(&[
                "goroutine 1 \"main\" [chan receive]:",
                "[chan send]:",
                "blocked at tests/diag_deadlock.rs:",
                "created by goroutine 1 at tests/diag_deadlock.rs:",
            ]),
        ),
        (
            "waitgroup_never_done",
            waitgroup_never_done,
            Expect::Deadlock(&["goroutine 1 \"main\" [sync.WaitGroup.Wait]:"]),
        ),
        (
            "mutex_locked_twice",
            mutex_locked_twice,
            Expect::Deadlock(&["[sync.Mutex.Lock]:"]),
        ),
        (
            "empty_select",
            empty_select,
            Expect::Deadlock(&["goroutine 1 \"main\" [select (no cases)]:"]),
        ),
        (
            "a_pending_timer_is_no_deadlock",
            a_pending_timer_is_no_deadlock,
            Expect::Finishes("timer 1\n"),
        ),
        (
            "a_system_call_is_no_deadlock",
            a_system_call_is_no_deadlock,
            Expect::Finishes("syscall 2\n"),
        ),
        (
            "a_thread_that_sends_later_is_no_deadlock",
            a_thread_that_sends_later_is_no_deadlock,
            Expect::Finishes("thread 3\n"),
        ),
        (
            "a_goroutine_locked_to_its_thread_is_not_judged",
            a_goroutine_locked_to_its_thread_is_not_judged,
            Expect::Silent,
        ),
        (
            "a_thread_blocked_outside_goro_is_not_judged",
            a_thread_blocked_outside_goro_is_not_judged,
            Expect::Silent,
        ),
        (
            "sigquit_dumps_every_goroutine",
            waits_for_sigquit,
            Expect::QuitDump(&[
                "goroutine 1 \"main\" [",
                "\"stuck\" [sync.WaitGroup.Wait]:",
                "blocked at tests/diag_deadlock.rs:",
            ]),
        ),
        (
            "traceback_none_leaves_sigquit_alone",
            waits_for_sigquit,
            Expect::QuitDefault,
        ),
    ]
}

/// Waits on goroutines while a thread blocked outside goro keeps the program alive (no
/// deadlock), and says when it is ready for the signal.
fn waits_for_sigquit() {
    // No core file from the default action.
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid `rlimit` for the calling process.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
    let wg = WaitGroup::new();
    wg.add(1);
    let wg2 = wg.clone();
    goro::Builder::new()
        .name("stuck")
        .spawn(move || wg2.wait())
        .unwrap();
    let (tx, rx) = chan::bounded::<u8>(0);
    let (_keep, std_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _ = std_rx.recv();
        drop(tx);
    });
    while !goro::goroutines()
        .iter()
        .any(|g| g.name.as_deref() == Some("stuck") && g.blocked_at.is_some())
    {
        goro::sleep(Duration::from_millis(1));
    }
    // The dump describes goroutines that have waited at least once: make sure main has.
    goro::sleep(Duration::from_millis(1));
    println!("ready");
    let _ = rx.recv();
    wg.done();
}

fn two_goroutines_wait_on_each_other() {
    let (tx, rx) = chan::bounded::<u8>(0);
    let (tx2, rx2) = chan::bounded::<u8>(0);
    goro::go(move || {
        let _ = tx2.send(1);
        let _ = tx.send(2);
    });
    // Waits on `rx`, while the goroutine waits to send on `tx2`, which nobody receives.
    let _ = rx.recv();
    drop(rx2);
}

fn waitgroup_never_done() {
    let wg = WaitGroup::new();
    wg.add(1);
    wg.wait();
}

fn mutex_locked_twice() {
    let m = Mutex::new(0);
    let _a = m.lock();
    let _b = m.lock();
}

fn empty_select() {
    goro::select! {}
}

fn a_pending_timer_is_no_deadlock() {
    let (tx, rx) = chan::bounded::<u8>(0);
    goro::go(move || {
        goro::sleep(Duration::from_millis(300));
        tx.send(1).unwrap();
    });
    println!("timer {}", rx.recv().unwrap());
}

fn a_system_call_is_no_deadlock() {
    let (tx, rx) = chan::bounded::<u8>(0);
    goro::go(move || {
        std::thread::sleep(Duration::from_millis(300));
        tx.send(2).unwrap();
    });
    println!("syscall {}", rx.recv().unwrap());
}

fn a_thread_that_sends_later_is_no_deadlock() {
    let (tx, rx) = chan::bounded::<u8>(0);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        tx.send(3).unwrap();
    });
    println!("thread {}", rx.recv().unwrap());
}

fn a_goroutine_locked_to_its_thread_is_not_judged() {
    let (tx, rx) = chan::bounded::<u8>(0);
    goro::go(move || {
        goro::lock_os_thread();
        let _ = rx.recv();
        drop(tx);
    })
    .join()
    .unwrap();
}

fn a_thread_blocked_outside_goro_is_not_judged() {
    let (tx, rx) = chan::bounded::<u8>(0);
    let (_keep, std_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        // Holds `tx` and waits where goro cannot see.
        let _ = std_rx.recv();
        drop(tx);
    });
    let _ = rx.recv();
}

fn main() {
    if let Ok(name) = std::env::var(CASE) {
        let (_, body, _) = cases()
            .into_iter()
            .find(|(n, _, _)| *n == name)
            .expect("a known case");
        goro::run(body);
        return;
    }
    let mut failed = Vec::new();
    for (name, _, expect) in cases() {
        print!("test {name} ... ");
        match run_case(name, &expect) {
            Ok(()) => println!("ok"),
            Err(e) => {
                println!("FAILED");
                failed.push(format!("---- {name} ----\n{e}"));
            }
        }
    }
    if !failed.is_empty() {
        eprintln!("{}", failed.join("\n"));
        std::process::exit(1);
    }
    println!("\ntest result: ok. {} passed", cases().len());
}

fn run_case(name: &str, expect: &Expect) -> Result<(), String> {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    if matches!(expect, Expect::QuitDefault) {
        cmd.env("GORO_TRACEBACK", "none");
    }
    let mut child = cmd
        .env(CASE, name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    // Generous: a liveness bound, not a timing (Go reports at once; goro within
    // milliseconds of the last goroutine parking).
    let limit = match expect {
        Expect::Silent => Duration::from_millis(1500),
        _ => Duration::from_secs(30),
    };
    let mut out = String::new();
    if matches!(expect, Expect::QuitDump(_) | Expect::QuitDefault) {
        use std::io::BufRead;
        let mut stdout = std::io::BufReader::new(child.stdout.as_mut().unwrap());
        stdout.read_line(&mut out).map_err(|e| e.to_string())?;
        if out != "ready\n" {
            let _ = child.kill();
            return Err(format!("the child said {out:?} instead of ready"));
        }
        out.clear();
        // SAFETY: sending a signal to our own child, by its pid.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGQUIT) };
    }
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > limit {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let describe = || format!("status {status:?}\nstdout:\n{out}\nstderr:\n{err}");
    match (expect, status) {
        (Expect::Deadlock(wants), Some(s)) if s.code() == Some(2) && err.starts_with(HEADER) => {
            match wants.iter().find(|w| !err.contains(*w)) {
                Some(w) => Err(format!("the dump lacks {w:?}\n{}", describe())),
                None => Ok(()),
            }
        }
        (Expect::Finishes(want), Some(s)) if s.success() && out == *want && err.is_empty() => {
            Ok(())
        }
        (Expect::Silent, None) if err.is_empty() => Ok(()),
        (Expect::QuitDump(wants), Some(s))
            if s.code() == Some(2) && err.starts_with("SIGQUIT: quit\n\n") =>
        {
            match wants.iter().find(|w| !err.contains(*w)) {
                Some(w) => Err(format!("the dump lacks {w:?}\n{}", describe())),
                None => Ok(()),
            }
        }
        (Expect::QuitDefault, Some(s)) if s.signal() == Some(libc::SIGQUIT) && err.is_empty() => {
            Ok(())
        }
        _ => Err(describe()),
    }
}
