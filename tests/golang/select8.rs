//! test/chan/select8.go: `break` inside select arms, in 1-, 2- and 3-case selects (Go tests
//! the general path and the specialised one- and two-case ones); a background goroutine sends
//! 5 forever on an unbuffered channel.
//!
//! Go's `break` in a select arm leaves the select. `goro::select!` arms are `match` arms, so
//! a `break` there targets the enclosing loop: Go's form is a labelled block
//! (`'sel: { select! { ... => break 'sel } }`), and a plain `break`/`continue` in an arm
//! reaches the loop around the select, which is checked too. The Go program leaks its sender;
//! here it ends when the receiver is dropped.

use goro::chan;

use crate::support::go_main;

#[test]
fn select8_break_in_select_arms() {
    go_main("select8", || {
        let (tx, ch) = chan::bounded::<i32>(0);
        // Go's `ch` is one bidirectional value: main keeps a sending end for `ch <- 10`.
        let tx_main = tx.clone();
        let sender = goro::go(move || while tx.send(5).is_ok() {});
        let mut reached = 0;

        // select { case <-ch: break; panic("unreachable") }
        'sel: {
            goro::select! {
                recv(ch) -> v => {
                    assert_eq!(v, Ok(5));
                    reached += 1;
                    break 'sel;
                }
            }
            #[allow(unreachable_code)]
            {
                panic!("unreachable");
            }
        }

        // select { default: break; panic("unreachable") }
        'sel: {
            goro::select! {
                default => {
                    reached += 1;
                    break 'sel;
                }
            }
            #[allow(unreachable_code)]
            {
                panic!("unreachable");
            }
        }

        // select { case <-ch: break; default: break }
        'sel: {
            goro::select! {
                recv(ch) -> v => {
                    assert_eq!(v, Ok(5));
                    reached += 1;
                    break 'sel;
                }
                default => {
                    reached += 1;
                    break 'sel;
                }
            }
            #[allow(unreachable_code)]
            {
                panic!("unreachable");
            }
        }

        // select { case <-ch: break; case ch <- 10: panic; default: break }: only main
        // receives on ch, so its own send case can never be chosen.
        'sel: {
            goro::select! {
                recv(ch) -> v => {
                    assert_eq!(v, Ok(5));
                    reached += 1;
                    break 'sel;
                }
                send(tx_main, 10) -> _r => panic!("unreachable"),
                default => {
                    reached += 1;
                    break 'sel;
                }
            }
            #[allow(unreachable_code)]
            {
                panic!("unreachable");
            }
        }
        assert_eq!(reached, 4);

        // goro's own rule: `break` and `continue` in an arm reach the enclosing loop.
        let mut got = 0;
        loop {
            goro::select! {
                recv(ch) -> v => {
                    got += v.unwrap();
                    if got < 50 {
                        continue;
                    }
                    break;
                }
            }
            #[allow(unreachable_code)]
            {
                panic!("continue and break leave the loop body");
            }
        }
        assert_eq!(got, 50);

        // Dropping the only receiver closes ch: the sender's loop ends.
        drop(ch);
        sender.join().unwrap();
    });
}
