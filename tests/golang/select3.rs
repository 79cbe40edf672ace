//! test/chan/select3.go, the rows of its table that need no `select`, with Go's helpers:
//! testBlock(always, f) runs f in a goroutine and requires it to be still blocked after
//! 10 ms; testBlock(never, f) requires it to finish (Go waits up to 10 s; here the liveness
//! bound). testPanic(always, f) becomes "returns the error" (goro does not panic).
//!
//! - receiving from a nil channel (`chan::never()`) blocks; a non-blocking receive on it is
//!   never ready. (A nil *send* has no goro equivalent: `never()` has no `Sender`.)
//! - sending to a buffered channel with free space never blocks;
//! - receiving from a closed channel never blocks and gives (zero, false) every time;
//! - sending to a closed channel fails (Go: panics);
//! - receiving from a non-ready unbuffered channel blocks.
//!
//! And the `select` rows, with `goro::select!` (`None` is Go's nil channel):
//!
//! - `select {}` blocks forever; a select whose cases are all nil blocks; a select on
//!   non-ready channels blocks;
//! - nil-channel cases (receive and send) in a select with default are never chosen;
//! - a select with only `default` never blocks; a ready buffered send or receive case is
//!   chosen over default;
//! - a receive case on a closed channel fires with `Err(RecvError)` (Go's three forms `<-c`,
//!   `x = <-c`, `x, ok = <-c` are the one `recv(c) -> v`);
//! - a send case on a closed channel is ready and returns `Err(SendError(v))` (Go: panics),
//!   also against a default;
//! - a select with both `c <- 1` and `<-c` on one unbuffered channel blocks (a goroutine
//!   cannot rendezvous with itself).

use std::time::Duration;

use goro::chan::{self, Receiver, RecvError, RecvTimeoutError, SendError, Sender, TryRecvError};
use goro::JoinHandle;

use crate::support::go_main;

/// Go's testBlock(always, f): `f` must still be blocked 10 ms after it started. Returns its
/// handle, so that the caller can release it.
fn must_block<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let h = goro::go(f);
    goro::sleep(Duration::from_millis(10));
    assert!(!h.is_finished(), "{what}: did not block");
    h
}

/// Go's testBlock(never, f): `f` must finish (the test's liveness bound catches a hang).
fn must_not_block<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    goro::go(f).join().unwrap()
}

#[test]
fn select3_nil_channel_receive_blocks() {
    go_main("select3 nil", || {
        // Go: testBlock(always, func() { <-nilch }). The goroutine stays parked for good,
        // as in Go.
        let nilch = chan::never::<i32>();
        let _forever = must_block("<-nilch", move || nilch.recv());
        // A bounded wait on a nil channel can only time out.
        let nilch = chan::never::<i32>();
        assert_eq!(
            nilch.recv_timeout(Duration::from_millis(10)),
            Err(RecvTimeoutError::Timeout)
        );
        // select { case <-nilch: unreachable(); default: }
        assert_eq!(nilch.try_recv(), Err(TryRecvError::Empty));
        assert!(!nilch.is_closed());
        assert_eq!((nilch.len(), nilch.capacity()), (0, Some(0)));
    });
}

#[test]
fn select3_send_with_free_buffer_never_blocks() {
    go_main("select3 free buffer", || {
        let v = must_not_block(|| {
            let (tx, rx) = chan::bounded::<i32>(1);
            tx.send(7).unwrap();
            rx.try_recv()
        });
        assert_eq!(v, Ok(7));
    });
}

#[test]
fn select3_closed_channel() {
    go_main("select3 closed", || {
        let (closed_tx, closedch) = chan::bounded::<i32>(0);
        assert!(closed_tx.close());
        // Receiving from a closed channel never blocks: (0, false) ten times over.
        let rx = closedch.clone();
        let all_closed = must_not_block(move || (0..10).all(|_| rx.recv() == Err(RecvError)));
        assert!(all_closed, "expected 0, false from closed channel");
        // Sending to a closed channel: Go panics, goro hands the value back.
        assert_eq!(must_not_block(move || closed_tx.send(7)), Err(SendError(7)));
        assert_eq!(closedch.recv(), Err(RecvError), "no value left behind");
    });
}

#[test]
fn select3_non_ready_channel_receive_blocks() {
    go_main("select3 non-ready", || {
        // Go: testBlock(always, func() { ch := make(chan int); <-ch }). Here main keeps the
        // sending end, to release the goroutine afterwards.
        let (tx, rx) = chan::bounded::<i32>(0);
        let h = must_block("<-ch", move || rx.recv());
        tx.send(5).unwrap();
        assert_eq!(h.join().unwrap(), Ok(5));
        // Buffered but empty blocks too.
        let (tx, rx) = chan::bounded::<i32>(3);
        let h = must_block("<-ch (buffered, empty)", move || rx.recv());
        drop(tx);
        assert_eq!(h.join().unwrap(), Err(RecvError));
    });
}

#[test]
fn select3_empty_and_nil_selects_block() {
    go_main("select3 blocking selects", || {
        // select {}: parked for good, as in Go.
        let _forever = must_block("select {}", || goro::select! {});
        // All cases nil.
        let _forever = must_block("select on nil channels", || {
            let nilr: Option<&Receiver<i32>> = None;
            let nils: Option<&Sender<i32>> = None;
            goro::select! {
                recv(nilr) -> _v => unreachable!("nil receive chosen"),
                send(nils, 7) -> _r => unreachable!("nil send chosen"),
            }
        });
        // Non-ready channels: an empty unbuffered and an empty buffered one, and a send on a
        // full buffered one. Released afterwards by main.
        let (tx1, rx1) = chan::bounded::<i32>(0);
        let (tx2, rx2) = chan::bounded::<i32>(1);
        let (tx3, rx3) = chan::bounded::<i32>(1);
        tx3.send(0).unwrap();
        let tx3b = tx3.clone();
        let h = must_block("select on non-ready channels", move || {
            goro::select! {
                recv(rx1) -> v => ("rx1", v.unwrap()),
                recv(rx2) -> v => ("rx2", v.unwrap()),
                send(tx3b, 9) -> r => { r.unwrap(); ("tx3", 9) }
            }
        });
        tx1.send(5).unwrap();
        assert_eq!(h.join().unwrap(), ("rx1", 5));
        drop((tx2, tx3, rx3));
    });
}

#[test]
fn select3_nil_cases_with_default_never_chosen() {
    go_main("select3 nil + default", || {
        let nilr: Option<&Receiver<i32>> = None;
        let nils: Option<&Sender<i32>> = None;
        for _ in 0..1000 {
            let took_default = goro::select! {
                recv(nilr) -> _v => false,
                default => true,
            };
            assert!(took_default, "nil receive chosen");
            let took_default = goro::select! {
                send(nils, 1) -> _r => false,
                default => true,
            };
            assert!(took_default, "nil send chosen");
            let took_default = goro::select! {
                recv(nilr) -> _v => false,
                send(nils, 1) -> _r => false,
                default => true,
            };
            assert!(took_default, "nil case chosen");
        }
        // `never()` is a nil receive channel too.
        let nilch = chan::never::<i32>();
        let took_default = goro::select! { recv(nilch) -> _v => false, default => true };
        assert!(took_default);
    });
}

#[test]
fn select3_default_and_ready_cases() {
    go_main("select3 default", || {
        // A select with only default never blocks.
        let v = must_not_block(|| goro::select! { default => 42 });
        assert_eq!(v, 42);
        // Default with non-ready channels.
        let (_tx, rx) = chan::bounded::<i32>(0);
        let took_default =
            must_not_block(move || goro::select! { recv(rx) -> _v => false, default => true });
        assert!(took_default);
        // A ready buffered send case is chosen over default, every time.
        let (tx, rx) = chan::bounded::<i32>(1);
        for i in 0..100 {
            let sent = goro::select! { send(tx, i) -> r => r.is_ok(), default => false };
            assert!(sent, "buffered send with free space took default");
            // A ready buffered receive case is chosen over default.
            let got = goro::select! { recv(rx) -> v => v.ok(), default => None };
            assert_eq!(got, Some(i));
        }
    });
}

#[test]
fn select3_closed_channel_cases_are_ready() {
    go_main("select3 closed cases", || {
        let (tx, rx) = chan::bounded::<i32>(0);
        assert!(tx.close());
        // A receive case on a closed channel fires, blocking or with default, every time.
        for _ in 0..10 {
            let v = must_not_block({
                let rx = rx.clone();
                move || goro::select! { recv(rx) -> v => v }
            });
            assert_eq!(v, Err(RecvError));
            let v = goro::select! { recv(rx) -> v => Some(v), default => None };
            assert_eq!(v, Some(Err(RecvError)));
        }
        // A send case on a closed channel is ready and hands the value back (Go: panics).
        let r = must_not_block({
            let tx = tx.clone();
            move || goro::select! { send(tx, 7) -> r => r }
        });
        assert_eq!(r, Err(SendError(7)));
        let r = goro::select! { send(tx, 8) -> r => Some(r), default => None };
        assert_eq!(r, Some(Err(SendError(8))));
        // Against a non-ready case, the closed one is chosen.
        let (_tx2, rx2) = chan::bounded::<i32>(0);
        let r = goro::select! {
            recv(rx2) -> _v => None,
            send(tx, 9) -> r => Some(r),
        };
        assert_eq!(r, Some(Err(SendError(9))));
        assert_eq!(rx.recv(), Err(RecvError), "no value left behind");
    });
}

#[test]
fn select3_self_rendezvous_blocks() {
    go_main("select3 self", || {
        // select { case c <- 1: case <-c: } on an unbuffered c: a goroutine cannot rendezvous
        // with itself. Main then receives the value, releasing it by the send case.
        let (tx, rx) = chan::bounded::<i32>(0);
        let rx2 = rx.clone();
        let h = must_block("select { c <- 1; <-c }", move || {
            goro::select! {
                send(tx, 1) -> r => { r.unwrap(); "sent" }
                recv(rx2) -> _v => "received",
            }
        });
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(h.join().unwrap(), "sent");
    });
}
