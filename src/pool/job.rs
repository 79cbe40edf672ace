//! Jobs in the queue, and the handle of a job's result.

use std::any::{Any, TypeId};
use std::fmt;
use std::marker::PhantomData;
use std::mem::{align_of, size_of, ManuallyDrop, MaybeUninit};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use super::error::{panic_message, TaskError};
use crate::chan::{self, Receiver, Sender};
use crate::context::BoxError;

/// What a job submitted with [`Pool::submit`](super::Pool::submit) may return: `()`, or
/// `Result<(), E>` for any error convertible into a boxed error (`String`, `&str`,
/// `std::io::Error`, any `std::error::Error`...). An `Err` counts as a failure, goes to
/// [`Pool::errors`](super::Pool::errors), and under
/// [`ErrorPolicy::FailFast`](super::ErrorPolicy) ends the pool.
pub trait JobResult: Send + 'static {
    /// The job's outcome as the pool records it.
    fn into_result(self) -> Result<(), BoxError>;
}

impl JobResult for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError> + Send + 'static> JobResult for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// How a job that ran ended.
pub(super) enum Outcome {
    Completed,
    Failed(BoxError),
    Panicked(Box<dyn Any + Send + 'static>),
}

/// A kind of queued job (the submitted closure, wrapped).
pub(super) trait Queued: Send + 'static {
    /// Runs the job, catching a panic.
    fn run(self) -> Outcome;
    /// The job will not run: tells whoever waits for its result.
    fn cancel(self);
}

/// Words of a job stored inline in the queue; larger jobs are boxed.
const INLINE_WORDS: usize = 2;

/// A job waiting in the queue, type-erased. A job of up to `INLINE_WORDS` words (a closure
/// capturing a few numbers, references or `Arc`s: the common case) is stored in place, so
/// submitting it allocates nothing; a larger one is boxed. Either way a `Job` is a fixed
/// size value that moves through the channel.
pub(super) struct Job {
    vtable: &'static VTable,
    data: MaybeUninit<[usize; INLINE_WORDS]>,
}

struct VTable {
    /// Moves the job out of `data` and runs it.
    run: unsafe fn(*mut u8) -> Outcome,
    /// Moves the job out of `data` and cancels it.
    cancel: unsafe fn(*mut u8),
    /// Drops the job in `data` unrun.
    drop: unsafe fn(*mut u8),
    type_id: fn() -> TypeId,
}

// SAFETY: a `Job` only ever holds a `Q: Queued`, which is `Send` (directly or boxed).
unsafe impl Send for Job {}

/// Whether `Q` is stored in place rather than boxed.
const fn fits<Q>() -> bool {
    size_of::<Q>() <= size_of::<[usize; INLINE_WORDS]>() && align_of::<Q>() <= align_of::<usize>()
}

impl Job {
    pub(super) fn new<Q: Queued>(q: Q) -> Job {
        let mut data = MaybeUninit::<[usize; INLINE_WORDS]>::uninit();
        let vtable = if fits::<Q>() {
            // SAFETY: `data` is large and aligned enough for `Q` (`fits`), and uninit.
            unsafe { data.as_mut_ptr().cast::<Q>().write(q) };
            &InPlace::<Q>::VTABLE
        } else {
            // SAFETY: a `Box<Q>` is one pointer, which `data` holds.
            unsafe { data.as_mut_ptr().cast::<Box<Q>>().write(Box::new(q)) };
            &Boxed::<Q>::VTABLE
        };
        Job { vtable, data }
    }

    /// Runs the job.
    pub(super) fn run(self) -> Outcome {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `data` holds the job the vtable was made for; `run` moves it out, and
        // `this` is not dropped, so it is not dropped twice.
        unsafe { (this.vtable.run)(this.data.as_mut_ptr().cast()) }
    }

    /// Cancels the job: it will not run.
    pub(super) fn cancel(self) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: as in `run`.
        unsafe { (this.vtable.cancel)(this.data.as_mut_ptr().cast()) }
    }

    /// The job as its concrete type, for handing it back to its submitter.
    ///
    /// # Panics
    ///
    /// If the job is not a `Q` (a bug: jobs come back to the call that made them).
    pub(super) fn take<Q: Queued>(self) -> Q {
        assert!(
            (self.vtable.type_id)() == TypeId::of::<Q>(),
            "a job comes back with the type it was sent with"
        );
        let mut this = ManuallyDrop::new(self);
        let p = this.data.as_mut_ptr();
        if fits::<Q>() {
            // SAFETY: the job is a `Q` (checked above) stored in place; read once, and
            // `this` is not dropped.
            unsafe { p.cast::<Q>().read() }
        } else {
            // SAFETY: as above, boxed.
            *unsafe { p.cast::<Box<Q>>().read() }
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // SAFETY: `data` holds the job (every consuming method forgets `self`).
        unsafe { (self.vtable.drop)(self.data.as_mut_ptr().cast()) }
    }
}

struct InPlace<Q>(PhantomData<Q>);

impl<Q: Queued> InPlace<Q> {
    const VTABLE: VTable = VTable {
        run: Self::run,
        cancel: Self::cancel,
        drop: Self::drop,
        type_id: TypeId::of::<Q>,
    };

    /// # Safety
    ///
    /// `p` holds a `Q` in place (`Job::new`), moved out by this call only.
    unsafe fn take(p: *mut u8) -> Q {
        // SAFETY: the caller's contract.
        unsafe { p.cast::<Q>().read() }
    }

    unsafe fn run(p: *mut u8) -> Outcome {
        // SAFETY: `Job::run` calls this once, on its `data`.
        unsafe { Self::take(p) }.run()
    }

    unsafe fn cancel(p: *mut u8) {
        // SAFETY: `Job::cancel` calls this once, on its `data`.
        unsafe { Self::take(p) }.cancel()
    }

    unsafe fn drop(p: *mut u8) {
        // SAFETY: `Job::drop` calls this once, on a `data` still holding its job.
        unsafe { p.cast::<Q>().drop_in_place() }
    }
}

struct Boxed<Q>(PhantomData<Q>);

impl<Q: Queued> Boxed<Q> {
    const VTABLE: VTable = VTable {
        run: Self::run,
        cancel: Self::cancel,
        drop: Self::drop,
        type_id: TypeId::of::<Q>,
    };

    /// # Safety
    ///
    /// `p` holds a `Box<Q>` (`Job::new`), moved out by this call only.
    unsafe fn take(p: *mut u8) -> Q {
        // SAFETY: the caller's contract.
        *unsafe { p.cast::<Box<Q>>().read() }
    }

    unsafe fn run(p: *mut u8) -> Outcome {
        // SAFETY: `Job::run` calls this once, on its `data`.
        unsafe { Self::take(p) }.run()
    }

    unsafe fn cancel(p: *mut u8) {
        // SAFETY: `Job::cancel` calls this once, on its `data`.
        unsafe { Self::take(p) }.cancel()
    }

    unsafe fn drop(p: *mut u8) {
        // SAFETY: `Job::drop` calls this once, on a `data` still holding its job.
        unsafe { p.cast::<Box<Q>>().drop_in_place() }
    }
}

/// A job of `submit`: its result is recorded by the pool only.
pub(super) struct Plain<F>(pub(super) F);

impl<F, R> Queued for Plain<F>
where
    F: FnOnce() -> R + Send + 'static,
    R: JobResult,
{
    fn run(self) -> Outcome {
        match panic::catch_unwind(AssertUnwindSafe(self.0)) {
            Ok(r) => match r.into_result() {
                Ok(()) => Outcome::Completed,
                Err(e) => Outcome::Failed(e),
            },
            Err(p) => Outcome::Panicked(p),
        }
    }

    fn cancel(self) {}
}

/// A job sent by `submit_ctx`, in a cell shared with the submitter, who takes it back if
/// its send loses to the context's end.
pub(super) struct Handback(pub(super) Arc<Mutex<Option<Job>>>);

impl Handback {
    fn take(&self) -> Job {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("a sent job stays in its cell until it runs")
    }
}

impl Queued for Handback {
    fn run(self) -> Outcome {
        self.take().run()
    }

    fn cancel(self) {
        self.take().cancel()
    }
}

/// A job of `submit_with_result`: its value goes to its [`TaskHandle`].
pub(super) struct WithResult<F, T> {
    pub(super) f: F,
    pub(super) tx: Sender<Result<T, TaskError>>,
}

impl<F, T> Queued for WithResult<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(self) -> Outcome {
        let WithResult { f, tx } = self;
        match panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => {
                // The handle may have been dropped: nobody wants the value then.
                let _ = tx.try_send(Ok(v));
                Outcome::Completed
            }
            Err(p) => {
                let _ = tx.try_send(Err(TaskError::Panicked(panic_message(&*p))));
                Outcome::Panicked(p)
            }
        }
    }

    fn cancel(self) {
        let _ = self.tx.try_send(Err(TaskError::Canceled));
    }
}

/// The result of one job of [`Pool::submit_with_result`](super::Pool::submit_with_result).
///
/// Like a [`JoinHandle`](crate::JoinHandle) for a job that runs on a pool worker. Dropping
/// it does not cancel the job; its value is then dropped.
pub struct TaskHandle<T> {
    rx: Receiver<Result<T, TaskError>>,
}

impl<T: Send> TaskHandle<T> {
    pub(super) fn new() -> (TaskHandle<T>, Sender<Result<T, TaskError>>) {
        let (tx, rx) = chan::bounded(1);
        (TaskHandle { rx }, tx)
    }

    /// Waits for the job and returns its value, or why there is none: it panicked, or was
    /// cancelled before it ran (the pool's context ended, or [`stop`](super::Pool::stop)).
    pub fn wait(self) -> Result<T, TaskError> {
        // A closed channel without a value: the job was dropped unrun (the pool was
        // dropped with it queued), which for the caller is a cancellation.
        self.rx.recv().unwrap_or(Err(TaskError::Canceled))
    }

    /// Whether the job has finished (or was cancelled), so `wait` would not block.
    pub fn is_finished(&self) -> bool {
        !self.rx.is_empty() || self.rx.is_closed()
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle").finish_non_exhaustive()
    }
}
