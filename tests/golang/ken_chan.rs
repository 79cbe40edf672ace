//! test/ken/chan.go, test1 ("direct send to direct recv"), for buffer sizes 0, 1, 10 and 100:
//! four channels, each with its own sender and receiver goroutine; channel k carries the 76
//! values base_k..=base_k+75 (bases 100 apart) and its receiver checks the exact sequence.
//! Before each operation a goroutine yields 0–9 extra times, counts drawn from Go's LCG
//! (`randx += 10007 mod 1e6`). Main waits, as Go does, by polling a process counter with
//! `Gosched`. Totals: sends == receives == 4 × 4 × 76 = 1216.
//!
//! Pending `select!`: test2–test6 (select receivers, select senders, select on both ends,
//! 8- and 12-channel mixes), which make up the rest of Go's 10944 total.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use goro::chan::{self, Receiver, Sender};

use crate::support::go_main;

const END: i64 = 10_000;

#[derive(Default)]
struct Shared {
    randx: Mutex<u32>,
    nproc: Mutex<i64>,
    tots: AtomicUsize,
    totr: AtomicUsize,
}

impl Shared {
    fn nrand(&self, n: u32) -> u32 {
        let mut r = self.randx.lock().unwrap();
        *r += 10007;
        if *r >= 1_000_000 {
            *r -= 1_000_000;
        }
        *r % n
    }

    fn change_nproc(&self, adjust: i64) -> i64 {
        let mut n = self.nproc.lock().unwrap();
        *n += adjust;
        *n
    }

    /// Go's random number of `runtime.Gosched()` calls before each operation.
    fn gosched_randomly(&self) {
        for _ in 0..=self.nrand(10) {
            goro::yield_now();
        }
    }

    /// Go's wait(): poll the process counter, yielding.
    fn wait(&self) {
        goro::yield_now();
        while self.change_nproc(0) != 0 {
            goro::yield_now();
        }
    }
}

/// Go's expect: the next value of a channel's sequence, or END after base+75.
fn expect(v: i64, v0: i64) -> i64 {
    assert_eq!(v, v0, "got {v} expected {v0}");
    if v % 100 == 75 {
        END
    } else {
        v + 1
    }
}

fn send(sh: Arc<Shared>, sc: Sender<i64>, mut sv: i64) {
    loop {
        sh.gosched_randomly();
        sc.send(sv).expect("receiver gone");
        sh.tots.fetch_add(1, Ordering::SeqCst);
        sv = expect(sv, sv);
        if sv == END {
            break; // Go: c.sc = nil
        }
    }
    sh.change_nproc(-1);
}

fn recv(sh: Arc<Shared>, rc: Receiver<i64>, mut rv: i64) {
    loop {
        sh.gosched_randomly();
        let v = rc.recv().expect("sender gone");
        sh.totr.fetch_add(1, Ordering::SeqCst);
        rv = expect(v, rv);
        if rv == END {
            break; // Go: c.rc = nil
        }
    }
    sh.change_nproc(-1);
}

#[test]
fn ken_chan_test1_all_buffer_sizes() {
    go_main("ken/chan test1", || {
        let sh = Arc::new(Shared::default());
        let mut cval = 0;
        for c in [0, 1, 10, 100] {
            // Go's mkchan(c, 4) and test1 on each.
            for _ in 0..4 {
                cval += 100;
                let (tx, rx) = chan::bounded(c);
                sh.change_nproc(2);
                let sh1 = sh.clone();
                goro::go(move || send(sh1, tx, cval));
                let sh2 = sh.clone();
                goro::go(move || recv(sh2, rx, cval));
            }
            sh.wait();
        }
        let t = 4 * 4 * 76;
        let (tots, totr) = (
            sh.tots.load(Ordering::SeqCst),
            sh.totr.load(Ordering::SeqCst),
        );
        assert!(tots == t && totr == t, "tots={tots} totr={totr} sb={t}");
    });
}
