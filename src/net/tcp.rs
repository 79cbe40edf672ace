//! TCP: [`TcpListener`] and [`TcpStream`].

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::Socket;
use crate::context::Context;
use crate::rt::netpoll::Direction;

/// A TCP socket server, listening for connections. `std::net::TcpListener` for goroutines.
///
/// ```
/// use goro::net::{TcpListener, TcpStream};
///
/// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// let client = goro::go(move || TcpStream::connect(addr).unwrap());
/// let (_conn, peer) = listener.accept().unwrap();
/// assert_eq!(peer, client.join().unwrap().local_addr().unwrap());
/// ```
pub struct TcpListener {
    sock: Socket<std::net::TcpListener>,
}

impl TcpListener {
    /// Creates a listener bound to `addr` (the first of its addresses that binds).
    ///
    /// Its queue of connections not yet accepted is as long as the system allows
    /// (`net.core.somaxconn`), as in Go: `std` asks for 128, which a burst of thousands
    /// of clients overflows (each connection dropped there is retried a second later).
    ///
    /// # Errors
    ///
    /// As `std::net::TcpListener::bind` (the address is in use, ...).
    ///
    /// ```
    /// use goro::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap(); // port 0: any free port
    /// assert_ne!(listener.local_addr().unwrap().port(), 0);
    /// ```
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(addr, |a| {
            let s = socket2::Socket::new(
                socket2::Domain::for_address(*a),
                socket2::Type::STREAM,
                Some(socket2::Protocol::TCP),
            )?;
            // As `std` does on Unix.
            s.set_reuse_address(true)?;
            s.bind(&(*a).into())?;
            s.listen(super::listen_backlog())?;
            TcpListener::try_from(std::net::TcpListener::from(s))
        })
    }

    /// Accepts a new connection, parking the goroutine until one comes.
    ///
    /// Go: `ln.Accept()`.
    ///
    /// # Errors
    ///
    /// As `std`'s; `NotConnected` once the listener was [`close`](Self::close)d; `TimedOut`
    /// past its deadline ([`set_deadline`](Self::set_deadline)).
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    /// use std::io::{Read, Write};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let (mut conn, peer) = listener.accept().unwrap();
    /// assert_eq!(peer, client.local_addr().unwrap());
    /// client.write_all(b"hi").unwrap();
    /// let mut buf = [0; 2];
    /// conn.read_exact(&mut buf).unwrap();
    /// assert_eq!(&buf, b"hi");
    /// ```
    #[track_caller]
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, addr) = self.sock.io(Direction::Read, |l| l.accept())?;
        Ok((TcpStream::try_from(s)?, addr))
    }

    /// [`accept`](Self::accept) that gives up when `ctx` ends: with `TimedOut` for a
    /// deadline, and an error of kind `Other` that carries the
    /// [`ContextError`](crate::context::ContextError) otherwise. For servers that stop on a
    /// signal or a timeout.
    ///
    /// ```
    /// use goro::{context, net::TcpListener};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let (ctx, cancel) = context::background().with_cancel();
    /// goro::go(move || cancel());
    /// assert!(listener.accept_ctx(&ctx).is_err());
    /// ```
    #[track_caller]
    pub fn accept_ctx(&self, ctx: &Context) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, addr) = self.sock.io_ctx(Direction::Read, ctx, |l| l.accept())?;
        Ok((TcpStream::try_from(s)?, addr))
    }

    /// An iterator over the connections accepted, each an `io::Result`; it never ends by
    /// itself (after a [`close`](Self::close), every item is an error).
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = listener.local_addr().unwrap();
    /// goro::go(move || (0..3).for_each(|_| drop(TcpStream::connect(addr).unwrap())));
    /// let accepted = listener.incoming().take(3).filter(|c| c.is_ok()).count();
    /// assert_eq!(accepted, 3);
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// ```
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// Closes the listener from any goroutine (Go's `ln.Close()`): a blocked `accept`
    /// returns `NotConnected` ("use of closed network connection"), and so does every later
    /// one. The socket itself is released when the listener is dropped.
    ///
    /// ```
    /// use goro::net::TcpListener;
    /// use std::io::ErrorKind;
    /// use std::sync::Arc;
    ///
    /// let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    /// let l = listener.clone();
    /// let server = goro::go(move || l.accept().map(|_| ()));
    /// listener.close(); // wakes the accept, wherever it is blocked
    /// assert_eq!(server.join().unwrap().unwrap_err().kind(), ErrorKind::NotConnected);
    /// ```
    pub fn close(&self) {
        self.sock.close(|l| {
            // SAFETY: a plain system call on the listener's own descriptor; shutting down a
            // listening socket wakes a thread in `poll(2)` on it.
            unsafe { libc::shutdown(l.as_raw_fd(), libc::SHUT_RDWR) };
        });
    }

    /// Go's `SetDeadline` on a listener: `accept` fails with `TimedOut` from `deadline` on
    /// (`None`: no deadline). Applies to an `accept` already waiting.
    ///
    /// ```
    /// use goro::net::TcpListener;
    /// use std::io::ErrorKind;
    /// use std::time::{Duration, Instant};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// listener.set_deadline(Some(Instant::now() + Duration::from_millis(2)));
    /// assert_eq!(listener.accept().unwrap_err().kind(), ErrorKind::TimedOut);
    /// ```
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        self.sock.set_deadline(Some(Direction::Read), deadline);
    }

    /// A new handle to the same listener (a duplicated descriptor).
    ///
    /// ```
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let other = listener.try_clone().unwrap();
    /// assert_eq!(other.local_addr().unwrap(), listener.local_addr().unwrap());
    /// ```
    pub fn try_clone(&self) -> io::Result<TcpListener> {
        TcpListener::try_from(self.sock.get().try_clone()?)
    }

    /// Sets the IP time-to-live of the accepted connections.
    ///
    /// ```
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// listener.set_ttl(64).unwrap();
    /// assert_eq!(listener.ttl().unwrap(), 64);
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.sock.get().set_ttl(ttl)
    }

    /// The IP time-to-live.
    ///
    /// ```
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// listener.set_ttl(100).unwrap();
    /// assert_eq!(listener.ttl().unwrap(), 100);
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.sock.get().ttl()
    }

    /// The pending error of the socket (`SO_ERROR`), clearing it.
    ///
    /// ```
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// assert!(listener.take_error().unwrap().is_none());
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.get().take_error()
    }
}

super::std_conversions!(TcpListener, std::net::TcpListener);

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("addr", &self.local_addr().ok())
            .finish()
    }
}

/// The iterator of [`TcpListener::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    #[track_caller]
    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

/// A TCP connection. `std::net::TcpStream` for goroutines: reads and writes park the
/// goroutine until the socket is ready.
///
/// `Read` and `Write` are implemented for `&TcpStream` too, so one goroutine can read
/// while another writes (share it in an `Arc`, or use [`try_clone`](Self::try_clone)).
///
/// ```
/// use goro::net::{TcpListener, TcpStream};
/// use std::io::{Read, Write};
///
/// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
/// let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
/// let server = goro::go(move || {
///     let (mut conn, _) = listener.accept().unwrap();
///     let mut buf = [0; 4];
///     conn.read_exact(&mut buf).unwrap(); // parks this goroutine only
///     conn.write_all(&buf).unwrap();
/// });
/// client.write_all(b"echo").unwrap();
/// let mut reply = [0; 4];
/// client.read_exact(&mut reply).unwrap();
/// assert_eq!(&reply, b"echo");
/// server.join().unwrap();
/// ```
pub struct TcpStream {
    sock: Socket<std::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each of its addresses in turn; the goroutine
    /// parks while the connection is being made.
    ///
    /// # Errors
    ///
    /// The last address's error (`ConnectionRefused`, ...), or `InvalidInput` if `addr`
    /// resolves to no address.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// ```
    #[track_caller]
    pub fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, |a| connect(a, None))
    }

    /// Opens a connection to `addr`, giving up with `TimedOut` after `timeout`.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), and `InvalidInput` for a zero timeout (as `std`).
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    /// use std::time::Duration;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = listener.local_addr().unwrap();
    /// let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    /// assert_eq!(stream.peer_addr().unwrap(), addr);
    /// ```
    #[track_caller]
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        if timeout.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        connect(addr, Instant::now().checked_add(timeout))
    }

    /// Reads into `buf`, giving up when `ctx` ends (see [`TcpListener::accept_ctx`] for
    /// the error).
    ///
    /// ```
    /// use goro::{context, net::{TcpListener, TcpStream}};
    /// use std::io::ErrorKind;
    /// use std::time::Duration;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let (conn, _) = listener.accept().unwrap();
    /// let (ctx, _cancel) = context::background().with_timeout(Duration::from_millis(2));
    /// let err = conn.read_ctx(&mut [0; 16], &ctx).unwrap_err(); // nothing comes
    /// assert_eq!(err.kind(), ErrorKind::TimedOut);
    /// ```
    #[track_caller]
    pub fn read_ctx(&self, buf: &mut [u8], ctx: &Context) -> io::Result<usize> {
        self.sock
            .io_ctx(Direction::Read, ctx, |mut s| s.read(&mut *buf))
    }

    /// Writes all of `buf`, giving up when `ctx` ends (part of it may have been written).
    ///
    /// ```
    /// use goro::{context, net::{TcpListener, TcpStream}};
    /// use std::io::Read;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let (mut conn, _) = listener.accept().unwrap();
    /// client.write_all_ctx(b"hello", &context::background()).unwrap();
    /// let mut buf = [0; 5];
    /// conn.read_exact(&mut buf).unwrap();
    /// assert_eq!(&buf, b"hello");
    /// ```
    #[track_caller]
    pub fn write_all_ctx(&self, mut buf: &[u8], ctx: &Context) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self
                .sock
                .io_ctx(Direction::Write, ctx, |mut s| s.write(buf))?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Reads without removing the data from the socket's queue.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    /// use std::io::{Read, Write};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let (mut conn, _) = listener.accept().unwrap();
    /// client.write_all(b"ab").unwrap();
    /// let mut buf = [0; 2];
    /// conn.peek(&mut buf[..1]).unwrap(); // parks until data is there; leaves it queued
    /// conn.read_exact(&mut buf).unwrap();
    /// assert_eq!(&buf, b"ab");
    /// ```
    #[track_caller]
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.io(Direction::Read, |s| s.peek(&mut *buf))
    }

    /// The address of the remote end.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let (conn, _) = listener.accept().unwrap();
    /// assert_eq!(conn.peer_addr().unwrap(), client.local_addr().unwrap());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().peer_addr()
    }

    /// The address of the local end.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let (_conn, peer) = listener.accept().unwrap();
    /// assert_eq!(client.local_addr().unwrap(), peer);
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// Shuts down the reading half, the writing half or both (`std`'s). From another
    /// goroutine, a shutdown of the reading half wakes a blocked reader with end of file.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    /// use std::io::Read;
    /// use std::net::Shutdown;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let (mut conn, _) = listener.accept().unwrap();
    /// client.shutdown(Shutdown::Write).unwrap(); // the peer reads end of file
    /// assert_eq!(conn.read(&mut [0; 8]).unwrap(), 0);
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock.get().shutdown(how)
    }

    /// Closes the connection from any goroutine (Go's `conn.Close()`): blocked and later
    /// operations fail with `NotConnected` ("use of closed network connection"), and the
    /// connection is shut down. The descriptor is released when the stream is dropped.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    /// use std::io::{ErrorKind, Read};
    /// use std::sync::Arc;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let conn = Arc::new(listener.accept().unwrap().0);
    /// let c = conn.clone();
    /// let reader = goro::go(move || (&*c).read(&mut [0; 8]));
    /// conn.close(); // wakes the blocked read
    /// assert_eq!(reader.join().unwrap().unwrap_err().kind(), ErrorKind::NotConnected);
    /// ```
    pub fn close(&self) {
        self.sock.close(|s| {
            let _ = s.shutdown(Shutdown::Both);
        });
    }

    /// A new handle to the same connection (a duplicated descriptor), with its own
    /// deadlines and timeouts.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    /// use std::io::{Read, Write};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let (mut conn, _) = listener.accept().unwrap();
    /// let mut writer = client.try_clone().unwrap(); // e.g. for a writing goroutine
    /// goro::go(move || writer.write_all(b"x").unwrap()).join().unwrap();
    /// assert_eq!(conn.read(&mut [0; 1]).unwrap(), 1);
    /// ```
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        TcpStream::try_from(self.sock.get().try_clone()?)
    }

    /// Sets `TCP_NODELAY` (Go sets it by default; `std` and goro do not).
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// stream.set_nodelay(true).unwrap(); // as Go's default
    /// assert!(stream.nodelay().unwrap());
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.sock.get().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// assert!(!stream.nodelay().unwrap()); // off unless set
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.sock.get().nodelay()
    }

    /// Sets the IP time-to-live.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// stream.set_ttl(32).unwrap();
    /// assert_eq!(stream.ttl().unwrap(), 32);
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.sock.get().set_ttl(ttl)
    }

    /// The IP time-to-live.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// stream.set_ttl(16).unwrap();
    /// assert_eq!(stream.ttl().unwrap(), 16);
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.sock.get().ttl()
    }

    /// The pending error of the socket (`SO_ERROR`), clearing it.
    ///
    /// ```
    /// use goro::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// assert!(stream.take_error().unwrap().is_none());
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.get().take_error()
    }
}

super::deadlines!(TcpStream);

/// Runs `f` on each address of `addr` until one succeeds; the last error otherwise.
fn each_addr<A: ToSocketAddrs, T>(
    addr: A,
    mut f: impl FnMut(&SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match f(&a) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        )
    }))
}

/// A non-blocking connect to `addr`: the goroutine parks until the socket is writable, then
/// reads the outcome (`SO_ERROR`).
#[track_caller]
fn connect(addr: &SocketAddr, until: Option<Instant>) -> io::Result<TcpStream> {
    let s = socket2::Socket::new(
        socket2::Domain::for_address(*addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    s.set_nonblocking(true)?;
    let pending = match s.connect(&(*addr).into()) {
        Ok(()) => false,
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => true,
        Err(e) => return Err(e),
    };
    let stream = TcpStream {
        sock: Socket::new(std::net::TcpStream::from(s))?,
    };
    if pending {
        // Writable once connected or failed; then `SO_ERROR` tells which.
        stream
            .sock
            .io_until(Direction::Write, until, &|| None, |s| {
                match s.take_error()? {
                    Some(e) => Err(e),
                    None => match s.peer_addr() {
                        Ok(_) => Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                            Err(io::ErrorKind::WouldBlock.into())
                        }
                        Err(e) => Err(e),
                    },
                }
            })?;
    }
    Ok(stream)
}

super::stream_io!(TcpStream);

super::std_conversions!(TcpStream, std::net::TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("addr", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}
