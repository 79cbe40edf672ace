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

// ---- test2–test6: the select-driven topologies, with `goro::select!`. ----

/// One channel's sending side (Go's `c.sc`, `c.sv`); `sc` is `None` (Go's nil) when unused or done.
struct SendSide {
    sc: Option<Sender<i64>>,
    sv: i64,
}

/// One channel's receiving side (Go's `c.rc`, `c.rv`).
struct RecvSide {
    rc: Option<Receiver<i64>>,
    rv: i64,
}

/// Go's `nc`: a channel whose both ends are nil.
fn nc_send() -> SendSide {
    SendSide { sc: None, sv: 0 }
}

fn nc_recv() -> RecvSide {
    RecvSide { rc: None, rv: 0 }
}

/// Go's mkchan(c, n): n channels with buffer c, bases 100 apart (continuing `cval`).
fn mkchan(cval: &mut i64, c: usize, n: usize) -> (Vec<Option<SendSide>>, Vec<Option<RecvSide>>) {
    let (mut s, mut r) = (Vec::new(), Vec::new());
    for _ in 0..n {
        *cval += 100;
        let (tx, rx) = chan::bounded(c);
        s.push(Some(SendSide {
            sc: Some(tx),
            sv: *cval,
        }));
        r.push(Some(RecvSide {
            rc: Some(rx),
            rv: *cval,
        }));
    }
    (s, r)
}

impl SendSide {
    /// Go's `(*Chan).send`: count, advance, and disable the channel at its end.
    fn sent(&mut self, sh: &Shared) -> bool {
        sh.tots.fetch_add(1, Ordering::SeqCst);
        self.sv = expect(self.sv, self.sv);
        if self.sv == END {
            self.sc = None;
            return true;
        }
        false
    }
}

impl RecvSide {
    fn received(&mut self, sh: &Shared, v: i64) -> bool {
        sh.totr.fetch_add(1, Ordering::SeqCst);
        self.rv = expect(v, self.rv);
        if self.rv == END {
            self.rc = None;
            return true;
        }
        false
    }
}

/// Go's sel: an 8-case select (4 receives, 4 sends) looped until every non-nil channel is
/// done, each finished channel set to nil.
fn sel(sh: Arc<Shared>, mut r: [RecvSide; 4], mut s: [SendSide; 4]) {
    let mut a =
        r.iter().filter(|c| c.rc.is_some()).count() + s.iter().filter(|c| c.sc.is_some()).count();
    loop {
        for _ in 0..=sh.nrand(5) {
            goro::yield_now();
        }
        let rc: [Option<Receiver<i64>>; 4] = [0, 1, 2, 3].map(|i| r[i].rc.clone());
        let sc: [Option<Sender<i64>>; 4] = [0, 1, 2, 3].map(|i| s[i].sc.clone());
        let done = goro::select! {
            recv(rc[0]) -> v => r[0].received(&sh, v.expect("closed")),
            recv(rc[1]) -> v => r[1].received(&sh, v.expect("closed")),
            recv(rc[2]) -> v => r[2].received(&sh, v.expect("closed")),
            recv(rc[3]) -> v => r[3].received(&sh, v.expect("closed")),
            send(sc[0], s[0].sv) -> x => { x.expect("closed"); s[0].sent(&sh) }
            send(sc[1], s[1].sv) -> x => { x.expect("closed"); s[1].sent(&sh) }
            send(sc[2], s[2].sv) -> x => { x.expect("closed"); s[2].sent(&sh) }
            send(sc[3], s[3].sv) -> x => { x.expect("closed"); s[3].sent(&sh) }
        };
        if done {
            a -= 1;
        }
        if a == 0 {
            break;
        }
    }
    sh.change_nproc(-1);
}

fn go_send(sh: &Arc<Shared>, c: SendSide) {
    sh.change_nproc(1);
    let sh = sh.clone();
    goro::go(move || send(sh, c.sc.unwrap(), c.sv));
}

fn go_recv(sh: &Arc<Shared>, c: RecvSide) {
    sh.change_nproc(1);
    let sh = sh.clone();
    goro::go(move || recv(sh, c.rc.unwrap(), c.rv));
}

fn go_sel(sh: &Arc<Shared>, r: [RecvSide; 4], s: [SendSide; 4]) {
    sh.change_nproc(1);
    let sh = sh.clone();
    goro::go(move || sel(sh, r, s));
}

/// Go's tests(c) after test1: test2 (direct send → select recv), test3 (select send → direct
/// recv), test4 (select send → select recv), test5 (two 8-case selects over 8 channels),
/// test6 (a wild mix over 12 channels), each followed by Go's wait().
fn tests2to6(sh: &Arc<Shared>, cval: &mut i64, c: usize) {
    let take = |v: &mut Vec<Option<SendSide>>, i: usize| v[i].take().unwrap();
    let taker = |v: &mut Vec<Option<RecvSide>>, i: usize| v[i].take().unwrap();
    let nrs = || [nc_recv(), nc_recv(), nc_recv(), nc_recv()];
    let nss = || [nc_send(), nc_send(), nc_send(), nc_send()];

    // test2: direct send to select recv.
    let (mut s, mut r) = mkchan(cval, c, 4);
    for i in 0..4 {
        go_send(sh, take(&mut s, i));
    }
    go_sel(sh, [0, 1, 2, 3].map(|i| taker(&mut r, i)), nss());
    sh.wait();

    // test3: select send to direct recv.
    let (mut s, mut r) = mkchan(cval, c, 4);
    for i in 0..4 {
        go_recv(sh, taker(&mut r, i));
    }
    go_sel(sh, nrs(), [0, 1, 2, 3].map(|i| take(&mut s, i)));
    sh.wait();

    // test4: select send to select recv.
    let (mut s, mut r) = mkchan(cval, c, 4);
    go_sel(sh, nrs(), [0, 1, 2, 3].map(|i| take(&mut s, i)));
    go_sel(sh, [0, 1, 2, 3].map(|i| taker(&mut r, i)), nss());
    sh.wait();

    // test5: two selects, each receiving 4 channels and sending 4 others.
    let (mut s, mut r) = mkchan(cval, c, 8);
    go_sel(
        sh,
        [4, 5, 6, 7].map(|i| taker(&mut r, i)),
        [0, 1, 2, 3].map(|i| take(&mut s, i)),
    );
    go_sel(
        sh,
        [0, 1, 2, 3].map(|i| taker(&mut r, i)),
        [4, 5, 6, 7].map(|i| take(&mut s, i)),
    );
    sh.wait();

    // test6: direct senders on 4..8, direct receivers on 8..12, two selects for the rest.
    let (mut s, mut r) = mkchan(cval, c, 12);
    for i in 4..8 {
        go_send(sh, take(&mut s, i));
    }
    for i in 8..12 {
        go_recv(sh, taker(&mut r, i));
    }
    go_sel(
        sh,
        [4, 5, 6, 7].map(|i| taker(&mut r, i)),
        [0, 1, 2, 3].map(|i| take(&mut s, i)),
    );
    go_sel(
        sh,
        [0, 1, 2, 3].map(|i| taker(&mut r, i)),
        [8, 9, 10, 11].map(|i| take(&mut s, i)),
    );
    sh.wait();
}

/// The whole of test/ken/chan.go: for buffer sizes 0, 1, 10, 100, test1 on 4 channels, then
/// test2–test6. Totals: sends == receives == 4 × (4×4 + 8 + 12) × 76 = 10944.
#[test]
fn ken_chan_all_tests_total_10944() {
    go_main("ken/chan", || {
        let sh = Arc::new(Shared::default());
        let mut cval = 0;
        for c in [0, 1, 10, 100] {
            for _ in 0..4 {
                cval += 100;
                let (tx, rx) = chan::bounded(c);
                go_send(
                    &sh,
                    SendSide {
                        sc: Some(tx),
                        sv: cval,
                    },
                );
                go_recv(
                    &sh,
                    RecvSide {
                        rc: Some(rx),
                        rv: cval,
                    },
                );
            }
            sh.wait();
            tests2to6(&sh, &mut cval, c);
        }
        let t = 4 * (4 * 4 + 8 + 12) * 76;
        assert_eq!(t, 10944);
        let (tots, totr) = (
            sh.tots.load(Ordering::SeqCst),
            sh.totr.load(Ordering::SeqCst),
        );
        assert!(tots == t && totr == t, "tots={tots} totr={totr} sb={t}");
    });
}
