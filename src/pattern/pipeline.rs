//! `Pipeline`: stages that fail together and stop together.
//!
//! Go's recipe for a pipeline that can fail (the x/sync errgroup example, itself the
//! pipelines blog post's MD5 program) is: one `errgroup.WithContext`; every stage a
//! function of the group; every blocking send or receive of a stage a `select` that also
//! waits on `ctx.Done()` and then returns `ctx.Err()`; the consumer ranges over the last
//! channel and then calls `g.Wait()` for the first error. A `Pipeline` is that recipe: a
//! `Group` made by `Group::with_context`, the stage loops written once, and the two
//! blocking steps offered as `recv` and `send` for stages of one's own. The public docs of
//! `Pipeline` list the ways a stage ends.

use std::fmt;
use std::sync::Arc;

use crate::chan::{self, Receiver, Sender};
use crate::context::{Context, ContextError};
use crate::group::Group;

/// A set of goroutines forming a pipeline: the first error (or panic) of any stage cancels
/// them all, and [`wait`](Self::wait) returns it.
///
/// Go: `g, ctx := errgroup.WithContext(ctx)`, with every stage a `g.Go` function whose
/// sends and receives also wait on `ctx.Done()`. [`generate`](Self::generate) starts a
/// source, [`try_map`](Self::try_map) and [`try_map_ordered`](Self::try_map_ordered) start
/// stages whose function returns `Result<U, E>`, and [`go`](Self::go) runs a stage of your
/// own (use [`recv`](Self::recv) and [`send`](Self::send) in it). Consume the last stage's
/// output, then call [`wait`](Self::wait).
///
/// `E` must convert from [`ContextError`], the error of a stage stopped by the context (Go
/// returns `ctx.Err()` there), and be `Display`, to become the context's
/// [`cause`](Context::cause). [`BoxError`](crate::context::BoxError) qualifies, as does an
/// error enum with a `ContextError` variant.
///
/// ```
/// use goro::context::{self, BoxError};
/// use goro::pattern::Pipeline;
///
/// #[goro::main]
/// fn main() {
///     let p = Pipeline::<BoxError>::new(&context::background());
///     let lines = p.generate(["3", "4", "x", "5"]);
///     let numbers = p.try_map(lines, 2, |s: &str| Ok(s.parse::<i64>()?));
///     let partial: i64 = numbers.iter().sum(); // ends early: "x" fails and cancels the rest
///     let err = p.wait().unwrap_err();
///     assert_eq!(err.to_string(), "invalid digit found in string");
///     println!("sum of the numbers before the failure: {partial}");
/// }
/// ```
///
/// # How a stage ends
///
/// 1. Its input is closed and drained: it returns `Ok(())`, dropping its output sender, so
///    the next stage sees its own input close and ends the same way, down to the consumer.
/// 2. Its function fails: it returns the error. The pipeline keeps the first error and
///    cancels its context, with the error's text as the [cause](Context::cause).
/// 3. The context ends (after 2 or 5 in another stage, or because the parent context
///    ended): its pending receive or send gives up, and it returns `E::from(ctx.err())`,
///    as a Go stage returns `ctx.Err()`. Only the first error is kept, so after 2 `wait`
///    returns that stage's error; after the parent ended, `Canceled` or
///    `DeadlineExceeded`.
/// 4. Its consumer is gone (every receiver of its output dropped): its send fails and it
///    returns `Ok(())`, dropping its input, so the stage before it ends the same way. An
///    early stop by the consumer is a choice, not an error: `wait` returns `Ok(())`.
/// 5. Its function panics: the pipeline catches the panic and cancels its context, so the
///    other stages end as in 3, and [`wait`](Self::wait) re-raises the panic.
///
/// After 2, 3 or 5, every stage ends, so every output closes (the consumer gets a prefix
/// of what it would have got, for an ordered stage) and the consumer's loop ends; `wait`
/// then says why.
pub struct Pipeline<E> {
    group: Group<E>,
    /// The group's context: cancelled by the first error or panic, or by the parent.
    ctx: Context,
    /// `ctx.done()`, fetched once (each call takes the context's lock).
    done: Receiver<()>,
}

impl<E> Pipeline<E>
where
    E: From<ContextError> + fmt::Display + Send + 'static,
{
    /// A pipeline whose context is a child of `parent`: ending `parent` stops every stage.
    ///
    /// Go: `errgroup.WithContext(parent)`.
    ///
    /// ```
    /// use goro::context::{self, BoxError};
    /// use goro::pattern::Pipeline;
    ///
    /// let (parent, cancel) = context::background().with_cancel();
    /// let p = Pipeline::<BoxError>::new(&parent);
    /// cancel(); // ending the parent ends the pipeline
    /// assert!(p.context().err().is_some());
    /// p.wait().unwrap();
    /// ```
    pub fn new(parent: &Context) -> Pipeline<E> {
        let (group, ctx) = Group::with_context_text(parent);
        let done = ctx.done();
        Pipeline { group, ctx, done }
    }

    /// The pipeline's context: it ends at the first error or panic of a stage, when the
    /// parent ends, or when [`wait`](Self::wait) returns.
    ///
    /// Go: the `ctx` returned by `errgroup.WithContext`. Hand it to code that `f` calls, so
    /// that a long computation can stop early too.
    ///
    /// ```
    /// use goro::context::{self, BoxError};
    /// use goro::pattern::Pipeline;
    ///
    /// let p = Pipeline::<BoxError>::new(&context::background());
    /// p.go(|| Err("stage failed".into()));
    /// assert!(p.wait().is_err());
    /// assert_eq!(p.context().cause().unwrap().to_string(), "stage failed");
    /// ```
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// A source stage: a channel yielding the items of `iter`, in order, then closed.
    ///
    /// Go: the first function of errgroup's pipeline example, sending each item in a
    /// `select` that also waits on `ctx.Done()`. As [`pattern::generate`](super::generate),
    /// but it also stops when the pipeline's context ends, returning the context's error.
    ///
    /// ```
    /// use goro::context::{self, BoxError};
    /// use goro::pattern::Pipeline;
    ///
    /// let p = Pipeline::<BoxError>::new(&context::background());
    /// let words = p.generate(["a", "b"]);
    /// assert_eq!(words.iter().collect::<Vec<_>>(), ["a", "b"]);
    /// p.wait().unwrap();
    /// ```
    pub fn generate<I>(&self, iter: I) -> Receiver<I::Item>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'static,
        I::Item: Send + 'static,
    {
        let (tx, rx) = chan::bounded(0);
        let items = iter.into_iter();
        let p = self.clone();
        self.group.go(move || {
            for item in items {
                if !p.send(&tx, item)? {
                    break;
                }
            }
            Ok(())
        });
        rx
    }

    /// A stage of `n` goroutines applying `f` to the values of `input`; its output yields
    /// the `Ok` results as they are finished (in no particular order) and closes once
    /// `input` is closed and every result is taken, or once the pipeline is cancelled.
    ///
    /// Go: `n` errgroup functions ranging over one channel, each returning the first error
    /// of its function. The first `Err` of `f` cancels the pipeline and is returned by
    /// [`wait`](Self::wait); the output then closes without the results that were pending.
    ///
    /// # Panics
    ///
    /// If `n` is 0: no worker would ever take a value.
    ///
    /// ```
    /// use goro::context::{self, BoxError};
    /// use goro::pattern::Pipeline;
    ///
    /// #[goro::main]
    /// fn main() {
    ///     let p = Pipeline::<BoxError>::new(&context::background());
    ///     let doubled = p.try_map(p.generate(1..=100u32), 8, |x| Ok(x * 2));
    ///     assert_eq!(doubled.iter().sum::<u32>(), 10_100);
    ///     p.wait().unwrap();
    /// }
    /// ```
    pub fn try_map<T, U, F>(&self, input: Receiver<T>, n: usize, f: F) -> Receiver<U>
    where
        T: Send + 'static,
        U: Send + 'static,
        F: Fn(T) -> Result<U, E> + Send + Sync + 'static,
    {
        assert!(
            n > 0,
            "goro::pattern::Pipeline::try_map: n is 0, so no worker would ever take a value"
        );
        let f = Arc::new(f);
        let (tx, rx) = chan::bounded(0);
        for _ in 0..n {
            let (p, input, tx, f) = (self.clone(), input.clone(), tx.clone(), Arc::clone(&f));
            self.group.go(move || {
                while let Some(v) = p.recv(&input)? {
                    if !p.send(&tx, f(v)?)? {
                        break;
                    }
                }
                Ok(())
            });
        }
        rx
    }

    /// A stage applying `f` to the values of `input` with at most `n` calls running at
    /// once; its output yields the results in the input's order and closes once `input` is
    /// closed and every result is taken, or once the pipeline is cancelled.
    ///
    /// Go: a channel of result channels fed by errgroup functions, written out by hand.
    /// As [`pattern::map_ordered`](super::map_ordered) (a goroutine per value, at most `n`
    /// values being mapped or waiting to be passed on), with errors: the first `Err` of `f`
    /// cancels the pipeline and is returned by [`wait`](Self::wait), and the output ends
    /// before the value that failed (earlier if the cancellation overtakes the results
    /// still waiting to be passed on: it wins over them).
    ///
    /// # Panics
    ///
    /// If `n` is 0: no value could ever be mapped.
    ///
    /// ```
    /// use goro::context::{self, BoxError};
    /// use goro::pattern::Pipeline;
    ///
    /// #[goro::main]
    /// fn main() {
    ///     let p = Pipeline::<BoxError>::new(&context::background());
    ///     let out = p.try_map_ordered(p.generate(0..6u64), 3, |i| {
    ///         if i == 4 {
    ///             Err(format!("value {i} is cursed").into())
    ///         } else {
    ///             Ok(i * i)
    ///         }
    ///     });
    ///     let got: Vec<u64> = out.iter().collect();
    ///     // In order; cut at the failed value, or before it if the cancellation was faster.
    ///     assert!([0, 1, 4, 9].starts_with(&got), "{got:?}");
    ///     assert_eq!(p.wait().unwrap_err().to_string(), "value 4 is cursed");
    /// }
    /// ```
    pub fn try_map_ordered<T, U, F>(&self, input: Receiver<T>, n: usize, f: F) -> Receiver<U>
    where
        T: Send + 'static,
        U: Send + 'static,
        F: Fn(T) -> Result<U, E> + Send + Sync + 'static,
    {
        assert!(
            n > 0,
            "goro::pattern::Pipeline::try_map_ordered: n is 0, so no value could ever be mapped"
        );
        let f = Arc::new(f);
        let (out_tx, out_rx) = chan::bounded(0);
        // Result channels of the values dispatched and not yet collected, in input order;
        // `pattern::map_ordered` explains why a capacity of `n - 1` bounds `f` to `n` calls.
        let (queue_tx, queue_rx) = chan::bounded::<Receiver<U>>(n - 1);

        // Dispatcher.
        let p = self.clone();
        self.group.go(move || {
            while let Some(v) = p.recv(&input)? {
                let (result_tx, result_rx) = chan::bounded(1);
                if !p.send(&queue_tx, result_rx)? {
                    break; // the collector has stopped
                }
                let f = Arc::clone(&f);
                p.group.go(move || {
                    // Capacity 1: never blocks. On `Err` or a panic `result_tx` is dropped
                    // unsent, and the group records the failure.
                    let _ = result_tx.send(f(v)?);
                    Ok(())
                });
            }
            Ok(())
        });

        // Collector.
        let p = self.clone();
        self.group.go(move || {
            while let Some(result) = p.recv(&queue_rx)? {
                // `None`: this value failed; its own goroutine reports why.
                let Some(u) = p.recv(&result)? else { break };
                if !p.send(&out_tx, u)? {
                    break;
                }
            }
            Ok(())
        });

        out_rx
    }

    /// Runs `f` as a stage of the pipeline: an error it returns, or a panic, cancels the
    /// pipeline and is reported by [`wait`](Self::wait).
    ///
    /// Go: `g.Go(f)`. For stages other than maps: filters, batching, sinks. Block only
    /// through [`recv`](Self::recv) and [`send`](Self::send) (or a `select!` that also waits
    /// on the [context](Self::context)'s `done`), and pass their errors on with `?`, so the
    /// stage stops when the pipeline does.
    ///
    /// ```
    /// use goro::chan;
    /// use goro::context::{self, BoxError};
    /// use goro::pattern::Pipeline;
    ///
    /// #[goro::main]
    /// fn main() {
    ///     let p = Pipeline::<BoxError>::new(&context::background());
    ///     let numbers = p.generate(1..=10);
    ///     let (tx, evens) = chan::bounded(0);
    ///     let stage = p.clone();
    ///     p.go(move || {
    ///         // A filter stage.
    ///         while let Some(n) = stage.recv(&numbers)? {
    ///             if n % 2 == 0 && !stage.send(&tx, n)? {
    ///                 break; // nobody reads `evens` any more
    ///             }
    ///         }
    ///         Ok(())
    ///     });
    ///     assert_eq!(evens.iter().collect::<Vec<i32>>(), [2, 4, 6, 8, 10]);
    ///     p.wait().unwrap();
    /// }
    /// ```
    #[track_caller]
    pub fn go<F>(&self, f: F)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        self.group.go(f);
    }

    /// Waits for the next value of `input`: `Ok(Some(v))`, or `Ok(None)` once `input` is
    /// closed and drained, or `Err` (the context's error, converted) once the pipeline's
    /// context has ended.
    ///
    /// Go: `select { case v, ok := <-in: ...; case <-ctx.Done(): return ctx.Err() }`. An
    /// ended context wins over a ready value, so a stage stops at once.
    ///
    /// ```
    /// use goro::context::{self, BoxError};
    /// use goro::pattern::Pipeline;
    ///
    /// let p = Pipeline::<BoxError>::new(&context::background());
    /// let input = p.generate([1, 2]);
    /// assert_eq!(p.recv(&input).unwrap(), Some(1));
    /// assert_eq!(p.recv(&input).unwrap(), Some(2));
    /// assert_eq!(p.recv(&input).unwrap(), None); // closed and drained
    /// p.wait().unwrap();
    /// ```
    pub fn recv<T: Send>(&self, input: &Receiver<T>) -> Result<Option<T>, E> {
        self.check()?;
        crate::select! {
            recv(self.done) -> _ => Err(self.ended()),
            recv(input) -> v => Ok(v.ok()),
        }
    }

    /// Sends `v` on `out`: `Ok(true)` once a receiver has it, `Ok(false)` if every receiver
    /// of `out` is gone (`v` is dropped; the stage should return `Ok(())`), or `Err` (the
    /// context's error, converted) once the pipeline's context has ended.
    ///
    /// Go: `select { case out <- v: case <-ctx.Done(): return ctx.Err() }`. An ended
    /// context wins over a waiting receiver, so no value leaves a stage once it has seen the
    /// context end.
    ///
    /// ```
    /// use goro::{chan, context::{self, BoxError}};
    /// use goro::pattern::Pipeline;
    ///
    /// let p = Pipeline::<BoxError>::new(&context::background());
    /// let (tx, rx) = chan::bounded(1);
    /// assert!(p.send(&tx, "a").unwrap()); // taken (into the buffer)
    /// drop(rx);
    /// assert!(!p.send(&tx, "b").unwrap()); // nobody receives any more
    /// p.wait().unwrap();
    /// ```
    pub fn send<T: Send>(&self, out: &Sender<T>, v: T) -> Result<bool, E> {
        self.check()?;
        crate::select! {
            send(out, v) -> r => Ok(r.is_ok()),
            recv(self.done) -> _ => Err(self.ended()),
        }
    }

    /// Waits until every stage has returned, then returns the first error of any of them.
    ///
    /// Go: `g.Wait()`. Drain the last stage's output, or drop it, before calling this: a
    /// stage blocked sending to a consumer that neither reads nor drops its receiver never
    /// returns. Cancels the pipeline's context once the stages are done: a pipeline runs
    /// once, and a stage started after `wait` stops at once with the context's error.
    ///
    /// # Panics
    ///
    /// If a stage panicked, with that panic's payload, once every stage has returned.
    ///
    /// ```
    /// use goro::context::{self, BoxError};
    /// use goro::pattern::Pipeline;
    ///
    /// let p = Pipeline::<BoxError>::new(&context::background());
    /// let doubled = p.try_map(p.generate(1..=3), 2, |n: i32| Ok(n * 2));
    /// assert_eq!(doubled.iter().sum::<i32>(), 12); // drain the output first
    /// p.wait().unwrap(); // then every stage has returned Ok
    /// ```
    pub fn wait(&self) -> Result<(), E> {
        self.group.wait()
    }

    /// `Err` if the context has ended.
    fn check(&self) -> Result<(), E> {
        match self.ctx.err() {
            Some(e) => Err(E::from(e)),
            None => Ok(()),
        }
    }

    /// The error of a stage that saw `done` closed.
    fn ended(&self) -> E {
        // A context stores its error before closing `done`, so this is `Some`.
        E::from(self.ctx.err().unwrap_or(ContextError::Canceled))
    }
}

impl<E> Clone for Pipeline<E> {
    fn clone(&self) -> Pipeline<E> {
        Pipeline {
            group: self.group.clone(),
            ctx: self.ctx.clone(),
            done: self.done.clone(),
        }
    }
}

impl<E> fmt::Debug for Pipeline<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("group", &self.group)
            .field("ctx", &self.ctx)
            .finish()
    }
}
