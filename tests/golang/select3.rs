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
//! Every `select` row (`select {}`, nil cases, default, ready cases, closed cases, a select
//! that sees itself) is pending `select!`.

use std::time::Duration;

use goro::chan::{self, RecvError, RecvTimeoutError, SendError, TryRecvError};
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
