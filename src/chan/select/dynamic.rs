//! [`Select`]: a select whose cases are chosen at run time (Go's `reflect.Select`).

use std::any::Any;
use std::time::{Duration, Instant};

use super::super::error::{RecvError, SendError};
use super::super::{Receiver, Sender};
use super::case::{RecvCase, SelectCase, SendCase};
use super::{select, wait_for, Wait};

/// A select whose cases are chosen at run time.
///
/// Go: `reflect.Select`; crossbeam-channel: `Select`. Add cases with [`recv`](Select::recv)
/// and [`send`](Select::send) (each returns its case's index), then run the select with
/// [`select`](Select::select), [`try_select`](Select::try_select),
/// [`select_timeout`](Select::select_timeout) or [`select_deadline`](Select::select_deadline);
/// the [`Selected`] case hands out its outcome. The semantics are those of
/// [`select!`](crate::select): random choice among ready cases, exactly one case takes effect.
///
/// A `Select` can run any number of times, and moves between threads (it is `Send`). A send
/// case holds the value given to [`send`](Select::send), as a Go select evaluates its send
/// values before it blocks: the value is sent at most once, and a send case that has run is
/// never ready again (as a nil channel). Receive cases are ready again each time.
///
/// ```
/// use goro::chan::{self, Select};
///
/// let chans: Vec<_> = (0..5).map(|_| chan::bounded::<usize>(1)).collect();
/// chans[3].0.send(42).unwrap();
/// chans[1].0.send(7).unwrap();
///
/// let mut sel = Select::new();
/// for (_, rx) in &chans {
///     sel.recv(rx);
/// }
/// let mut got = Vec::new();
/// for _ in 0..2 {
///     let op = sel.select();
///     let i = op.index();
///     got.push((i, op.recv::<usize>().unwrap()));
/// }
/// got.sort();
/// assert_eq!(got, [(1, 7), (3, 42)]);
/// ```
#[derive(Default)]
pub struct Select<'a> {
    cases: Vec<Case<'a>>,
}

/// The case a [`Select`] ran; it borrows the `Select` until its outcome is taken.
pub struct Selected<'s> {
    index: usize,
    case: &'s mut dyn DynCase,
}

/// A case whose outcome can be taken without knowing its type statically.
trait DynCase: SelectCase {
    fn outcome(&mut self) -> Box<dyn Any>;
    /// The case has just run: a send case's value is gone, so it becomes a nil case.
    fn ran(&mut self);
}

impl<T: 'static> DynCase for RecvCase<'_, T> {
    fn outcome(&mut self) -> Box<dyn Any> {
        Box::new(self.take_result())
    }

    fn ran(&mut self) {}
}

impl<T: 'static> DynCase for SendCase<'_, T> {
    fn outcome(&mut self) -> Box<dyn Any> {
        Box::new(self.take_result())
    }

    fn ran(&mut self) {
        self.spend();
    }
}

/// A case of a `Select`, boxed so that any element type fits.
struct Case<'a>(Box<dyn DynCase + 'a>);

// SAFETY: `Select::recv` and `Select::send` only box cases over `T: Send`, whose channel
// handles (`&Receiver<T>`, `&Sender<T>`: the channel is `Sync` for `T: Send`), pending send
// value and outcome (`T`, `Result<T, _>`) are all `Send`. What is not `Send` in a case is
// its waiter (raw pointers to the token and to queue neighbours), and a waiter exists only
// during a `select` call (linked in pass 2, gone after pass 3), which holds `&mut Select`:
// a `Select` never moves to another thread with a waiter in it.
unsafe impl Send for Case<'_> {}

impl<'a> Select<'a> {
    /// An empty select.
    pub fn new() -> Select<'a> {
        Select { cases: Vec::new() }
    }

    /// Adds a receive case; returns its index.
    pub fn recv<T: Send + 'static>(&mut self, rx: &'a Receiver<T>) -> usize {
        self.cases.push(Case(Box::new(RecvCase::new(Some(rx)))));
        self.cases.len() - 1
    }

    /// Adds a send case for `value`; returns its index. The value is evaluated now, as Go
    /// evaluates a select's send values before it blocks; if the case is not chosen it stays
    /// with the case (dropped with the `Select`), never sent. Once the case has run, it is
    /// never ready again.
    pub fn send<T: Send + 'static>(&mut self, tx: &'a Sender<T>, value: T) -> usize {
        self.cases
            .push(Case(Box::new(SendCase::new(Some(tx), value))));
        self.cases.len() - 1
    }

    /// Waits until a case can proceed and runs it. With no case at all (or none that can
    /// ever be ready), waits forever.
    pub fn select(&mut self) -> Selected<'_> {
        self.run(Wait::Forever)
            .expect("a blocking select returns a case")
    }

    /// Runs a case that can proceed now, if any (Go: `select` with `default`).
    pub fn try_select(&mut self) -> Option<Selected<'_>> {
        self.run(Wait::Never)
    }

    /// Waits at most `timeout` for a case that can proceed, and runs it.
    pub fn select_timeout(&mut self, timeout: Duration) -> Option<Selected<'_>> {
        self.run(wait_for(timeout))
    }

    /// Waits until `deadline` at the latest for a case that can proceed, and runs it.
    pub fn select_deadline(&mut self, deadline: Instant) -> Option<Selected<'_>> {
        self.run(Wait::Until(deadline))
    }

    fn run(&mut self, wait: Wait) -> Option<Selected<'_>> {
        let mut list: Vec<&mut dyn SelectCase> = self
            .cases
            .iter_mut()
            .map(|c| &mut *c.0 as &mut dyn SelectCase)
            .collect();
        let index = select(&mut list, wait)?;
        drop(list);
        let case = &mut *self.cases[index].0;
        case.ran();
        Some(Selected { index, case })
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
    pub fn recv<T: 'static>(self) -> Result<T, RecvError> {
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
    pub fn send<T: 'static>(self) -> Result<(), SendError<T>> {
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
