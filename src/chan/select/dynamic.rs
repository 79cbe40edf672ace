//! [`Select`]: a select whose cases are chosen at run time (Go's `reflect.Select`).

use std::any::Any;
use std::time::{Duration, Instant};

use super::super::error::{RecvError, SendError};
use super::super::{Receiver, Sender};
use super::case::{RecvCase, SelectCase, SendCase};
use super::{select, select_biased, wait_for, Wait};

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
/// never ready again (as a nil channel). Receive cases are ready again each time;
/// [`remove`](Select::remove) takes a case out.
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
    /// Ready cases are tried in their order (`new_biased`) rather than a random one.
    biased: bool,
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
    /// The case as a `SelectCase` (written out rather than left to trait upcasting, which
    /// needs Rust 1.86).
    fn as_case(&mut self) -> &mut dyn SelectCase;
}

impl<T: 'static> DynCase for RecvCase<'_, T> {
    fn outcome(&mut self) -> Box<dyn Any> {
        Box::new(self.take_result())
    }

    fn ran(&mut self) {}

    fn as_case(&mut self) -> &mut dyn SelectCase {
        self
    }
}

impl<T: 'static> DynCase for SendCase<'_, T> {
    fn outcome(&mut self) -> Box<dyn Any> {
        Box::new(self.take_result())
    }

    fn ran(&mut self) {
        self.spend();
    }

    fn as_case(&mut self) -> &mut dyn SelectCase {
        self
    }
}

/// A case of a `Select`, boxed so that any element type fits; a removed case is replaced by
/// a nil one, so that the other cases keep their indices.
struct Case<'a> {
    op: Box<dyn DynCase + 'a>,
    removed: bool,
}

impl<'a> Case<'a> {
    fn new(op: Box<dyn DynCase + 'a>) -> Self {
        Case { op, removed: false }
    }
}

// SAFETY: `Select::recv` and `Select::send` only box cases over `T: Send` (and `remove` a
// nil case over `()`), whose channel handles (`&Receiver<T>`, `&Sender<T>`: the channel is
// `Sync` for `T: Send`), pending send value and outcome (`T`, `Result<T, _>`) are all
// `Send`; the box itself is `dyn DynCase`, which says nothing about `Send`. A case's waiter
// (raw pointers to the token and to queue neighbours) is not in the case but in the frame
// of the `select` call, which holds `&mut Select` while it exists.
unsafe impl Send for Case<'_> {}

impl<'a> Select<'a> {
    /// An empty select.
    ///
    /// ```
    /// use goro::chan::{self, Select};
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// tx.send(1).unwrap();
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.select().recv::<i32>(), Ok(1));
    /// ```
    pub fn new() -> Select<'a> {
        Select {
            cases: Vec::new(),
            biased: false,
        }
    }

    /// An empty select whose ready cases are tried in the order they were added, as
    /// [`select_biased!`](crate::select_biased) does (crossbeam-channel:
    /// `Select::new_biased`).
    ///
    /// ```
    /// use goro::chan::{self, Select};
    ///
    /// let (ta, ra) = chan::bounded(1);
    /// let (tb, rb) = chan::bounded(1);
    /// ta.send("a").unwrap();
    /// tb.send("b").unwrap();
    /// let mut sel = Select::new_biased();
    /// let first = sel.recv(&ra);
    /// sel.recv(&rb);
    /// let op = sel.select();
    /// assert_eq!(op.index(), first);
    /// assert_eq!(op.recv::<&str>(), Ok("a"));
    /// ```
    pub fn new_biased() -> Select<'a> {
        Select {
            cases: Vec::new(),
            biased: true,
        }
    }

    /// Removes case `index`; the other cases keep their indices. Typically a receive case
    /// whose channel is closed (and so always ready) is removed.
    ///
    /// crossbeam-channel: `Select::remove`. Go: setting the case's channel to nil.
    ///
    /// ```
    /// use goro::chan::{self, Select};
    ///
    /// let (ta, ra) = chan::bounded::<i32>(1);
    /// let (tb, rb) = chan::bounded::<i32>(1);
    /// drop(ta); // closed: its case is always ready
    /// tb.send(5).unwrap();
    /// let mut sel = Select::new();
    /// let a = sel.recv(&ra);
    /// let b = sel.recv(&rb);
    /// sel.remove(a);
    /// let op = sel.select();
    /// assert_eq!(op.index(), b);
    /// assert_eq!(op.recv::<i32>(), Ok(5));
    /// ```
    ///
    /// # Panics
    ///
    /// If there is no case `index`, or it was removed already.
    pub fn remove(&mut self, index: usize) {
        let case = self
            .cases
            .get_mut(index)
            .filter(|c| !c.removed)
            .unwrap_or_else(|| panic!("Select::remove: no case {index}"));
        *case = Case {
            op: Box::new(RecvCase::<()>::new(None)),
            removed: true,
        };
    }

    /// Adds a receive case; returns its index.
    ///
    /// ```
    /// use goro::chan::{self, Select};
    ///
    /// let (_ta, ra) = chan::bounded::<u8>(1);
    /// let (tb, rb) = chan::bounded(1);
    /// tb.send("b").unwrap();
    /// let mut sel = Select::new();
    /// let (a, b) = (sel.recv(&ra), sel.recv(&rb));
    /// assert_eq!((a, b), (0, 1));
    /// assert_eq!(sel.select().recv::<&str>(), Ok("b"));
    /// ```
    pub fn recv<T: Send + 'static>(&mut self, rx: &'a Receiver<T>) -> usize {
        self.cases
            .push(Case::new(Box::new(RecvCase::new(Some(rx)))));
        self.cases.len() - 1
    }

    /// Adds a send case for `value`; returns its index. The value is evaluated now, as Go
    /// evaluates a select's send values before it blocks; if the case is not chosen it stays
    /// with the case (dropped with the `Select`), never sent. Once the case has run, it is
    /// never ready again.
    ///
    /// ```
    /// use goro::chan::{self, Select};
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// let mut sel = Select::new();
    /// let i = sel.send(&tx, "hello");
    /// let op = sel.select();
    /// assert_eq!(op.index(), i);
    /// assert_eq!(op.send::<&str>(), Ok(()));
    /// assert_eq!(rx.recv(), Ok("hello"));
    /// ```
    pub fn send<T: Send + 'static>(&mut self, tx: &'a Sender<T>, value: T) -> usize {
        self.cases
            .push(Case::new(Box::new(SendCase::new(Some(tx), value))));
        self.cases.len() - 1
    }

    /// Waits until a case can proceed and runs it. With no case at all (or none that can
    /// ever be ready), waits forever.
    ///
    /// ```
    /// use goro::chan::{self, Select};
    ///
    /// let (tx, rx) = chan::bounded(0);
    /// goro::go(move || tx.send(10).unwrap());
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.select().recv::<i32>(), Ok(10)); // parked until the send
    /// ```
    #[track_caller]
    pub fn select(&mut self) -> Selected<'_> {
        self.run(Wait::Forever)
            .expect("a blocking select returns a case")
    }

    /// Runs a case that can proceed now, if any (Go: `select` with `default`).
    ///
    /// ```
    /// use goro::chan::{self, Select};
    ///
    /// let (tx, rx) = chan::bounded::<i32>(1);
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.try_select().is_none());
    /// tx.send(1).unwrap();
    /// assert_eq!(sel.try_select().unwrap().recv::<i32>(), Ok(1));
    /// ```
    pub fn try_select(&mut self) -> Option<Selected<'_>> {
        self.run(Wait::Never)
    }

    /// Waits at most `timeout` for a case that can proceed, and runs it.
    ///
    /// ```
    /// use goro::chan::{self, Select};
    /// use std::time::Duration;
    ///
    /// let (_tx, rx) = chan::bounded::<i32>(0);
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.select_timeout(Duration::from_millis(1)).is_none());
    /// ```
    #[track_caller]
    pub fn select_timeout(&mut self, timeout: Duration) -> Option<Selected<'_>> {
        self.run(wait_for(timeout))
    }

    /// Waits until `deadline` at the latest for a case that can proceed, and runs it.
    ///
    /// ```
    /// use goro::chan::{self, Select};
    /// use std::time::{Duration, Instant};
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// tx.send('x').unwrap();
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// let op = sel.select_deadline(Instant::now() + Duration::from_secs(10)).unwrap();
    /// assert_eq!(op.recv::<char>(), Ok('x'));
    /// ```
    #[track_caller]
    pub fn select_deadline(&mut self, deadline: Instant) -> Option<Selected<'_>> {
        self.run(Wait::Until(deadline))
    }

    #[track_caller]
    fn run(&mut self, wait: Wait) -> Option<Selected<'_>> {
        let mut list: Vec<&mut dyn SelectCase> =
            self.cases.iter_mut().map(|c| c.op.as_case()).collect();
        let index = if self.biased {
            select_biased(&mut list, wait)?
        } else {
            select(&mut list, wait)?
        };
        drop(list);
        let case = &mut *self.cases[index].op;
        case.ran();
        Some(Selected { index, case })
    }
}

impl Selected<'_> {
    /// The index of the case that ran, as returned when it was added.
    ///
    /// ```
    /// use goro::chan::{self, Select};
    ///
    /// let (_ta, ra) = chan::bounded::<i32>(1);
    /// let (tb, rb) = chan::bounded(1);
    /// tb.send(2).unwrap();
    /// let mut sel = Select::new();
    /// sel.recv(&ra);
    /// let b = sel.recv(&rb);
    /// assert_eq!(sel.select().index(), b);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// The outcome of a receive case.
    ///
    /// # Panics
    ///
    /// If the case is not a receive of a `T`.
    ///
    /// ```
    /// use goro::chan::{self, Select};
    ///
    /// let (tx, rx) = chan::bounded::<i32>(1);
    /// drop(tx);
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.select().recv::<i32>(), Err(chan::RecvError)); // closed
    /// ```
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
    ///
    /// ```
    /// use goro::chan::{self, Select};
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// drop(rx); // a send on a channel without receivers fails at once
    /// let mut sel = Select::new();
    /// sel.send(&tx, 4);
    /// assert_eq!(sel.select().send::<i32>(), Err(chan::SendError(4)));
    /// ```
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
            .field("biased", &self.biased)
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
