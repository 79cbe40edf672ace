//! Seeing inside a running program: what every goroutine is doing ([`goroutines`],
//! [`dump`]), in Go's words and layout.
//!
//! A goroutine records, each time it is about to wait, why (a [`WaitReason`]: `chan
//! receive`, `sync.Mutex.Lock`, ...), since when, and where: the file, line and column of the
//! user's call that blocked (every blocking operation of goro is `#[track_caller]`, `select!`
//! included). Where it was created, and by which goroutine, is fixed at spawn. Recording
//! costs three stores on the way to a park and nothing on an operation that completes at
//! once.
//!
//! A goroutine is listed from its first wait on (see `rt/registry.rs` for why): one that has
//! never waited is running or about to run, and is counted in the dump's last line rather
//! than described. The calling goroutine is always listed.
//!
//! ```
//! use goro::diag::{self, GoroutineState, WaitReason};
//!
//! let (tx, rx) = goro::chan::bounded::<u32>(0);
//! let h = goro::Builder::new()
//!     .name("waiter")
//!     .spawn(move || rx.recv())
//!     .unwrap();
//! // Wait until it waits (a test would rather use a channel to know it started).
//! while !diag::goroutines().iter().any(|g| {
//!     g.name.as_deref() == Some("waiter")
//!         && g.state == GoroutineState::Waiting(WaitReason::ChanReceive)
//! }) {
//!     goro::sleep(std::time::Duration::from_millis(1));
//! }
//! let dump = diag::dump();
//! assert!(dump.contains(r#""waiter" [chan receive]"#), "{dump}");
//! tx.send(7).unwrap();
//! assert_eq!(h.join().unwrap(), Ok(7));
//! ```

use std::fmt::Write as _;
use std::panic::Location;
use std::time::Duration;

use crate::go::GoroutineId;
use crate::rt::goroutine::{self, Goroutine};
use crate::rt::registry;

pub use crate::rt::registry::Reason as WaitReason;

/// What a goroutine is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GoroutineState {
    /// It is the goroutine asking ([`goroutines`] was called from it).
    Running,
    /// Running on another thread, or ready to run.
    Runnable,
    /// Parked, for this reason.
    Waiting(WaitReason),
}

/// One goroutine, as [`goroutines`] saw it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GoroutineInfo {
    /// Its id ([`crate::current_id`]).
    pub id: GoroutineId,
    /// Its name ([`crate::Builder::name`]), if it has one.
    pub name: Option<String>,
    /// What it is doing.
    pub state: GoroutineState,
    /// For a waiting goroutine, about how long it has waited (to within the monitor's
    /// period, 20 µs to 10 ms).
    pub waiting_for: Option<Duration>,
    /// For a waiting goroutine, the user's call that blocked.
    pub blocked_at: Option<&'static Location<'static>>,
    /// The call of `go` (or `Builder::spawn`, or a helper that spawns) that created it.
    pub created_at: &'static Location<'static>,
    /// The goroutine that created it, or `None` if a plain thread did.
    pub created_by: Option<GoroutineId>,
}

pub(crate) fn info(
    g: &Goroutine,
    wait: Option<&registry::WaitRecord>,
    me: Option<u64>,
) -> GoroutineInfo {
    let (created_at, parent) = g.created();
    let (state, waiting_for, blocked_at) = if Some(g.id()) == me {
        (GoroutineState::Running, None, None)
    } else if let (true, Some(wait)) = (g.is_parked(), wait) {
        let (reason, since, at) = wait.get();
        let waited = registry::coarse_now().saturating_sub(since);
        (
            GoroutineState::Waiting(reason),
            Some(Duration::from_nanos(waited)),
            at,
        )
    } else {
        (GoroutineState::Runnable, None, None)
    };
    GoroutineInfo {
        id: GoroutineId::from_u64(g.id()),
        name: g.name().map(str::to_owned),
        state,
        waiting_for,
        blocked_at,
        created_at,
        created_by: (parent != 0).then(|| GoroutineId::from_u64(parent)),
    }
}

/// Every goroutine that has waited at least once and not finished, and the caller, by id.
///
/// A goroutine's state is a snapshot: it may have moved on by the time the list is back.
///
/// ```
/// use goro::diag::GoroutineState;
///
/// goro::run(|| {
///     let me = goro::current_id().unwrap();
///     let all = goro::goroutines();
///     let mine = all.iter().find(|g| g.id == me).unwrap();
///     assert_eq!(mine.state, GoroutineState::Running);
///     assert_eq!(mine.name.as_deref(), Some("main"));
/// });
/// ```
pub fn goroutines() -> Vec<GoroutineInfo> {
    registry::tick_coarse();
    let me = goroutine::current();
    let mut all = Vec::new();
    let mut listed_me = false;
    registry::for_each(|g, wait| {
        listed_me |= me.is_some_and(|m| m.id() == g.id());
        all.push(info(g, Some(wait), me.map(Goroutine::id)));
    });
    if let (Some(m), false) = (me, listed_me) {
        all.push(info(m, None, Some(m.id())));
    }
    all.sort_by_key(|g| g.id);
    all
}

/// Every goroutine, in the layout of Go's goroutine dump (what Go prints on `SIGQUIT` or a
/// deadlock), one paragraph each:
///
/// ```text
/// goroutine 17 "worker-3" [chan receive, 2 minutes]:
///     blocked at src/main.rs:42:17
///     created by goroutine 1 at src/main.rs:30:5
/// ```
///
/// The wait's length is shown from one minute on, as Go does. A last line counts the
/// goroutines that have never waited and are not described (module docs).
///
/// ```
/// goro::run(|| {
///     let dump = goro::dump();
///     assert!(dump.contains(r#""main" [running]:"#), "{dump}");
/// });
/// ```
pub fn dump() -> String {
    let all = goroutines();
    let mut out = String::new();
    for g in &all {
        write_one(&mut out, g);
    }
    let unlisted = crate::num_goroutine().saturating_sub(all.len());
    if unlisted > 0 {
        let _ = writeln!(
            out,
            "{unlisted} more goroutine{} running or runnable, never waited",
            if unlisted == 1 { "" } else { "s" }
        );
    }
    out
}

pub(crate) fn write_one(out: &mut String, g: &GoroutineInfo) {
    let _ = write!(out, "goroutine {}", g.id);
    if let Some(name) = &g.name {
        let _ = write!(out, " {name:?}");
    }
    let state = match g.state {
        GoroutineState::Running => "running".to_string(),
        GoroutineState::Runnable => "runnable".to_string(),
        GoroutineState::Waiting(r) => {
            let minutes = g.waiting_for.map_or(0, |d| d.as_secs() / 60);
            match minutes {
                0 => r.as_str().to_string(),
                1 => format!("{}, 1 minute", r.as_str()),
                m => format!("{}, {m} minutes", r.as_str()),
            }
        }
    };
    let _ = writeln!(out, " [{state}]:");
    if let Some(at) = g.blocked_at {
        let _ = writeln!(out, "    blocked at {at}");
    }
    match g.created_by {
        Some(p) => {
            let _ = writeln!(out, "    created by goroutine {p} at {}", g.created_at);
        }
        None => {
            let _ = writeln!(out, "    created by a thread at {}", g.created_at);
        }
    }
    out.push('\n');
}
