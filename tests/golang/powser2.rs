//! test/chan/powser2.go: powser1's power series with the same algorithm and the same expected
//! values, but the data channels carry an interface (Go's `item`, holding a `*rat`): here
//! `Arc<dyn Term>`, a shared trait object, downcast back to a `Rat` on receipt (Go's type
//! assertion `(<-in.dat).(*rat)`). `dosplit` hands the *same* `Arc` to both of its readers,
//! as Go hands the same pointer, and the checks compare through the trait (`eq`). Test mode
//! as in powser1: Ones, Diff, Integ, Cmul, Mul, Exp, ATan (and Add/Sub with count 0); the
//! goroutines are left parked when the test ends, as in Go.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use goro::chan::{self, Receiver, Sender};

use crate::support::go_main;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rat {
    num: i64,
    den: i64,
}

/// Go's `item` interface (`pr()`, `eq(c item) bool`), with `as_any` for the type assertion.
trait Term: Any + Send + Sync + fmt::Debug {
    fn as_any(&self) -> &dyn Any;
    fn eq(&self, c: &dyn Term) -> bool;
}

impl Term for Rat {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn eq(&self, c: &dyn Term) -> bool {
        c.as_any().downcast_ref::<Rat>() == Some(self)
    }
}

/// What travels on a data channel.
type Item = Arc<dyn Term>;

fn item(r: Rat) -> Item {
    Arc::new(r)
}

/// Go's `(x).(*rat)`.
fn rat(it: &Item) -> Rat {
    *it.as_any()
        .downcast_ref::<Rat>()
        .unwrap_or_else(|| panic!("not a rat: {it:?}"))
}

fn gcd(u: i64, v: i64) -> i64 {
    if u < 0 {
        return gcd(-u, v);
    }
    if u == 0 {
        return v;
    }
    gcd(v % u, u)
}

fn i2tor(u: i64, v: i64) -> Rat {
    let g = gcd(u, v);
    if v > 0 {
        Rat {
            num: u / g,
            den: v / g,
        }
    } else {
        Rat {
            num: -u / g,
            den: -v / g,
        }
    }
}

fn itor(u: i64) -> Rat {
    i2tor(u, 1)
}

const ZERO: Rat = Rat { num: 0, den: 1 };
const ONE: Rat = Rat { num: 1, den: 1 };
const FINIS: Rat = Rat { num: 1, den: 0 };

fn end(u: Rat) -> i64 {
    i64::from(u.den == 0)
}

fn add(u: Rat, v: Rat) -> Rat {
    let g = gcd(u.den, v.den);
    i2tor(
        u.num * (v.den / g) + v.num * (u.den / g),
        u.den * (v.den / g),
    )
}

fn mul(u: Rat, v: Rat) -> Rat {
    let g1 = gcd(u.num, v.den);
    let g2 = gcd(u.den, v.num);
    Rat {
        num: (u.num / g1) * (v.num / g2),
        den: (u.den / g2) * (v.den / g1),
    }
}

fn neg(u: Rat) -> Rat {
    i2tor(-u.num, u.den)
}

/// Go's global `seqno`, mutated by every request (its value is irrelevant).
static SEQNO: AtomicI64 = AtomicI64::new(0);

fn next_seqno() -> i64 {
    SEQNO.fetch_add(1, Ordering::Relaxed) + 1
}

/// A demand channel (Go's `*dch`): Go's channels are bidirectional values, so a `Dch` holds
/// both ends of both channels and is cloned where Go copies the pointer.
#[derive(Clone)]
struct Dch {
    req_tx: Sender<i64>,
    req_rx: Receiver<i64>,
    dat_tx: Sender<Item>,
    dat_rx: Receiver<Item>,
}

type Ps = Dch;

fn mkdch() -> Dch {
    let (req_tx, req_rx) = chan::bounded(0);
    let (dat_tx, dat_rx) = chan::bounded(0);
    Dch {
        req_tx,
        req_rx,
        dat_tx,
        dat_rx,
    }
}

fn mkdch2() -> [Dch; 2] {
    [mkdch(), mkdch()]
}

impl Dch {
    fn wait_req(&self) {
        self.req_rx.recv().expect("req channel closed");
    }
    fn send_dat(&self, r: Rat) {
        self.send_item(item(r));
    }
    fn send_item(&self, it: Item) {
        self.dat_tx.send(it).expect("dat channel closed");
    }
}

/// Go's dosplit: reads a single demand channel and replicates its output onto two, which may
/// be read at different rates. Go passes `out` by pointer, but every generation swaps it
/// only after the previous one released it, so passing it by value is the same.
fn dosplit(input: Dch, mut out: [Dch; 2], wait: Receiver<i32>) {
    let mut both = false; // do not service both channels
    let mut swap = false;
    goro::select! {
        recv(out[0].req_rx) -> r => { r.unwrap(); }
        recv(wait) -> r => {
            r.unwrap();
            both = true;
            goro::select! {
                recv(out[0].req_rx) -> r => { r.unwrap(); }
                recv(out[1].req_rx) -> r => { r.unwrap(); swap = true; }
            }
        }
    }
    if swap {
        out.swap(0, 1);
    }
    input.req_tx.send(next_seqno()).unwrap();
    let (release_tx, release_rx) = chan::bounded(0);
    {
        let (input, out) = (input.clone(), out.clone());
        goro::go(move || dosplit(input, out, release_rx));
    }
    // One item, the same `Arc` for both readers (Go: the same pointer).
    let dat = input.dat_rx.recv().unwrap();
    out[0].send_item(Arc::clone(&dat));
    if !both {
        wait.recv().unwrap();
    }
    out[1].wait_req();
    out[1].send_item(dat);
    release_tx.send(0).unwrap();
}

fn split(input: Dch, out: [Dch; 2]) {
    let (release_tx, release_rx) = chan::bounded(0);
    goro::go(move || dosplit(input, out, release_rx));
    release_tx.send(0).unwrap();
}

fn put(dat: Rat, out: &Dch) {
    out.wait_req();
    out.send_dat(dat);
}

fn get(input: &Dch) -> Rat {
    input.req_tx.send(next_seqno()).unwrap();
    rat(&input.dat_rx.recv().unwrap())
}

/// Go's getn for n = 2: one term from each of two demand channels, by a 4-case select of two
/// sends and two receives; a case is disabled by setting its channel to nil.
fn get2(in0: &Dch, in1: &Dch) -> [Rat; 2] {
    let mut req: [Option<&Sender<i64>>; 2] = [Some(&in0.req_tx), Some(&in1.req_tx)];
    let mut dat: [Option<&Receiver<Item>>; 2] = [None, None];
    let mut out = [ZERO; 2];
    for _ in 0..4 {
        let seqno = next_seqno();
        goro::select! {
            send(req[0], seqno) -> r => {
                r.unwrap();
                dat[0] = Some(&in0.dat_rx);
                req[0] = None;
            }
            send(req[1], seqno) -> r => {
                r.unwrap();
                dat[1] = Some(&in1.dat_rx);
                req[1] = None;
            }
            recv(dat[0]) -> it => {
                out[0] = rat(&it.unwrap());
                dat[0] = None;
            }
            recv(dat[1]) -> it => {
                out[1] = rat(&it.unwrap());
                dat[1] = None;
            }
        }
    }
    assert!(req.iter().all(Option::is_none) && dat.iter().all(Option::is_none));
    out
}

fn copy(input: &Dch, out: &Dch) -> ! {
    loop {
        out.wait_req();
        out.send_dat(get(input));
    }
}

fn repeat(dat: Rat, out: &Dch) -> ! {
    loop {
        put(dat, out);
    }
}

fn split_ps(u: Ps) -> [Ps; 2] {
    let uu = mkdch2();
    let out = uu.clone();
    goro::go(move || split(u, out));
    uu
}

#[allow(clippy::many_single_char_names)]
fn add_ps(u: Ps, v: Ps) -> Ps {
    let z = mkdch();
    let zc = z.clone();
    goro::go(move || loop {
        zc.wait_req();
        let uv = get2(&u, &v);
        match end(uv[0]) + 2 * end(uv[1]) {
            0 => zc.send_dat(add(uv[0], uv[1])),
            1 => {
                zc.send_dat(uv[1]);
                copy(&v, &zc);
            }
            2 => {
                zc.send_dat(uv[0]);
                copy(&u, &zc);
            }
            _ => zc.send_dat(FINIS),
        }
    });
    z
}

fn cmul(c: Rat, u: Ps) -> Ps {
    let z = mkdch();
    let zc = z.clone();
    goro::go(move || {
        let mut done = false;
        while !done {
            zc.wait_req();
            let u = get(&u);
            if end(u) != 0 {
                done = true;
            } else {
                zc.send_dat(mul(c, u));
            }
        }
        zc.send_dat(FINIS);
    });
    z
}

fn sub_ps(u: Ps, v: Ps) -> Ps {
    add_ps(u, cmul(neg(ONE), v))
}

fn rep(c: Rat) -> Ps {
    let z = mkdch();
    let zc = z.clone();
    goro::go(move || repeat(c, &zc));
    z
}

fn mul_ps(u: Ps, v: Ps) -> Ps {
    let z = mkdch();
    let zc = z.clone();
    goro::go(move || {
        zc.wait_req();
        let uv = get2(&u, &v);
        if end(uv[0]) != 0 || end(uv[1]) != 0 {
            zc.send_dat(FINIS);
        } else {
            zc.send_dat(mul(uv[0], uv[1]));
            let [uu0, uu1] = split_ps(u);
            let [vv0, vv1] = split_ps(v);
            let w = add_ps(cmul(uv[0], vv0), cmul(uv[1], uu0));
            zc.wait_req();
            zc.send_dat(get(&w));
            copy(&add_ps(w, mul_ps(uu1, vv1)), &zc);
        }
    });
    z
}

fn diff(u: Ps) -> Ps {
    let z = mkdch();
    let zc = z.clone();
    goro::go(move || {
        zc.wait_req();
        let u0 = get(&u);
        if end(u0) == 0 {
            let mut i = 1;
            loop {
                let ui = get(&u);
                if end(ui) != 0 {
                    break;
                }
                zc.send_dat(mul(itor(i), ui));
                zc.wait_req();
                i += 1;
            }
        }
        zc.send_dat(FINIS);
    });
    z
}

fn integ(c: Rat, u: Ps) -> Ps {
    let z = mkdch();
    let zc = z.clone();
    goro::go(move || {
        put(c, &zc);
        let mut done = false;
        let mut i = 1;
        while !done {
            zc.wait_req();
            let ui = get(&u);
            if end(ui) != 0 {
                done = true;
            }
            zc.send_dat(mul(i2tor(1, i), ui));
            i += 1;
        }
        zc.send_dat(FINIS);
    });
    z
}

/// Exponential of a series with constant term 0: Z = Integ(1, Mul(Z, Diff(U))), Z fed back
/// through a split.
fn exp(u: Ps) -> Ps {
    let zz = mkdch2();
    split(integ(ONE, mul_ps(zz[0].clone(), diff(u))), zz.clone());
    zz[1].clone()
}

/// Monomial substitution U(c·x^n): each term u_i times c^i, followed by n-1 zeros.
fn mon_subst(u: Ps, c0: Rat, n: usize) -> Ps {
    let z = mkdch();
    let zc = z.clone();
    goro::go(move || {
        let mut c = ONE;
        loop {
            zc.wait_req();
            let ui = get(&u);
            zc.send_dat(mul(ui, c));
            c = mul(c, c0);
            if end(ui) != 0 {
                zc.send_dat(FINIS);
                break;
            }
            for _ in 1..n {
                zc.wait_req();
                zc.send_dat(ZERO);
            }
        }
    });
    z
}

fn check(u: &Ps, c: Rat, count: usize, what: &str) {
    for i in 0..count {
        let r = get(u);
        assert!(Term::eq(&r, &c), "{what}: term {i}: {r:?} != {c:?}");
    }
}

const N: usize = 10;

fn checka(u: &Ps, a: &[Rat; N], what: &str) {
    for (i, c) in a.iter().enumerate() {
        let r = item(get(u));
        assert!(r.eq(c), "{what}: term {i}: {r:?} != {c:?}");
    }
}

#[test]
fn powser2_items() {
    assert_eq!(i2tor(2, 4), Rat { num: 1, den: 2 });
    assert_eq!(i2tor(3, -6), Rat { num: -1, den: 2 });
    assert_eq!(add(i2tor(1, 2), i2tor(1, 3)), i2tor(5, 6));
    assert_eq!(mul(i2tor(2, 3), i2tor(3, 4)), i2tor(1, 2));
    assert_eq!(neg(ONE), itor(-1));
    assert_eq!(end(FINIS), 1);
    assert_eq!(end(ZERO), 0);
    let it = item(i2tor(1, 2));
    assert!(it.eq(&i2tor(2, 4)) && !it.eq(&ONE));
    assert_eq!(rat(&it), i2tor(1, 2));
}

#[test]
fn powser2_test_mode() {
    go_main("powser2", || {
        let ones = rep(ONE);
        let twos = rep(itor(2));

        check(&ones, ONE, 5, "Ones");
        check(
            &add_ps(ones.clone(), ones.clone()),
            itor(2),
            0,
            "Add Ones Ones",
        );
        check(
            &add_ps(ones.clone(), twos.clone()),
            itor(3),
            0,
            "Add Ones Twos",
        );

        let mut a = [ZERO; N];
        let d = diff(ones.clone());
        for (i, t) in a.iter_mut().enumerate() {
            *t = itor(i as i64 + 1);
        }
        checka(&d, &a, "Diff"); // 1 2 3 4 5

        let inn = integ(ZERO, ones.clone());
        a[0] = ZERO; // integration constant
        for (i, t) in a.iter_mut().enumerate().skip(1) {
            *t = i2tor(1, i as i64);
        }
        checka(&inn, &a, "Integ"); // 0 1 1/2 1/3 1/4 1/5

        check(&cmul(neg(ONE), twos.clone()), itor(-2), 10, "CMul"); // -2 -2 -2 -2 -2
        check(
            &sub_ps(ones.clone(), twos.clone()),
            itor(-1),
            0,
            "Sub Ones Twos",
        );

        let m = mul_ps(ones.clone(), ones.clone());
        for (i, t) in a.iter_mut().enumerate() {
            *t = itor(i as i64 + 1);
        }
        checka(&m, &a, "Mul"); // 1 2 3 4 5

        let e = exp(ones.clone());
        let a_exp = [
            itor(1),
            itor(1),
            i2tor(3, 2),
            i2tor(13, 6),
            i2tor(73, 24),
            i2tor(167, 40),
            i2tor(4051, 720),
            i2tor(37633, 5040),
            i2tor(43817, 4480),
            i2tor(4596553, 362880),
        ];
        checka(&e, &a_exp, "Exp"); // 1 1 3/2 13/6 73/24

        let at = integ(ZERO, mon_subst(ones.clone(), neg(ONE), 2));
        let mut c = 1;
        for (i, t) in a.iter_mut().enumerate() {
            if i % 2 == 0 {
                *t = ZERO;
            } else {
                *t = i2tor(c, i as i64);
                c *= -1;
            }
        }
        assert_eq!(a[1], ONE, "ATan starts with +1 (Go's comment says -1)");
        checka(&at, &a, "ATan"); // 0 1 0 -1/3 0 1/5
    });
}
