//! A leak check for tests, in the spirit of Go's `goleak`: a [`Guard`] taken at the start
//! of a test fails it with the dump of every goroutine the test started that is still alive
//! at its end.
//!
//! ```
//! goro::run(|| {
//!     let guard = goro::leak::guard();
//!     let (tx, rx) = goro::chan::bounded::<u32>(0);
//!     let h = goro::go(move || rx.recv());
//!     tx.send(1).unwrap();
//!     h.join().unwrap().unwrap();
//!     guard.check().unwrap(); // (dropping the guard checks too, and panics on a leak)
//! });
//! ```
//!
//! A goroutine belongs to the *scope* of the goroutine (or thread) that created it: taking a
//! guard opens a new scope for the calling goroutine or thread, which everything it starts
//! from then on, and everything those start, inherits. So tests that run in parallel in one
//! process (the test harness runs each on a thread of its own) do not see each other's
//! goroutines. The check waits up to a grace period ([`Guard::check_within`], one second by
//! default) for goroutines on their way out, then reports those still alive: the waiting
//! ones (a leak is almost always a goroutine waiting forever, on a channel nobody will use
//! again, a lock, a `WaitGroup`) with their dump, and how many others (computing forever,
//! never having waited), which the dump does not describe.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::diag::{self, GoroutineInfo};
use crate::rt::{goroutine, registry};

/// The last scope handed out; 0 is the scope of everything started outside any guard.
/// Relaxed: a counter.
static NEXT_SCOPE: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The scope of the goroutines a plain thread starts.
    static THREAD_SCOPE: Cell<u64> = const { Cell::new(0) };
}

/// The scope of the goroutines the calling plain thread starts (`rt::spawn`).
pub(crate) fn thread_scope() -> u64 {
    // 0 once the thread's locals are gone (a goroutine spawned from a destructor).
    THREAD_SCOPE.try_with(Cell::get).unwrap_or(0)
}

/// Live goroutines per open scope (scope 0, everything outside any guard, is not counted:
/// a program that takes no guard pays one test of the scope per spawn and per exit).
static LIVE: Mutex<BTreeMap<u64, usize>> = Mutex::new(BTreeMap::new());

fn live() -> std::sync::MutexGuard<'static, BTreeMap<u64, usize>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A goroutine of `scope` was spawned (`rt::spawn`).
pub(crate) fn started(scope: u64) {
    *live().entry(scope).or_insert(0) += 1;
}

/// A goroutine of `scope` is finishing (`goroutine::task`).
pub(crate) fn finished(scope: u64) {
    let mut live = live();
    if let Some(n) = live.get_mut(&scope) {
        *n -= 1;
        if *n == 0 {
            live.remove(&scope);
        }
    }
}

/// How many goroutines of `scope` are alive.
fn alive_in(scope: u64) -> usize {
    live().get(&scope).copied().unwrap_or(0)
}

/// How long [`Guard::check`] waits for goroutines on their way out.
const GRACE: Duration = Duration::from_secs(1);

/// Opens a leak-check scope for the calling goroutine or thread (module docs); see
/// [`Guard`].
///
/// ```
/// let guard = goro::leak::guard();
/// let h = goro::go(|| 1); // started in the guard's scope
/// assert_eq!(h.join().unwrap(), 1);
/// guard.check().unwrap();
/// ```
#[must_use = "the check happens when the guard is checked or dropped"]
pub fn guard() -> Guard {
    let scope = NEXT_SCOPE.fetch_add(1, Ordering::Relaxed) + 1;
    let (owner, previous) = match goroutine::current() {
        Some(g) => (Some(g.id()), g.set_child_scope(scope)),
        None => (None, THREAD_SCOPE.with(|s| s.replace(scope))),
    };
    Guard {
        scope,
        previous,
        owner,
        checked: false,
    }
}

/// A leak-check scope (module docs): [`Guard::check`] reports the goroutines started in it
/// that are still alive; dropping an unchecked guard checks and panics on a leak (unless
/// the thread is panicking already).
///
/// A guard belongs to the goroutine or thread that took it, and must be dropped there.
pub struct Guard {
    scope: u64,
    previous: u64,
    owner: Option<u64>,
    checked: bool,
}

impl Guard {
    /// Waits up to a second for the goroutines started in this scope to finish; returns
    /// those still alive, if any.
    ///
    /// # Errors
    ///
    /// [`Leaked`], listing the goroutines still alive, with the dump of each.
    ///
    /// ```
    /// let guard = goro::leak::guard();
    /// let (tx, rx) = goro::chan::bounded::<()>(0);
    /// goro::go(move || rx.recv()); // ends once `tx` drops
    /// drop(tx);
    /// guard.check().unwrap(); // waits for it to finish
    /// ```
    pub fn check(self) -> Result<(), Leaked> {
        self.check_within(GRACE)
    }

    /// [`Guard::check`] with another grace period.
    ///
    /// # Errors
    ///
    /// As [`Guard::check`].
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let guard = goro::leak::guard();
    /// let (tx, rx) = goro::chan::bounded::<()>(0);
    /// goro::go(move || rx.recv()); // waits for `tx` forever
    /// let leaked = guard.check_within(Duration::from_millis(10)).unwrap_err();
    /// assert_eq!(leaked.goroutines.len() + leaked.not_waiting, 1);
    /// drop(tx); // let it go
    /// ```
    pub fn check_within(mut self, grace: Duration) -> Result<(), Leaked> {
        self.checked = true;
        self.close();
        self.run_check(grace)
    }

    /// Gives the caller its previous scope back.
    fn close(&self) {
        match (self.owner, goroutine::current()) {
            (Some(id), Some(g)) if g.id() == id => {
                g.set_child_scope(self.previous);
            }
            (None, None) => THREAD_SCOPE.with(|s| s.set(self.previous)),
            _ => panic!("goro::leak::Guard dropped by another goroutine or thread than took it"),
        }
    }

    fn run_check(&self, grace: Duration) -> Result<(), Leaked> {
        let deadline = Instant::now() + grace;
        let mut pause = Duration::from_micros(100);
        loop {
            let count = alive_in(self.scope);
            if count == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let goroutines = self.alive();
                let not_waiting = count.saturating_sub(goroutines.len());
                return Err(Leaked {
                    goroutines,
                    not_waiting,
                });
            }
            crate::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// The listed goroutines of this scope.
    fn alive(&self) -> Vec<GoroutineInfo> {
        registry::tick_coarse();
        let me = goroutine::current().map(|g| g.id());
        let mut alive = Vec::new();
        registry::for_each(|g, wait| {
            if g.scope() == self.scope {
                alive.push(diag::info(g, Some(wait), me));
            }
        });
        alive.sort_by_key(|g| g.id);
        alive
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.checked {
            return;
        }
        self.close();
        if std::thread::panicking() {
            return;
        }
        if let Err(leaked) = self.run_check(GRACE) {
            panic!("{leaked}");
        }
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").field("scope", &self.scope).finish()
    }
}

/// Goroutines a test left behind ([`Guard::check`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Leaked {
    /// The goroutines still alive that wait (all of a usual leak), by id.
    pub goroutines: Vec<GoroutineInfo>,
    /// How many more are alive but have never waited (running or runnable: computing
    /// forever, or not started yet); the dump does not describe those.
    pub not_waiting: usize,
}

impl fmt::Display for Leaked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.goroutines.len() + self.not_waiting;
        writeln!(
            f,
            "goro: {n} goroutine{} leaked (still alive at the end of the check):\n",
            if n == 1 { "" } else { "s" }
        )?;
        let mut out = String::new();
        for g in &self.goroutines {
            diag::write_one(&mut out, g);
        }
        if self.not_waiting > 0 {
            out.push_str(&format!(
                "{} more running or runnable, never waited\n",
                self.not_waiting
            ));
        }
        f.write_str(out.trim_end())
    }
}

impl std::error::Error for Leaked {}
