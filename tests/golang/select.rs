//! test/chan/select.go: every send value of a select is evaluated exactly once per execution
//! of the select, the chosen case's, the other cases' and those on nil channels. `send_all(a, b)`
//! loops a select of `a <- get_value()`, `b <- get_value()` and `default`, disabling each
//! channel (nil) once it received; `get_value` counts its calls and returns `1 << shift`.
//! With `a`, `b` buffered (cap 1): 2 sends, values OR to 3; then `send_all(a, nil)` makes 1
//! send; the counter must be 10.

use goro::chan::{self, Sender};

use crate::support::go_main;

struct State {
    counter: u32,
    shift: u32,
}

impl State {
    fn get_value(&mut self) -> u32 {
        self.counter += 1;
        1 << self.shift
    }

    fn send_all(&mut self, mut a: Option<&Sender<u32>>, mut b: Option<&Sender<u32>>) -> i32 {
        let mut i = 0;
        loop {
            let done = goro::select! {
                send(a, self.get_value()) -> r => { r.unwrap(); i += 1; a = None; false }
                send(b, self.get_value()) -> r => { r.unwrap(); i += 1; b = None; false }
                default => true,
            };
            if done {
                break;
            }
            self.shift += 1;
        }
        i
    }
}

#[test]
fn select_send_values_evaluated_once() {
    go_main("select", || {
        let mut st = State {
            counter: 0,
            shift: 0,
        };
        let (a, ra) = chan::bounded::<u32>(1);
        let (b, rb) = chan::bounded::<u32>(1);
        assert_eq!(st.send_all(Some(&a), Some(&b)), 2, "send_all(a, b)");
        assert_eq!(ra.recv().unwrap() | rb.recv().unwrap(), 3, "<-a | <-b");
        assert_eq!(st.send_all(Some(&a), None), 1, "send_all(a, nil)");
        assert_eq!(st.counter, 10, "counter");
    });
}
