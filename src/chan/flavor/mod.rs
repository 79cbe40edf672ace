//! The channel flavours, one type each with the same surface (`new`, `send`, `recv`,
//! `send_now`, `recv_now`, `close`, `len`, `capacity`, `is_closed`), chosen once when the
//! channel is made (see `Channel` in `channel.rs`):
//!
//! - [`locked`]: capacity 0, unbounded, or a buffer too large to allocate up front. The
//!   buffer is under the channel lock and blocked operations hand values over directly.
//! - [`lockfree`]: every other bounded channel. The buffer is a lock-free ring and blocked
//!   operations are only notified.

pub(crate) mod locked;
pub(crate) mod lockfree;

use std::time::Instant;

use super::waiter::Wake;

/// How long an operation may block.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Block {
    No,
    Forever,
    Until(Instant),
}

impl Block {
    /// `None` if the operation must not wait; otherwise its deadline, if it has one.
    pub(crate) fn deadline(self) -> Option<Option<Instant>> {
        match self {
            Block::No => None,
            Block::Forever => Some(None),
            Block::Until(d) => Some(Some(d)),
        }
    }
}

/// What a send can do right now, under the lock.
pub(crate) enum SendNow<T> {
    /// Sent (handed to a receiver, who must be woken, or buffered).
    Done(Option<Wake>),
    /// The channel is closed: the value comes back.
    Closed(T),
    /// It would have to wait: the value comes back.
    Wait(T),
}

/// What a receive can do right now, under the lock.
pub(crate) enum RecvNow<T> {
    /// Received (a sender may have to be woken).
    Done(T, Option<Wake>),
    /// Closed and drained.
    Closed,
    /// It would have to wait.
    Wait,
}
