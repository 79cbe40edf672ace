//! Go's `go` statement: [`go`], [`Builder`], [`JoinHandle`], [`JoinError`] and goroutine ids.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::rt::config::check_stack_size;
use crate::rt::goroutine::{self, GRef};
use crate::rt::park::{Unparker, WakerSlot};
use crate::rt::{self, panic};

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
#[track_caller]
pub fn go<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new()
        .spawn(f)
        .unwrap_or_else(|e| panic!("goro::go: cannot spawn a goroutine: {e}"))
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
    ///
    /// ```
    /// let h = goro::Builder::new().spawn(|| 1 + 1).unwrap();
    /// assert_eq!(h.join().unwrap(), 2);
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the goroutine. The name appears in panic and stack overflow reports.
    ///
    /// ```
    /// let h = goro::Builder::new().name("fetcher").spawn(|| ()).unwrap();
    /// assert_eq!(h.name(), Some("fetcher"));
    /// h.join().unwrap();
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Sets the usable stack size in bytes (at least 16 KiB; rounded up to whole pages).
    /// Sizes up to the runtime's default use a pooled stack of the default size; larger ones
    /// get a stack of their own.
    ///
    /// ```
    /// let h = goro::Builder::new()
    ///     .stack_size(4 << 20) // room for a 1 MiB array on the stack
    ///     .spawn(|| [1u8; 1 << 20].iter().map(|&b| u32::from(b)).sum::<u32>())
    ///     .unwrap();
    /// assert_eq!(h.join().unwrap(), 1 << 20);
    /// ```
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
    ///
    /// ```
    /// use std::io::ErrorKind;
    ///
    /// let h = goro::Builder::new().spawn(|| 6 * 7).unwrap();
    /// assert_eq!(h.join().unwrap(), 42);
    /// let err = goro::Builder::new().stack_size(1024).spawn(|| ()).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput); // below the 16 KiB minimum
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let stack_size = self
            .stack_size
            .map(check_stack_size)
            .transpose()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let g = rt::spawn(
            self.name.map(String::into_boxed_str),
            stack_size,
            std::panic::Location::caller(),
            f,
        )?;
        Ok(JoinHandle::new(g))
    }
}

/// A goroutine's identifier, unique for the life of the process.
///
/// Go deliberately hides goroutine ids; goro shows them in panic reports and here, for logs.
///
/// ```
/// let (a, b) = (goro::go(|| ()), goro::go(|| ()));
/// assert_ne!(a.id(), b.id());
/// let id = a.id();
/// assert_eq!(id.to_string(), id.as_u64().to_string());
/// a.join().unwrap();
/// b.join().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoroutineId(u64);

impl GoroutineId {
    /// The id as a number.
    ///
    /// ```
    /// let id = goro::go(|| goro::current_id().unwrap()).join().unwrap();
    /// assert!(id.as_u64() > 0);
    /// assert_eq!(id.to_string(), id.as_u64().to_string());
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0
    }

    pub(crate) fn from_u64(id: u64) -> GoroutineId {
        GoroutineId(id)
    }
}

impl fmt::Display for GoroutineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of the calling goroutine, or `None` on a plain thread.
///
/// ```
/// assert_eq!(goro::current_id(), None); // a plain thread
/// let h = goro::go(goro::current_id);
/// let id = h.id();
/// assert_eq!(h.join().unwrap(), Some(id));
/// ```
pub fn current_id() -> Option<GoroutineId> {
    goroutine::current().map(|g| GoroutineId(g.id()))
}

/// An owned permission to join a goroutine (wait for it and take its result).
///
/// Dropping the handle detaches the goroutine: it keeps running, and a panic in it is still
/// reported on stderr.
///
/// Ways to wait, as for a channel receive: [`join`](Self::join) (as `recv`),
/// [`join_timeout`](Self::join_timeout) and [`join_deadline`](Self::join_deadline) (as
/// `recv_timeout` and `recv_deadline`), and, in a `select!` or async code,
/// `fut(&mut handle) -> r` or `handle.await`.
///
/// A `JoinHandle` is itself a [`Future`] (and `Unpin`, as tokio's is), so a `select!` can
/// wait for a goroutine beside channels and timers, and the handle stays usable if another
/// case wins:
///
/// ```
/// use goro::chan;
/// use std::time::Duration;
///
/// let (_quit_tx, quit) = chan::bounded::<()>(0);
/// let mut h = goro::go(|| 6 * 7);
/// let got = goro::select! {
///     fut(&mut h) -> r => r.unwrap(),
///     recv(quit) -> _ => 0,
///     default(Duration::from_secs(30)) => -1,
/// };
/// assert_eq!(got, 42);
/// ```
pub struct JoinHandle<T> {
    g: GRef,
    /// The waker the goroutine wakes as it finishes, once the handle was polled as a future
    /// (or waited on with a timeout). From then on the goroutine's one joiner slot holds
    /// it, so every later wait goes through it too.
    slot: Option<Arc<WakerSlot>>,
    /// The result was taken (the future completed, or a timed join returned it).
    joined: bool,
    /// The goroutine's block holds a `T` result; `fn() -> T` keeps the handle `Send + Sync`
    /// whatever `T` (as `std::thread::JoinHandle`), since only a join moves a `T` out.
    _marker: PhantomData<fn() -> T>,
}

impl<T> JoinHandle<T> {
    fn new(g: GRef) -> JoinHandle<T> {
        JoinHandle {
            g,
            slot: None,
            joined: false,
            _marker: PhantomData,
        }
    }

    /// Waits for the goroutine to finish and returns its result, or the panic that ended it.
    ///
    /// From a goroutine this parks only the caller; from a plain thread it blocks the thread.
    ///
    /// ```
    /// let h = goro::go(|| "done");
    /// assert_eq!(h.join().unwrap(), "done");
    /// ```
    ///
    /// # Panics
    ///
    /// If a timed join or a poll already returned the result.
    #[track_caller]
    pub fn join(mut self) -> Result<T, JoinError> {
        assert!(
            !self.joined,
            "goro: JoinHandle joined after its result was taken"
        );
        if self.slot.is_some() {
            // A waker is registered as the goroutine's joiner: wait through it.
            return crate::block_on(&mut self);
        }
        self.g.wait_done();
        self.take_result()
    }

    /// Waits at most `timeout` for the goroutine: `Some` with what [`join`](Self::join)
    /// gives if it finished in time, `None` if it is still running (the handle is then
    /// still usable: join again, with or without a timeout, or drop it to detach).
    ///
    /// Go has no join; this is `select { case r := <-done: ...; case <-time.After(d): ... }`
    /// on a goroutine's result channel.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = goro::chan::bounded::<()>(0);
    /// let mut h = goro::go(move || rx.recv().is_ok());
    /// assert!(h.join_timeout(Duration::from_millis(10)).is_none()); // still waiting
    /// tx.send(()).unwrap();
    /// assert!(h.join_timeout(Duration::from_secs(30)).unwrap().unwrap());
    /// ```
    ///
    /// # Panics
    ///
    /// If an earlier join already returned the result.
    #[track_caller]
    pub fn join_timeout(&mut self, timeout: Duration) -> Option<Result<T, JoinError>> {
        assert!(
            !self.joined,
            "goro: JoinHandle joined after its result was taken"
        );
        if self.g.is_done() {
            return Some(self.take_result());
        }
        crate::select! {
            fut(&mut *self) -> r => Some(r),
            default(timeout) => None,
        }
    }

    /// Waits for the goroutine until `deadline` at the latest: as
    /// [`join_timeout`](Self::join_timeout), with an instant rather than a duration.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let mut h = goro::go(|| 1 + 1);
    /// let r = h.join_deadline(Instant::now() + Duration::from_secs(30));
    /// assert_eq!(r.unwrap().unwrap(), 2);
    /// ```
    ///
    /// # Panics
    ///
    /// If an earlier join already returned the result.
    #[track_caller]
    pub fn join_deadline(&mut self, deadline: Instant) -> Option<Result<T, JoinError>> {
        self.join_timeout(deadline.saturating_duration_since(Instant::now()))
    }

    /// Takes the finished goroutine's result.
    fn take_result(&mut self) -> Result<T, JoinError> {
        debug_assert!(self.g.is_done() && !self.joined);
        self.joined = true;
        let mut out: Option<std::thread::Result<T>> = None;
        // SAFETY: the goroutine has completed (the callers saw `is_done`, or `wait_done`
        // returned), its block was made for this `T` by `Builder::spawn`, `out` is an
        // `Option<thread::Result<T>>`, and the handle is the only one, owned or borrowed
        // mutably here, and `joined` (checked by every caller, set above) makes this the
        // one take.
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
    ///
    /// ```
    /// let (tx, rx) = goro::chan::bounded::<()>(0);
    /// let h = goro::go(move || rx.recv().is_ok());
    /// assert!(!h.is_finished()); // parked on the channel
    /// tx.send(()).unwrap();
    /// assert!(h.join().unwrap());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.g.is_done()
    }

    /// The goroutine's id.
    ///
    /// ```
    /// let h = goro::go(goro::current_id);
    /// let id = h.id();
    /// assert_eq!(h.join().unwrap(), Some(id));
    /// ```
    pub fn id(&self) -> GoroutineId {
        GoroutineId(self.g.id())
    }

    /// The goroutine's name, if it was given one.
    ///
    /// ```
    /// let h = goro::Builder::new().name("indexer").spawn(|| ()).unwrap();
    /// assert_eq!(h.name(), Some("indexer"));
    /// assert_eq!(goro::go(|| ()).name(), None);
    /// h.join().unwrap();
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.g.name()
    }
}

/// Awaiting a `JoinHandle` (or polling `&mut handle`, as a `select!` `fut` case does) waits
/// for the goroutine without blocking the executor's thread, and gives what
/// [`join`](JoinHandle::join) gives. Dropping the handle before it completes detaches the
/// goroutine.
///
/// ```
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let h = goro::go(|| (1..=10).sum::<u32>());
/// assert_eq!(h.await.unwrap(), 55);
/// # });
/// ```
///
/// # Panics
///
/// Polled after it completed (or after a timed join returned the result).
impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(
            !this.joined,
            "goro: a JoinHandle polled after its result was taken"
        );
        if !this.g.is_done() {
            match &this.slot {
                Some(slot) => slot.set(cx.waker()),
                None => {
                    let slot = Arc::new(WakerSlot::new(cx.waker()));
                    let registered = this.g.join_async(Unparker::Task(slot.clone()));
                    this.slot = Some(slot);
                    if registered {
                        return Poll::Pending;
                    }
                }
            }
            // The goroutine may have finished before the new waker was in place: look
            // again after placing it (the finish wakes whatever waker it finds).
            if !this.g.is_done() {
                return Poll::Pending;
            }
        }
        Poll::Ready(this.take_result())
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
///
/// ```
/// let builder = goro::Builder::new().name("parser");
/// let h = builder.spawn(|| -> u32 { panic!("bad token") }).unwrap();
/// let err = h.join().unwrap_err();
/// assert_eq!(err.panic_message(), Some("bad token"));
/// assert!(err.to_string().ends_with("(parser) panicked: bad token"));
/// ```
pub struct JoinError {
    payload: Box<dyn Any + Send + 'static>,
    id: GoroutineId,
    name: Option<String>,
}

impl JoinError {
    /// The panic payload, for `std::panic::resume_unwind` or inspection.
    ///
    /// ```
    /// let err = goro::go(|| -> () { std::panic::panic_any(7u8) }).join().unwrap_err();
    /// let payload = err.into_panic();
    /// assert_eq!(payload.downcast_ref::<u8>(), Some(&7));
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }

    /// The panic message, if the payload is a string (as with `panic!("...")`).
    ///
    /// ```
    /// let err = goro::go(|| -> () { panic!("code {}", 42) }).join().unwrap_err();
    /// assert_eq!(err.panic_message(), Some("code 42"));
    /// let err = goro::go(|| -> () { std::panic::panic_any(7u8) }).join().unwrap_err();
    /// assert_eq!(err.panic_message(), None);
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        panic::payload_str(&*self.payload)
    }

    /// The id of the goroutine that panicked.
    ///
    /// ```
    /// let h = goro::go(|| -> () { panic!("oops") });
    /// let id = h.id();
    /// assert_eq!(h.join().unwrap_err().id(), id);
    /// ```
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
