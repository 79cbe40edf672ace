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
    ///
    /// ```
    /// let sock = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap(); // any free port
    /// assert_ne!(sock.local_addr().unwrap().port(), 0);
    /// ```
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        UdpSocket::try_from(std::net::UdpSocket::bind(addr)?)
    }

    /// Receives a datagram; returns its length and where it came from.
    ///
    /// ```
    /// use goro::net::UdpSocket;
    ///
    /// let (a, b) = (UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap());
    /// a.send_to(b"ping", b.local_addr().unwrap()).unwrap();
    /// let mut buf = [0; 16];
    /// let (n, from) = b.recv_from(&mut buf).unwrap(); // parks until a datagram comes
    /// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
    /// ```
    #[track_caller]
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.sock.io(Direction::Read, |s| s.recv_from(&mut *buf))
    }

    /// [`recv_from`](Self::recv_from) that gives up when `ctx` ends (see
    /// [`TcpListener::accept_ctx`](super::TcpListener::accept_ctx) for the error).
    ///
    /// ```
    /// use goro::{context, net::UdpSocket};
    ///
    /// let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let (ctx, cancel) = context::background().with_cancel();
    /// goro::go(move || cancel()); // e.g. a shutdown signal
    /// assert!(sock.recv_from_ctx(&mut [0; 16], &ctx).is_err());
    /// ```
    #[track_caller]
    pub fn recv_from_ctx(&self, buf: &mut [u8], ctx: &Context) -> io::Result<(usize, SocketAddr)> {
        self.sock
            .io_ctx(Direction::Read, ctx, |s| s.recv_from(&mut *buf))
    }

    /// Receives a datagram without removing it from the queue.
    ///
    /// ```
    /// use goro::net::UdpSocket;
    ///
    /// let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    /// sock.send_to(b"hey", sock.local_addr().unwrap()).unwrap();
    /// let mut buf = [0; 16];
    /// assert_eq!(sock.peek_from(&mut buf).unwrap().0, 3);
    /// assert_eq!(sock.recv_from(&mut buf).unwrap().0, 3); // still there
    /// ```
    #[track_caller]
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.sock.io(Direction::Read, |s| s.peek_from(&mut *buf))
    }

    /// Sends a datagram to `addr` (its first address); returns the bytes sent.
    ///
    /// ```
    /// use goro::net::UdpSocket;
    ///
    /// let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    /// assert_eq!(sock.send_to(b"to myself", sock.local_addr().unwrap()).unwrap(), 9);
    /// assert_eq!(sock.recv_from(&mut [0; 16]).unwrap().0, 9);
    /// ```
    #[track_caller]
    pub fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], addr: A) -> io::Result<usize> {
        let addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to")
        })?;
        self.sock.io(Direction::Write, |s| s.send_to(buf, addr))
    }

    /// Connects the socket to `addr`: `send` and `recv` then use it, and datagrams from
    /// other addresses are dropped.
    ///
    /// ```
    /// use goro::net::UdpSocket;
    ///
    /// let (a, b) = (UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap());
    /// a.connect(b.local_addr().unwrap()).unwrap();
    /// assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    /// ```
    pub fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        self.sock.get().connect(addr)
    }

    /// Sends a datagram to the connected address.
    ///
    /// ```
    /// use goro::net::UdpSocket;
    ///
    /// let (a, b) = (UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap());
    /// a.connect(b.local_addr().unwrap()).unwrap();
    /// assert_eq!(a.send(b"hi").unwrap(), 2);
    /// assert_eq!(b.recv_from(&mut [0; 8]).unwrap().0, 2);
    /// ```
    #[track_caller]
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.sock.io(Direction::Write, |s| s.send(buf))
    }

    /// Receives a datagram from the connected address.
    ///
    /// ```
    /// use goro::net::UdpSocket;
    ///
    /// let (a, b) = (UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap());
    /// b.connect(a.local_addr().unwrap()).unwrap();
    /// a.send_to(b"yo", b.local_addr().unwrap()).unwrap();
    /// let mut buf = [0; 8];
    /// let n = b.recv(&mut buf).unwrap(); // parks until a datagram comes
    /// assert_eq!(&buf[..n], b"yo");
    /// ```
    #[track_caller]
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.io(Direction::Read, |s| s.recv(&mut *buf))
    }

    /// Receives a datagram from the connected address without removing it.
    ///
    /// ```
    /// use goro::net::UdpSocket;
    ///
    /// let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    /// sock.connect(sock.local_addr().unwrap()).unwrap();
    /// sock.send(b"abc").unwrap();
    /// assert_eq!(sock.peek(&mut [0; 8]).unwrap(), 3);
    /// assert_eq!(sock.recv(&mut [0; 8]).unwrap(), 3); // still there
    /// ```
    #[track_caller]
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.io(Direction::Read, |s| s.peek(&mut *buf))
    }

    /// The address the socket is bound to.
    ///
    /// ```
    /// let sock = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// assert!(sock.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// The connected address.
    ///
    /// ```
    /// let sock = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// assert!(sock.peer_addr().is_err()); // not connected
    /// sock.connect("127.0.0.1:9").unwrap();
    /// assert_eq!(sock.peer_addr().unwrap().port(), 9);
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().peer_addr()
    }

    /// Closes the socket from any goroutine (Go's `conn.Close()`): blocked and later
    /// operations fail with `NotConnected`. The descriptor is released on drop.
    ///
    /// ```
    /// use goro::net::UdpSocket;
    /// use std::io::ErrorKind;
    /// use std::sync::Arc;
    ///
    /// let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    /// let s = sock.clone();
    /// let reader = goro::go(move || s.recv_from(&mut [0; 8]));
    /// sock.close(); // wakes the blocked receive
    /// assert_eq!(reader.join().unwrap().unwrap_err().kind(), ErrorKind::NotConnected);
    /// ```
    pub fn close(&self) {
        self.sock.close(|s| {
            // SAFETY: a plain system call on the socket's own descriptor: wakes a thread in
            // `poll(2)` on it.
            unsafe { libc::shutdown(s.as_raw_fd(), libc::SHUT_RDWR) };
        });
    }

    /// A new handle to the same socket (a duplicated descriptor).
    ///
    /// ```
    /// let sock = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let other = sock.try_clone().unwrap();
    /// assert_eq!(other.local_addr().unwrap(), sock.local_addr().unwrap());
    /// ```
    pub fn try_clone(&self) -> io::Result<UdpSocket> {
        UdpSocket::try_from(self.sock.get().try_clone()?)
    }

    /// Sets `SO_BROADCAST`.
    ///
    /// ```
    /// let sock = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// sock.set_broadcast(true).unwrap();
    /// assert!(sock.broadcast().unwrap());
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.sock.get().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// ```
    /// let sock = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// assert!(!sock.broadcast().unwrap()); // off unless set
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        self.sock.get().broadcast()
    }

    /// Sets the IP time-to-live.
    ///
    /// ```
    /// let sock = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// sock.set_ttl(8).unwrap();
    /// assert_eq!(sock.ttl().unwrap(), 8);
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.sock.get().set_ttl(ttl)
    }

    /// The IP time-to-live.
    ///
    /// ```
    /// let sock = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// sock.set_ttl(42).unwrap();
    /// assert_eq!(sock.ttl().unwrap(), 42);
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.sock.get().ttl()
    }

    /// The pending error of the socket (`SO_ERROR`), clearing it.
    ///
    /// ```
    /// let sock = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// assert!(sock.take_error().unwrap().is_none());
    /// ```
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
