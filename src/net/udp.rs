//! UDP: [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;

use super::Socket;
use crate::context::Context;
use crate::rt::netpoll::Direction;

/// A UDP socket. `std::net::UdpSocket` for goroutines: sends and receives park the
/// goroutine until the socket is ready.
///
/// ```
/// use goro::net::UdpSocket;
///
/// let a = UdpSocket::bind("127.0.0.1:0").unwrap();
/// let b = UdpSocket::bind("127.0.0.1:0").unwrap();
/// a.send_to(b"ping", b.local_addr().unwrap()).unwrap();
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).unwrap();
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// ```
pub struct UdpSocket {
    sock: Socket<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Creates a socket bound to `addr` (the first of its addresses that binds).
    ///
    /// # Errors
    ///
    /// As `std::net::UdpSocket::bind`.
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        UdpSocket::try_from(std::net::UdpSocket::bind(addr)?)
    }

    /// Receives a datagram; returns its length and where it came from.
    #[track_caller]
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.sock.io(Direction::Read, |s| s.recv_from(&mut *buf))
    }

    /// [`recv_from`](Self::recv_from) that gives up when `ctx` ends (see
    /// [`TcpListener::accept_ctx`](super::TcpListener::accept_ctx) for the error).
    #[track_caller]
    pub fn recv_from_ctx(&self, buf: &mut [u8], ctx: &Context) -> io::Result<(usize, SocketAddr)> {
        self.sock
            .io_ctx(Direction::Read, ctx, |s| s.recv_from(&mut *buf))
    }

    /// Receives a datagram without removing it from the queue.
    #[track_caller]
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.sock.io(Direction::Read, |s| s.peek_from(&mut *buf))
    }

    /// Sends a datagram to `addr` (its first address); returns the bytes sent.
    #[track_caller]
    pub fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], addr: A) -> io::Result<usize> {
        let addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to")
        })?;
        self.sock.io(Direction::Write, |s| s.send_to(buf, addr))
    }

    /// Connects the socket to `addr`: `send` and `recv` then use it, and datagrams from
    /// other addresses are dropped.
    pub fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        self.sock.get().connect(addr)
    }

    /// Sends a datagram to the connected address.
    #[track_caller]
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.sock.io(Direction::Write, |s| s.send(buf))
    }

    /// Receives a datagram from the connected address.
    #[track_caller]
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.io(Direction::Read, |s| s.recv(&mut *buf))
    }

    /// Receives a datagram from the connected address without removing it.
    #[track_caller]
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.io(Direction::Read, |s| s.peek(&mut *buf))
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// The connected address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().peer_addr()
    }

    /// Closes the socket from any goroutine (Go's `conn.Close()`): blocked and later
    /// operations fail with `NotConnected`. The descriptor is released on drop.
    pub fn close(&self) {
        self.sock.close(|s| {
            // SAFETY: a plain system call on the socket's own descriptor: wakes a thread in
            // `poll(2)` on it.
            unsafe { libc::shutdown(s.as_raw_fd(), libc::SHUT_RDWR) };
        });
    }

    /// A new handle to the same socket (a duplicated descriptor).
    pub fn try_clone(&self) -> io::Result<UdpSocket> {
        UdpSocket::try_from(self.sock.get().try_clone()?)
    }

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.sock.get().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.sock.get().broadcast()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.sock.get().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.sock.get().ttl()
    }

    /// The pending error of the socket (`SO_ERROR`), clearing it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.get().take_error()
    }
}

super::deadlines!(UdpSocket);

super::std_conversions!(UdpSocket, std::net::UdpSocket);

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("addr", &self.local_addr().ok())
            .finish()
    }
}
