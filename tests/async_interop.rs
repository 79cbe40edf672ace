//! goro and async Rust: goroutines that await (`block_on`), goroutines, pool jobs and
//! contexts awaited from async code, and channels as streams and sinks.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use goro::chan;
use goro::context;
use goro::pool::{Pool, TaskError};

mod support;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A future that is pending `n` times, waking its task from another thread each time.
struct WakeFromElsewhere {
    left: usize,
}

impl Future for WakeFromElsewhere {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        if self.left == 0 {
            return Poll::Ready(7);
        }
        self.left -= 1;
        let w = cx.waker().clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1));
            w.wake();
        });
        Poll::Pending
    }
}

#[goro::test]
fn block_on_parks_the_goroutine_not_the_worker() {
    // With one worker, a goroutine pending in `block_on` must let another goroutine run:
    // the second one's progress is what completes the first one's future.
    let (tx, rx) = chan::bounded::<u32>(0);
    let waiter = goro::go(move || goro::block_on(rx.recv_async()).unwrap());
    let sender = goro::go(move || tx.send(5).unwrap());
    sender.join().unwrap();
    assert_eq!(waiter.join().unwrap(), 5);
}

#[goro::test(maxprocs = 1)]
fn block_on_with_one_worker() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let waiter = goro::go(move || goro::block_on(rx.recv_async()).unwrap());
    let sender = goro::go(move || tx.send(9).unwrap());
    assert_eq!(waiter.join().unwrap(), 9);
    sender.join().unwrap();
}

#[test]
fn block_on_on_goroutines_and_threads_with_foreign_wakers() {
    let hs: Vec<_> = (0..20)
        .map(|_| goro::go(|| goro::block_on(WakeFromElsewhere { left: 5 })))
        .collect();
    for h in hs {
        assert_eq!(h.join().unwrap(), 7);
    }
    assert_eq!(goro::block_on(WakeFromElsewhere { left: 3 }), 7);
}

#[test]
fn goroutines_call_tokio_through_a_handle() {
    let rt = runtime();
    let handle = rt.handle().clone();
    let hs: Vec<_> = (0..50u64)
        .map(|i| {
            let handle = handle.clone();
            goro::go(move || {
                let task = handle.spawn(async move {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    i * 2
                });
                goro::block_on(task).unwrap()
            })
        })
        .collect();
    let total: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 2 * (0..50).sum::<u64>());
}

#[test]
fn join_handles_are_awaited() {
    let _quiet = support::expect_panics();
    let rt = runtime();
    let got = rt.block_on(async {
        let slow = goro::go(|| {
            goro::sleep(Duration::from_millis(10));
            1
        });
        let fast = goro::go(|| 2);
        let panics = goro::go(|| -> u32 { panic!("expected panic in an awaited goroutine") });
        (
            slow.await.unwrap(),
            fast.await.unwrap(),
            panics.await.is_err(),
        )
    });
    assert_eq!(got, (1, 2, true));
}

#[test]
fn a_join_future_polled_by_several_tasks_in_turn_still_wakes() {
    // The future moves between tasks (a `select!` in one, then another): the waker the
    // goroutine wakes must be the last one given.
    let rt = runtime();
    let (tx, rx) = chan::bounded::<()>(0);
    let h = goro::go(move || rx.recv().unwrap());
    let mut fut = Box::pin(std::future::IntoFuture::into_future(h));
    rt.block_on(async {
        tokio::select! {
            _ = &mut fut => panic!("not finished yet"),
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    });
    let task = rt.spawn(async move { fut.await.unwrap() });
    std::thread::sleep(Duration::from_millis(5));
    tx.send(()).unwrap();
    rt.block_on(task).unwrap();
}

#[test]
fn pool_results_are_awaited() {
    let _quiet = support::expect_panics();
    let rt = runtime();
    let pool = Pool::new(2);
    let handles: Vec<_> = (0..100u64)
        .map(|i| pool.submit_with_value(move || i * i).unwrap())
        .collect();
    let failing = pool
        .submit_with_value(|| -> u64 { panic!("expected panic in a pool job") })
        .unwrap();
    let total = rt.block_on(async {
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..100u64).map(|i| i * i).sum::<u64>());
    assert!(matches!(rt.block_on(failing), Err(TaskError::Panicked(_))));
    pool.stop();
}

#[test]
fn contexts_are_awaited() {
    let rt = runtime();
    let (ctx, cancel) = context::background().with_cancel();
    let waiting = {
        let ctx = ctx.clone();
        rt.spawn(async move {
            ctx.done_async().await;
            ctx.err()
        })
    };
    std::thread::sleep(Duration::from_millis(5));
    goro::go(move || (*cancel)()).join().unwrap();
    assert_eq!(
        rt.block_on(waiting).unwrap(),
        Some(context::ContextError::Canceled)
    );
    // A deadline ends it too.
    let (ctx, _cancel) = context::background().with_timeout(Duration::from_millis(5));
    rt.block_on(ctx.done_async());
    assert_eq!(ctx.err(), Some(context::ContextError::DeadlineExceeded));
}

#[test]
fn receivers_are_streams() {
    let rt = runtime();
    for cap in [0, 3, 1 << 22] {
        let (tx, rx) = chan::bounded::<u32>(cap);
        goro::go(move || {
            for i in 0..500 {
                tx.send(i).unwrap();
            }
        });
        let got: Vec<u32> = rt.block_on(rx.into_stream().collect());
        assert_eq!(got, (0..500).collect::<Vec<_>>(), "cap {cap}");
    }
    // A stream dropped between values loses none of them.
    let (tx, rx) = chan::bounded::<u32>(0);
    let sender = goro::go(move || {
        for i in 0..100 {
            tx.send(i).unwrap();
        }
    });
    let mut got = Vec::new();
    rt.block_on(async {
        while got.len() < 100 {
            let mut s = rx.stream();
            for _ in 0..7 {
                match s.next().await {
                    Some(v) => got.push(v),
                    None => break,
                }
            }
        }
    });
    sender.join().unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[test]
fn senders_are_sinks() {
    let rt = runtime();
    for cap in [0, 2, 1 << 22] {
        let (tx, rx) = chan::bounded::<u32>(cap);
        let receiver = goro::go(move || rx.iter().collect::<Vec<_>>());
        rt.block_on(async move {
            let mut sink = tx.into_sink();
            let mut items = futures::stream::iter((0..300).map(Ok));
            sink.send_all(&mut items).await.unwrap();
            sink.close().await.unwrap();
        });
        assert_eq!(receiver.join().unwrap(), (0..300).collect::<Vec<_>>());
    }
    // A closed channel hands the value back.
    let (tx, rx) = chan::bounded::<String>(1);
    drop(rx);
    let err = rt.block_on(async { tx.sink().send("x".to_string()).await });
    assert_eq!(err.unwrap_err().into_inner(), "x");
}

#[test]
fn a_goroutine_pipeline_feeds_an_async_consumer_and_back() {
    // tokio hands CPU work to goroutines over channels and gets results as futures.
    let rt = runtime();
    let (jobs_tx, jobs_rx) = chan::bounded::<u64>(16);
    let (results_tx, results_rx) = chan::bounded::<u64>(16);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (jobs_rx, results_tx) = (jobs_rx.clone(), results_tx.clone());
            goro::go(move || {
                for n in jobs_rx.iter() {
                    results_tx.send((1..=n).sum()).unwrap();
                }
            })
        })
        .collect();
    drop((jobs_rx, results_tx));
    let produced = Arc::new(AtomicUsize::new(0));
    let total = rt.block_on({
        let produced = produced.clone();
        async move {
            let feeder = tokio::spawn(async move {
                for n in 0..1000u64 {
                    jobs_tx.send_async(n).await.unwrap();
                    produced.fetch_add(1, Ordering::Relaxed);
                }
            });
            let mut total = 0;
            while let Ok(v) = results_rx.recv_async().await {
                total += v;
            }
            feeder.await.unwrap();
            total
        }
    });
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(produced.load(Ordering::Relaxed), 1000);
    assert_eq!(total, (0..1000u64).map(|n| n * (n + 1) / 2).sum::<u64>());
}

/// The panic message of a failed tokio task or `catch_unwind`.
fn message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn blocking_on_a_tokio_thread_panics_and_names_the_async_form() {
    // In a runtime's `block_on`.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (tx, rx) = chan::bounded::<u8>(0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { rx.recv() })
    }));
    let msg = message(r.unwrap_err());
    assert!(msg.contains("tokio") && msg.contains("recv_async"), "{msg}");
    // In a task of a multi-thread runtime: the task fails, the worker goes on.
    let rt = runtime();
    let rx2 = rx.clone();
    let err = rt
        .block_on(rt.spawn(async move { rx2.recv() }))
        .unwrap_err();
    let msg = message(err.into_panic());
    assert!(msg.contains("spawn_blocking"), "{msg}");
    // A goro mutex held elsewhere, and goro::sleep, too.
    let m = Arc::new(goro::sync::Mutex::new(()));
    let held = m.lock();
    let m2 = m.clone();
    let err = rt
        .block_on(rt.spawn(async move { drop(m2.lock()) }))
        .unwrap_err();
    assert!(err.is_panic());
    drop(held);
    let err = rt
        .block_on(rt.spawn(async { goro::sleep(Duration::from_millis(1)) }))
        .unwrap_err();
    assert!(err.is_panic());
    // Nothing was left registered: the channel still works.
    goro::go(move || tx.send(3).unwrap());
    assert_eq!(rx.recv(), Ok(3));
}

#[test]
fn blocking_is_fine_where_tokio_allows_it() {
    let rt = runtime();
    let (tx, rx) = chan::bounded::<u8>(0);
    let sender = goro::go(move || {
        for i in 0..3 {
            tx.send(i).unwrap();
        }
    });
    // spawn_blocking, block_in_place, and a plain thread inside the runtime's context.
    let rx1 = rx.clone();
    let a = rt.block_on(rt.spawn_blocking(move || rx1.recv().unwrap()));
    let rx2 = rx.clone();
    let b = rt
        .block_on(rt.spawn(async move { tokio::task::block_in_place(|| rx2.recv().unwrap()) }))
        .unwrap();
    let _enter = rt.enter();
    let c = rx.recv().unwrap();
    let mut got = [a.unwrap(), b, c];
    got.sort();
    assert_eq!(got, [0, 1, 2]);
    sender.join().unwrap();
    // What does not block is allowed anywhere.
    let (tx, rx) = chan::bounded::<u8>(1);
    rt.block_on(async move {
        assert!(rx.try_recv().is_err());
        tx.send(1).unwrap();
        assert_eq!(rx.recv(), Ok(1));
        goro::select! {
            recv(rx) -> _ => unreachable!(),
            fut(std::pin::pin!(std::future::pending::<()>())) -> () => unreachable!(),
            default => {}
        }
    });
}
