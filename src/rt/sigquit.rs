//! `SIGQUIT` (Ctrl-\ in a terminal): write the goroutine dump to stderr and exit with status
//! 2, as Go does.
//!
//! A signal handler may only do what is async-signal-safe: no allocation, no lock. So the
//! handler writes one byte to a pipe, and a thread of the runtime (`goro-sigquit`), blocked
//! reading the other end, writes the dump and ends the process. The thread is started with
//! the runtime, unless `GORO_TRACEBACK=none` or `RuntimeBuilder::dump_on_sigquit(false)`
//! says not to, and then no handler is installed either.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The pipe's write end, for the handler; -1 until installed. Relaxed: the handler is
/// installed after the store (`sigaction` is a system call, which orders them).
static PIPE: AtomicI32 = AtomicI32::new(-1);
/// Whether the `goro-sigquit` thread runs (the deadlock detector counts it among the
/// runtime's threads). Relaxed: set once, before the runtime runs any goroutine.
static RUNNING: AtomicBool = AtomicBool::new(false);
/// The process that installed the handler. A child made by `fork` inherits the handler but
/// not the thread: there the signal gets its default action back. Relaxed: as `PIPE`.
static PID: AtomicI32 = AtomicI32::new(0);

/// Whether the `goro-sigquit` thread runs.
pub(crate) fn thread_running() -> bool {
    RUNNING.load(Ordering::Relaxed)
}

extern "C" fn on_sigquit(_: libc::c_int) {
    // SAFETY: `getpid`, `signal` and `raise` are async-signal-safe.
    unsafe {
        if libc::getpid() != PID.load(Ordering::Relaxed) {
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            libc::raise(libc::SIGQUIT);
            return;
        }
    }
    let fd = PIPE.load(Ordering::Relaxed);
    let byte = 1u8;
    // SAFETY: `write` is async-signal-safe; the buffer is a live local byte. A failed write
    // (a full pipe: a dump is on its way already) is of no consequence.
    unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
}

/// Starts the thread and installs the handler. On any failure it gives up quietly: the
/// signal keeps its default action (the process ends, without a dump).
pub(crate) fn install() {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    let [read_end, write_end] = fds;
    let started = std::thread::Builder::new()
        .name("goro-sigquit".to_string())
        .spawn(move || wait_for_sigquit(read_end));
    if started.is_err() {
        return;
    }
    RUNNING.store(true, Ordering::Relaxed);
    PIPE.store(write_end, Ordering::Relaxed);
    // SAFETY: `getpid` has no preconditions.
    PID.store(unsafe { libc::getpid() }, Ordering::Relaxed);
    // SAFETY: a zeroed `sigaction` is a valid value to fill in; the handler is an
    // `extern "C" fn(c_int)` that does only async-signal-safe things (`on_sigquit`).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigquit as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGQUIT, &action, std::ptr::null_mut());
    }
}

/// Body of `goro-sigquit`: waits for the handler's byte, then dumps and exits.
fn wait_for_sigquit(fd: libc::c_int) {
    loop {
        let mut byte = 0u8;
        // SAFETY: reading one byte into a live local.
        let n = unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) };
        if n == 1 {
            let dump = crate::diag::dump();
            eprint!("SIGQUIT: quit\n\n{dump}");
            std::process::exit(2);
        }
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return;
    }
}
