//! test/chan/sendstmt.go, chanchan: channels are values that travel through channels. `cc`
//! (cap 1) holds `c` (cap 1); the non-blocking send `select { case <-cc <- 2: default: }`
//! (here `try_send` on the channel just received) must succeed, and `<-c` must then be 2.
//!
//! Go's other half, sendprec (`c <- false || true` parses as a send of `true`), is about Go's
//! grammar: not applicable.

use goro::chan::{self, Receiver, Sender};

use crate::support::go_main;

#[test]
fn sendstmt_chanchan() {
    go_main("sendstmt", || {
        let (cc_tx, cc) = chan::bounded::<Sender<i32>>(1);
        let (c_tx, c) = chan::bounded::<i32>(1);
        cc_tx.send(c_tx).unwrap();
        cc.recv().unwrap().try_send(2).expect("nonblock: room in c");
        // The only Sender of `c` was dropped after the send: 2 is there, then closed.
        assert_eq!(c.recv(), Ok(2), "bad receive");
        assert!(c.recv().is_err());
    });
}

#[test]
fn chanchan_across_goroutines() {
    go_main("chanchan goroutines", || {
        // Receivers travel too: a goroutine gets the receiving end of a channel through an
        // unbuffered channel of receivers, and drains it.
        let (rc_tx, rc) = chan::bounded::<Receiver<u32>>(0);
        let h = goro::go(move || {
            let mut sums = Vec::new();
            for r in &rc {
                sums.push(r.iter().sum::<u32>());
            }
            sums
        });
        for k in 0..10u32 {
            let (tx, rx) = chan::bounded(k as usize);
            rc_tx.send(rx).unwrap();
            for i in 0..=k {
                tx.send(i).unwrap();
            }
        }
        drop(rc_tx);
        let want: Vec<u32> = (0..10).map(|k| k * (k + 1) / 2).collect();
        assert_eq!(h.join().unwrap(), want);
    });
}
