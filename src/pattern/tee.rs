//! `tee`: one input, two outputs that each get every value.

use crate::chan::{self, Receiver, Sender};

/// Two channels that each yield every value of `input`, in order; both close once `input`
/// is closed and drained.
///
/// Go: the tee-channel of *Concurrency in Go*, which offers each value to both outputs in a
/// `select` and sets the one that took it to nil until the other has taken it too.
///
/// The outputs move in lockstep: the next value is taken from `input` only once both
/// outputs have received the current one, so a consumer that stops reading (without
/// dropping its receiver) holds up the other. An output whose every receiver is dropped is
/// given up, and the other one goes on getting every value alone; once both are dropped,
/// `tee` stops and drops `input`.
///
/// While both outputs live, each value is cloned twice and moved once: the `select` that
/// offers it to both needs a value per case, and the copy the slower output was offered is
/// dropped.
///
/// ```
/// use goro::pattern::{generate, tee};
///
/// #[goro::main]
/// fn main() {
///     let (a, b) = tee(generate(["x", "y", "z"]));
///     let h = goro::go(move || a.iter().collect::<String>());
///     assert_eq!(b.iter().collect::<String>(), "xyz");
///     assert_eq!(h.join().unwrap(), "xyz");
/// }
/// ```
pub fn tee<T>(input: Receiver<T>) -> (Receiver<T>, Receiver<T>)
where
    T: Clone + Send + 'static,
{
    let (a_tx, a_rx) = chan::bounded(0);
    let (b_tx, b_rx) = chan::bounded(0);
    crate::go(move || split(&input, [Some(a_tx), Some(b_tx)]));
    (a_rx, b_rx)
}

/// Delivers every value of `input` to each output still in `outs`; an output is set to
/// `None` once a send to it fails. Returns when `input` is closed or `outs` is empty.
fn split<T: Clone + Send>(input: &Receiver<T>, mut outs: [Option<Sender<T>>; 2]) {
    for v in input {
        // Pass 1, only while both outputs live: whichever takes a copy first is served.
        let mut served = None;
        if let [Some(a), Some(b)] = &outs {
            let (i, delivered) = crate::select! {
                send(a, v.clone()) -> r => (0, r.is_ok()),
                send(b, v.clone()) -> r => (1, r.is_ok()),
            };
            if !delivered {
                outs[i] = None;
            }
            served = Some(i);
        }
        // Pass 2: the output still owed the value (at most one) gets the original.
        let owed = (0..2).find(|&i| Some(i) != served && outs[i].is_some());
        if let Some(i) = owed {
            if outs[i].as_ref().is_some_and(|out| out.send(v).is_err()) {
                outs[i] = None;
            }
        }
        if outs.iter().all(Option::is_none) {
            return;
        }
    }
}
