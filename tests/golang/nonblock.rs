//! test/chan/nonblock.go, whose every `select` has a `default`. Go's non-blocking send and
//! receive run in two forms: Go's own, `goro::select!` with a `default` case, and goro's
//! `try_send` and `try_recv`. For buffer sizes 0 and 1 and channels of i32, i64, bool and
//! String:
//!
//! 1. a non-blocking receive on an empty channel takes the default;
//! 2. with a receiver goroutine started, a non-blocking send is retried (with Go's little
//!    sleep in between) until it succeeds, and the receiver checks the value;
//! 3. with a sender goroutine started (and, buffered, done), a non-blocking receive is
//!    retried until it succeeds, and main checks the value.
//!
//! Go's key rule: an unbuffered non-blocking send succeeds only if a receiver is already
//! parked. Checked here too: with nobody receiving, the unbuffered non-blocking send takes
//! the default and nothing is sent; with a buffer, the send and the receive succeed at the first try.

use std::fmt::Debug;

use goro::chan::{self, Receiver, Sender, TryRecvError, TrySendError};

use crate::support::{go_main, retry_nonblocking};

fn receiver<T: PartialEq + Debug + Send>(c: Receiver<T>, strobe: Sender<bool>, want: T) {
    assert_eq!(c.recv(), Ok(want), "receiver value");
    strobe.send(true).unwrap();
}

fn sender<T: Send>(c: Sender<T>, strobe: Sender<bool>, v: T) {
    c.send(v).unwrap_or_else(|_| panic!("sender: closed"));
    strobe.send(true).unwrap();
}

/// How a non-blocking operation is written.
#[derive(Clone, Copy, Debug)]
enum Form {
    /// `try_send` / `try_recv`.
    Try,
    /// Go's `select { case c <- v: ... default: ... }`, as `goro::select!`.
    Select,
}

/// A non-blocking send of a copy of `v` in `form`: `Ok(true)` sent, `Ok(false)` the default
/// was taken (the copy is dropped, never sent), `Err(())` the channel is closed.
fn nb_send<T: Clone + Send>(form: Form, c: &Sender<T>, v: &T) -> Result<bool, ()> {
    match form {
        Form::Try => match c.try_send(v.clone()) {
            Ok(()) => Ok(true),
            Err(TrySendError::Full(_)) => Ok(false),
            Err(TrySendError::Closed(_)) => Err(()),
        },
        Form::Select => goro::select! {
            send(c, v.clone()) -> r => r.map(|()| true).map_err(|_| ()),
            default => Ok(false),
        },
    }
}

/// A non-blocking receive in `form`.
fn nb_recv<T: Send>(form: Form, c: &Receiver<T>) -> Result<T, TryRecvError> {
    match form {
        Form::Try => c.try_recv(),
        Form::Select => goro::select! {
            recv(c) -> v => v.map_err(|_| TryRecvError::Closed),
            default => Err(TryRecvError::Empty),
        },
    }
}

/// One type, one buffer size: `to_receiver` goes main → goroutine, `from_sender` comes back.
fn nonblock<T>(form: Form, buffer: usize, to_receiver: T, from_sender: T)
where
    T: Clone + PartialEq + Debug + Send + 'static,
{
    let what = format!("{form:?} {}", std::any::type_name::<T>());
    let (sync_tx, sync) = chan::bounded::<bool>(0);
    let (c_tx, c) = chan::bounded::<T>(buffer);

    // 1. select { case x = <-c: panic("blocked sender"); default: }
    assert_eq!(
        nb_recv(form, &c),
        Err(TryRecvError::Empty),
        "{what} buffer={buffer}"
    );
    if buffer == 0 {
        // No receiver is parked: the non-blocking send takes the default.
        assert_eq!(
            nb_send(form, &c_tx, &to_receiver),
            Ok(false),
            "{what}: unbuffered non-blocking send without a receiver"
        );
        assert!(c.is_empty());
    }

    // 2. go receiver(c, sync); retry `select { case c <- v: break; default: sleep() }`.
    let h = {
        let (c, sync_tx, want) = (c.clone(), sync_tx.clone(), to_receiver.clone());
        goro::go(move || receiver(c, sync_tx, want))
    };
    let ((), failed) =
        retry_nonblocking(
            &format!("{what} receiver buffer={buffer}"),
            || match nb_send(form, &c_tx, &to_receiver) {
                Ok(true) => Some(()),
                Ok(false) => None,
                Err(()) => panic!("{what}: channel closed"),
            },
        );
    if buffer > 0 {
        assert_eq!(
            failed, 0,
            "{what}: a buffered chan with room refused a send"
        );
    }
    assert_eq!(sync.recv(), Ok(true));
    h.join().unwrap();

    // 3. go sender(c, sync); buffered: wait for its strobe; retry a non-blocking receive.
    let h = {
        let (c_tx, sync_tx, v) = (c_tx.clone(), sync_tx.clone(), from_sender.clone());
        goro::go(move || sender(c_tx, sync_tx, v))
    };
    if buffer > 0 {
        assert_eq!(sync.recv(), Ok(true));
    }
    let (got, failed) =
        retry_nonblocking(
            &format!("{what} sender buffer={buffer}"),
            || match nb_recv(form, &c) {
                Ok(v) => Some(v),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Closed) => panic!("{what}: channel closed"),
            },
        );
    assert_eq!(got, from_sender, "{what} sender value");
    if buffer > 0 {
        assert_eq!(failed, 0, "{what}: the buffered value was not there");
    } else {
        assert_eq!(sync.recv(), Ok(true));
    }
    h.join().unwrap();
    assert!(c.is_empty());
}

#[test]
fn nonblock_all_types_buffer_0_and_1() {
    go_main("nonblock", || {
        for buffer in 0..2 {
            nonblock::<i32>(Form::Try, buffer, 123, 234);
            nonblock::<i64>(Form::Try, buffer, 123_456, 234_567);
            nonblock::<bool>(Form::Try, buffer, true, true);
            nonblock::<String>(Form::Try, buffer, "hello".into(), "hello again".into());
        }
    });
}

/// Go's own form: every non-blocking operation a `select` with `default`.
#[test]
fn nonblock_select_default_all_types_buffer_0_and_1() {
    go_main("nonblock select", || {
        for buffer in 0..2 {
            nonblock::<i32>(Form::Select, buffer, 123, 234);
            nonblock::<i64>(Form::Select, buffer, 123_456, 234_567);
            nonblock::<bool>(Form::Select, buffer, true, true);
            nonblock::<String>(Form::Select, buffer, "hello".into(), "hello again".into());
        }
    });
}
