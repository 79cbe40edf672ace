//! golang.org/x/sync errgroup/errgroup_test.go and errgroup_example_md5all_test.go,
//! rewritten against `goro::group::Group`.
//!
//! goro's deliberate differences, asserted here: `wait` moves the first error out, so a
//! later `wait` reports only errors of tasks started since (Go repeats the first error
//! forever); `set_limit(0)` panics (Go blocks every start); a panicking task is resumed by
//! `wait` (`tests/group_errgroup.rs`).

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan;
use goro::context::{self, Context, ContextError};
use goro::group::Group;

use crate::support::{go_main, payload_str};

#[derive(Clone, Debug, PartialEq)]
struct TestError(&'static str);

impl std::fmt::Display for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for TestError {}

const ERR1: TestError = TestError("errgroup_test: 1");
const ERR2: TestError = TestError("errgroup_test: 2");

/// The cases of TestZeroGroup, TestWithContext and TestCancelCause.
fn cases() -> Vec<Vec<Option<TestError>>> {
    vec![
        vec![],
        vec![None],
        vec![Some(ERR1)],
        vec![Some(ERR1), None],
        vec![Some(ERR1), None, Some(ERR2)],
    ]
}

/// TestZeroGroup: a plain group, no context; after each `go` + `wait`, `wait` reports the
/// first error not yet reported (Go: the first error ever; see the module docs).
#[test]
fn test_zero_group() {
    go_main("TestZeroGroup", || {
        for errs in cases() {
            let g = Group::new();
            for err in &errs {
                let expect = err.clone().map_or(Ok(()), Err);
                let err = err.clone();
                g.go(move || err.map_or(Ok(()), Err));
                assert_eq!(g.wait(), expect, "case {errs:?}");
            }
        }
        // Go's exact sequence for {err1, nil, err2}: the group keeps working after an error.
        let g = Group::new();
        g.go(|| Err(ERR1));
        g.go(|| Ok(()));
        g.go(|| Err(ERR1));
        assert_eq!(g.wait(), Err(ERR1));
        assert_eq!(g.wait(), Ok(()), "the error was handed out already");
    });
}

fn is_done(ctx: &Context) -> bool {
    goro::select! {
        recv(ctx.done()) -> _d => true,
        default => false,
    }
}

/// TestWithContext and TestCancelCause: `wait` returns the first error; the context is done
/// once `wait` returns, whatever happened; its cause is the first error, or `context
/// canceled` when there was none.
#[test]
fn test_with_context_and_cancel_cause() {
    go_main("TestWithContext", || {
        for errs in cases() {
            let (g, ctx) = Group::with_context(&context::background());
            for err in &errs {
                let err = err.clone();
                g.go(move || err.map_or(Ok(()), Err));
            }
            // The tasks race: with two errors, either may be the first.
            let result = g.wait();
            let first = result.clone().err();
            match &first {
                Some(e) => assert!(errs.contains(&Some(e.clone())), "case {errs:?}: {e:?}"),
                None => assert!(errs.iter().all(Option::is_none), "case {errs:?}"),
            }
            assert!(is_done(&ctx), "case {errs:?}: context not done after wait");
            assert_eq!(ctx.err(), Some(ContextError::Canceled));
            let cause = ctx.cause().unwrap().to_string();
            match first {
                Some(e) => assert_eq!(cause, e.0, "case {errs:?}"),
                None => assert_eq!(cause, "context canceled", "case {errs:?}"),
            }
        }
    });
}

/// TestWithContext's cancellation before `wait`: the first error cancels the context while
/// the other tasks still run (they stop on `done`).
#[test]
fn test_with_context_cancels_on_first_error() {
    go_main("TestWithContextEarly", || {
        let (g, ctx) = Group::with_context(&context::background());
        for _ in 0..10 {
            let ctx = ctx.clone();
            g.go(move || {
                let _ = ctx.done().recv();
                Ok(())
            });
        }
        g.go(|| Err(ERR1));
        assert_eq!(g.wait(), Err(ERR1));
    });
}

/// TestTryGo: with a limit of 42, 42 blocked tasks start and the 43rd `try_go` fails; after
/// `wait`, `try_go` succeeds again; with a limit of 1, one and then none. `set_limit(0)` is
/// refused with a clear panic (Go: every `TryGo` fails).
#[test]
fn test_try_go() {
    let _quiet = crate::support::expect_panics();
    go_main("TestTryGo", || {
        let g = Group::<TestError>::new();
        let n = 42;
        g.set_limit(n);
        let (release_tx, release) = chan::bounded::<()>(0);
        for i in 0..n {
            let release = release.clone();
            let started = g.try_go(move || {
                let _ = release.recv();
                Ok(())
            });
            assert!(started, "try_go {i} of {n} failed under the limit");
        }
        assert!(!g.try_go(|| Err(ERR1)), "try_go beyond the limit started");
        release_tx.close();
        g.wait().unwrap();

        assert!(g.try_go(|| Err(ERR1)), "try_go after wait failed");
        assert_eq!(g.wait(), Err(ERR1));

        g.set_limit(1);
        let (release_tx, release) = chan::bounded::<()>(0);
        assert!(g.try_go(move || {
            let _ = release.recv();
            Ok(())
        }));
        assert!(!g.try_go(|| Ok(())));
        release_tx.close();
        g.wait().unwrap();

        let r = panic::catch_unwind(AssertUnwindSafe(|| g.set_limit(0)));
        let p = r.expect_err("set_limit(0) must panic");
        let msg = payload_str(&*p).unwrap_or_default();
        assert!(msg.contains("set_limit(0)"), "{msg}");
        assert_eq!(g.limit(), Some(1), "a refused limit changes nothing");
    });
}

/// TestGoLimit: 1,025 `go` calls under a limit of 10 never have more than 10 tasks running:
/// `go` waits for a place.
#[test]
fn test_go_limit() {
    go_main("TestGoLimit", || {
        const LIMIT: usize = 10;
        let g = Group::<TestError>::new();
        g.set_limit(LIMIT);
        let active = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        for _ in 0..1025 {
            let (active, peak) = (active.clone(), peak.clone());
            g.go(move || {
                let n = active.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                assert!(n <= LIMIT, "{n} tasks running under a limit of {LIMIT}");
                goro::sleep(Duration::from_millis(1));
                active.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            });
        }
        g.wait().unwrap();
        assert!(peak.load(Ordering::SeqCst) <= LIMIT);
    });
}

/// SetLimit while goroutines are active panics with Go's message; a negative limit (goro:
/// `remove_limit`) means no limit.
#[test]
fn test_set_limit_while_active() {
    let _quiet = crate::support::expect_panics();
    go_main("TestSetLimitWhileActive", || {
        let g = Group::<TestError>::new();
        g.set_limit(2);
        let (release_tx, release) = chan::bounded::<()>(0);
        g.go(move || {
            let _ = release.recv();
            Ok(())
        });
        let r = panic::catch_unwind(AssertUnwindSafe(|| g.set_limit(5)));
        let p = r.expect_err("changing an active limit must panic");
        let msg = payload_str(&*p).unwrap_or_default();
        assert_eq!(
            msg,
            "errgroup: modify limit while 1 goroutines in the group are still active"
        );
        release_tx.close();
        g.wait().unwrap();
        g.remove_limit();
        assert_eq!(g.limit(), None);
        let (release_tx, release) = chan::bounded::<()>(0);
        for _ in 0..100 {
            let release = release.clone();
            assert!(g.try_go(move || {
                let _ = release.recv();
                Ok(())
            }));
        }
        release_tx.close();
        g.wait().unwrap();
    });
}

/// ExampleGroup_parallel: three searches run in parallel, results in a fixed order through
/// their index.
#[test]
fn example_group_parallel() {
    go_main("ExampleGroup_parallel", || {
        type Search = fn(&str) -> Result<String, TestError>;
        let searches: [Search; 3] = [
            |q| Ok(format!("web result for {q:?}")),
            |q| Ok(format!("image result for {q:?}")),
            |q| Ok(format!("video result for {q:?}")),
        ];
        let google = |query: &'static str| -> Result<Vec<String>, TestError> {
            let g = Group::new();
            let results = Arc::new(std::sync::Mutex::new(vec![String::new(); searches.len()]));
            for (i, search) in searches.into_iter().enumerate() {
                let results = results.clone();
                g.go(move || {
                    let r = search(query)?;
                    results.lock().unwrap()[i] = r;
                    Ok(())
                });
            }
            g.wait()?;
            let r = results.lock().unwrap().clone();
            Ok(r)
        };
        let results = google("golang").unwrap();
        assert_eq!(
            results,
            [
                "web result for \"golang\"",
                "image result for \"golang\"",
                "video result for \"golang\""
            ]
        );
    });
}

/// ExampleGroup_justErrors: fetch URLs concurrently, report the first failure (here a fake
/// fetch; the third host does not resolve).
#[test]
fn example_group_just_errors() {
    go_main("ExampleGroup_justErrors", || {
        let urls = [
            "http://www.golang.org/",
            "http://www.google.com/",
            "http://www.somestupidname.com/",
        ];
        let g = Group::new();
        for url in urls {
            g.go(move || {
                goro::sleep(Duration::from_millis(1));
                if url.contains("somestupidname") {
                    Err(format!(
                        "Get {url:?}: dial tcp: lookup www.somestupidname.com: no such host"
                    ))
                } else {
                    Ok(())
                }
            });
        }
        let err = g.wait().unwrap_err();
        assert!(err.contains("no such host"), "{err}");
    });
}

/// errgroup_example_md5all_test.go: a pipeline under `Group::with_context`: one walker
/// feeding paths, 20 digesters, a closer; the result map equals a sequential computation.
/// A failing read cancels the context, and every stage stops.
#[test]
fn example_pipeline_md5all() {
    go_main("ExampleGroup_pipeline", || {
        fn digest(content: &str) -> u64 {
            let mut h = DefaultHasher::new();
            content.hash(&mut h);
            h.finish()
        }
        fn md5_all(
            ctx: &Context,
            files: Arc<Vec<(String, Option<String>)>>,
        ) -> Result<BTreeMap<String, u64>, String> {
            let (g, ctx) = Group::with_context(ctx);
            let (paths_tx, paths) = chan::bounded::<usize>(0);
            {
                let (ctx, files) = (ctx.clone(), files.clone());
                g.go(move || {
                    for i in 0..files.len() {
                        goro::select! {
                            send(paths_tx, i) -> _r => {},
                            recv(ctx.done()) -> _d => return Err(ctx.err().unwrap().to_string()),
                        }
                    }
                    Ok(())
                });
            }
            let (c_tx, c) = chan::bounded::<(String, u64)>(0);
            const NUM_DIGESTERS: usize = 20;
            for _ in 0..NUM_DIGESTERS {
                let (ctx, files, paths, c_tx) =
                    (ctx.clone(), files.clone(), paths.clone(), c_tx.clone());
                g.go(move || {
                    for i in &paths {
                        let (path, content) = &files[i];
                        let Some(content) = content else {
                            return Err(format!("open {path}: permission denied"));
                        };
                        goro::select! {
                            send(c_tx, (path.clone(), digest(content))) -> _r => {},
                            recv(ctx.done()) -> _d => return Err(ctx.err().unwrap().to_string()),
                        }
                    }
                    Ok(())
                });
            }
            drop(paths);
            // The closer: `c` ends when every digester has returned.
            let closer = {
                let g = g.clone();
                goro::go(move || {
                    let r = g.wait();
                    drop(c_tx);
                    r
                })
            };
            let mut m = BTreeMap::new();
            for (path, sum) in &c {
                m.insert(path, sum);
            }
            closer.join().unwrap()?;
            Ok(m)
        }

        let files: Vec<(String, Option<String>)> = (0..200)
            .map(|i| {
                (
                    format!("dir/file{i:03}"),
                    Some(format!("content of file {i}")),
                )
            })
            .collect();
        let expect: BTreeMap<String, u64> = files
            .iter()
            .map(|(p, c)| (p.clone(), digest(c.as_ref().unwrap())))
            .collect();
        let got = md5_all(&context::background(), Arc::new(files.clone())).unwrap();
        assert_eq!(got, expect);

        let mut broken = files;
        broken[77].1 = None;
        let err = md5_all(&context::background(), Arc::new(broken)).unwrap_err();
        assert_eq!(err, "open dir/file077: permission denied");
    });
}
