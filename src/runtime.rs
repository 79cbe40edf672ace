//! Go's `runtime` package: running `main` as a goroutine ([`run`]), yielding, counting
//! goroutines and workers, locking a goroutine to its thread, and the runtime's settings
//! ([`RuntimeBuilder`]).

use std::fmt;
use std::panic;

use crate::go::Builder;
use crate::rt::config::{self, Config, Source};
use crate::rt::goroutine::{self, stack::DEFAULT_STACK_SIZE};
use crate::rt::{self, park};

/// Runs `f` as a goroutine and blocks the calling thread until it returns, as Go runs `main`.
///
/// A panic in `f` is resumed on the calling thread. Called from a goroutine, it runs `f` in a
/// new goroutine and parks the caller until it finishes.
///
/// `#[goro::main]` on `fn main` is a shorthand for this call.
///
/// # Examples
///
/// ```
/// let sum = goro::run(|| {
///     let hs: Vec<_> = (1..=10).map(|i| goro::go(move || i)).collect();
///     hs.into_iter().map(|h| h.join().unwrap()).sum::<i32>()
/// });
/// assert_eq!(sum, 55);
/// ```
#[track_caller]
pub fn run<F, T>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Builder::new().name("main").spawn(f) {
        Ok(h) => match h.join() {
            Ok(v) => v,
            Err(e) => panic::resume_unwind(e.into_panic()),
        },
        Err(e) => panic!("goro::run: cannot spawn the main goroutine: {e}"),
    }
}

/// Yields the processor, letting other goroutines run; the caller stays runnable.
///
/// Go: `runtime.Gosched()`. On a plain thread it is `std::thread::yield_now`.
///
/// ```
/// let (tx, rx) = goro::chan::unbounded();
/// let h = goro::go(move || {
///     for i in 0..3 {
///         tx.send(i).unwrap();
///         goro::yield_now(); // let the others run; this one stays runnable
///     }
/// });
/// h.join().unwrap();
/// assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
/// ```
pub fn yield_now() {
    match goroutine::current() {
        Some(g) => park::yield_goroutine(g),
        None => std::thread::yield_now(),
    }
}

/// The number of goroutines that exist now (spawned and not yet finished).
///
/// Go: `runtime.NumGoroutine()`. A goroutine stops counting before its `join` returns.
///
/// ```
/// let (tx, rx) = goro::chan::bounded::<()>(0);
/// let before = goro::num_goroutine();
/// let h = goro::go(move || rx.recv());
/// assert_eq!(goro::num_goroutine(), before + 1);
/// drop(tx); // closes the channel: the goroutine's recv fails and it ends
/// h.join().unwrap().unwrap_err();
/// assert_eq!(goro::num_goroutine(), before);
/// ```
pub fn num_goroutine() -> usize {
    goroutine::live()
}

/// The number of worker threads that run goroutines.
///
/// Go: `runtime.GOMAXPROCS(0)`. Set by `GORO_MAXPROCS` or
/// [`RuntimeBuilder::maxprocs`](crate::RuntimeBuilder::maxprocs) before the runtime starts;
/// defaults to the available parallelism.
///
/// ```
/// // `GORO_MAXPROCS`, else the available parallelism.
/// let n = goro::maxprocs();
/// assert!(n >= 1);
/// ```
pub fn maxprocs() -> usize {
    rt::get().maxprocs()
}

/// Whether the caller is running as a goroutine (rather than on a plain thread).
///
/// ```
/// assert!(!goro::in_goroutine()); // a plain thread
/// assert!(goro::go(goro::in_goroutine).join().unwrap());
/// ```
pub fn in_goroutine() -> bool {
    goroutine::current().is_some()
}

/// Wires the calling goroutine to the worker thread it runs on, until a matching
/// [`unlock_os_thread`].
///
/// Go: `runtime.LockOSThread()`. While locked, the goroutine resumes on the same thread after
/// every park, so `thread_local!` values and thread-bound state (`!Send` handles of C
/// libraries, thread identity) stay valid across parks. Calls nest. Other goroutines keep
/// running on the thread whenever the locked one is parked. On a plain thread this does
/// nothing.
///
/// ```
/// goro::run(|| {
///     goro::lock_os_thread();
///     let before = std::thread::current().id();
///     goro::sleep(std::time::Duration::from_millis(1));
///     assert_eq!(std::thread::current().id(), before);
///     goro::unlock_os_thread();
/// });
/// ```
pub fn lock_os_thread() {
    rt::lock_current()
}

/// Undoes one [`lock_os_thread`]; after the last one, the goroutine may move again.
///
/// Go: `runtime.UnlockOSThread()`. Does nothing if the goroutine is not locked.
///
/// ```
/// use std::time::Duration;
///
/// goro::run(|| {
///     let me = std::thread::current().id();
///     goro::lock_os_thread();
///     goro::lock_os_thread(); // calls nest
///     goro::unlock_os_thread(); // still locked once
///     goro::sleep(Duration::from_millis(1));
///     assert_eq!(std::thread::current().id(), me);
///     goro::unlock_os_thread(); // free to move again
/// });
/// ```
pub fn unlock_os_thread() {
    rt::unlock_current()
}

/// Runs `f`, a call that blocks its thread for a while (a system call, a C library call, a
/// `std` lock or file operation), and lets the other goroutines run meanwhile.
///
/// tokio's name for Go's `entersyscallblock`. Called from a goroutine when other goroutines
/// are waiting for a worker, it hands the goroutine's worker (its run queue and timers) to
/// another thread before `f` starts, so they go on running at once; the goroutine runs `f` on
/// its own thread, then gets back in line for a worker. When nobody waits, it only marks the
/// worker as blocked, which costs two stores. On a plain thread it just calls `f`.
///
/// It is never needed for correctness: the runtime's monitor notices a goroutine that
/// blocks its thread or computes for long, and moves the other goroutines to another thread
/// anyway, after a short delay (tens of microseconds while the program is busy, up to
/// 20 ms after a calm stretch; see the crate docs). `block_in_place` saves that delay, so it
/// is worth using around calls known to block for long while other goroutines have work:
/// file I/O in a loop, a DNS lookup, a database driver's blocking call. Around short calls,
/// or in a program with nothing else to run, it gains nothing. goro's own blocking
/// operations (channels, `goro::sync`, `goro::sleep`, `join`) park the goroutine instead of
/// blocking the thread, and need no such hint.
///
/// A panic in `f` propagates to the caller.
///
/// ```
/// use std::time::Duration;
///
/// goro::run(|| {
///     let ticker = goro::go(|| (0..10).map(|_| goro::sleep(Duration::from_millis(1))).count());
///     // A plain blocking call: the ticker keeps running while it sleeps.
///     let n = goro::block_in_place(|| {
///         std::thread::sleep(Duration::from_millis(20));
///         42
///     });
///     assert_eq!(n, 42);
///     assert_eq!(ticker.join().unwrap(), 10);
/// });
/// ```
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    /// Ends the blocking section even when `f` unwinds.
    struct End(Option<rt::Blocking>);
    impl Drop for End {
        fn drop(&mut self) {
            if let Some(how) = self.0.take() {
                rt::end_blocking(how);
            }
        }
    }
    let _end = End(Some(rt::begin_blocking()));
    f()
}

/// Configures the runtime before its first use.
///
/// The runtime starts lazily on the first goroutine-related call, configured from the
/// environment (`GORO_MAXPROCS`). To choose settings in code instead, call
/// [`RuntimeBuilder::init`] before anything else touches the runtime.
///
/// ```
/// // In a program's `main`, before spawning anything:
/// match goro::RuntimeBuilder::new().maxprocs(2).init() {
///     Ok(()) => assert_eq!(goro::maxprocs(), 2),
///     Err(e) => eprintln!("{e}"), // already running (e.g. in a test binary)
/// }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a RuntimeBuilder does nothing until `init` is called"]
pub struct RuntimeBuilder {
    maxprocs: Option<usize>,
    stack_size: Option<usize>,
    max_threads: Option<usize>,
    dump_on_sigquit: Option<bool>,
}

impl RuntimeBuilder {
    /// Settings from the environment and the defaults.
    ///
    /// ```
    /// // The defaults, or `GORO_MAXPROCS` and `GORO_MAXTHREADS` if they are set.
    /// goro::RuntimeBuilder::new().init().unwrap();
    /// assert!(goro::maxprocs() >= 1);
    /// ```
    pub fn new() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// Number of worker threads (Go's `GOMAXPROCS`). Overrides `GORO_MAXPROCS`.
    ///
    /// ```
    /// goro::RuntimeBuilder::new().maxprocs(3).init().unwrap();
    /// assert_eq!(goro::maxprocs(), 3);
    /// ```
    pub fn maxprocs(mut self, n: usize) -> RuntimeBuilder {
        self.maxprocs = Some(n);
        self
    }

    /// Usable size of the pooled goroutine stacks (default 256 KiB, minimum 16 KiB).
    ///
    /// ```
    /// goro::RuntimeBuilder::new().stack_size(64 * 1024).init().unwrap();
    /// assert_eq!(goro::go(|| [7u8; 16 * 1024][0]).join().unwrap(), 7);
    /// ```
    pub fn stack_size(mut self, size: usize) -> RuntimeBuilder {
        self.stack_size = Some(size);
        self
    }

    /// The most threads the runtime may start (Go's `debug.SetMaxThreads`; default 10,000).
    /// Overrides `GORO_MAXTHREADS`.
    ///
    /// A goroutine blocked in a system call holds a thread, and the runtime starts another
    /// to keep the others running (see [`block_in_place`]), so a program with thousands of
    /// goroutines blocked at once has thousands of threads, as in Go. Past the cap the
    /// process ends with `fatal error: thread exhaustion` and exit status 2, as Go's does.
    /// It must be at least the worker count.
    ///
    /// ```
    /// use goro::{InitError, RuntimeBuilder};
    ///
    /// let too_few = RuntimeBuilder::new().maxprocs(4).max_threads(2).init();
    /// assert!(matches!(too_few, Err(InitError::Invalid(_))));
    /// RuntimeBuilder::new().maxprocs(4).max_threads(64).init().unwrap();
    /// ```
    pub fn max_threads(mut self, n: usize) -> RuntimeBuilder {
        self.max_threads = Some(n);
        self
    }

    /// Whether `SIGQUIT` (Ctrl-\\ in a terminal) writes the goroutine dump
    /// ([`crate::dump`]) to stderr and ends the process with status 2, as Go does (default:
    /// on, unless `GORO_TRACEBACK=none`). Off, goro installs no handler, and the signal
    /// keeps whatever action the program gave it (by default, the process ends).
    ///
    /// ```
    /// // Leave SIGQUIT to the program (or to its default action).
    /// goro::RuntimeBuilder::new().dump_on_sigquit(false).init().unwrap();
    /// assert_eq!(goro::go(|| 1).join().unwrap(), 1);
    /// ```
    pub fn dump_on_sigquit(mut self, on: bool) -> RuntimeBuilder {
        self.dump_on_sigquit = Some(on);
        self
    }

    /// Starts the runtime with these settings.
    ///
    /// # Errors
    ///
    /// [`InitError::AlreadyStarted`] if the runtime is already running, and
    /// [`InitError::Invalid`] for a zero or absurd worker count (given here or in
    /// `GORO_MAXPROCS`), a thread cap of zero or below the worker count (here or in
    /// `GORO_MAXTHREADS`), or a bad stack size.
    ///
    /// ```
    /// use goro::{InitError, RuntimeBuilder};
    ///
    /// assert!(matches!(RuntimeBuilder::new().maxprocs(0).init(), Err(InitError::Invalid(_))));
    /// RuntimeBuilder::new().maxprocs(2).init().unwrap();
    /// assert_eq!(goro::maxprocs(), 2);
    /// // Settings apply only before the runtime's first use.
    /// assert_eq!(RuntimeBuilder::new().init(), Err(InitError::AlreadyStarted));
    /// ```
    pub fn init(self) -> Result<(), InitError> {
        let invalid = |e: config::ConfigError| InitError::Invalid(e.to_string());
        let mut config = match self.maxprocs {
            Some(n) => Config {
                maxprocs: config::check_maxprocs(n, Source::Builder).map_err(invalid)?,
                stack_size: DEFAULT_STACK_SIZE,
                max_threads: config::max_threads_from_env().map_err(invalid)?,
                sigquit: config::sigquit_from_env(),
            },
            None => Config::try_from_env().map_err(invalid)?,
        };
        match self.max_threads {
            Some(0) => {
                return Err(invalid(config::ConfigError::ZeroProcs(
                    Source::ThreadsBuilder,
                )))
            }
            Some(n) => {
                config.max_threads = n;
                config
                    .check_threads(Source::ThreadsBuilder)
                    .map_err(invalid)?;
            }
            None => config.check_threads(Source::ThreadsEnv).map_err(invalid)?,
        }
        if let Some(size) = self.stack_size {
            config.stack_size = config::check_stack_size(size).map_err(invalid)?;
        }
        if let Some(on) = self.dump_on_sigquit {
            config.sigquit = on;
        }
        match rt::init(config) {
            (_, true) => Ok(()),
            (_, false) => Err(InitError::AlreadyStarted),
        }
    }
}

/// Why [`RuntimeBuilder::init`] failed.
///
/// ```
/// use goro::{InitError, RuntimeBuilder};
///
/// goro::go(|| ()).join().unwrap(); // the first use starts the runtime
/// match RuntimeBuilder::new().maxprocs(2).init() {
///     Err(InitError::AlreadyStarted) => {} // keep the settings it has
///     other => panic!("unexpected: {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitError {
    /// The runtime was already running; settings apply only before its first use.
    AlreadyStarted,
    /// A setting is out of range; the message names it.
    Invalid(String),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::AlreadyStarted => {
                f.write_str("goro: the runtime is already running; configure it before first use")
            }
            InitError::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for InitError {}
