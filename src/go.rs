//! Goroutines: `go`, `Builder`, `JoinHandle`, and the calls about the current goroutine.

use std::any::Any;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::panic;
use std::time::Duration;

use crate::goroutine::{self, GRef};
use crate::park;
use crate::rt;

/// Starts `f` in a new goroutine and returns a handle to join it.
///
/// Go: `go f()`. The call never blocks: the goroutine is queued on the runtime's workers
/// (started on first use) and runs concurrently with the caller. Works from goroutines and
/// from plain threads alike.
///
/// # Panics
///
/// If the stack for the goroutine cannot be mapped (see [`Builder::spawn`] for the fallible
/// form).
///
/// # Examples
///
/// ```
/// let h = goro::go(|| 6 * 7);
/// assert_eq!(h.join().unwrap(), 42);
/// ```
pub fn go<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new()
        .spawn(f)
        .unwrap_or_else(|e| panic!("goro::go: cannot spawn a goroutine: {e}"))
}

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

/// Configures a goroutine before spawning it: its name and stack size.
///
/// Go has no equivalent; this mirrors `std::thread::Builder`.
///
/// ```
/// let h = goro::Builder::new()
///     .name("worker-1")
///     .stack_size(1 << 20)
///     .spawn(|| "done")
///     .unwrap();
/// assert_eq!(h.name(), Some("worker-1"));
/// assert_eq!(h.join().unwrap(), "done");
/// ```
#[derive(Debug, Default)]
#[must_use = "a Builder does nothing until `spawn` is called"]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with the defaults: no name, the runtime's default stack size (256 KiB).
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the goroutine. The name appears in panic and stack overflow reports.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Sets the usable stack size in bytes (at least 16 KiB; rounded up to whole pages).
    /// Sizes up to the runtime's default use a pooled stack of the default size; larger ones
    /// get a stack of their own.
    pub fn stack_size(mut self, size: usize) -> Builder {
        self.stack_size = Some(size);
        self
    }

    /// Spawns the goroutine.
    ///
    /// # Errors
    ///
    /// - `InvalidInput` if the stack size is below the minimum (16 KiB) or absurdly large;
    /// - the OS error if the stack memory or its guard page cannot be mapped (for instance
    ///   when the process runs out of memory mappings on a kernel without
    ///   `MADV_GUARD_INSTALL`).
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let stack_size = self.stack_size.map(rt::check_stack_size).transpose()?;
        let g = rt::spawn(self.name.map(String::into_boxed_str), stack_size, f)?;
        Ok(JoinHandle {
            g,
            _marker: PhantomData,
        })
    }
}

/// A goroutine's identifier, unique for the life of the process.
///
/// Go deliberately hides goroutine ids; goro shows them in panic reports and here, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoroutineId(u64);

impl GoroutineId {
    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for GoroutineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of the calling goroutine, or `None` on a plain thread.
pub fn current_id() -> Option<GoroutineId> {
    goroutine::current().map(|g| GoroutineId(g.id()))
}

/// An owned permission to join a goroutine (wait for it and take its result).
///
/// Dropping the handle detaches the goroutine: it keeps running, and a panic in it is still
/// reported on stderr.
pub struct JoinHandle<T> {
    g: GRef,
    /// The goroutine's block holds a `T` result; `fn() -> T` keeps the handle `Send + Sync`
    /// whatever `T` (as `std::thread::JoinHandle`), since only `join` moves a `T` out.
    _marker: PhantomData<fn() -> T>,
}

impl<T> JoinHandle<T> {
    /// Waits for the goroutine to finish and returns its result, or the panic that ended it.
    ///
    /// From a goroutine this parks only the caller; from a plain thread it blocks the thread.
    pub fn join(self) -> Result<T, JoinError> {
        self.g.wait_done();
        let mut out: Option<std::thread::Result<T>> = None;
        // SAFETY: the goroutine has completed (`wait_done`), its block was made for this `T`
        // by `Builder::spawn`, `out` is an `Option<thread::Result<T>>`, and `join` consumes
        // the only handle, so this is the one joiner.
        unsafe {
            (self.g.vtable.take_output)(self.g.as_nonnull(), (&mut out as *mut Option<_>).cast())
        };
        match out.expect("goroutine result taken once") {
            Ok(v) => Ok(v),
            Err(payload) => Err(JoinError {
                payload,
                id: self.id(),
                name: self.name().map(str::to_owned),
            }),
        }
    }

    /// Whether the goroutine has finished (its result is ready; `join` will not wait).
    pub fn is_finished(&self) -> bool {
        self.g.is_done()
    }

    /// The goroutine's id.
    pub fn id(&self) -> GoroutineId {
        GoroutineId(self.g.id())
    }

    /// The goroutine's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.g.name()
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// A goroutine ended by a panic; holds the panic's payload.
pub struct JoinError {
    payload: Box<dyn Any + Send + 'static>,
    id: GoroutineId,
    name: Option<String>,
}

impl JoinError {
    /// The panic payload, for `std::panic::resume_unwind` or inspection.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }

    /// The panic message, if the payload is a string (as with `panic!("...")`).
    pub fn panic_message(&self) -> Option<&str> {
        payload_str(&*self.payload)
    }

    /// The id of the goroutine that panicked.
    pub fn id(&self) -> GoroutineId {
        self.id
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinError")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("message", &self.panic_message())
            .finish()
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "goroutine {}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " ({name})")?;
        }
        match self.panic_message() {
            Some(msg) => write!(f, " panicked: {msg}"),
            None => write!(f, " panicked"),
        }
    }
}

impl std::error::Error for JoinError {}

// SAFETY: no method gives shared access to the payload as `dyn Any`: `&self` methods only
// read it as a `&str` or `&String` (both `Sync`) through `downcast_ref`, and `into_panic`
// takes `self`. So sharing a `JoinError` between threads shares nothing that is not `Sync`
// (as `std::sync::Exclusive` reasons), and it can go into `Box<dyn Error + Send + Sync>`.
unsafe impl Sync for JoinError {}

fn payload_str(p: &(dyn Any + Send)) -> Option<&str> {
    p.downcast_ref::<&'static str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
}

/// Yields the processor, letting other goroutines run; the caller stays runnable.
///
/// Go: `runtime.Gosched()`. On a plain thread it is `std::thread::yield_now`.
pub fn yield_now() {
    match goroutine::current() {
        Some(g) => park::yield_goroutine(g),
        None => std::thread::yield_now(),
    }
}

/// Pauses the current goroutine for at least `d`, without blocking its worker thread.
///
/// Go: `time.Sleep(d)`. On a plain thread it is `std::thread::sleep`. A zero duration returns
/// at once. Same as [`time::sleep`](crate::time::sleep).
pub fn sleep(d: Duration) {
    rt::sleep(d)
}

/// The number of goroutines that exist now (spawned and not yet finished).
///
/// Go: `runtime.NumGoroutine()`. A goroutine stops counting before its `join` returns.
pub fn num_goroutine() -> usize {
    rt::get().live()
}

/// The number of worker threads that run goroutines.
///
/// Go: `runtime.GOMAXPROCS(0)`. Set by `GORO_MAXPROCS` or
/// [`RuntimeBuilder::maxprocs`](crate::RuntimeBuilder::maxprocs) before the runtime starts;
/// defaults to the available parallelism.
pub fn maxprocs() -> usize {
    rt::get().maxprocs()
}

/// Whether the caller is running as a goroutine (rather than on a plain thread).
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
pub fn unlock_os_thread() {
    rt::unlock_current()
}

/// Reports panics of goroutines on stderr with the goroutine's id and name; panics of plain
/// threads go to the hook that was installed before.
pub(crate) fn install_panic_hook() {
    let prev = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let Some(g) = goroutine::current() else {
            return prev(info);
        };
        let msg = payload_str(info.payload()).unwrap_or("Box<dyn Any>");
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let name = g.name().unwrap_or("<unnamed>");
        let bt = std::backtrace::Backtrace::capture();
        let mut out = format!(
            "\ngoroutine {} ({name}) panicked at {location}:\n{msg}\n",
            g.id()
        );
        if bt.status() == std::backtrace::BacktraceStatus::Captured {
            out.push_str(&format!("stack backtrace:\n{bt}\n"));
        } else {
            out.push_str(
                "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
            );
        }
        use std::io::Write;
        let _ = std::io::stderr().lock().write_all(out.as_bytes());
    }));
}
