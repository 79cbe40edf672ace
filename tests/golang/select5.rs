//! test/chan/select5.go: Go's generator of a program that runs one real send or receive at a
//! time, phrased in every way its templates allow, on a single goroutine with `c` buffered
//! (cap 1). Go's program enumerates every path through each template with `choose`/`maybe`
//! (the same enumeration runs here, at run time) and writes one block per path:
//!
//! - recv: `x = <-c` plainly, or a select whose receive from `c` assigns directly, through a
//!   pointer, with `:=`, through an interface or into a map element; with or without
//!   `default`; with or without a never-ready `dummy` send and receive, and nil-channel send
//!   and receive. The value must be the one sent.
//! - send: `c <- n` plainly or as a select case, with the same optional cases.
//! - recvOrder / sendOrder: the channel operands and send values are evaluated exactly once,
//!   in source order (`checkorder` needs strictly increasing numbers), and the receive's
//!   left-hand side only after its case is chosen (numbered 100).
//! - nonblock: a select of only dummy and nil cases and `default` takes the default without
//!   touching any receive target.
//!
//! The select shapes are `goro::select!` with every optional case present and `None` (a nil
//! channel, not evaluated) when the path leaves it out; nil cases are present as `None` after
//! evaluating Go's `fc(nilch, o)`. Go's default before or after the cases is one `default`
//! slot in `select!` (its position in the source changes nothing), so each template has two
//! shapes: with and without `default`.

use std::any::Any;
use std::cell::Cell;
use std::collections::HashMap;

use goro::chan::{self, Receiver, Sender};

use crate::support::go_main;

/// Go's choose/maybe enumeration of every path through some logic.
struct Paths {
    choices: Vec<(usize, usize)>,
    cp: isize,
    def: bool,
    nreset: usize,
}

impl Paths {
    fn new() -> Paths {
        Paths {
            choices: Vec::new(),
            cp: -1,
            def: false,
            nreset: 0,
        }
    }

    fn choose(&mut self, n: usize) -> usize {
        let cp = self.cp as usize;
        if cp >= self.choices.len() {
            self.choices.push((0, n));
            self.cp = self.choices.len() as isize;
            return 0;
        }
        assert_eq!(self.choices[cp].1, n, "inconsistent choices");
        self.cp += 1;
        self.choices[cp].0
    }

    fn maybe(&mut self) -> bool {
        self.choose(2) == 0
    }

    fn maybe_default(&mut self) -> bool {
        if self.def {
            return false;
        }
        self.def = self.maybe();
        self.def
    }

    fn must_default(&self) -> bool {
        !self.def
    }

    fn reset(&mut self) {
        self.def = false;
        self.nreset += 1;
    }

    fn next(&mut self) -> bool {
        if self.cp < 0 {
            self.cp = 0;
            return true;
        }
        let mut cp = self.choices.len() as isize - 1;
        while cp >= 0 && self.choices[cp as usize].0 == self.choices[cp as usize].1 - 1 {
            cp -= 1;
        }
        if cp < 0 {
            self.choices.clear();
            self.cp = -1;
            return false;
        }
        self.choices[cp as usize].0 += 1;
        self.choices.truncate(cp as usize + 1);
        self.cp = 0;
        true
    }
}

/// The program's globals: `c` (cap 1), `dummy` (unbuffered, nobody on the other side), `n`,
/// `x`, `i`, `m` and `order`. Go's `nilch` is `None`.
struct Prog {
    c_tx: Sender<i32>,
    c: Receiver<i32>,
    dummy_tx: Sender<i32>,
    dummy: Receiver<i32>,
    n: i32,
    x: i32,
    m: HashMap<i32, i32>,
    order: Cell<i32>,
    blocks: usize,
}

impl Prog {
    fn new() -> Prog {
        let (c_tx, c) = chan::bounded(1);
        let (dummy_tx, dummy) = chan::bounded(0);
        Prog {
            c_tx,
            c,
            dummy_tx,
            dummy,
            n: 1,
            x: 0,
            m: HashMap::new(),
            order: Cell::new(0),
            blocks: 0,
        }
    }

    fn checkorder(&self, o: i32) {
        checkorder(&self.order, o);
    }

    /// Go's `fc(c, o)` for a receive operand.
    fn fr<'a>(&self, c: Option<&'a Receiver<i32>>, o: i32) -> Option<&'a Receiver<i32>> {
        self.checkorder(o);
        c
    }

    /// Go's `fc(c, o)` for a send operand.
    fn fs<'a>(&self, c: Option<&'a Sender<i32>>, o: i32) -> Option<&'a Sender<i32>> {
        self.checkorder(o);
        c
    }

    /// Go's `fn(n, o)`.
    fn fnv(&self, n: i32, o: i32) -> i32 {
        self.checkorder(o);
        n
    }

    /// The end of every block: `if x != n { die(x) }; n++`.
    fn check(&mut self) {
        assert_eq!(self.x, self.n, "have {} want {}", self.x, self.n);
        self.n += 1;
        self.blocks += 1;
    }
}

/// Go's `checkorder(o)`: successive calls must have increasing `o`.
fn checkorder(order: &Cell<i32>, o: i32) {
    assert!(o > order.get(), "invalid order {o} after {}", order.get());
    order.set(o);
}

/// Go's `f(p *int) *int` (`o == 0`) and `fp(p, o)`.
fn fp<'a>(order: &Cell<i32>, p: &'a mut i32, o: i32) -> &'a mut i32 {
    if o > 0 {
        checkorder(order, o);
    }
    p
}

/// How the receive from `c` assigns: `x = <-c`, `*f(&x) = <-c`, `y := <-c; x = y`,
/// `i = <-c; x = i.(int)`, `m[13] = <-c; x = m[13]`.
#[derive(Clone, Copy, Debug)]
enum Lhs {
    Direct,
    Indirect,
    Define,
    Interface,
    Map,
}

/// The optional never-ready cases of a select.
#[derive(Clone, Copy, Debug, Default)]
struct Extra {
    dummy_send: bool,
    dummy_recv: bool,
    nil_send: bool,
    nil_recv: bool,
}

fn extras(p: &mut Paths) -> Extra {
    Extra {
        dummy_send: p.maybe(),
        dummy_recv: p.maybe(),
        nil_send: p.maybe(),
        nil_recv: p.maybe(),
    }
}

/// Stores a received value the way `lhs` says (after the case was chosen: the numbered
/// left-hand sides use order 100).
fn assign(prog: &mut Prog, lhs: Lhs, v: i32, ordered: bool) {
    let o = if ordered { 100 } else { 0 };
    match lhs {
        Lhs::Direct => prog.x = v,
        Lhs::Indirect => *fp(&prog.order, &mut prog.x, o) = v,
        Lhs::Define => {
            let y = v;
            prog.x = y;
        }
        Lhs::Interface => {
            let i: Box<dyn Any> = Box::new(v);
            prog.x = *i.downcast::<i32>().expect("i.(int)");
        }
        Lhs::Map => {
            let k = if ordered { prog.fnv(13, 100) } else { 13 };
            prog.m.insert(k, v);
            prog.x = prog.m[&13];
        }
    }
}

/// One select on `c`, receive (`send == None`) or send of `send`, with the optional cases and
/// default. `base` is the order number of `c`'s operand (0: no order checks); the other
/// operands are numbered as in Go's templates, given as `[dummy send chan, value, dummy recv,
/// nil send chan, value, nil recv]`.
fn select_on_c(
    prog: &mut Prog,
    send: Option<i32>,
    lhs: Lhs,
    default: bool,
    e: Extra,
    base: i32,
    nums: [i32; 6],
) {
    let ordered = base > 0;
    let num = |k: usize| if ordered { nums[k] } else { 0 };
    // Every operand in source order: c's, then the optional cases'.
    let p = &*prog;
    let fr = |c, o: i32| if o > 0 { p.fr(c, o) } else { c };
    let fs = |c, o: i32| if o > 0 { p.fs(c, o) } else { c };
    let fv = |v, o: i32| if o > 0 { p.fnv(v, o) } else { v };
    let (c_rx, c_tx) = match send {
        None => (fr(Some(&p.c), base), None),
        Some(_) => (None, fs(Some(&p.c_tx), base)),
    };
    let c_val = send.map_or(0, |v| fv(v, if ordered { base + 1 } else { 0 }));
    macro_rules! run {
        ($($default:tt)*) => {
            goro::select! {
                recv(c_rx) -> v => Some(v.expect("c is never closed")),
                send(c_tx, c_val) -> r => { r.expect("c is never closed"); None }
                send(if e.dummy_send { fs(Some(&p.dummy_tx), num(0)) } else { None },
                     if e.dummy_send { fv(1, num(1)) } else { 0 }) -> _r => panic!("dummy send"),
                recv(if e.dummy_recv { fr(Some(&p.dummy), num(2)) } else { None }) -> _v =>
                    panic!("dummy receive"),
                send(if e.nil_send { fs(None, num(3)) } else { None },
                     if e.nil_send { fv(1, num(4)) } else { 0 }) -> _r => panic!("nilch send"),
                recv(if e.nil_recv { fr(None, num(5)) } else { None }) -> _v => panic!("nilch recv"),
                $($default)*
            }
        };
    }
    let got = if default {
        run!(default => panic!("nonblock"),)
    } else {
        run!()
    };
    if let Some(v) = got {
        assign(prog, lhs, v, ordered);
    }
}

fn choose_lhs(p: &mut Paths, forms: &[Lhs]) -> Lhs {
    for &f in &forms[..forms.len() - 1] {
        if p.maybe() {
            return f;
        }
    }
    forms[forms.len() - 1]
}

fn recv_block(p: &mut Paths, prog: &mut Prog) {
    prog.c_tx.send(prog.n).unwrap();
    if p.maybe() {
        prog.x = prog.c.recv().unwrap();
    } else {
        let before = p.maybe_default();
        let lhs = choose_lhs(
            p,
            &[
                Lhs::Direct,
                Lhs::Indirect,
                Lhs::Define,
                Lhs::Interface,
                Lhs::Map,
            ],
        );
        let after = p.maybe_default();
        let e = extras(p);
        select_on_c(prog, None, lhs, before || after, e, 0, [0; 6]);
    }
    prog.check();
}

fn send_block(p: &mut Paths, prog: &mut Prog) {
    if p.maybe() {
        prog.c_tx.send(prog.n).unwrap();
    } else {
        let before = p.maybe_default();
        let after = p.maybe_default();
        let e = extras(p);
        let n = prog.n;
        select_on_c(prog, Some(n), Lhs::Direct, before || after, e, 0, [0; 6]);
    }
    prog.x = prog.c.recv().unwrap();
    prog.check();
}

fn recv_order_block(p: &mut Paths, prog: &mut Prog) {
    prog.order.set(0);
    prog.c_tx.send(prog.n).unwrap();
    if p.maybe() {
        // Outside a select, left to right: `*fp(&x, 1) = <-fc(c, 2)`.
        let Prog { order, x, c, .. } = prog;
        let target = fp(order, x, 1);
        checkorder(order, 2);
        *target = c.recv().unwrap();
    } else if p.maybe() {
        // `m[fn(13, 1)] = <-fc(c, 2); x = m[13]`.
        let k = prog.fnv(13, 1);
        let v = prog.fr(Some(&prog.c), 2).unwrap().recv().unwrap();
        prog.m.insert(k, v);
        prog.x = prog.m[&13];
    } else {
        let before = p.maybe_default();
        let lhs = choose_lhs(p, &[Lhs::Indirect, Lhs::Define, Lhs::Interface, Lhs::Map]);
        let after = p.maybe_default();
        let e = extras(p);
        select_on_c(prog, None, lhs, before || after, e, 1, [2, 3, 4, 5, 6, 7]);
    }
    prog.check();
}

fn send_order_block(p: &mut Paths, prog: &mut Prog) {
    prog.order.set(0);
    if p.maybe() {
        // `fc(c, 1) <- fn(n, 2)`.
        let c = prog.fs(Some(&prog.c_tx), 1).unwrap();
        let v = prog.fnv(prog.n, 2);
        c.send(v).unwrap();
    } else {
        let before = p.maybe_default();
        let after = p.maybe_default();
        let e = extras(p);
        let n = prog.n;
        select_on_c(
            prog,
            Some(n),
            Lhs::Direct,
            before || after,
            e,
            1,
            [3, 4, 5, 6, 7, 8],
        );
    }
    prog.x = prog.c.recv().unwrap();
    prog.check();
}

/// Non-blocking selects of only dummy and nil cases: the default runs and no receive target
/// is touched (Go's `**(**int)(nil) = <-dummy` would crash if it were).
fn nonblock_block(p: &mut Paths, prog: &mut Prog) {
    prog.x = prog.n;
    let before = p.maybe_default();
    let dummy_send = p.maybe();
    // The nil cases are `None` whether the path has them or not.
    let _nil_send = p.maybe();
    let dummy_recv = p.maybe();
    let dummy_recv_x = p.maybe();
    let dummy_recv_nil = p.maybe();
    let _nil_recv = p.maybe();
    let _nil_recv_x = p.maybe();
    let _nil_recv_nil = p.maybe();
    let after = p.must_default();
    assert!(before != after, "exactly one default");
    let d = |on: bool| if on { Some(&prog.dummy) } else { None };
    let ds = if dummy_send {
        Some(&prog.dummy_tx)
    } else {
        None
    };
    let nilch: Option<&Receiver<i32>> = None;
    let nilch_s: Option<&Sender<i32>> = None;
    let x = &mut prog.x;
    let defaulted = goro::select! {
        default => true,
        send(ds, 1) -> _r => panic!("dummy <- 1"),
        send(nilch_s, 1) -> _r => panic!("nilch <- 1"),
        recv(d(dummy_recv)) -> _v => panic!("<-dummy"),
        recv(d(dummy_recv_x)) -> v => { *x = v.unwrap(); panic!("<-dummy x") }
        recv(d(dummy_recv_nil)) -> _v => panic!("<-dummy (and didn't crash saving result!)"),
        recv(nilch) -> _v => panic!("<-nilch"),
        recv(nilch) -> v => { *x = v.unwrap(); panic!("<-nilch x") }
        recv(nilch) -> _v => panic!("<-nilch (and didn't crash saving result!)"),
    };
    assert!(defaulted);
    prog.check();
}

#[test]
fn select5_every_generated_case() {
    go_main("select5", || {
        let mut p = Paths::new();
        let mut prog = Prog::new();
        let templates: [fn(&mut Paths, &mut Prog); 5] = [
            recv_block,
            send_block,
            recv_order_block,
            send_order_block,
            nonblock_block,
        ];
        let mut per_template = Vec::new();
        for t in templates {
            let start = prog.blocks;
            while p.next() {
                t(&mut p, &mut prog);
                p.reset();
            }
            per_template.push(prog.blocks - start);
        }
        assert_eq!(prog.blocks, p.nreset);
        assert!(prog.c.is_empty() && prog.dummy.is_empty());
        // Every path of every template ran. recv: 1 plain + 3 default placements × 5
        // receive forms × 2^4 optional cases; send: 1 + 3 × 2^4; recvOrder: 2 plain + 3 × 4
        // × 2^4; sendOrder: as send; nonblock: 2 default placements × 2^8.
        assert_eq!(per_template, [241, 49, 194, 49, 512]);
        assert_eq!(p.nreset, 1045);
    });
}
