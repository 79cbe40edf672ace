//! src/context/example_test.go: the package examples, with their `// Output:` checked.
//! ExampleAfterFunc_connection needs a network connection: not ported here.

use std::time::{Duration, Instant};

use goro::chan::{self, Receiver};
use goro::context::{self, CancelFn, Context, Key};

use crate::support::go_main;

/// ExampleWithCancel: a generator goroutine sends 1, 2, 3, ... until its context is
/// cancelled; the consumer takes five and cancels, which stops the generator (no leak).
#[test]
fn example_with_cancel() {
    go_main("ExampleWithCancel", || {
        fn gen(ctx: Context) -> (Receiver<i32>, goro::JoinHandle<()>) {
            let (dst, rx) = chan::bounded(0);
            let h = goro::go(move || {
                let mut n = 1;
                loop {
                    goro::select! {
                        recv(ctx.done()) -> _d => return, // returning not to leak the goroutine
                        send(dst, n) -> _r => n += 1,
                    }
                }
            });
            (rx, h)
        }

        let (ctx, cancel) = context::background().with_cancel();
        let (numbers, generator) = gen(ctx);
        let mut out = Vec::new();
        for n in &numbers {
            out.push(n);
            if n == 5 {
                break;
            }
        }
        cancel(); // cancel when we are finished consuming integers
        generator.join().unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5]);
    });
}

/// ExampleWithDeadline and ExampleWithTimeout: a 1 ms deadline against a 1 s `time.After`:
/// the context wins and prints `context deadline exceeded`.
#[test]
fn example_with_deadline_and_timeout() {
    go_main("ExampleWithDeadline", || {
        let short = Duration::from_millis(1);
        let run = |ctx: Context, cancel: CancelFn| {
            let _guard = cancel.guard(); // defer cancel()
            goro::select! {
                recv(goro::time::after(Duration::from_secs(1))) -> _t => "overslept".to_string(),
                recv(ctx.done()) -> _d => ctx.err().unwrap().to_string(),
            }
        };
        let (ctx, cancel) = context::background().with_deadline(Instant::now() + short);
        assert_eq!(run(ctx, cancel), "context deadline exceeded");
        let (ctx, cancel) = context::background().with_timeout(short);
        assert_eq!(run(ctx, cancel), "context deadline exceeded");
    });
}

/// ExampleWithValue: `found value: Go`, then `key not found: color`.
#[test]
fn example_with_value() {
    go_main("ExampleWithValue", || {
        static LANGUAGE: Key<&str> = Key::new("language");
        static COLOR: Key<&str> = Key::new("color");
        let f = |ctx: &Context, key: &Key<&'static str>| match ctx.value(key) {
            Some(v) => format!("found value: {v}"),
            None => format!("key not found: {}", key.name()),
        };
        let ctx = context::background().with_value(&LANGUAGE, "Go");
        assert_eq!(f(&ctx, &LANGUAGE), "found value: Go");
        assert_eq!(f(&ctx, &COLOR), "key not found: color");
    });
}

/// ExampleAfterFunc_merge: a context carrying `ctx1`'s values that is also cancelled when
/// `ctx2` is, with `ctx2`'s cause: prints `ctx2 canceled`.
#[test]
fn example_after_func_merge() {
    go_main("ExampleAfterFunc_merge", || {
        /// A context with the values of `ctx`, cancelled when either `ctx` or `cancel_ctx`
        /// is.
        fn merge_cancel(ctx: &Context, cancel_ctx: &Context) -> (Context, impl Fn()) {
            let (ctx, cancel) = ctx.with_cancel_cause();
            let (from, cancel_from_other) = (cancel_ctx.clone(), cancel.clone());
            let stop = cancel_ctx.after_func(move || {
                cancel_from_other(from.cause().map(|c| Box::new(c) as context::BoxError));
            });
            (ctx, move || {
                stop();
                cancel(None);
            })
        }

        let (ctx1, cancel1) = context::background().with_cancel_cause();
        let (ctx2, cancel2) = context::background().with_cancel_cause();
        let (merged, merged_cancel) = merge_cancel(&ctx1, &ctx2);
        cancel2(Some("ctx2 canceled".into()));
        let _ = merged.done().recv();
        assert_eq!(merged.cause().unwrap().to_string(), "ctx2 canceled");
        merged_cancel();
        cancel1(Some("ctx1 canceled".into()));
    });
}

/// ExampleAfterFunc_cond: waiting on a `Cond` until a context ends. The `after_func`
/// callback takes the lock before broadcasting, so the broadcast cannot slip in between a
/// waiter's check and its `wait`; four goroutines with 1 ms timeouts each print
/// `context deadline exceeded`.
#[test]
fn example_after_func_cond() {
    use goro::context::ContextError;
    use goro::sync::{Cond, Mutex, WaitGroup};
    use std::sync::Arc;

    go_main("ExampleAfterFunc_cond", || {
        fn wait_on_cond(
            ctx: &Context,
            lock: &Arc<(Mutex<()>, Cond)>,
            mut guard: goro::sync::MutexGuard<'_, ()>,
            condition_met: impl Fn() -> bool,
        ) -> Result<(), ContextError> {
            let l = Arc::clone(lock);
            let stop = ctx.after_func(move || {
                // Take the lock, so this broadcast cannot come before the waiter's wait.
                let _held = l.0.lock();
                l.1.broadcast();
            });
            let result = loop {
                if condition_met() {
                    break Ok(());
                }
                guard = lock.1.wait(guard);
                // Broadcasts also wake us for other goroutines' contexts: check ours.
                if let Some(err) = ctx.err() {
                    break Err(err);
                }
            };
            drop(guard);
            stop();
            result
        }

        let lock = Arc::new((Mutex::new(()), Cond::new()));
        let out = Arc::new(std::sync::Mutex::new(Vec::new()));
        let wg = WaitGroup::new();
        for _ in 0..4 {
            let (lock, out) = (lock.clone(), out.clone());
            wg.go(move || {
                let (ctx, cancel) = context::background().with_timeout(Duration::from_millis(1));
                let guard = lock.0.lock();
                let err = wait_on_cond(&ctx, &lock, guard, || false).unwrap_err();
                out.lock().unwrap().push(err.to_string());
                cancel();
            });
        }
        wg.wait();
        assert_eq!(
            *out.lock().unwrap(),
            vec!["context deadline exceeded"; 4],
            "Output:"
        );
    });
}
