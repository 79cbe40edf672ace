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

/// What a send or receive that does not wait (`send_now`, `recv_now`) did, under the lock.
/// The value is not in here: it went through the pointer the operation was given.
pub(crate) enum Now {
    /// Done: the value was moved out of the sender's place, or into the receiver's (and
    /// the counterpart this woke, if any, must be woken once the lock is released).
    Done(Option<Wake>),
    /// The channel is closed (and, for a receive, drained): nothing moved.
    Closed,
    /// It would have to wait: nothing moved.
    Wait,
}

/// How a send or receive (`send`, `recv`) ended. The value is not in here either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Sent (moved out of the sender's place) or received (written to the receiver's).
    Done,
    /// The channel is closed (and, for a receive, drained): nothing moved.
    Closed,
    /// The operation could not complete without waiting, or not before its deadline:
    /// nothing moved.
    TimedOut,
}
