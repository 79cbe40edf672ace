//! test/chancap.go: `len` and `cap` of channels. A cap-10 channel is 0/10 empty and 3/10
//! after three sends; an unbuffered one is 0/0. Go also checks that `make(chan T, n)` panics
//! for a negative or huge `n`: a `usize` cannot be negative, and goro allocates nothing up
//! front, so a huge capacity is accepted and costs only what is buffered (checked below).
//!
//! Added: blocked senders are not counted by `len` (Go's `len` is the buffered count), and
//! `len` follows sends and receives one by one.

use std::time::Duration;

use goro::chan;

use crate::support::go_main;

#[test]
fn chancap_len_cap() {
    go_main("chancap", || {
        let (tx, rx) = chan::bounded::<i32>(10);
        assert_eq!((rx.len(), rx.capacity()), (0, Some(10)), "want 0 10");
        assert!(rx.is_empty() && tx.is_empty());
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        assert_eq!((rx.len(), rx.capacity()), (3, Some(10)), "want 3 10");
        assert_eq!((tx.len(), tx.capacity()), (3, Some(10)), "want 3 10");
        assert!(!rx.is_empty());

        let (tx, rx) = chan::bounded::<i32>(0);
        assert_eq!((rx.len(), rx.capacity()), (0, Some(0)), "want 0 0");
        assert_eq!((tx.len(), tx.capacity()), (0, Some(0)), "want 0 0");
    });
}

#[test]
fn len_follows_sends_and_receives() {
    go_main("len steps", || {
        let (tx, rx) = chan::bounded::<usize>(10);
        for i in 0..10 {
            assert_eq!(tx.len(), i);
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), 10);
        for i in 0..10 {
            assert_eq!(rx.recv(), Ok(i));
            assert_eq!(rx.len(), 9 - i);
        }
    });
}

#[test]
fn blocked_senders_are_not_buffered() {
    go_main("len with blocked senders", || {
        for cap in [0, 2] {
            let (tx, rx) = chan::bounded::<usize>(cap);
            for i in 0..cap {
                tx.send(i).unwrap();
            }
            let hs: Vec<_> = (0..5)
                .map(|i| {
                    let tx = tx.clone();
                    goro::go(move || tx.send(100 + i).unwrap())
                })
                .collect();
            goro::sleep(Duration::from_millis(5));
            assert_eq!(rx.len(), cap, "cap {cap}: blocked senders counted by len");
            assert_eq!(rx.capacity(), Some(cap));
            // Receiving one lets exactly one blocked sender in (buffered) or through.
            let mut got: Vec<usize> = (0..cap + 5).map(|_| rx.recv().unwrap()).collect();
            for h in hs {
                h.join().unwrap();
            }
            assert_eq!(rx.len(), 0);
            assert_eq!(
                got[..cap],
                (0..cap).collect::<Vec<_>>()[..],
                "buffered first"
            );
            got.sort_unstable();
            let want: Vec<usize> = (0..cap).chain(100..105).collect();
            assert_eq!(got, want);
        }
    });
}

#[test]
fn huge_capacity_allocates_nothing_up_front() {
    go_main("huge cap", || {
        // Go: make(chan int, 1<<59) panics "makechan: size out of range".
        for cap in [1usize << 20, 1 << 59, usize::MAX - 1] {
            let (tx, rx) = chan::bounded::<u64>(cap);
            assert_eq!(rx.capacity(), Some(cap));
            for i in 0..1000 {
                tx.try_send(i).expect("room in a huge buffer");
            }
            assert_eq!(rx.len(), 1000);
            assert_eq!(rx.try_iter().count(), 1000);
        }
        // Unbounded: no capacity.
        let (tx, rx) = chan::unbounded::<u64>();
        assert_eq!(tx.capacity(), None);
        for i in 0..100_000 {
            tx.try_send(i).unwrap();
        }
        assert_eq!(rx.len(), 100_000);
    });
}
