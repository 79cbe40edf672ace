//! `Pool::map` and `Pool::map_unordered`: a function over an iterator, on the pool, with a
//! bounded number of items in flight.
//!
//! Items go to the workers in *batches*: one pool job calls the function on several
//! consecutive items and sends their results back together, so a cheap function does not
//! pay a job's cost (a queue round trip, a wake-up) per item. The batch size adapts: it
//! starts at one item (a slow function, such as a request, gets all the parallelism there
//! is) and doubles, up to `MAX_BATCH`, while the function takes under `FAST` per item, and
//! halves when it takes over `SLOW`. The items in flight (submitted, results not yet
//! yielded) stay under `2 × max_workers × batch`.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::{panic_message, TaskError};
use super::Pool;
use crate::chan::{self, Receiver, Sender};

/// The largest batch.
const MAX_BATCH: usize = 256;
/// Under this per item, batches grow.
const FAST: Duration = Duration::from_micros(2);
/// Over this per item, batches shrink.
const SLOW: Duration = Duration::from_micros(50);

/// The results of one batch: items `first .. first + results.len()`.
struct Batch<T> {
    first: u64,
    results: Vec<Result<T, TaskError>>,
    per_item: Duration,
}

/// What the jobs of one map share: the function and where results go.
struct Work<F, T> {
    f: F,
    tx: Sender<Batch<T>>,
}

/// Submits batches and collects their results, in arrival order (both iterators' engine).
struct Engine<I: Iterator, T> {
    pool: Pool,
    items: I,
    /// Runs one batch (the function, boxed so the iterator types need not name it).
    submit: Box<SubmitBatch<I::Item>>,
    /// The receiving end; the sending end lives in `Work` (dropped with `submit` once the
    /// input is exhausted, so the channel closes when the last batch is done).
    rx: Receiver<Batch<T>>,
    /// The pool context's done channel (taken once: each `done()` call costs a lock).
    done: Receiver<()>,
    batch: usize,
    workers: usize,
    next_index: u64,
    /// Items submitted whose results have not arrived.
    in_flight: usize,
    input_done: bool,
    /// The pool refused a batch: the rest of the input is cancelled, item by item.
    refused: bool,
}

/// Submits one batch; false if the pool refused it.
type SubmitBatch<X> = dyn FnMut(&Pool, u64, Vec<X>) -> bool + Send;

impl<I, T> Engine<I, T>
where
    I: Iterator,
    I::Item: Send + 'static,
    T: Send + 'static,
{
    fn new<F>(pool: Pool, items: I, f: F) -> Self
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        let (tx, rx) = chan::unbounded();
        let work = Arc::new(Work { f, tx });
        let submit = move |pool: &Pool, first: u64, items: Vec<I::Item>| {
            let work = Arc::clone(&work);
            pool.submit(move || run_batch(&work, first, items)).is_ok()
        };
        let workers = pool.shared.max.load(std::sync::atomic::Ordering::Relaxed);
        let done = pool.context().done();
        Engine {
            pool,
            items,
            submit: Box::new(submit),
            rx,
            done,
            batch: 1,
            workers,
            next_index: 0,
            in_flight: 0,
            input_done: false,
            refused: false,
        }
    }

    /// Submits batches while fewer than the window's items are held: submitted and not yet
    /// yielded (`held` items, in flight or waiting to be yielded). Returns the indices of
    /// items the pool refused (it takes no more: they and the rest of the input are
    /// cancelled).
    fn fill(&mut self, mut held: usize) -> Option<std::ops::Range<u64>> {
        let window = 2 * self.workers.max(1) * self.batch;
        while !self.input_done && held + self.batch <= window {
            let batch: Vec<I::Item> = self.items.by_ref().take(self.batch).collect();
            if batch.is_empty() {
                self.finish_input();
                break;
            }
            let (first, n) = (self.next_index, batch.len());
            self.next_index += n as u64;
            if (self.submit)(&self.pool, first, batch) {
                self.in_flight += n;
                held += n;
            } else {
                self.finish_input();
                self.refused = true;
                return Some(first..first + n as u64);
            }
        }
        None
    }

    /// No more batches: drop the submitting closure and with it this side's sender, so the
    /// channel closes once the batches in flight have sent (or been cancelled).
    fn finish_input(&mut self) {
        self.input_done = true;
        self.submit = Box::new(|_, _, _| false);
    }

    /// The next batch of results, or `None` once every batch in flight is accounted for; a
    /// cancelled batch (dropped unrun) shows as `Err` results the caller fills in.
    /// After a refusal: the next input item, which is cancelled (the input is consumed
    /// lazily, so an endless one is fine).
    fn next_refused(&mut self) -> Option<u64> {
        if !self.refused {
            return None;
        }
        self.items.next()?;
        self.next_index += 1;
        Some(self.next_index - 1)
    }

    fn recv(&mut self) -> Option<Batch<T>> {
        if self.in_flight == 0 {
            return None;
        }
        let got = crate::select! {
            recv(self.rx) -> b => b.ok(),
            recv(self.done) -> _ => {
                // The pool ended: batches not yet run will be cancelled; stop submitting
                // so the channel closes once they are gone.
                self.finish_input();
                self.rx.recv().ok()
            },
        };
        let b = got?;
        self.in_flight -= b.results.len();
        if b.per_item < FAST {
            self.batch = (self.batch * 2).min(MAX_BATCH);
        } else if b.per_item > SLOW {
            self.batch = (self.batch / 2).max(1);
        }
        Some(b)
    }
}

/// One pool job: the function over a batch, each call's panic caught on its own. A panic
/// is then re-raised, after the results are sent, so the pool counts it too.
fn run_batch<X, T: Send, F: Fn(X) -> T>(work: &Work<F, T>, first: u64, items: Vec<X>) {
    let start = Instant::now();
    let n = items.len();
    let mut results = Vec::with_capacity(n);
    let mut panicked = None;
    for x in items {
        match panic::catch_unwind(AssertUnwindSafe(|| (work.f)(x))) {
            Ok(v) => results.push(Ok(v)),
            Err(p) => {
                results.push(Err(TaskError::Panicked(panic_message(&*p))));
                panicked.get_or_insert(p);
            }
        }
    }
    let per_item = start.elapsed() / n.max(1) as u32;
    // The iterator may have been dropped: nobody wants the results then.
    let _ = work.tx.send(Batch {
        first,
        results,
        per_item,
    });
    if let Some(p) = panicked {
        panic::resume_unwind(p);
    }
}

/// The iterator of [`Pool::map`]: results in input order.
///
/// ```
/// let pool = goro::pool::Pool::new(2);
/// let mut lens = pool.map(["a", "bb", "ccc"], str::len);
/// assert_eq!(lens.next(), Some(Ok(1)));
/// assert_eq!(lens.collect::<Vec<_>>(), [Ok(2), Ok(3)]);
/// ```
pub struct Map<I: Iterator, T> {
    engine: Engine<I, T>,
    /// Results from index `base` on; `None` while not arrived.
    ready: VecDeque<Option<Result<T, TaskError>>>,
    base: u64,
}

impl<I, T> Map<I, T>
where
    I: Iterator,
    I::Item: Send + 'static,
    T: Send + 'static,
{
    pub(super) fn new<F>(pool: Pool, items: I, f: F) -> Self
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        Map {
            engine: Engine::new(pool, items, f),
            ready: VecDeque::new(),
            base: 0,
        }
    }

    /// Submits more, counting every item not yet yielded against the window (a slow early
    /// item holds back the window, so the results waiting behind it stay bounded).
    fn fill(&mut self) {
        let held = (self.engine.next_index - self.base) as usize;
        if let Some(refused) = self.engine.fill(held) {
            for i in refused {
                self.place(i, Err(TaskError::Canceled));
            }
        }
    }

    fn place(&mut self, index: u64, r: Result<T, TaskError>) {
        let at = (index - self.base) as usize;
        if self.ready.len() <= at {
            self.ready.resize_with(at + 1, || None);
        }
        self.ready[at] = Some(r);
    }
}

impl<I, T> Iterator for Map<I, T>
where
    I: Iterator,
    I::Item: Send + 'static,
    T: Send + 'static,
{
    type Item = Result<T, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.fill();
        loop {
            if let Some(Some(_)) = self.ready.front() {
                self.base += 1;
                return self.ready.pop_front().flatten();
            }
            match self.engine.recv() {
                Some(b) => {
                    for (k, r) in b.results.into_iter().enumerate() {
                        self.place(b.first + k as u64, r);
                    }
                }
                None => {
                    // Every batch is accounted for: an index without a result belongs to
                    // a cancelled batch.
                    if self.base == self.engine.next_index {
                        self.engine.next_refused()?;
                        self.base += 1;
                        return Some(Err(TaskError::Canceled));
                    }
                    self.engine.in_flight = self.engine.in_flight.saturating_sub(1);
                    self.base += 1;
                    let front = self.ready.pop_front().flatten();
                    return Some(front.unwrap_or(Err(TaskError::Canceled)));
                }
            }
        }
    }
}

impl<I: Iterator, T> fmt::Debug for Map<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("in_flight", &self.engine.in_flight)
            .field("batch", &self.engine.batch)
            .finish_non_exhaustive()
    }
}

/// The iterator of [`Pool::map_unordered`]: results as they are ready.
///
/// ```
/// let pool = goro::pool::Pool::new(2);
/// let results: Vec<_> = pool.map_unordered([1, 0, 2], |x: u32| 10 / x).collect();
/// assert_eq!(results.len(), 3);
/// assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2); // 10 / 0 panicked
/// ```
pub struct MapUnordered<I: Iterator, T> {
    engine: Engine<I, T>,
    ready: VecDeque<Result<T, TaskError>>,
}

impl<I, T> MapUnordered<I, T>
where
    I: Iterator,
    I::Item: Send + 'static,
    T: Send + 'static,
{
    pub(super) fn new<F>(pool: Pool, items: I, f: F) -> Self
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        MapUnordered {
            engine: Engine::new(pool, items, f),
            ready: VecDeque::new(),
        }
    }
}

impl<I, T> Iterator for MapUnordered<I, T>
where
    I: Iterator,
    I::Item: Send + 'static,
    T: Send + 'static,
{
    type Item = Result<T, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        let held = self.engine.in_flight + self.ready.len();
        if let Some(refused) = self.engine.fill(held) {
            self.ready.extend(refused.map(|_| Err(TaskError::Canceled)));
        }
        loop {
            if let Some(r) = self.ready.pop_front() {
                return Some(r);
            }
            match self.engine.recv() {
                Some(b) => self.ready.extend(b.results),
                None if self.engine.in_flight > 0 => {
                    // A cancelled batch's items.
                    self.engine.in_flight -= 1;
                    return Some(Err(TaskError::Canceled));
                }
                None => {
                    self.engine.next_refused()?;
                    return Some(Err(TaskError::Canceled));
                }
            }
        }
    }
}

impl<I: Iterator, T> fmt::Debug for MapUnordered<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapUnordered")
            .field("in_flight", &self.engine.in_flight)
            .field("batch", &self.engine.batch)
            .finish_non_exhaustive()
    }
}
