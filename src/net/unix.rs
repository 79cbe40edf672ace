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
///
/// ```
/// use goro::net::unix::{UnixListener, UnixStream};
/// use std::io::{Read, Write};
///
/// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
/// let listener = UnixListener::bind(&path).unwrap();
/// goro::go({ let path = path.clone(); move || UnixStream::connect(path).unwrap().write_all(b"hi") });
/// let (mut conn, _) = listener.accept().unwrap();
/// let mut buf = String::new();
/// conn.read_to_string(&mut buf).unwrap();
/// assert_eq!(buf, "hi");
/// std::fs::remove_file(path).unwrap();
/// ```
pub struct UnixListener {
    sock: Socket<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Creates a listener bound to the socket file `path`.
    ///
    /// # Errors
    ///
    /// As `std`'s (the path exists, ...).
    ///
    /// ```
    /// use goro::net::unix::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path).unwrap();
    /// assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// assert!(UnixListener::bind(&path).is_err()); // the file exists
    /// std::fs::remove_file(path).unwrap();
    /// ```
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
    ///
    /// ```
    /// use goro::net::unix::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path).unwrap();
    /// let _client = UnixStream::connect(&path).unwrap();
    /// let (conn, _addr) = listener.accept().unwrap();
    /// assert!(conn.local_addr().unwrap().as_pathname() == Some(path.as_path()));
    /// std::fs::remove_file(path).unwrap();
    /// ```
    #[track_caller]
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (s, addr) = self.sock.io(Direction::Read, |l| l.accept())?;
        Ok((UnixStream::try_from(s)?, addr))
    }

    /// [`accept`](Self::accept) that gives up when `ctx` ends (see
    /// [`TcpListener::accept_ctx`](super::TcpListener::accept_ctx)).
    ///
    /// ```
    /// use goro::{context, net::unix::UnixListener};
    /// use std::time::Duration;
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path).unwrap();
    /// let (ctx, _cancel) = context::background().with_timeout(Duration::from_millis(2));
    /// assert!(listener.accept_ctx(&ctx).is_err()); // nobody connects
    /// std::fs::remove_file(path).unwrap();
    /// ```
    #[track_caller]
    pub fn accept_ctx(&self, ctx: &Context) -> io::Result<(UnixStream, SocketAddr)> {
        let (s, addr) = self.sock.io_ctx(Direction::Read, ctx, |l| l.accept())?;
        Ok((UnixStream::try_from(s)?, addr))
    }

    /// An iterator over accepted connections (never ends by itself).
    ///
    /// ```
    /// use goro::net::unix::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path).unwrap();
    /// let _clients: Vec<_> = (0..2).map(|_| UnixStream::connect(&path).unwrap()).collect();
    /// assert_eq!(listener.incoming().take(2).filter(|c| c.is_ok()).count(), 2);
    /// std::fs::remove_file(path).unwrap();
    /// ```
    pub fn incoming(&self) -> impl Iterator<Item = io::Result<UnixStream>> + '_ {
        std::iter::repeat_with(move || self.accept().map(|(s, _)| s))
    }

    /// The address the listener is bound to.
    ///
    /// ```
    /// use goro::net::unix::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path).unwrap();
    /// assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(path).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// Closes the listener from any goroutine (see
    /// [`TcpListener::close`](super::TcpListener::close)).
    ///
    /// ```
    /// use goro::net::unix::UnixListener;
    /// use std::io::ErrorKind;
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path).unwrap();
    /// listener.close();
    /// assert_eq!(listener.accept().unwrap_err().kind(), ErrorKind::NotConnected);
    /// std::fs::remove_file(path).unwrap();
    /// ```
    pub fn close(&self) {
        self.sock.close(|l| {
            // SAFETY: a plain system call on the listener's own descriptor.
            unsafe { libc::shutdown(l.as_raw_fd(), libc::SHUT_RDWR) };
        });
    }

    /// Go's `SetDeadline` on a listener: `accept` fails with `TimedOut` from then on.
    ///
    /// ```
    /// use goro::net::unix::UnixListener;
    /// use std::io::ErrorKind;
    /// use std::time::{Duration, Instant};
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path).unwrap();
    /// listener.set_deadline(Some(Instant::now() + Duration::from_millis(2)));
    /// assert_eq!(listener.accept().unwrap_err().kind(), ErrorKind::TimedOut);
    /// std::fs::remove_file(path).unwrap();
    /// ```
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        self.sock.set_deadline(Some(Direction::Read), deadline);
    }

    /// A new handle to the same listener.
    ///
    /// ```
    /// use goro::net::unix::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path).unwrap();
    /// let other = listener.try_clone().unwrap();
    /// assert_eq!(other.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(path).unwrap();
    /// ```
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
///
/// ```
/// use goro::net::unix::UnixStream;
/// use std::io::{Read, Write};
///
/// let (mut a, mut b) = UnixStream::pair().unwrap();
/// goro::go(move || a.write_all(b"over the pair").unwrap());
/// let mut got = String::new();
/// b.read_to_string(&mut got).unwrap(); // parks until `a` is dropped
/// assert_eq!(got, "over the pair");
/// ```
pub struct UnixStream {
    sock: Socket<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket file `path`.
    ///
    /// # Errors
    ///
    /// As `std`'s (`ConnectionRefused`, `NotFound`, ...).
    ///
    /// ```
    /// use goro::net::unix::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path).unwrap();
    /// let stream = UnixStream::connect(&path).unwrap();
    /// assert_eq!(stream.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// drop(listener);
    /// std::fs::remove_file(&path).unwrap();
    /// assert!(UnixStream::connect(&path).is_err()); // nobody there any more
    /// ```
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        // A local connect completes at once (or fails), unless the listener's backlog is
        // full; then this blocks the thread briefly, as `std`'s does.
        UnixStream::try_from(std::os::unix::net::UnixStream::connect(path)?)
    }

    /// A connected pair of streams.
    ///
    /// ```
    /// use goro::net::unix::UnixStream;
    /// use std::io::{Read, Write};
    ///
    /// let (mut a, mut b) = UnixStream::pair().unwrap();
    /// a.write_all(b"ok").unwrap();
    /// let mut buf = [0; 2];
    /// b.read_exact(&mut buf).unwrap();
    /// assert_eq!(&buf, b"ok");
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::try_from(a)?, UnixStream::try_from(b)?))
    }

    /// Reads into `buf`, giving up when `ctx` ends.
    ///
    /// ```
    /// use goro::{context, net::unix::UnixStream};
    /// use std::io::ErrorKind;
    /// use std::time::Duration;
    ///
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// let (ctx, _cancel) = context::background().with_timeout(Duration::from_millis(2));
    /// let err = a.read_ctx(&mut [0; 8], &ctx).unwrap_err(); // nothing comes
    /// assert_eq!(err.kind(), ErrorKind::TimedOut);
    /// ```
    #[track_caller]
    pub fn read_ctx(&self, buf: &mut [u8], ctx: &Context) -> io::Result<usize> {
        self.sock
            .io_ctx(Direction::Read, ctx, |mut s| s.read(&mut *buf))
    }

    /// The local address.
    ///
    /// ```
    /// let (a, _b) = goro::net::unix::UnixStream::pair().unwrap();
    /// assert!(a.local_addr().unwrap().is_unnamed()); // a pair has no path
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// The peer's address.
    ///
    /// ```
    /// let (a, _b) = goro::net::unix::UnixStream::pair().unwrap();
    /// assert!(a.peer_addr().unwrap().is_unnamed());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().peer_addr()
    }

    /// Shuts down the reading half, the writing half or both.
    ///
    /// ```
    /// use goro::net::unix::UnixStream;
    /// use std::io::Read;
    /// use std::net::Shutdown;
    ///
    /// let (a, mut b) = UnixStream::pair().unwrap();
    /// a.shutdown(Shutdown::Write).unwrap();
    /// assert_eq!(b.read(&mut [0; 8]).unwrap(), 0); // end of file
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock.get().shutdown(how)
    }

    /// Closes the connection from any goroutine (see
    /// [`TcpStream::close`](super::TcpStream::close)).
    ///
    /// ```
    /// use goro::net::unix::UnixStream;
    /// use std::io::{ErrorKind, Read};
    /// use std::sync::Arc;
    ///
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// let a = Arc::new(a);
    /// let a2 = a.clone();
    /// let reader = goro::go(move || (&*a2).read(&mut [0; 8]));
    /// a.close(); // wakes the blocked read
    /// assert_eq!(reader.join().unwrap().unwrap_err().kind(), ErrorKind::NotConnected);
    /// ```
    pub fn close(&self) {
        self.sock.close(|s| {
            let _ = s.shutdown(Shutdown::Both);
        });
    }

    /// A new handle to the same connection.
    ///
    /// ```
    /// use goro::net::unix::UnixStream;
    /// use std::io::{Read, Write};
    ///
    /// let (a, mut b) = UnixStream::pair().unwrap();
    /// let mut writer = a.try_clone().unwrap();
    /// goro::go(move || writer.write_all(b"z").unwrap()).join().unwrap();
    /// assert_eq!(b.read(&mut [0; 1]).unwrap(), 1);
    /// ```
    pub fn try_clone(&self) -> io::Result<UnixStream> {
        UnixStream::try_from(self.sock.get().try_clone()?)
    }

    /// The pending error of the socket, clearing it.
    ///
    /// ```
    /// let (a, _b) = goro::net::unix::UnixStream::pair().unwrap();
    /// assert!(a.take_error().unwrap().is_none());
    /// ```
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
///
/// ```
/// use goro::net::unix::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair().unwrap();
/// goro::go(move || a.send(b"one datagram").unwrap());
/// let mut buf = [0; 64];
/// let n = b.recv(&mut buf).unwrap(); // parks until it comes
/// assert_eq!(&buf[..n], b"one datagram");
/// ```
pub struct UnixDatagram {
    sock: Socket<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to the socket file `path`.
    ///
    /// ```
    /// use goro::net::unix::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.dgram", std::process::id()));
    /// let sock = UnixDatagram::bind(&path).unwrap();
    /// UnixDatagram::unbound().unwrap().send_to(b"hi", &path).unwrap();
    /// assert_eq!(sock.recv(&mut [0; 8]).unwrap(), 2);
    /// std::fs::remove_file(path).unwrap();
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::try_from(std::os::unix::net::UnixDatagram::bind(path)?)
    }

    /// Creates a socket bound to no address.
    ///
    /// ```
    /// let sock = goro::net::unix::UnixDatagram::unbound().unwrap();
    /// assert!(sock.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::try_from(std::os::unix::net::UnixDatagram::unbound()?)
    }

    /// A connected pair of sockets.
    ///
    /// ```
    /// let (a, b) = goro::net::unix::UnixDatagram::pair().unwrap();
    /// a.send(b"ping").unwrap();
    /// assert_eq!(b.recv(&mut [0; 8]).unwrap(), 4);
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::try_from(a)?, UnixDatagram::try_from(b)?))
    }

    /// Connects the socket to the socket file `path`.
    ///
    /// ```
    /// use goro::net::unix::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.dgram", std::process::id()));
    /// let server = UnixDatagram::bind(&path).unwrap();
    /// let client = UnixDatagram::unbound().unwrap();
    /// client.connect(&path).unwrap();
    /// client.send(b"hello").unwrap();
    /// assert_eq!(server.recv(&mut [0; 8]).unwrap(), 5);
    /// std::fs::remove_file(path).unwrap();
    /// ```
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.sock.get().connect(path)
    }

    /// Sends a datagram to `path`.
    ///
    /// ```
    /// use goro::net::unix::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.dgram", std::process::id()));
    /// let server = UnixDatagram::bind(&path).unwrap();
    /// assert_eq!(UnixDatagram::unbound().unwrap().send_to(b"abc", &path).unwrap(), 3);
    /// assert_eq!(server.recv(&mut [0; 8]).unwrap(), 3);
    /// std::fs::remove_file(path).unwrap();
    /// ```
    #[track_caller]
    pub fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.sock.io(Direction::Write, |s| s.send_to(buf, path))
    }

    /// Receives a datagram and its sender's address.
    ///
    /// ```
    /// use goro::net::unix::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.dgram", std::process::id()));
    /// let server = UnixDatagram::bind(&path).unwrap();
    /// UnixDatagram::unbound().unwrap().send_to(b"abc", &path).unwrap();
    /// let (n, from) = server.recv_from(&mut [0; 8]).unwrap();
    /// assert_eq!((n, from.is_unnamed()), (3, true)); // an unbound sender has no address
    /// std::fs::remove_file(path).unwrap();
    /// ```
    #[track_caller]
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.sock.io(Direction::Read, |s| s.recv_from(&mut *buf))
    }

    /// Sends a datagram to the connected peer.
    ///
    /// ```
    /// let (a, b) = goro::net::unix::UnixDatagram::pair().unwrap();
    /// assert_eq!(a.send(b"xyz").unwrap(), 3);
    /// assert_eq!(b.recv(&mut [0; 8]).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.sock.io(Direction::Write, |s| s.send(buf))
    }

    /// Receives a datagram from the connected peer.
    ///
    /// ```
    /// let (a, b) = goro::net::unix::UnixDatagram::pair().unwrap();
    /// goro::go(move || a.send(b"late").unwrap());
    /// let mut buf = [0; 8];
    /// let n = b.recv(&mut buf).unwrap(); // parks until it comes
    /// assert_eq!(&buf[..n], b"late");
    /// ```
    #[track_caller]
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.io(Direction::Read, |s| s.recv(&mut *buf))
    }

    /// The local address.
    ///
    /// ```
    /// use goro::net::unix::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("goro-doc-{}.dgram", std::process::id()));
    /// let sock = UnixDatagram::bind(&path).unwrap();
    /// assert_eq!(sock.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(path).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// The connected peer's address.
    ///
    /// ```
    /// let (a, _b) = goro::net::unix::UnixDatagram::pair().unwrap();
    /// assert!(a.peer_addr().unwrap().is_unnamed());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().peer_addr()
    }

    /// Closes the socket from any goroutine: blocked and later operations fail with
    /// `NotConnected`.
    ///
    /// ```
    /// use goro::net::unix::UnixDatagram;
    /// use std::io::ErrorKind;
    /// use std::sync::Arc;
    ///
    /// let (a, _b) = UnixDatagram::pair().unwrap();
    /// let a = Arc::new(a);
    /// let a2 = a.clone();
    /// let reader = goro::go(move || a2.recv(&mut [0; 8]));
    /// a.close(); // wakes the blocked receive
    /// assert_eq!(reader.join().unwrap().unwrap_err().kind(), ErrorKind::NotConnected);
    /// ```
    pub fn close(&self) {
        self.sock.close(|s| {
            let _ = s.shutdown(Shutdown::Both);
        });
    }

    /// A new handle to the same socket.
    ///
    /// ```
    /// let (a, b) = goro::net::unix::UnixDatagram::pair().unwrap();
    /// a.try_clone().unwrap().send(b"q").unwrap();
    /// assert_eq!(b.recv(&mut [0; 8]).unwrap(), 1);
    /// ```
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
