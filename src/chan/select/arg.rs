//! What `select!` accepts as a channel: the traits that turn `recv(rx)` and `send(tx, v)`
//! arguments into cases, what `fut(f)` accepts ([`SelectFuture`]), and the deadline of
//! `default(timeout)`.
//!
//! An argument goes through two steps. First a method call, `(expr).__goro_peel()` (the
//! trait [`SelectPeel`]), whose auto-dereferencing strips any number of references and
//! smart pointers (`&&&rx`, `Arc<Receiver<T>>`, a user's wrapper that derefs to a channel,
//! as crossbeam-channel's `select!` accepts through deref coercion) down to a `Receiver`, a
//! `Sender` or an `Option`, and borrows that. Then [`SelectRecv`] or [`SelectSend`] turns it
//! into the case's channel, or `None` for Go's nil channel; a wrong kind of channel fails
//! there, with a message saying what `recv` or `send` takes.
//!
//! `Option<&Receiver<T>>` hands back the receiver with its own lifetime rather than the
//! borrow of the `Option`, so a select's body may set that variable to `None` (Go's way of
//! turning a case off).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::super::{Receiver, Sender};
use super::Wait;

/// A deadline `d` from now, for `default(d)` in [`select!`](crate::select).
pub fn wait_for(d: Duration) -> Wait {
    super::super::deadline_after(d).map_or(Wait::Forever, Wait::Until)
}

/// The first step of a `select!` argument: reached by auto-dereferencing, it borrows the
/// channel (or `Option`) under any references and smart pointers (module docs).
pub trait SelectPeel {
    /// Borrows `self`; the call's auto-dereferencing did the work.
    fn __goro_peel(&self) -> &Self;
}

impl<T> SelectPeel for Receiver<T> {
    fn __goro_peel(&self) -> &Self {
        self
    }
}

impl<T> SelectPeel for Sender<T> {
    fn __goro_peel(&self) -> &Self {
        self
    }
}

impl<X> SelectPeel for Option<X> {
    fn __goro_peel(&self) -> &Self {
        self
    }
}

/// What `recv(...)` in `select!` accepts, after [`SelectPeel`]: a receiver or an `Option` of
/// one or of a reference to one (`None` is Go's nil channel, never ready).
#[diagnostic::on_unimplemented(
    message = "`recv(...)` in select! needs a channel's receiving end, not `{Self}`",
    label = "not a `Receiver`",
    note = "recv(rx) takes a `Receiver<T>` (or a reference or pointer to one), or an `Option<Receiver<T>>` or `Option<&Receiver<T>>` (`None` is Go's nil channel)"
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
    note = "send(tx, value) takes a `Sender<T>` (or a reference or pointer to one), or an `Option<Sender<T>>` or `Option<&Sender<T>>` (`None` is Go's nil channel)"
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

/// What a `select!` `fut(f)` case accepts: a pinned mutable reference to a future
/// (`pin!(fut)`, `fut.as_mut()`, `Box::pin(fut).as_mut()`), or a mutable reference to a
/// future that is `Unpin` (a `Pin<Box<_>>`, goro's own futures, `&mut rx.recv_async()`).
#[diagnostic::on_unimplemented(
    message = "a select! `fut` case takes a `Pin<&mut F>` or an `&mut F` with `F: Future + Unpin`, not `{Self}`",
    label = "pin the future first: `std::pin::pin!(fut)`, or `Box::pin(fut)`"
)]
pub trait SelectFuture<'a> {
    /// The future.
    type Future: Future + ?Sized + 'a;
    /// The future, pinned.
    fn select_future(self) -> Pin<&'a mut Self::Future>;
}

impl<'a, F: Future + ?Sized> SelectFuture<'a> for Pin<&'a mut F> {
    type Future = F;

    fn select_future(self) -> Pin<&'a mut F> {
        self
    }
}

impl<'a, F: Future + Unpin + ?Sized> SelectFuture<'a> for &'a mut F {
    type Future = F;

    fn select_future(self) -> Pin<&'a mut F> {
        Pin::new(self)
    }
}
