//! test/chan/zerosize.go: channels of zero-sized values (`[0]byte`, `struct{}`), unbuffered
//! and with capacity 1. Go only makes them; here they also carry values: counted by `len`,
//! handed over between goroutines, and drained after a close.

use goro::chan;

use crate::support::go_main;

/// Sends `n` zero-sized values through a cap-`cap` channel from another goroutine.
fn pass<T: Default + Send + 'static>(cap: usize, n: usize) {
    let (tx, rx) = chan::bounded::<T>(cap);
    assert_eq!((rx.len(), rx.capacity()), (0, Some(cap)));
    let h = goro::go(move || {
        for _ in 0..n {
            tx.send(T::default()).unwrap_or_else(|_| panic!("closed"));
        }
    });
    assert_eq!(rx.iter().count(), n);
    h.join().unwrap();
}

#[test]
fn zerosize_channels() {
    go_main("zerosize", || {
        for cap in [0, 1] {
            pass::<[u8; 0]>(cap, 10_000);
            pass::<()>(cap, 10_000);
        }
    });
}

#[test]
fn zerosize_buffered_len_and_close() {
    go_main("zerosize len", || {
        let (tx, rx) = chan::bounded::<()>(1);
        tx.send(()).unwrap();
        assert!(tx.try_send(()).unwrap_err().is_full());
        assert_eq!(rx.len(), 1);
        let (tx, rx) = chan::bounded::<[u8; 0]>(1000);
        for _ in 0..1000 {
            tx.try_send([]).unwrap();
        }
        assert_eq!(rx.len(), 1000);
        assert!(tx.try_send([]).unwrap_err().is_full());
        assert!(tx.close());
        assert_eq!(rx.iter().count(), 1000);
        assert_eq!(rx.len(), 0);
        assert!(rx.recv().is_err());
    });
}
