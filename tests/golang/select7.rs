//! test/chan/select7.go: three ways to receive (plain; a 1-case select; a 2-case select with a
//! never-ready second channel) × three ways to send (the same three) on a fresh unbuffered
//! channel, with a `Gosched` between starting the receiver and sending. None may deadlock.
//! Each of the 9 combinations is run 1,000 times.

use goro::chan::{self, Receiver, Sender};

use crate::support::go_main;

fn recv1(c: Receiver<i32>) -> i32 {
    c.recv().unwrap()
}

fn recv2(c: Receiver<i32>) -> i32 {
    goro::select! { recv(c) -> v => v.unwrap() }
}

fn recv3(c: Receiver<i32>) -> i32 {
    let (_tx2, c2) = chan::bounded::<i32>(0);
    goro::select! {
        recv(c) -> v => v.unwrap(),
        recv(c2) -> _v => panic!("c2 chosen"),
    }
}

fn send1(c: &Sender<i32>) {
    c.send(1).unwrap();
}

fn send2(c: &Sender<i32>) {
    goro::select! { send(c, 1) -> r => r.unwrap() }
}

fn send3(c: &Sender<i32>) {
    let (c2, _rx2) = chan::bounded::<i32>(0);
    goro::select! {
        send(c, 1) -> r => r.unwrap(),
        send(c2, 1) -> _r => panic!("c2 chosen"),
    }
}

#[test]
fn select7_all_nine_combinations() {
    go_main("select7", || {
        let recvs: [fn(Receiver<i32>) -> i32; 3] = [recv1, recv2, recv3];
        let sends: [fn(&Sender<i32>); 3] = [send1, send2, send3];
        for r in recvs {
            for s in sends {
                for _ in 0..1000 {
                    let (tx, rx) = chan::bounded::<i32>(0);
                    let h = goro::go(move || r(rx));
                    goro::yield_now();
                    s(&tx);
                    assert_eq!(h.join().unwrap(), 1);
                }
            }
        }
    });
}
