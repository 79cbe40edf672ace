//! Network I/O for goroutines: TCP, UDP and Unix domain sockets, mirroring `std::net`.
//!
//! Go: package `net`, one goroutine per connection written as plain blocking reads and
//! writes. The types here have `std::net`'s methods, so code ports by changing an import;
//! an operation that would block parks only the calling goroutine, and the runtime's
//! netpoller (epoll, edge-triggered, polled by idle workers and the monitor) wakes it when
//! the socket is ready. Ten thousand idle connections are ten thousand parked goroutines,
//! not ten thousand blocked threads. On a plain thread an operation blocks the thread.
//!
//! ```
//! use std::io::{Read, Write};
//! use goro::net::{TcpListener, TcpStream};
//!
//! #[goro::main]
//! fn main() {
//!     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     goro::go(move || {
//!         // An echo server: a goroutine per connection.
//!         for conn in listener.incoming() {
//!             let mut conn = conn.unwrap();
//!             goro::go(move || {
//!                 let mut buf = [0; 1024];
//!                 while let Ok(n @ 1..) = conn.read(&mut buf) {
//!                     conn.write_all(&buf[..n]).unwrap();
//!                 }
//!             });
//!         }
//!     });
//!     let mut c = TcpStream::connect(addr).unwrap();
//!     c.write_all(b"hello").unwrap();
//!     let mut buf = [0; 5];
//!     c.read_exact(&mut buf).unwrap();
//!     assert_eq!(&buf, b"hello");
//! }
//! # main();
//! ```
//!
//! # Deadlines, closing, contexts
//!
//! As in Go, a socket has deadlines: [`TcpStream::set_read_deadline`],
//! [`set_write_deadline`](TcpStream::set_write_deadline) and
//! [`set_deadline`](TcpStream::set_deadline) (an `Option<Instant>`; `None` clears). An
//! operation that reaches its deadline fails with `io::ErrorKind::TimedOut`; moving a
//! deadline affects operations already blocked. `std::net`'s per-operation timeouts
//! (`set_read_timeout`, `set_write_timeout`) work too.
//!
//! [`close`](TcpStream::close) closes a socket from any goroutine while others use it
//! (Go's `conn.Close()`): blocked and later operations fail with
//! `use of closed network connection` (`io::ErrorKind::NotConnected`), and the
//! connection is shut down; the descriptor itself is released when the value is dropped.
//! `shutdown` from another goroutine wakes blocked readers with end of file, as in Go.
//! [`TcpListener::accept_ctx`] and [`TcpStream::read_ctx`] give up when a
//! [`Context`](crate::context::Context) ends, for servers that shut down cleanly.
//!
//! # Differences from `std::net`
//!
//! - The sockets are always non-blocking underneath; `set_nonblocking` is not offered.
//! - Conversions: `TcpStream::try_from(std_stream)` (registering can fail) and
//!   `std::net::TcpStream::from(goro_stream)` (back to a blocking socket), the same for the
//!   other types.
//! - `close` and the deadlines are Go's, not `std`'s.

mod socket;
mod tcp;
mod udp;
pub mod unix;

pub use tcp::{Incoming, TcpListener, TcpStream};
pub use udp::UdpSocket;

pub(crate) use socket::Socket;

/// The backlog of listening sockets: the system's maximum (`net.core.somaxconn`), as Go
/// asks for; 4096 if it cannot be read.
fn listen_backlog() -> i32 {
    static BACKLOG: std::sync::OnceLock<i32> = std::sync::OnceLock::new();
    *BACKLOG.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(4096)
    })
}
