//! test/chan/select6.go (Go issue 2075): a select that lost on a channel must not corrupt that
//! channel's queue of waiters. G1 blocks in `<-c1`; G2 selects on `<-c1` and `<-c2` and wins
//! c2 (sent by G3), sends on c3, then does a plain `<-c1`; main waits for c3 and sends on c1
//! twice. Both sends must be received (Go: a deadlock otherwise). Repeated 1,000 times.

use goro::chan;

use crate::support::go_main;

#[test]
fn select6_lost_select_leaves_queue_intact() {
    go_main("select6", || {
        for _ in 0..1000 {
            let (c1_tx, c1) = chan::bounded::<bool>(0);
            let (c2_tx, c2) = chan::bounded::<bool>(0);
            let (c3_tx, c3) = chan::bounded::<bool>(0);
            let g1 = {
                let c1 = c1.clone();
                goro::go(move || c1.recv().unwrap())
            };
            let g2 = goro::go(move || {
                let won_c2 = goro::select! {
                    recv(c1) -> _v => panic!("dummy"),
                    recv(c2) -> v => v.unwrap(),
                };
                assert!(won_c2);
                c3_tx.send(true).unwrap();
                c1.recv().unwrap()
            });
            goro::go(move || c2_tx.send(true).unwrap());
            c3.recv().unwrap();
            c1_tx.send(true).unwrap();
            c1_tx.send(true).unwrap();
            assert!(g1.join().unwrap());
            assert!(g2.join().unwrap());
        }
    });
}
