//! `Pool::map` and `Pool::map_unordered`: a function over an iterator, on the pool, with a
//! bounded number of items in flight.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use super::error::{panic_message, TaskError};
use super::{Pool, TaskHandle};
use crate::chan::{self, Receiver, Sender};

/// The iterator of [`Pool::map`]: results in input order.
pub struct Map<I, F, T> {
    pool: Pool,
    items: I,
    f: Arc<F>,
    window: usize,
    /// Submitted, in input order; `None` for an item the pool did not take (closed).
    pending: VecDeque<Option<TaskHandle<T>>>,
    input_done: bool,
}

impl<I, F, T> Map<I, F, T>
where
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    pub(super) fn new(pool: Pool, items: I, f: F, window: usize) -> Self {
        Map {
            pool,
            items,
            f: Arc::new(f),
            window,
            pending: VecDeque::new(),
            input_done: false,
        }
    }
}

impl<I, F, T> Iterator for Map<I, F, T>
where
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    type Item = Result<T, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.input_done && self.pending.len() < self.window {
            let Some(item) = self.items.next() else {
                self.input_done = true;
                break;
            };
            let f = Arc::clone(&self.f);
            match self.pool.submit_with_result(move || f(item)) {
                Ok(h) => self.pending.push_back(Some(h)),
                Err(_) => {
                    // The pool takes no more jobs: this item and the rest are cancelled.
                    self.pending.push_back(None);
                    self.input_done = true;
                }
            }
        }
        match self.pending.pop_front()? {
            Some(h) => Some(h.wait()),
            None => Some(Err(TaskError::Canceled)),
        }
    }
}

impl<I, F, T> fmt::Debug for Map<I, F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("in_flight", &self.pending.len())
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

/// Submits one item's call, whose result goes to the sender; false if the pool refused it.
type Submit<X, T> = dyn FnMut(&Pool, X, Sender<Result<T, TaskError>>) -> bool + Send;

/// The iterator of [`Pool::map_unordered`]: results as they are ready.
pub struct MapUnordered<I: Iterator, T> {
    pool: Pool,
    items: I,
    submit: Box<Submit<I::Item, T>>,
    window: usize,
    tx: Option<Sender<Result<T, TaskError>>>,
    rx: Receiver<Result<T, TaskError>>,
    in_flight: usize,
}

impl<I, T> MapUnordered<I, T>
where
    I: Iterator,
    I::Item: Send + 'static,
    T: Send + 'static,
{
    pub(super) fn new<F>(pool: Pool, items: I, f: F, window: usize) -> Self
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let submit = move |pool: &Pool, item: I::Item, tx: Sender<Result<T, TaskError>>| {
            let f = Arc::clone(&f);
            pool.submit(
                move || match panic::catch_unwind(AssertUnwindSafe(|| f(item))) {
                    Ok(v) => {
                        let _ = tx.send(Ok(v));
                    }
                    Err(p) => {
                        let _ = tx.send(Err(TaskError::Panicked(panic_message(&*p))));
                        // Let the pool count (and report) the panic too.
                        panic::resume_unwind(p);
                    }
                },
            )
            .is_ok()
        };
        let (tx, rx) = chan::unbounded();
        MapUnordered {
            pool,
            items,
            submit: Box::new(submit),
            window,
            tx: Some(tx),
            rx,
            in_flight: 0,
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
        while self.in_flight < self.window {
            let Some(tx) = &self.tx else { break };
            let Some(item) = self.items.next() else {
                self.tx = None;
                break;
            };
            if (self.submit)(&self.pool, item, tx.clone()) {
                self.in_flight += 1;
            } else {
                // The pool takes no more jobs: that item is cancelled, and the rest.
                self.tx = None;
                return Some(Err(TaskError::Canceled));
            }
        }
        if self.in_flight == 0 {
            return None;
        }
        let done = self.pool.context().done();
        let r = crate::select! {
            recv(self.rx) -> r => r,
            recv(done) -> _ => {
                // The pool ended: jobs not yet run will be cancelled; stop holding the
                // channel open so it closes once they are gone.
                self.tx = None;
                self.rx.recv()
            },
        };
        self.in_flight -= 1;
        // Closed without a value: every job still counted was cancelled (its closure, and
        // with it its sender, dropped unrun).
        Some(r.unwrap_or(Err(TaskError::Canceled)))
    }
}

impl<I: Iterator, T> fmt::Debug for MapUnordered<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapUnordered")
            .field("in_flight", &self.in_flight)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}
