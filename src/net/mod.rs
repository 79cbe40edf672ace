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

/// `TryFrom` a `std` socket (made non-blocking and registered), `From` back to it
/// (deregistered, blocking again), and the descriptor traits, for a type wrapping its
/// `Socket` in a field `sock`.
macro_rules! std_conversions {
    ($goro:ident, $std:ty) => {
        impl TryFrom<$std> for $goro {
            type Error = std::io::Error;

            /// Takes a `std` socket (made non-blocking here) and registers it with the
            /// netpoller.
            fn try_from(s: $std) -> std::io::Result<$goro> {
                s.set_nonblocking(true)?;
                Ok($goro {
                    sock: $crate::net::Socket::new(s)?,
                })
            }
        }

        impl From<$goro> for $std {
            /// The `std` socket, deregistered and blocking again.
            fn from(s: $goro) -> $std {
                let s = s.sock.into_inner();
                let _ = s.set_nonblocking(false);
                s
            }
        }

        impl std::os::fd::AsRawFd for $goro {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.sock.get())
            }
        }

        impl std::os::fd::AsFd for $goro {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(self.sock.get())
            }
        }
    };
}

/// Go's deadlines and `std`'s per-operation timeouts, for a connection or a datagram
/// socket.
macro_rules! deadlines {
    ($goro:ident) => {
        impl $goro {
            /// Go's `SetDeadline`: reads and writes fail with `TimedOut` from `deadline` on
            /// (`None`: no deadline), including those blocked now.
            ///
            /// ```
            /// use goro::net::UdpSocket; // the same for every socket type
            /// use std::io::ErrorKind;
            /// use std::time::{Duration, Instant};
            ///
            /// let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            /// sock.set_deadline(Some(Instant::now() + Duration::from_millis(2)));
            /// let err = sock.recv_from(&mut [0; 8]).unwrap_err();
            /// assert_eq!(err.kind(), ErrorKind::TimedOut);
            /// ```
            pub fn set_deadline(&self, deadline: Option<std::time::Instant>) {
                self.sock.set_deadline(None, deadline);
            }

            /// Go's `SetReadDeadline`: as [`set_deadline`](Self::set_deadline), for reads.
            ///
            /// ```
            /// use goro::net::UdpSocket; // the same for every socket type
            /// use std::io::ErrorKind;
            /// use std::time::Instant;
            ///
            /// let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            /// sock.set_read_deadline(Some(Instant::now())); // reads fail at once
            /// assert_eq!(sock.recv_from(&mut [0; 8]).unwrap_err().kind(), ErrorKind::TimedOut);
            /// sock.set_read_deadline(None);
            /// ```
            pub fn set_read_deadline(&self, deadline: Option<std::time::Instant>) {
                self.sock
                    .set_deadline(Some($crate::rt::netpoll::Direction::Read), deadline);
            }

            /// Go's `SetWriteDeadline`: as [`set_deadline`](Self::set_deadline), for
            /// writes.
            ///
            /// ```
            /// use goro::net::unix::UnixStream; // the same for every socket type
            /// use std::io::{ErrorKind, Write};
            /// use std::time::{Duration, Instant};
            ///
            /// let (mut a, _b) = UnixStream::pair().unwrap(); // nobody reads `_b`
            /// a.set_write_deadline(Some(Instant::now() + Duration::from_millis(2)));
            /// let err = a.write_all(&vec![0; 16 << 20]).unwrap_err(); // the buffer fills
            /// assert_eq!(err.kind(), ErrorKind::TimedOut);
            /// ```
            pub fn set_write_deadline(&self, deadline: Option<std::time::Instant>) {
                self.sock
                    .set_deadline(Some($crate::rt::netpoll::Direction::Write), deadline);
            }

            /// `std`'s read timeout: each read fails with `TimedOut` after `timeout`
            /// (`None`: none).
            ///
            /// # Errors
            ///
            /// `InvalidInput` for a zero duration, as `std`.
            ///
            /// ```
            /// use goro::net::UdpSocket; // the same for every socket type
            /// use std::io::ErrorKind;
            /// use std::time::Duration;
            ///
            /// let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            /// sock.set_read_timeout(Some(Duration::from_millis(2))).unwrap();
            /// assert_eq!(sock.recv_from(&mut [0; 8]).unwrap_err().kind(), ErrorKind::TimedOut);
            /// assert!(sock.set_read_timeout(Some(Duration::ZERO)).is_err());
            /// ```
            pub fn set_read_timeout(
                &self,
                timeout: Option<std::time::Duration>,
            ) -> std::io::Result<()> {
                self.sock
                    .set_timeout($crate::rt::netpoll::Direction::Read, timeout)
            }

            /// `std`'s write timeout.
            ///
            /// # Errors
            ///
            /// `InvalidInput` for a zero duration, as `std`.
            ///
            /// ```
            /// use goro::net::UdpSocket; // the same for every socket type
            /// use std::time::Duration;
            ///
            /// let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            /// sock.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
            /// let n = sock.send_to(b"ping", sock.local_addr().unwrap()).unwrap();
            /// assert_eq!(n, 4);
            /// ```
            pub fn set_write_timeout(
                &self,
                timeout: Option<std::time::Duration>,
            ) -> std::io::Result<()> {
                self.sock
                    .set_timeout($crate::rt::netpoll::Direction::Write, timeout)
            }

            /// The read timeout.
            ///
            /// ```
            /// use goro::net::UdpSocket; // the same for every socket type
            /// use std::time::Duration;
            ///
            /// let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            /// assert_eq!(sock.read_timeout().unwrap(), None);
            /// sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            /// assert_eq!(sock.read_timeout().unwrap(), Some(Duration::from_secs(3)));
            /// ```
            pub fn read_timeout(&self) -> std::io::Result<Option<std::time::Duration>> {
                Ok(self.sock.timeout($crate::rt::netpoll::Direction::Read))
            }

            /// The write timeout.
            ///
            /// ```
            /// use goro::net::UdpSocket; // the same for every socket type
            /// use std::time::Duration;
            ///
            /// let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            /// sock.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
            /// assert_eq!(sock.write_timeout().unwrap(), Some(Duration::from_secs(3)));
            /// ```
            pub fn write_timeout(&self) -> std::io::Result<Option<std::time::Duration>> {
                Ok(self.sock.timeout($crate::rt::netpoll::Direction::Write))
            }
        }
    };
}

/// `Read` and `Write` for a stream and for a shared reference to it (one goroutine may read
/// while another writes).
macro_rules! stream_io {
    ($goro:ident) => {
        impl std::io::Read for &$goro {
            #[track_caller]
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.sock.io($crate::rt::netpoll::Direction::Read, |mut s| {
                    s.read(&mut *buf)
                })
            }

            #[track_caller]
            fn read_vectored(
                &mut self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                self.sock.io($crate::rt::netpoll::Direction::Read, |mut s| {
                    std::io::Read::read_vectored(&mut s, &mut *bufs)
                })
            }
        }

        impl std::io::Write for &$goro {
            #[track_caller]
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.sock
                    .io($crate::rt::netpoll::Direction::Write, |mut s| {
                        std::io::Write::write(&mut s, buf)
                    })
            }

            #[track_caller]
            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                self.sock
                    .io($crate::rt::netpoll::Direction::Write, |mut s| {
                        std::io::Write::write_vectored(&mut s, bufs)
                    })
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        impl std::io::Read for $goro {
            #[track_caller]
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                std::io::Read::read(&mut &*self, buf)
            }

            #[track_caller]
            fn read_vectored(
                &mut self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                std::io::Read::read_vectored(&mut &*self, bufs)
            }
        }

        impl std::io::Write for $goro {
            #[track_caller]
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                std::io::Write::write(&mut &*self, buf)
            }

            #[track_caller]
            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                std::io::Write::write_vectored(&mut &*self, bufs)
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
    };
}

use deadlines;
use std_conversions;
use stream_io;

mod socket;
mod tcp;
mod turn;
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
