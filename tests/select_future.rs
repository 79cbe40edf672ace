//! `select!` with future cases (`fut(f) -> v`): one select over channels, timers and
//! futures; fairness among ready cases; losing futures left untouched; panics in a
//! future's poll.

use std::future::{pending, ready, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use goro::chan;

/// Counts its polls; ready from the `ready_at`-th poll on.
struct Counting {
    polls: Arc<AtomicUsize>,
    ready_at: usize,
}

impl Future for Counting {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let n = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.ready_at {
            Poll::Ready(n)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[goro::test]
fn a_ready_future_wins_over_idle_channels() {
    let (_tx, rx) = chan::bounded::<u8>(0);
    let got = goro::select! {
        recv(rx) -> _ => 0,
        fut(pin!(ready(7))) -> v => v,
    };
    assert_eq!(got, 7);
}

#[goro::test]
fn ready_futures_and_ready_channels_are_chosen_alike() {
    let (tx, rx) = chan::bounded::<u8>(1);
    let (mut chan_won, mut fut_won) = (0, 0);
    for _ in 0..2000 {
        if rx.is_empty() {
            tx.send(1).unwrap();
        }
        goro::select! {
            recv(rx) -> _ => chan_won += 1,
            fut(pin!(ready(()))) -> () => fut_won += 1,
        }
    }
    // Each about 1000; far outside these bounds only if the choice is not fair.
    assert!(
        (700..=1300).contains(&chan_won) && (700..=1300).contains(&fut_won),
        "channel {chan_won}, future {fut_won}"
    );
}

#[goro::test]
fn select_biased_looks_at_its_cases_in_order() {
    let (tx, rx) = chan::bounded::<u8>(1);
    tx.send(1).unwrap();
    let first = goro::select_biased! {
        fut(pin!(ready("future"))) -> v => v,
        recv(rx) -> _ => "channel",
    };
    assert_eq!(first, "future");
    let first = goro::select_biased! {
        recv(rx) -> _ => "channel",
        fut(pin!(ready("future"))) -> v => v,
    };
    assert_eq!(first, "channel");
}

#[goro::test]
fn a_parked_select_wakes_for_a_future() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    let (tx, rx) = chan::bounded::<u8>(0);
    let mut task = pin!(rt.spawn(async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        "from tokio"
    }));
    let got = goro::select! {
        recv(rx) -> _ => "channel",
        fut(task.as_mut()) -> v => v.unwrap(),
    };
    assert_eq!(got, "from tokio");
    // The select's waiter on the channel is gone: a send finds no receiver.
    assert!(tx.try_send(1).is_err());
}

#[goro::test]
fn a_losing_future_is_left_for_the_next_select() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let (tx2, rx2) = chan::bounded::<u32>(0);
    let mut later = pin!(rx2.recv_async());
    // The channel case wins; the future stays pending, untouched.
    let tx1 = tx.clone();
    goro::go(move || tx1.send(1).unwrap());
    let first = goro::select! {
        recv(rx) -> v => v.unwrap(),
        fut(later.as_mut()) -> v => v.unwrap() + 100,
    };
    assert_eq!(first, 1);
    // Now the future's value comes, and the same future wins a second select.
    goro::go(move || tx2.send(2).unwrap());
    let second = goro::select! {
        recv(rx) -> _ => 0,
        fut(later.as_mut()) -> v => v.unwrap() + 100,
    };
    assert_eq!(second, 102);
    drop(tx);
}

#[goro::test]
fn futures_woken_while_the_select_looks_are_not_missed() {
    // Ready at the third poll, waking itself each time: the select must poll again.
    let polls = Arc::new(AtomicUsize::new(0));
    let (_tx, rx) = chan::bounded::<u8>(0);
    let got = goro::select! {
        recv(rx) -> _ => 0,
        fut(&mut Counting { polls: polls.clone(), ready_at: 3 }) -> n => n,
    };
    assert_eq!(got, 3);
}

#[goro::test]
fn default_and_timeouts_with_pending_futures() {
    let mut never = pin!(pending::<()>());
    let ran_default = goro::select! {
        fut(never.as_mut()) -> () => false,
        default => true,
    };
    assert!(ran_default);
    let timed_out = goro::select! {
        fut(never.as_mut()) -> () => false,
        default(Duration::from_millis(5)) => true,
    };
    assert!(timed_out);
}

#[goro::test]
fn a_panic_in_a_futures_poll_reaches_the_caller() {
    struct Boom;
    impl Future for Boom {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            panic!("expected panic in a future's poll");
        }
    }
    let (tx, rx) = chan::bounded::<u8>(1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        goro::select! {
            recv(rx) -> _ => {},
            fut(&mut Boom) -> () => {},
        }
    }));
    assert!(r.is_err());
    // The channel is unharmed.
    tx.send(5).unwrap();
    assert_eq!(rx.recv(), Ok(5));
}

#[test]
fn from_a_plain_thread_too() {
    let (tx, rx) = chan::bounded::<u8>(0);
    let (ftx, frx) = chan::bounded::<&str>(0);
    let h = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(10));
        ftx.send("async").unwrap();
    });
    let mut f = pin!(frx.recv_async());
    let got = goro::select! {
        recv(rx) -> _ => "channel",
        fut(f.as_mut()) -> v => v.unwrap(),
    };
    assert_eq!(got, "async");
    h.join().unwrap();
    drop(tx);
}

/// A goroutine's `JoinHandle` is a case of its own (`fut(&mut h)`): a select that another
/// case wins leaves the handle usable, and a later select, or a plain `join`, gets the
/// result.
#[goro::test]
fn a_join_handle_in_select() {
    let (tx, rx) = chan::bounded::<()>(0);
    let (quit_tx, quit) = chan::bounded::<&str>(1);
    let mut h = goro::go(move || rx.recv().map(|()| 42));
    quit_tx.send("quit first").unwrap();
    let first = goro::select! {
        fut(&mut h) -> r => panic!("the goroutine cannot have finished: {r:?}"),
        recv(quit) -> v => v.unwrap(),
    };
    assert_eq!(first, "quit first");
    tx.send(()).unwrap();
    let got = goro::select! {
        fut(&mut h) -> r => r.unwrap().unwrap(),
        recv(quit) -> _ => unreachable!("nothing more is sent on quit"),
        default(Duration::from_secs(60)) => panic!("the goroutine did not finish"),
    };
    assert_eq!(got, 42);

    // A losing select, then `join`.
    let (tx, rx) = chan::bounded::<()>(0);
    let mut h = goro::go(move || rx.recv().is_ok());
    goro::select! {
        fut(&mut h) -> _ => panic!("the goroutine cannot have finished"),
        default => {}
    }
    goro::go(move || tx.send(()).unwrap());
    assert!(h.join().unwrap());
}

/// A pool job's `TaskHandle` in a select, beside a timer: the timer wins while the job is
/// held, the handle wins once it is released.
#[goro::test]
fn a_task_handle_in_select() {
    let pool = goro::pool::Pool::new(1);
    let (tx, rx) = chan::bounded::<()>(0);
    let mut h = pool
        .submit_with_result(move || rx.recv().map(|()| "done").map_err(|e| e.to_string()))
        .unwrap();
    let early = goro::select! {
        fut(&mut h) -> _ => false,
        recv(goro::time::after(Duration::from_millis(5))) -> _ => true,
    };
    assert!(early, "the job is held until the send");
    tx.send(()).unwrap();
    let got = goro::select! {
        fut(&mut h) -> r => r,
        default(Duration::from_secs(60)) => panic!("the job did not finish"),
    };
    assert_eq!(got, Ok("done"));
    assert_eq!(pool.wait().completed, 1);
}
