//! test/chan/fifo.go: values come out of a buffered channel in the order they went in, and
//! the receivers of an unbuffered channel, queued one after another by a daisy chain of
//! tokens, get the values in the order they were sent. Go's N is 10; the same checks also run
//! with 1,000.

use goro::chan::{self, Receiver, Sender};

use crate::support::go_main;

/// Go's AsynchFifo: fill a cap-`n` channel with 0..n (no send may block), then read it back.
fn asynch_fifo(n: i32) {
    let (tx, rx) = chan::bounded(n as usize);
    for i in 0..n {
        // A blocking send here would deadlock: nobody receives yet.
        tx.try_send(i).expect("send into a buffered chan with room");
    }
    assert_eq!(rx.len(), n as usize);
    for i in 0..n {
        assert_eq!(rx.recv(), Ok(i), "bad receive");
    }
    assert!(rx.is_empty());
}

/// Go's Chain: wait for the token on `input`, then the next value on `ch` must be `val`;
/// pass the token on.
fn chain(ch: Receiver<i32>, val: i32, input: Receiver<i32>, out: Sender<i32>) {
    input.recv().expect("token");
    let got = ch.recv().expect("value");
    assert_eq!(got, val, "link {val} got the wrong value");
    out.send(1).expect("pass the token");
}

/// Go's SynchFifo: `n` goroutines threaded together; each reads one value from the shared
/// unbuffered `ch` when it holds the token, so they must read 0, 1, 2, … in turn.
fn synch_fifo(n: i32) {
    let (ch_tx, ch) = chan::bounded(0);
    let (start, mut input) = chan::bounded(0);
    let mut links = Vec::new();
    for i in 0..n {
        let (out_tx, out) = chan::bounded(0);
        let ch = ch.clone();
        links.push(goro::go(move || chain(ch, i, input, out_tx)));
        input = out;
    }
    drop(ch);
    start.send(0).unwrap();
    let sent: Vec<_> = (0..n).map(|i| ch_tx.send(i)).collect();
    let last = input.recv();
    // A link that got a wrong value panicked, and the chain after it broke: report the first.
    for (i, h) in links.into_iter().enumerate() {
        if let Err(e) = h.join() {
            panic!("link {i}: {e}");
        }
    }
    assert!(sent.iter().all(Result::is_ok));
    assert_eq!(last, Ok(1));
}

#[test]
fn asynch_fifo_10() {
    go_main("AsynchFifo", || asynch_fifo(10));
}

#[test]
fn synch_fifo_10() {
    go_main("SynchFifo", || synch_fifo(10));
}

#[test]
fn fifo_1000() {
    go_main("fifo 1000", || {
        asynch_fifo(1000);
        synch_fifo(1000);
    });
}
