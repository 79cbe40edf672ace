//! What `select!` accepts as a channel: the traits that turn `recv(rx)` and `send(tx, v)`
//! arguments into cases, and the deadline of `default(timeout)`.

use std::time::Duration;

use super::super::{Receiver, Sender};
use super::Wait;

/// A deadline `d` from now, for `default(d)` in [`select!`](crate::select).
pub fn wait_for(d: Duration) -> Wait {
    super::super::deadline_after(d).map_or(Wait::Forever, Wait::Until)
}

/// What `recv(...)` in `select!` accepts: a receiver, a reference to one, or an `Option` of
/// either (`None` is Go's nil channel, never ready).
#[diagnostic::on_unimplemented(
    message = "`recv(...)` in select! needs a channel's receiving end, not `{Self}`",
    label = "not a `Receiver`",
    note = "recv(rx) takes a `Receiver<T>`, a `&Receiver<T>`, or an `Option` of either (`None` is Go's nil channel)"
)]
pub trait SelectRecv<'a, T> {
    /// The receiver, or `None` for a nil channel.
    fn select_receiver(self) -> Option<&'a Receiver<T>>;
}

impl<'a, T> SelectRecv<'a, T> for &'a Receiver<T> {
    fn select_receiver(self) -> Option<&'a Receiver<T>> {
        Some(self)
    }
}

impl<'a, T> SelectRecv<'a, T> for &&'a Receiver<T> {
    fn select_receiver(self) -> Option<&'a Receiver<T>> {
        Some(*self)
    }
}

impl<'a, T> SelectRecv<'a, T> for &Option<&'a Receiver<T>> {
    fn select_receiver(self) -> Option<&'a Receiver<T>> {
        *self
    }
}

impl<'a, T> SelectRecv<'a, T> for &'a Option<Receiver<T>> {
    fn select_receiver(self) -> Option<&'a Receiver<T>> {
        self.as_ref()
    }
}

/// What `send(...)` in `select!` accepts; see [`SelectRecv`].
#[diagnostic::on_unimplemented(
    message = "`send(...)` in select! needs a channel's sending end, not `{Self}`",
    label = "not a `Sender`",
    note = "send(tx, value) takes a `Sender<T>`, a `&Sender<T>`, or an `Option` of either (`None` is Go's nil channel)"
)]
pub trait SelectSend<'a, T> {
    /// The sender, or `None` for a nil channel.
    fn select_sender(self) -> Option<&'a Sender<T>>;
}

impl<'a, T> SelectSend<'a, T> for &'a Sender<T> {
    fn select_sender(self) -> Option<&'a Sender<T>> {
        Some(self)
    }
}

impl<'a, T> SelectSend<'a, T> for &&'a Sender<T> {
    fn select_sender(self) -> Option<&'a Sender<T>> {
        Some(*self)
    }
}

impl<'a, T> SelectSend<'a, T> for &Option<&'a Sender<T>> {
    fn select_sender(self) -> Option<&'a Sender<T>> {
        *self
    }
}

impl<'a, T> SelectSend<'a, T> for &'a Option<Sender<T>> {
    fn select_sender(self) -> Option<&'a Sender<T>> {
        self.as_ref()
    }
}
