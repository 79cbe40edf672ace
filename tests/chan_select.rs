//! `select!`: Go's select semantics.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan::{self, Receiver, RecvError, SendError};

mod support;

use support::Counted;

#[test]
fn three_ready_cases_are_chosen_fairly() {
    const N: usize = 300_000;
    let (t1, r1) = chan::bounded(N);
    let (t2, r2) = chan::bounded(N);
    let (t3, r3) = chan::bounded(N);
    for _ in 0..N {
        t1.send(1).unwrap();
        t2.send(2).unwrap();
        t3.send(3).unwrap();
    }
    let mut counts = [0usize; 3];
    for _ in 0..N {
        goro::select! {
            recv(r1) -> v => { assert_eq!(v, Ok(1)); counts[0] += 1 },
            recv(r2) -> v => { assert_eq!(v, Ok(2)); counts[1] += 1 },
            recv(r3) -> v => { assert_eq!(v, Ok(3)); counts[2] += 1 },
        }
    }
    for c in counts {
        let third = N as f64 / 3.0;
        assert!(
            (c as f64 - third).abs() < third * 0.1,
            "case counts {counts:?} are not within 10% of a third"
        );
    }
}

#[test]
fn send_values_are_evaluated_once_and_losers_are_dropped_unsent() {
    // Go's test/chan/select.go: every send value is evaluated exactly once per select,
    // chosen or not, including cases on nil channels.
    let drops = Arc::new(AtomicUsize::new(0));
    let evaluated = AtomicUsize::new(0);
    let make = || {
        evaluated.fetch_add(1, Ordering::SeqCst);
        Counted(drops.clone())
    };
    let (ta, ra) = chan::bounded(1);
    let (tb, rb) = chan::bounded(1);
    let nil: Option<&chan::Sender<Counted>> = None;
    goro::select! {
        send(ta, make()) -> r => assert!(r.is_ok()),
        send(tb, make()) -> r => assert!(r.is_ok()),
        send(nil, make()) -> _r => unreachable!("a nil case is never chosen"),
    }
    assert_eq!(evaluated.load(Ordering::SeqCst), 3);
    // One value was sent; the other two (the loser and the nil case's) are dropped.
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(ra.len() + rb.len(), 1, "exactly one send took effect");
}

#[goro::test]
fn a_losing_receive_takes_nothing() {
    for _ in 0..1_000 {
        let (ta, ra) = chan::bounded(1);
        let (tb, rb) = chan::bounded(1);
        ta.send(1).unwrap();
        tb.send(2).unwrap();
        let got = goro::select! {
            recv(ra) -> v => v.unwrap(),
            recv(rb) -> v => v.unwrap(),
        };
        // The other value is still there.
        let other = if got == 1 {
            rb.try_recv()
        } else {
            ra.try_recv()
        };
        assert_eq!(other, Ok(3 - got));
    }
}

#[test]
fn default_runs_only_when_nothing_is_ready() {
    let (tx, rx) = chan::bounded::<i32>(1);
    let took_default = goro::select! {
        recv(rx) -> _v => false,
        default => true,
    };
    assert!(took_default);
    tx.send(5).unwrap();
    let got = goro::select! {
        recv(rx) -> v => v.unwrap(),
        default => panic!("a ready case beats default"),
    };
    assert_eq!(got, 5);
    // A send case on a buffered channel with room is ready.
    goro::select! {
        send(tx, 6) -> r => assert!(r.is_ok()),
        default => panic!("room in the buffer"),
    }
}

#[test]
fn nil_cases_never_fire() {
    let nil: Option<&Receiver<i32>> = None;
    let fired = goro::select! {
        recv(nil) -> _v => true,
        default => false,
    };
    assert!(!fired);
    let never = chan::never::<i32>();
    let fired = goro::select! {
        recv(never) -> _v => true,
        default(Duration::from_millis(10)) => false,
    };
    assert!(!fired);
}

#[test]
fn an_empty_select_with_default_runs_default() {
    let x = goro::select! {
        default => 7,
    };
    assert_eq!(x, 7);
}

#[test]
fn closed_channels_are_always_ready() {
    let (tx, rx) = chan::bounded::<i32>(0);
    tx.close();
    for _ in 0..10 {
        goro::select! {
            recv(rx) -> v => assert_eq!(v, Err(RecvError)),
            default => panic!("a closed channel is ready"),
        }
    }
    goro::select! {
        send(tx, 3) -> r => assert_eq!(r, Err(SendError(3))),
        default => panic!("a send on a closed channel is ready (and fails)"),
    }
}

#[test]
fn timeout_with_select() {
    // The article's "Timeout with select".
    goro::run(|| {
        let (tx, rx) = chan::bounded::<&str>(0);
        goro::go(move || {
            goro::sleep(Duration::from_millis(200));
            let _ = tx.send("done");
        });
        let out = goro::select! {
            recv(rx) -> v => v.unwrap(),
            default(Duration::from_millis(20)) => "timeout",
        };
        assert_eq!(out, "timeout");
    });
}

#[goro::test]
fn blocked_select_wakes_for_the_first_ready_case() {
    let (t1, r1) = chan::bounded::<&str>(0);
    let (t2, r2) = chan::bounded::<&str>(0);
    goro::go(move || {
        goro::sleep(Duration::from_millis(10));
        t1.send("one").unwrap();
    });
    goro::go(move || {
        goro::sleep(Duration::from_millis(300));
        let _ = t2.send("two");
    });
    let got = goro::select! {
        recv(r1) -> m => m.unwrap(),
        recv(r2) -> m => m.unwrap(),
    };
    assert_eq!(got, "one");
}

#[test]
fn select_from_a_plain_thread_blocks_the_thread() {
    let (tx, rx) = chan::bounded::<u8>(0);
    let h = goro::go(move || {
        goro::sleep(Duration::from_millis(5));
        tx.send(9).unwrap();
    });
    let got = goro::select! {
        recv(rx) -> v => v.unwrap(),
    };
    assert_eq!(got, 9);
    h.join().unwrap();
}

#[test]
fn break_and_continue_work_in_bodies() {
    let (tx, rx) = chan::bounded(10);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    tx.close();
    let mut seen = Vec::new();
    loop {
        goro::select! {
            recv(rx) -> v => {
                let Ok(v) = v else { break };
                if v % 2 == 0 {
                    continue;
                }
                seen.push(v);
            }
        }
    }
    assert_eq!(seen, [1, 3, 5, 7, 9]);
}

#[test]
fn a_goroutine_never_rendezvous_with_itself() {
    // Go's TestSelfSelect: a select with a send and a receive on the same unbuffered channel
    // must pair with another goroutine, never with itself.
    goro::run(|| {
        let (tx, rx) = chan::bounded::<usize>(0);
        let handles: Vec<_> = (0..2)
            .map(|p| {
                let (tx, rx) = (tx.clone(), rx.clone());
                goro::go(move || {
                    for _ in 0..1000 {
                        goro::select! {
                            send(tx, p) -> r => r.unwrap(),
                            recv(rx) -> v => assert_ne!(v.unwrap(), p, "received own value"),
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn doubleselect() {
    // Go's test/chan/doubleselect.go: a sender selecting over four unbuffered channels, four
    // forwarders into one channel; no value may arrive twice.
    const N: u64 = 100_000;
    goro::run(|| {
        let chans: Vec<_> = (0..4).map(|_| chan::bounded::<u64>(0)).collect();
        let (mux_tx, mux_rx) = chan::bounded::<u64>(0);
        let (t1, t2, t3, t4) = (
            chans[0].0.clone(),
            chans[1].0.clone(),
            chans[2].0.clone(),
            chans[3].0.clone(),
        );
        goro::go(move || {
            for i in 0..N {
                goro::select! {
                    send(t1, i) -> r => r.unwrap(),
                    send(t2, i) -> r => r.unwrap(),
                    send(t3, i) -> r => r.unwrap(),
                    send(t4, i) -> r => r.unwrap(),
                }
            }
        });
        for (tx, rx) in chans {
            drop(tx);
            let mux = mux_tx.clone();
            goro::go(move || {
                for v in &rx {
                    mux.send(v).unwrap();
                }
            });
        }
        drop(mux_tx);
        let mut seen = HashSet::new();
        let mut sum = 0;
        for v in &mux_rx {
            assert!(seen.insert(v), "value {v} arrived twice");
            sum += v;
        }
        assert_eq!(seen.len() as u64, N);
        assert_eq!(sum, N * (N - 1) / 2);
    });
}

#[test]
fn select_with_temporaries_and_option_arguments() {
    let (tx, rx) = chan::bounded::<i32>(1);
    let opt = Some(rx);
    tx.send(1).unwrap();
    goro::select! {
        recv(opt) -> v => assert_eq!(v, Ok(1)),
    }
    let maybe_rx = opt.as_ref();
    tx.send(2).unwrap();
    goro::select! {
        recv(maybe_rx) -> v => assert_eq!(v, Ok(2)),
    }
    // A temporary channel lives through the select.
    goro::select! {
        recv(chan::never::<i32>()) -> _v => unreachable!(),
        default => {}
    }
}

#[test]
fn many_goroutines_selecting_on_shared_channels() {
    // Every value sent is received exactly once across racing selects.
    goro::run(|| {
        let (ta, ra) = chan::bounded::<u64>(0);
        let (tb, rb) = chan::bounded::<u64>(16);
        let total = Arc::new(AtomicUsize::new(0));
        let consumers: Vec<_> = (0..8)
            .map(|_| {
                let (ra, rb, total) = (ra.clone(), rb.clone(), total.clone());
                goro::go(move || {
                    let (mut a, mut b) = (Some(&ra), Some(&rb));
                    let mut n = 0u64;
                    while a.is_some() || b.is_some() {
                        goro::select! {
                            recv(a) -> v => match v { Ok(x) => n += x, Err(_) => a = None },
                            recv(b) -> v => match v { Ok(x) => n += x, Err(_) => b = None },
                        }
                    }
                    total.fetch_add(n as usize, Ordering::SeqCst);
                })
            })
            .collect();
        drop((ra, rb));
        let producers: Vec<_> = (0..4)
            .map(|_| {
                let (ta, tb) = (ta.clone(), tb.clone());
                goro::go(move || {
                    for _ in 0..20_000 {
                        goro::select! {
                            send(ta, 1) -> r => r.unwrap(),
                            send(tb, 1) -> r => r.unwrap(),
                        }
                    }
                })
            })
            .collect();
        drop((ta, tb));
        for p in producers {
            p.join().unwrap();
        }
        for c in consumers {
            c.join().unwrap();
        }
        assert_eq!(total.load(Ordering::SeqCst), 4 * 20_000);
    });
}

#[test]
fn dynamic_select_over_a_runtime_set_of_channels() {
    use goro::chan::Select;
    // Go's reflect.Select: a set of channels known only at run time.
    let chans: Vec<_> = (0..6).map(|_| chan::bounded::<usize>(1)).collect();
    let mut got = Vec::new();
    for i in [4, 1, 5] {
        chans[i].0.send(i * 10).unwrap();
        let mut sel = Select::new();
        for (_, rx) in &chans {
            sel.recv(rx);
        }
        let op = sel.select();
        assert_eq!(op.index(), i);
        got.push(op.recv::<usize>().unwrap());
    }
    assert_eq!(got, [40, 10, 50]);

    // Send cases, try_select and timeouts.
    let (tx, rx) = chan::bounded::<String>(0);
    let mut sel = Select::new();
    sel.send(&tx, "lost".to_string());
    assert!(sel.try_select().is_none(), "no receiver is waiting");
    let mut sel = Select::new();
    sel.recv(&rx);
    assert!(sel.select_timeout(Duration::from_millis(5)).is_none());
    drop(sel);
    let h = goro::go(move || rx.recv().unwrap());
    let mut sel = Select::new();
    let i = sel.send(&tx, "hello".to_string());
    let op = sel.select();
    assert_eq!(op.index(), i);
    assert_eq!(op.send::<String>(), Ok(()));
    assert_eq!(h.join().unwrap(), "hello");
}

#[test]
#[should_panic(expected = "is not a receive of")]
fn dynamic_select_checks_the_outcome_type() {
    use goro::chan::Select;
    let (tx, rx) = chan::bounded::<u8>(1);
    tx.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    let _ = sel.select().recv::<u16>();
}

#[test]
fn forty_cases() {
    let chans: Vec<_> = (0..40).map(|_| chan::bounded::<usize>(1)).collect();
    chans[37].0.send(37).unwrap();
    let r = |i: usize| &chans[i].1;
    let got = goro::select! {
        recv(r(0)) -> v => v.unwrap(), recv(r(1)) -> v => v.unwrap(), recv(r(2)) -> v => v.unwrap(),
        recv(r(3)) -> v => v.unwrap(), recv(r(4)) -> v => v.unwrap(), recv(r(5)) -> v => v.unwrap(),
        recv(r(6)) -> v => v.unwrap(), recv(r(7)) -> v => v.unwrap(), recv(r(8)) -> v => v.unwrap(),
        recv(r(9)) -> v => v.unwrap(), recv(r(10)) -> v => v.unwrap(), recv(r(11)) -> v => v.unwrap(),
        recv(r(12)) -> v => v.unwrap(), recv(r(13)) -> v => v.unwrap(), recv(r(14)) -> v => v.unwrap(),
        recv(r(15)) -> v => v.unwrap(), recv(r(16)) -> v => v.unwrap(), recv(r(17)) -> v => v.unwrap(),
        recv(r(18)) -> v => v.unwrap(), recv(r(19)) -> v => v.unwrap(), recv(r(20)) -> v => v.unwrap(),
        recv(r(21)) -> v => v.unwrap(), recv(r(22)) -> v => v.unwrap(), recv(r(23)) -> v => v.unwrap(),
        recv(r(24)) -> v => v.unwrap(), recv(r(25)) -> v => v.unwrap(), recv(r(26)) -> v => v.unwrap(),
        recv(r(27)) -> v => v.unwrap(), recv(r(28)) -> v => v.unwrap(), recv(r(29)) -> v => v.unwrap(),
        recv(r(30)) -> v => v.unwrap(), recv(r(31)) -> v => v.unwrap(), recv(r(32)) -> v => v.unwrap(),
        recv(r(33)) -> v => v.unwrap(), recv(r(34)) -> v => v.unwrap(), recv(r(35)) -> v => v.unwrap(),
        recv(r(36)) -> v => v.unwrap(), recv(r(37)) -> v => v.unwrap(), recv(r(38)) -> v => v.unwrap(),
        recv(r(39)) -> v => v.unwrap(),
    };
    assert_eq!(got, 37);
}

#[test]
fn an_expired_timer_is_ready_to_a_select_with_default() {
    // Go 1.23's select runs an expired timer before it polls: `after(0)` wins over `default`
    // every time, on a plain thread and in a goroutine, with `select!` and with `Select`.
    let check = || {
        for _ in 0..100 {
            let got = goro::select! {
                recv(goro::time::after(Duration::ZERO)) -> v => v.is_ok(),
                default => false,
            };
            assert!(got, "select! with default");
            let rx = goro::time::after(Duration::ZERO);
            let mut sel = chan::Select::new();
            let i = sel.recv(&rx);
            let op = sel.try_select().expect("Select::try_select");
            assert_eq!(op.index(), i);
            assert!(op.recv::<std::time::Instant>().is_ok());
        }
    };
    check();
    goro::run(check);
}

#[test]
fn an_expired_timer_competes_fairly_with_a_ready_channel() {
    // Both cases are ready when the select looks: each wins about half the time.
    goro::run(|| {
        let (tx, rx) = chan::bounded(1);
        let mut timer_wins = 0;
        for _ in 0..400 {
            let _ = tx.try_send(());
            goro::select! {
                recv(rx) -> v => assert!(v.is_ok()),
                recv(goro::time::after(Duration::ZERO)) -> v => {
                    assert!(v.is_ok());
                    timer_wins += 1;
                },
            }
        }
        assert!(
            (40..=360).contains(&timer_wins),
            "the timer won {timer_wins} of 400"
        );
    });
}

#[test]
fn crossbeam_syntax_default_parentheses_and_trailing_commas() {
    let (tx, rx) = chan::bounded::<i32>(1);
    let took_default = goro::select! {
        recv(rx,) -> _v => false,
        default() => true,
    };
    assert!(took_default);
    goro::select! {
        send(tx, 1,) -> r => assert!(r.is_ok()),
        default() => panic!("room in the buffer"),
    }
    let got = goro::select! {
        recv(rx,) -> v => v.unwrap(),
        default(Duration::from_secs(10),) => panic!("a value is buffered"),
    };
    assert_eq!(got, 1);
    let timed_out = goro::select! {
        recv(rx) -> _v => false,
        default(Duration::from_millis(1),) => true,
    };
    assert!(timed_out);
}

/// A user's type that derefs to a channel, as crossbeam-channel's `select!` accepts.
struct Inbox {
    rx: Receiver<i32>,
}

impl std::ops::Deref for Inbox {
    type Target = Receiver<i32>;

    fn deref(&self) -> &Receiver<i32> {
        &self.rx
    }
}

#[test]
fn channels_behind_references_and_smart_pointers() {
    let (tx, rx) = chan::bounded::<i32>(8);
    let r4 = &&&&rx;
    let t3 = &&&tx;
    goro::select! {
        send(t3, 1) -> r => assert!(r.is_ok()),
    }
    goro::select! {
        recv(r4) -> v => assert_eq!(v, Ok(1)),
    }
    let shared_tx = Arc::new(tx.clone());
    let shared_rx = Box::new(rx.clone());
    goro::select! {
        send(shared_tx, 2) -> r => assert!(r.is_ok()),
    }
    goro::select! {
        recv(shared_rx) -> v => assert_eq!(v, Ok(2)),
    }
    let inbox = Inbox { rx };
    tx.send(3).unwrap();
    goro::select! {
        recv(inbox) -> v => assert_eq!(v, Ok(3)),
    }
    goro::select! {
        recv(&inbox) -> v => assert_eq!(v, Ok(4)),
        default => {}
    }
    let mut tx_mut = tx;
    let tx_ref = &mut tx_mut;
    goro::select! {
        send(tx_ref, 5) -> r => assert!(r.is_ok()),
    }
    assert_eq!(inbox.recv(), Ok(5));
    // `Option`s still mean Go's nil channel.
    let some: Option<&Receiver<i32>> = Some(&inbox);
    let none: Option<Receiver<i32>> = None;
    tx_mut.send(6).unwrap();
    goro::select! {
        recv(none) -> _v => unreachable!("a nil case is never chosen"),
        recv(some) -> v => assert_eq!(v, Ok(6)),
    }
}

#[test]
fn select_biased_takes_the_first_ready_case() {
    let (t1, r1) = chan::bounded(1_000);
    let (t2, r2) = chan::bounded(1_000);
    for i in 0..1_000 {
        t1.send(i).unwrap();
        t2.send(i).unwrap();
    }
    // While the first case is ready, it always wins.
    for i in 0..1_000 {
        goro::select_biased! {
            recv(r1) -> v => assert_eq!(v, Ok(i)),
            recv(r2) -> _v => panic!("the second case won while the first was ready"),
        }
    }
    // Then the second, which is the first ready one; then default.
    goro::select_biased! {
        recv(r1) -> _v => panic!("empty"),
        recv(r2) -> v => assert_eq!(v, Ok(0)),
        default => panic!("the second case is ready"),
    }
    drop(r2);
    let none = goro::select_biased! {
        recv(r1) -> _v => false,
        default() => true,
    };
    assert!(none);
}

#[goro::test]
fn select_biased_blocks_until_a_case_is_ready() {
    let (tx, rx) = chan::bounded::<i32>(0);
    let (_keep, quiet) = chan::bounded::<i32>(0);
    goro::go(move || tx.send(9).unwrap());
    let got = goro::select_biased! {
        recv(quiet) -> _v => panic!("nobody sends here"),
        recv(rx) -> v => v.unwrap(),
    };
    assert_eq!(got, 9);
}

#[test]
fn a_dynamic_select_runs_again_and_again() {
    use goro::chan::Select;
    let (ta, ra) = chan::bounded::<u32>(4);
    let (tb, rb) = chan::bounded::<u32>(4);
    let mut sel = Select::new();
    let ia = sel.recv(&ra);
    let ib = sel.recv(&rb);
    ta.send(1).unwrap();
    tb.send(2).unwrap();
    ta.send(3).unwrap();
    let mut sum = 0;
    for _ in 0..3 {
        let op = sel.select();
        let i = op.index();
        assert!(i == ia || i == ib);
        sum += op.recv::<u32>().unwrap();
    }
    assert_eq!(sum, 6);
    assert!(sel.try_select().is_none(), "everything was received");

    // A send case sends its value once, then is never ready again.
    let (tx, rx) = chan::bounded::<u32>(4);
    let mut sel = Select::new();
    let is = sel.send(&tx, 7);
    let op = sel.try_select().expect("room in the buffer");
    assert_eq!(op.index(), is);
    assert_eq!(op.send::<u32>(), Ok(()));
    assert!(sel.try_select().is_none(), "the value was sent already");
    assert!(sel.select_timeout(Duration::from_millis(1)).is_none());
    assert_eq!(rx.try_recv(), Ok(7));
    assert!(rx.try_recv().is_err(), "sent exactly once");
}

#[test]
fn a_dynamic_select_moves_to_another_thread() {
    use goro::chan::Select;
    fn assert_send<T: Send>(_: &T) {}
    let (tx, rx) = chan::bounded::<String>(1);
    let mut sel = Select::new();
    sel.recv(&rx);
    assert_send(&sel);
    std::thread::scope(|s| {
        s.spawn(move || {
            let op = sel.select();
            assert_eq!(op.recv::<String>().as_deref(), Ok("hello"));
        });
        tx.send("hello".to_string()).unwrap();
    });
}

#[test]
fn a_dynamic_select_removes_cases_and_can_be_biased() {
    use goro::chan::Select;
    // crossbeam-channel's pattern: receive from several channels until all are closed,
    // removing each closed one.
    let mut txs = Vec::new();
    let mut rxs = Vec::new();
    for _ in 0..4 {
        let (tx, rx) = chan::bounded::<usize>(4);
        txs.push(tx);
        rxs.push(rx);
    }
    for (i, tx) in txs.into_iter().enumerate() {
        for _ in 0..=i {
            tx.send(i).unwrap();
        }
    }
    let mut sel = Select::new();
    for rx in &rxs {
        sel.recv(rx);
    }
    let (mut open, mut got) = (rxs.len(), vec![0; rxs.len()]);
    while open > 0 {
        let op = sel.select();
        let i = op.index();
        match op.recv::<usize>() {
            Ok(v) => {
                assert_eq!(v, i);
                got[i] += 1;
            }
            Err(RecvError) => {
                sel.remove(i);
                open -= 1;
            }
        }
    }
    assert_eq!(got, [1, 2, 3, 4]);
    assert!(sel.try_select().is_none(), "every case was removed");

    // Biased: the first ready case in the order added.
    let (ta, ra) = chan::bounded(8);
    let (tb, rb) = chan::bounded(8);
    for _ in 0..8 {
        ta.send('a').unwrap();
        tb.send('b').unwrap();
    }
    let mut sel = Select::new_biased();
    sel.recv(&ra);
    sel.recv(&rb);
    let order: String = (0..16)
        .map(|_| sel.select().recv::<char>().unwrap())
        .collect();
    assert_eq!(order, "aaaaaaaabbbbbbbb");
}

#[test]
#[should_panic(expected = "no case 0")]
fn a_removed_case_cannot_be_removed_again() {
    let (_tx, rx) = chan::bounded::<u8>(1);
    let mut sel = goro::chan::Select::new();
    sel.recv(&rx);
    sel.remove(0);
    sel.remove(0);
}

/// A select parked on several cases of one channel is woken through any of them, not
/// always through the first (Go enqueues a parked select's cases in its random order; its
/// `TestPseudoRandomSend` fails otherwise): the counterpart comes after the select parked.
#[test]
fn a_parked_select_is_woken_through_each_case_of_one_channel() {
    const N: usize = 200;
    let (tx, rx) = chan::bounded::<usize>(0);
    let sender = goro::go(move || {
        for _ in 0..N {
            goro::select! {
                send(tx, 0) -> r => r.unwrap(),
                send(tx, 1) -> r => r.unwrap(),
            }
        }
    });
    let mut ones = 0;
    for _ in 0..N {
        // Let the select park first (most of the time; either way the counts hold).
        std::thread::sleep(Duration::from_micros(200));
        ones += rx.recv().unwrap();
    }
    sender.join().unwrap();
    assert!(
        ones > N / 5 && ones < N - N / 5,
        "parked sends won through case 1 {ones} times of {N}"
    );

    let (tx, rx) = chan::bounded::<usize>(0);
    let receiver = goro::go(move || {
        let mut seconds = 0;
        for _ in 0..N {
            goro::select! {
                recv(rx) -> v => { v.unwrap(); },
                recv(rx) -> v => { v.unwrap(); seconds += 1 },
            }
        }
        seconds
    });
    for i in 0..N {
        std::thread::sleep(Duration::from_micros(200));
        tx.send(i).unwrap();
    }
    let seconds = receiver.join().unwrap();
    assert!(
        seconds > N / 5 && seconds < N - N / 5,
        "parked receives won through case 1 {seconds} times of {N}"
    );
}

/// A non-blocking select is linearizable: it reports nothing ready only if, at one instant,
/// no case was. Here one of two channels always holds a value while the select looks (a
/// helper fills `c2` before it empties `c1`), so `default` must never run; the channels are
/// bounded (lock-free rings, which change without the channel lock) and unbounded (locked).
#[test]
fn a_non_blocking_select_never_misses_a_case_that_was_ready_throughout() {
    const N: usize = 100_000;
    for bounded in [true, false] {
        let ((s1, r1), (s2, r2)) = if bounded {
            (chan::bounded::<u8>(2), chan::bounded::<u8>(2))
        } else {
            (chan::unbounded::<u8>(), chan::unbounded::<u8>())
        };
        // Even: the main thread's move; odd: the helper's.
        let turn = Arc::new(AtomicUsize::new(0));
        let wait_for = |turn: &AtomicUsize, t: usize| {
            while turn.load(Ordering::Acquire) < t {
                std::hint::spin_loop();
                std::thread::yield_now();
            }
        };
        let helper = {
            let (turn, r1, s2) = (turn.clone(), r1.clone(), s2.clone());
            std::thread::spawn(move || {
                for i in 0..N {
                    wait_for(&turn, 2 * i + 1);
                    s2.send(2).unwrap();
                    let _ = r1.try_recv();
                    turn.store(2 * i + 2, Ordering::Release);
                }
            })
        };
        let mut misses = 0;
        let mut sel = chan::Select::new();
        sel.recv(&r1);
        sel.recv(&r2);
        for i in 0..N {
            s1.send(1).unwrap();
            turn.store(2 * i + 1, Ordering::Release);
            if i % 2 == 0 {
                goro::select! {
                    recv(r1) -> v => assert_eq!(v, Ok(1)),
                    recv(r2) -> v => assert_eq!(v, Ok(2)),
                    default => misses += 1,
                }
            } else {
                match sel.try_select() {
                    Some(s) => {
                        s.recv::<u8>().unwrap();
                    }
                    None => misses += 1,
                }
            }
            wait_for(&turn, 2 * i + 2);
            let _ = r1.try_recv();
            let _ = r2.try_recv();
        }
        helper.join().unwrap();
        assert_eq!(
            misses, 0,
            "{misses} of {N} non-blocking selects found neither channel ready (bounded: {bounded})"
        );
    }
}
