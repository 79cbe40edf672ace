//! [`Select`]: a select whose cases are chosen at run time (Go's `reflect.Select`).

use std::any::Any;
use std::time::{Duration, Instant};

use super::super::error::{RecvError, SendError};
use super::super::{Receiver, Sender};
use super::case::{RecvCase, SelectCase, SendCase};
use super::{select, wait_for, Wait};

/// A select whose cases are chosen at run time.
///
/// Go: `reflect.Select`. Add cases with [`recv`](Select::recv) and [`send`](Select::send)
/// (each returns its case's index), then run the select once with [`select`](Select::select),
/// [`try_select`](Select::try_select) or [`select_timeout`](Select::select_timeout); the
/// [`Selected`] case hands out its outcome. The semantics are those of
/// [`select!`](crate::select): random choice among ready cases, exactly one case takes effect.
///
/// ```
/// use goro::chan::{self, Select};
///
/// let chans: Vec<_> = (0..5).map(|_| chan::bounded::<usize>(1)).collect();
/// chans[3].0.send(42).unwrap();
///
/// let mut sel = Select::new();
/// for (_, rx) in &chans {
///     sel.recv(rx);
/// }
/// let op = sel.select();
/// assert_eq!(op.index(), 3);
/// assert_eq!(op.recv::<usize>(), Ok(42));
/// ```
#[derive(Default)]
pub struct Select<'a> {
    cases: Vec<Box<dyn DynCase + 'a>>,
}

/// The case a [`Select`] ran.
pub struct Selected<'a> {
    index: usize,
    case: Box<dyn DynCase + 'a>,
}

/// A case whose outcome can be taken without knowing its type statically.
trait DynCase: SelectCase {
    fn outcome(&mut self) -> Box<dyn Any>;
}

impl<T: 'static> DynCase for RecvCase<'_, T> {
    fn outcome(&mut self) -> Box<dyn Any> {
        Box::new(self.take_result())
    }
}

impl<T: 'static> DynCase for SendCase<'_, T> {
    fn outcome(&mut self) -> Box<dyn Any> {
        Box::new(self.take_result())
    }
}

impl<'a> Select<'a> {
    /// An empty select.
    pub fn new() -> Select<'a> {
        Select { cases: Vec::new() }
    }

    /// Adds a receive case; returns its index.
    pub fn recv<T: Send + 'static>(&mut self, rx: &'a Receiver<T>) -> usize {
        self.cases.push(Box::new(RecvCase::new(Some(rx))));
        self.cases.len() - 1
    }

    /// Adds a send case for `value`; returns its index. If the case is not chosen, the value
    /// is dropped, never sent.
    pub fn send<T: Send + 'static>(&mut self, tx: &'a Sender<T>, value: T) -> usize {
        self.cases.push(Box::new(SendCase::new(Some(tx), value)));
        self.cases.len() - 1
    }

    /// Waits until a case can proceed and runs it. With no case at all, waits forever.
    pub fn select(self) -> Selected<'a> {
        self.run(Wait::Forever)
            .expect("a blocking select returns a case")
    }

    /// Runs a case that can proceed now, if any (Go: `select` with `default`).
    pub fn try_select(self) -> Option<Selected<'a>> {
        self.run(Wait::Never)
    }

    /// Waits at most `timeout` for a case that can proceed, and runs it.
    pub fn select_timeout(self, timeout: Duration) -> Option<Selected<'a>> {
        self.run(wait_for(timeout))
    }

    /// Waits until `deadline` at the latest for a case that can proceed, and runs it.
    pub fn select_deadline(self, deadline: Instant) -> Option<Selected<'a>> {
        self.run(Wait::Until(deadline))
    }

    fn run(mut self, wait: Wait) -> Option<Selected<'a>> {
        let mut list: Vec<&mut dyn SelectCase> = self
            .cases
            .iter_mut()
            .map(|c| &mut **c as &mut dyn SelectCase)
            .collect();
        let index = select(&mut list, wait)?;
        drop(list);
        Some(Selected {
            index,
            case: self.cases.swap_remove(index),
        })
    }
}

impl Selected<'_> {
    /// The index of the case that ran, as returned when it was added.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The outcome of a receive case.
    ///
    /// # Panics
    ///
    /// If the case is not a receive of a `T`.
    pub fn recv<T: 'static>(mut self) -> Result<T, RecvError> {
        match self.case.outcome().downcast::<Result<T, RecvError>>() {
            Ok(r) => *r,
            Err(_) => panic!(
                "Selected::recv: case {} is not a receive of {}",
                self.index,
                std::any::type_name::<T>()
            ),
        }
    }

    /// The outcome of a send case (`Err` hands the value back if the channel was closed).
    ///
    /// # Panics
    ///
    /// If the case is not a send of a `T`.
    pub fn send<T: 'static>(mut self) -> Result<(), SendError<T>> {
        match self.case.outcome().downcast::<Result<(), SendError<T>>>() {
            Ok(r) => *r,
            Err(_) => panic!(
                "Selected::send: case {} is not a send of {}",
                self.index,
                std::any::type_name::<T>()
            ),
        }
    }
}

impl std::fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select")
            .field("cases", &self.cases.len())
            .finish()
    }
}

impl std::fmt::Debug for Selected<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selected")
            .field("index", &self.index)
            .finish()
    }
}
