//! Unix domain sockets: [`UnixListener`], [`UnixStream`] and [`UnixDatagram`], mirroring
//! `std::os::unix::net`, for goroutines.
//!
//! ```
//! use std::io::{Read, Write};
//! use goro::net::unix::UnixStream;
//!
//! let (mut a, mut b) = UnixStream::pair().unwrap();
//! goro::go(move || a.write_all(b"hi").unwrap());
//! let mut buf = [0; 2];
//! b.read_exact(&mut buf).unwrap();
//! assert_eq!(&buf, b"hi");
//! ```

use std::fmt;
use std::io::{self, Read};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use super::Socket;
use crate::context::Context;
use crate::rt::netpoll::Direction;

/// A Unix domain socket server. `std::os::unix::net::UnixListener` for goroutines.
pub struct UnixListener {
    sock: Socket<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Creates a listener bound to the socket file `path`.
    ///
    /// # Errors
    ///
    /// As `std`'s (the path exists, ...).
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let s = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
        s.bind(&socket2::SockAddr::unix(path)?)?;
        // As for TCP: the system's longest queue of connections not yet accepted.
        s.listen(super::listen_backlog())?;
        UnixListener::try_from(std::os::unix::net::UnixListener::from(
            std::os::fd::OwnedFd::from(s),
        ))
    }

    /// Accepts a connection, parking the goroutine until one comes.
    #[track_caller]
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (s, addr) = self.sock.io(Direction::Read, |l| l.accept())?;
        Ok((UnixStream::try_from(s)?, addr))
    }

    /// [`accept`](Self::accept) that gives up when `ctx` ends (see
    /// [`TcpListener::accept_ctx`](super::TcpListener::accept_ctx)).
    #[track_caller]
    pub fn accept_ctx(&self, ctx: &Context) -> io::Result<(UnixStream, SocketAddr)> {
        let (s, addr) = self.sock.io_ctx(Direction::Read, ctx, |l| l.accept())?;
        Ok((UnixStream::try_from(s)?, addr))
    }

    /// An iterator over accepted connections (never ends by itself).
    pub fn incoming(&self) -> impl Iterator<Item = io::Result<UnixStream>> + '_ {
        std::iter::repeat_with(move || self.accept().map(|(s, _)| s))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// Closes the listener from any goroutine (see
    /// [`TcpListener::close`](super::TcpListener::close)).
    pub fn close(&self) {
        self.sock.close(|l| {
            // SAFETY: a plain system call on the listener's own descriptor.
            unsafe { libc::shutdown(l.as_raw_fd(), libc::SHUT_RDWR) };
        });
    }

    /// Go's `SetDeadline` on a listener: `accept` fails with `TimedOut` from then on.
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        self.sock.set_deadline(Some(Direction::Read), deadline);
    }

    /// A new handle to the same listener.
    pub fn try_clone(&self) -> io::Result<UnixListener> {
        UnixListener::try_from(self.sock.get().try_clone()?)
    }
}

super::std_conversions!(UnixListener, std::os::unix::net::UnixListener);

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener").finish_non_exhaustive()
    }
}

/// A Unix domain stream connection. `std::os::unix::net::UnixStream` for goroutines.
pub struct UnixStream {
    sock: Socket<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket file `path`.
    ///
    /// # Errors
    ///
    /// As `std`'s (`ConnectionRefused`, `NotFound`, ...).
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        // A local connect completes at once (or fails), unless the listener's backlog is
        // full; then this blocks the thread briefly, as `std`'s does.
        UnixStream::try_from(std::os::unix::net::UnixStream::connect(path)?)
    }

    /// A connected pair of streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::try_from(a)?, UnixStream::try_from(b)?))
    }

    /// Reads into `buf`, giving up when `ctx` ends.
    #[track_caller]
    pub fn read_ctx(&self, buf: &mut [u8], ctx: &Context) -> io::Result<usize> {
        self.sock
            .io_ctx(Direction::Read, ctx, |mut s| s.read(&mut *buf))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().peer_addr()
    }

    /// Shuts down the reading half, the writing half or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock.get().shutdown(how)
    }

    /// Closes the connection from any goroutine (see
    /// [`TcpStream::close`](super::TcpStream::close)).
    pub fn close(&self) {
        self.sock.close(|s| {
            let _ = s.shutdown(Shutdown::Both);
        });
    }

    /// A new handle to the same connection.
    pub fn try_clone(&self) -> io::Result<UnixStream> {
        UnixStream::try_from(self.sock.get().try_clone()?)
    }

    /// The pending error of the socket, clearing it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.get().take_error()
    }
}

super::deadlines!(UnixStream);

super::stream_io!(UnixStream);

super::std_conversions!(UnixStream, std::os::unix::net::UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream").finish_non_exhaustive()
    }
}

/// A Unix domain datagram socket. `std::os::unix::net::UnixDatagram` for goroutines.
pub struct UnixDatagram {
    sock: Socket<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to the socket file `path`.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::try_from(std::os::unix::net::UnixDatagram::bind(path)?)
    }

    /// Creates a socket bound to no address.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::try_from(std::os::unix::net::UnixDatagram::unbound()?)
    }

    /// A connected pair of sockets.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::try_from(a)?, UnixDatagram::try_from(b)?))
    }

    /// Connects the socket to the socket file `path`.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.sock.get().connect(path)
    }

    /// Sends a datagram to `path`.
    #[track_caller]
    pub fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.sock.io(Direction::Write, |s| s.send_to(buf, path))
    }

    /// Receives a datagram and its sender's address.
    #[track_caller]
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.sock.io(Direction::Read, |s| s.recv_from(&mut *buf))
    }

    /// Sends a datagram to the connected peer.
    #[track_caller]
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.sock.io(Direction::Write, |s| s.send(buf))
    }

    /// Receives a datagram from the connected peer.
    #[track_caller]
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.io(Direction::Read, |s| s.recv(&mut *buf))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().peer_addr()
    }

    /// Closes the socket from any goroutine: blocked and later operations fail with
    /// `NotConnected`.
    pub fn close(&self) {
        self.sock.close(|s| {
            let _ = s.shutdown(Shutdown::Both);
        });
    }

    /// A new handle to the same socket.
    pub fn try_clone(&self) -> io::Result<UnixDatagram> {
        UnixDatagram::try_from(self.sock.get().try_clone()?)
    }
}

super::deadlines!(UnixDatagram);

super::std_conversions!(UnixDatagram, std::os::unix::net::UnixDatagram);

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram").finish_non_exhaustive()
    }
}
