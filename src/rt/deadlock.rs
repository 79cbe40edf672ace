//! Deadlock detection: when no goroutine can ever run again, say so and exit, as Go's
//! `checkdead` does (`fatal error: all goroutines are asleep - deadlock!`, the goroutine
//! dump, exit status 2).
//!
//! # When goro says "deadlock"
//!
//! Never wrongly: a program that could still make progress must run undisturbed, so every
//! way a goroutine could be woken again must be ruled out, and where goro cannot see one it
//! stays silent. The monitor looks when every worker sleeps (it would sleep itself then,
//! `monitor::sleep_while_idle`), and again whenever a plain thread starts to wait in goro
//! while that is so (`thread_blocked`). The program is deadlocked when, all at one instant:
//!
//! 1. every worker sleeps, and none wakes while the monitor looks (a worker wakes for any
//!    goroutine made runnable and any timer that fires, and wakes the monitor: its `asleep`
//!    flag, set before the look, is cleared);
//! 2. every live goroutine is parked (the registry lists every goroutine that ever waited,
//!    `rt::registry`, and their number must be `num_goroutine`: one that never waited is
//!    runnable, or running, a system call included), and none is locked to a thread
//!    (`lock_os_thread`, often around C code that calls back: goro cannot see that);
//! 3. no timer is pending (a sleep, a timed wait, an `after` or `tick` channel will wake
//!    someone, as in Go);
//! 4. every thread of the process is either one of the runtime's (workers, spares, the
//!    monitor, the `SIGQUIT` thread, all idle by 1 and 2) or a plain thread blocked in an untimed goro wait with no
//!    wake-up on its way (`park::PlainThread`). Any other thread, whatever it does (it may
//!    hold a `Sender`, wait on a socket, run a tokio runtime), could still wake a goroutine.
//!
//! The looks are made in the order 4, 2, 3, 4 again, between two readings of the count that
//! moves whenever a blocked plain thread stops being blocked, and inside the monitor's
//! `asleep` window. Why that is enough: between the two readings no plain thread ran (it
//! would have stopped counting first); between setting `asleep` and checking it afterwards
//! no worker ran, so no goroutine ran on one and no timer fired; and a goroutine running on
//! a thread without a worker would not be parked at look 2. So at look 2 nothing could run,
//! nothing could wake anything, and no timer was pending (look 3, later, sees at least the
//! timers pending at look 2, since none fired in between): nothing ever will. The monitor
//! waits a moment and looks once more before it reports, which costs nothing and guards
//! against a mistake in this argument.
//!
//! The threads are counted from `/proc/self/stat`; where that cannot be read, goro stays
//! silent.

use super::goroutine::{self, Goroutine};
use super::{park, registry, Runtime};

/// A plain thread is about to block in goro: if every worker sleeps, the monitor sleeps too,
/// and this thread may have been the last thing that could wake a goroutine: have it look.
pub(crate) fn thread_blocked() {
    if let Some(rt) = super::try_get() {
        rt.monitor.wake();
    }
}

/// Whether the program is deadlocked (module docs); called by the monitor with its `asleep`
/// flag set, after it saw every worker asleep. The caller checks `asleep` again afterwards.
pub(crate) fn deadlocked(rt: &Runtime) -> bool {
    let activity = park::plain_activity();
    // 4: the cheap looks first, so that an idle program that is not deadlocked (a server
    // waiting on a socket, a program waiting on a timer) costs a read of `/proc` and no
    // walk of its goroutines.
    if rt.timers.any_live() || !threads_accounted(rt) {
        return false;
    }
    // A goroutine waiting on a socket waits for the network, which may always come.
    #[cfg(feature = "net")]
    if super::netpoll::has_waiters() {
        return false;
    }
    if !rt.injector.is_empty() || rt.workers.iter().any(|w| w.has_work()) {
        return false;
    }
    // 2.
    let mut parked = 0usize;
    let mut stuck = true;
    registry::for_each(|g: &Goroutine, _| {
        if g.is_parked() && g.pinned_thread().is_none() {
            parked += 1;
        } else {
            stuck = false;
        }
    });
    if !stuck || parked != goroutine::live() {
        return false;
    }
    // 3 and 4 again.
    !rt.timers.any_live() && threads_accounted(rt) && park::plain_activity() == activity
}

/// Whether every thread of the process is a runtime thread or a plain thread blocked in
/// goro (module docs, 4).
fn threads_accounted(rt: &Runtime) -> bool {
    let Some(all) = process_threads() else {
        return false;
    };
    let blocked = park::plain_blocked();
    // The monitor and the `SIGQUIT` thread are not among the registered threads.
    let helpers = 1 + usize::from(super::sigquit::thread_running());
    all == rt.threads.registered() + helpers + blocked
}

/// The number of threads of the process, from `/proc/self/stat` (its 20th field).
fn process_threads() -> Option<usize> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name, in parentheses, may contain anything: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(17)?.parse().ok()
}

/// Reports the deadlock as Go does, and ends the process with status 2.
pub(crate) fn report() -> ! {
    let dump = crate::diag::dump();
    eprint!("fatal error: all goroutines are asleep - deadlock!\n\n{dump}");
    std::process::exit(2);
}
