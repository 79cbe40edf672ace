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
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// Closes the listener from any goroutine (Go's `ln.Close()`): a blocked `accept`
    /// returns `NotConnected` ("use of closed network connection"), and so does every later
    /// one. The socket itself is released when the listener is dropped.
    pub fn close(&self) {
        self.sock.close(|l| {
            // SAFETY: a plain system call on the listener's own descriptor; shutting down a
            // listening socket wakes a thread in `poll(2)` on it.
            unsafe { libc::shutdown(l.as_raw_fd(), libc::SHUT_RDWR) };
        });
    }

    /// Go's `SetDeadline` on a listener: `accept` fails with `TimedOut` from `deadline` on
    /// (`None`: no deadline). Applies to an `accept` already waiting.
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        self.sock.set_deadline(Some(Direction::Read), deadline);
    }

    /// A new handle to the same listener (a duplicated descriptor).
    pub fn try_clone(&self) -> io::Result<TcpListener> {
        TcpListener::try_from(self.sock.get().try_clone()?)
    }

    /// Sets the IP time-to-live of the accepted connections.
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
    #[track_caller]
    pub fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, |a| connect(a, None))
    }

    /// Opens a connection to `addr`, giving up with `TimedOut` after `timeout`.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), and `InvalidInput` for a zero timeout (as `std`).
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
    #[track_caller]
    pub fn read_ctx(&self, buf: &mut [u8], ctx: &Context) -> io::Result<usize> {
        self.sock
            .io_ctx(Direction::Read, ctx, |mut s| s.read(&mut *buf))
    }

    /// Writes all of `buf`, giving up when `ctx` ends (part of it may have been written).
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
    #[track_caller]
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.io(Direction::Read, |s| s.peek(&mut *buf))
    }

    /// The address of the remote end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().peer_addr()
    }

    /// The address of the local end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.get().local_addr()
    }

    /// Shuts down the reading half, the writing half or both (`std`'s). From another
    /// goroutine, a shutdown of the reading half wakes a blocked reader with end of file.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock.get().shutdown(how)
    }

    /// Closes the connection from any goroutine (Go's `conn.Close()`): blocked and later
    /// operations fail with `NotConnected` ("use of closed network connection"), and the
    /// connection is shut down. The descriptor is released when the stream is dropped.
    pub fn close(&self) {
        self.sock.close(|s| {
            let _ = s.shutdown(Shutdown::Both);
        });
    }

    /// A new handle to the same connection (a duplicated descriptor), with its own
    /// deadlines and timeouts.
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        TcpStream::try_from(self.sock.get().try_clone()?)
    }

    /// Sets `TCP_NODELAY` (Go sets it by default; `std` and goro do not).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.sock.get().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.sock.get().nodelay()
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
