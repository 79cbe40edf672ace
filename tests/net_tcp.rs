//! `goro::net` over loopback: TCP servers and clients on goroutines and threads, half-closes,
//! deadlines, closes from another goroutine, errors, and thousands of connections parked at
//! once. Every wait is bounded: a hang fails the test through a deadline, not a timeout of
//! the harness.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::context;
use goro::net::{TcpListener, TcpStream, UdpSocket};
use goro::sync::WaitGroup;

/// An echo server on a goroutine per connection; returns its address and the listener (to
/// close it).
fn echo_server() -> (std::net::SocketAddr, Arc<TcpListener>) {
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = listener.local_addr().unwrap();
    let l = listener.clone();
    goro::go(move || {
        while let Ok((conn, _)) = l.accept() {
            goro::go(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match (&conn).read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if (&conn).write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (addr, listener)
}

/// A deadline for a test's waits: a hang shows up as `TimedOut`.
fn soon() -> Option<Instant> {
    Some(Instant::now() + Duration::from_secs(20))
}

#[goro::test]
fn many_clients_at_once() {
    let (addr, listener) = echo_server();
    let wg = WaitGroup::new();
    for c in 0..200u32 {
        wg.go(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_deadline(soon());
            for i in 0..20u32 {
                let msg = format!("client {c} message {i}\n");
                s.write_all(msg.as_bytes()).unwrap();
                let mut back = vec![0; msg.len()];
                s.read_exact(&mut back).unwrap();
                assert_eq!(back, msg.as_bytes());
            }
        });
    }
    wg.wait();
    listener.close();
}

#[goro::test(maxprocs = 1)]
fn one_worker_serves_every_connection() {
    let (addr, listener) = echo_server();
    let wg = WaitGroup::new();
    for c in 0..50u8 {
        wg.go(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_deadline(soon());
            for _ in 0..10 {
                s.write_all(&[c; 100]).unwrap();
                let mut back = [0; 100];
                s.read_exact(&mut back).unwrap();
                assert_eq!(back, [c; 100]);
            }
        });
    }
    wg.wait();
    listener.close();
}

/// One worker computes without a break while the other serves a client on a plain thread:
/// the server's goroutine must be woken for every request though no worker is looking for
/// work when it arrives (the sleeping worker sleeps on its thread or in the poller; either
/// the poller or the monitor's poll wakes the goroutine).
#[goro::test(maxprocs = 2)]
fn sockets_are_served_while_another_goroutine_computes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let (addr, listener) = echo_server();
    let stop = Arc::new(AtomicBool::new(false));
    let computing = {
        let stop = stop.clone();
        goro::go(move || {
            let mut x = 0u64;
            while !stop.load(Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            x
        })
    };
    let (done_tx, done) = goro::chan::bounded(1);
    std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        for i in 0..300u32 {
            let msg = i.to_le_bytes();
            s.write_all(&msg).unwrap();
            let mut back = [0; 4];
            s.read_exact(&mut back).unwrap();
            assert_eq!(back, msg);
        }
        done_tx.send(()).unwrap();
    });
    // The main goroutine parks here; the client's panic drops the sender, failing this.
    let served = done.recv();
    stop.store(true, Ordering::Relaxed);
    served.expect("the client thread failed");
    computing.join().unwrap();
    listener.close();
}

#[goro::test]
fn half_close_then_reply() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = goro::go(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        conn.read_to_end(&mut request).unwrap(); // until the client's half-close
        conn.write_all(&request.iter().rev().copied().collect::<Vec<_>>())
            .unwrap();
        // Dropping closes our half: the client reads to the end.
    });
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_deadline(soon());
    c.write_all(b"abcdef").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut reply = String::new();
    c.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "fedcba");
    server.join().unwrap();
}

/// A deadline already past fails reads and writes at once, even ones that could complete
/// (Go checks the deadline before the operation); clearing it makes them work again.
#[goro::test]
fn a_past_deadline_fails_operations_that_could_complete() {
    let (addr, listener) = echo_server();
    let c = TcpStream::connect(addr).unwrap();
    (&c).write_all(b"y").unwrap();
    // Wait until the echo is there to read, then expire the deadline.
    let mut b = [0];
    c.set_read_deadline(Some(Instant::now() + Duration::from_secs(10)));
    let n = c.peek(&mut b).unwrap();
    assert_eq!(n, 1);
    let past = Some(Instant::now() - Duration::from_millis(1));
    c.set_deadline(past);
    let err = (&c).read(&mut b).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    let err = (&c).write(b"z").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    c.set_deadline(None);
    (&c).read_exact(&mut b).unwrap();
    assert_eq!(&b, b"y");

    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = u.local_addr().unwrap();
    u.set_write_deadline(past);
    let err = u.send_to(b"dgram", to).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    u.set_write_deadline(None);
    assert_eq!(u.send_to(b"dgram", to).unwrap(), 5);
    listener.close();
}

#[goro::test]
fn a_read_deadline_fails_the_read_with_timed_out() {
    let (addr, listener) = echo_server();
    let c = TcpStream::connect(addr).unwrap();
    c.set_read_deadline(Some(Instant::now() + Duration::from_millis(30)));
    let start = Instant::now();
    let err = (&c).read(&mut [0; 8]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert!(start.elapsed() >= Duration::from_millis(25));
    // Cleared, the connection works again.
    c.set_read_deadline(None);
    (&c).write_all(b"x").unwrap();
    let mut b = [0];
    (&c).read_exact(&mut b).unwrap();
    assert_eq!(&b, b"x");
    listener.close();
}

#[goro::test]
fn moving_the_deadline_affects_a_blocked_read() {
    let (addr, listener) = echo_server();
    let c = Arc::new(TcpStream::connect(addr).unwrap());
    let reader = {
        let c = c.clone();
        goro::go(move || (&*c).read(&mut [0; 8]).map_err(|e| e.kind()))
    };
    goro::sleep(Duration::from_millis(20));
    // A deadline in the past wakes the blocked read at once.
    c.set_read_deadline(Some(Instant::now()));
    assert_eq!(reader.join().unwrap(), Err(io::ErrorKind::TimedOut));
    listener.close();
}

#[goro::test]
fn std_timeouts_work_per_operation() {
    let (addr, listener) = echo_server();
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    assert_eq!(c.read_timeout().unwrap(), Some(Duration::from_millis(20)));
    for _ in 0..2 {
        let e = c.read(&mut [0; 4]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }
    assert!(c.set_read_timeout(Some(Duration::ZERO)).is_err());
    listener.close();
}

#[goro::test]
fn close_from_another_goroutine_wakes_readers_and_accepts() {
    let (addr, listener) = echo_server();
    let c = Arc::new(TcpStream::connect(addr).unwrap());
    c.set_deadline(soon());
    let reader = {
        let c = c.clone();
        goro::go(move || (&*c).read(&mut [0; 8]).map_err(|e| e.kind()))
    };
    goro::sleep(Duration::from_millis(20));
    c.close();
    assert_eq!(reader.join().unwrap(), Err(io::ErrorKind::NotConnected));
    assert_eq!(
        (&*c).write(b"x").unwrap_err().kind(),
        io::ErrorKind::NotConnected
    );

    // A listener closed while a goroutine waits in accept.
    let l = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    l.set_deadline(soon());
    let acceptor = {
        let l = l.clone();
        goro::go(move || l.accept().map(|_| ()).map_err(|e| e.kind()))
    };
    goro::sleep(Duration::from_millis(20));
    l.close();
    assert_eq!(acceptor.join().unwrap(), Err(io::ErrorKind::NotConnected));
    listener.close();
}

#[goro::test]
fn close_wakes_every_reader_of_a_connection_and_those_queued_for_their_turn() {
    // One reader waits for data; the others wait for their turn to read (Go's fdMutex),
    // goroutines and a plain thread alike. A close fails them all, as in Go: the waiting
    // reader wakes, hands its turn on, and each next one sees the socket closed.
    let (addr, listener) = echo_server();
    let c = Arc::new(TcpStream::connect(addr).unwrap());
    c.set_deadline(soon());
    let read = |c: Arc<TcpStream>| (&*c).read(&mut [0; 8]).map_err(|e| e.kind());
    let goroutines: Vec<_> = (0..3)
        .map(|_| {
            let c = c.clone();
            goro::go(move || read(c))
        })
        .collect();
    let thread = {
        let c = c.clone();
        std::thread::spawn(move || read(c))
    };
    goro::sleep(Duration::from_millis(50));
    c.close();
    let mut results: Vec<_> = goroutines.into_iter().map(|g| g.join().unwrap()).collect();
    results.push(thread.join().unwrap());
    // Each fails, or sees end of file if it was inside its read system call when the close
    // shut the connection down (the plain thread polls in slices, so it can be); none is
    // left waiting, and later reads fail.
    for r in &results {
        assert!(
            matches!(r, Err(io::ErrorKind::NotConnected) | Ok(0)),
            "{results:?}"
        );
    }
    assert_eq!(read(c), Err(io::ErrorKind::NotConnected));
    listener.close();
}

#[goro::test]
fn shutdown_from_another_goroutine_ends_a_blocked_read() {
    let (addr, listener) = echo_server();
    let c = Arc::new(TcpStream::connect(addr).unwrap());
    c.set_deadline(soon());
    let reader = {
        let c = c.clone();
        goro::go(move || (&*c).read(&mut [0; 8]).unwrap())
    };
    goro::sleep(Duration::from_millis(20));
    c.shutdown(Shutdown::Read).unwrap();
    assert_eq!(reader.join().unwrap(), 0, "end of file");
    listener.close();
}

#[goro::test]
fn contexts_end_accepts_and_reads() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (ctx, _cancel) = context::background().with_timeout(Duration::from_millis(30));
    let err = listener.accept_ctx(&ctx).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");

    let addr = listener.local_addr().unwrap();
    let client = goro::go(move || TcpStream::connect(addr).unwrap());
    let (conn, _) = listener.accept().unwrap();
    let (ctx, cancel) = context::background().with_cancel();
    goro::go(move || {
        goro::sleep(Duration::from_millis(20));
        cancel();
    });
    let err = conn.read_ctx(&mut [0; 4], &ctx).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::Other, "{err}");
    assert!(err.to_string().contains("cancel"), "{err}");
    drop(client.join().unwrap());
}

#[goro::test]
fn errors_are_std_errors() {
    // Connection refused: a port nobody listens on (bound, then freed).
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let e = TcpStream::connect(addr).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    // Address in use.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let e = TcpListener::bind(l.local_addr().unwrap()).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
    // A peer that resets: it closes with unread data, which sends a reset.
    let addr = l.local_addr().unwrap();
    let server = goro::go(move || {
        let (mut conn, _) = l.accept().unwrap();
        conn.write_all(b"x").unwrap();
        goro::sleep(Duration::from_millis(20));
        // Unread data from the client makes the close a reset.
        drop(conn);
    });
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_deadline(soon());
    c.write_all(&[1; 64]).unwrap();
    server.join().unwrap();
    goro::sleep(Duration::from_millis(20));
    let mut got_reset = false;
    for _ in 0..10 {
        match c.read(&mut [0; 16]) {
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                got_reset = true;
                break;
            }
            Ok(0) => break,
            _ => {}
        }
    }
    assert!(got_reset, "a reset peer is reported as ConnectionReset");
    // A zero connect timeout is refused as std does.
    assert_eq!(
        TcpStream::connect_timeout(&addr, Duration::ZERO)
            .unwrap_err()
            .kind(),
        io::ErrorKind::InvalidInput
    );
}

#[goro::test]
fn thousands_of_connections_parked_at_once() {
    let n = 2000;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (ready_tx, ready_rx) = goro::chan::bounded::<()>(0);
    let server = goro::go(move || {
        let wg = WaitGroup::new();
        for _ in 0..n {
            let (mut conn, _) = listener.accept().unwrap();
            wg.go(move || {
                // Parked until its client speaks, then one echo.
                conn.set_deadline(soon());
                let mut b = [0; 1];
                conn.read_exact(&mut b).unwrap();
                conn.write_all(&b).unwrap();
            });
        }
        wg.wait();
    });
    let mut conns = Vec::new();
    for _ in 0..n {
        conns.push(TcpStream::connect(addr).unwrap());
    }
    // Let every server goroutine park on its read.
    goro::go(move || {
        goro::sleep(Duration::from_millis(50));
        ready_tx.send(()).unwrap();
    });
    ready_rx.recv().unwrap();
    let waiting = goro::goroutines()
        .iter()
        .filter(|g| g.state == goro::diag::GoroutineState::Waiting(goro::diag::WaitReason::IoWait))
        .count();
    assert!(waiting >= n / 2, "{waiting} goroutines in IO wait");
    for (i, c) in conns.iter_mut().enumerate() {
        c.set_deadline(soon());
        c.write_all(&[i as u8]).unwrap();
    }
    for (i, c) in conns.iter_mut().enumerate() {
        let mut b = [0; 1];
        c.read_exact(&mut b).unwrap();
        assert_eq!(b[0], i as u8);
    }
    server.join().unwrap();
}

#[test]
fn goroutines_and_threads_on_one_socket() {
    let (addr, listener) = echo_server();
    let c = Arc::new(TcpStream::connect(addr).unwrap());
    c.set_deadline(soon());
    // A thread writes while a goroutine reads, then the other way round.
    let writer = {
        let c = c.clone();
        std::thread::spawn(move || {
            for i in 0..100u8 {
                (&*c).write_all(&[i]).unwrap();
            }
        })
    };
    let reader = {
        let c = c.clone();
        goro::go(move || {
            let mut got = vec![0; 100];
            (&*c).read_exact(&mut got).unwrap();
            got
        })
    };
    writer.join().unwrap();
    assert_eq!(reader.join().unwrap(), (0..100).collect::<Vec<u8>>());
    let writer = {
        let c = c.clone();
        goro::go(move || (&*c).write_all(&[7; 50]).unwrap())
    };
    let mut got = vec![0; 50];
    (&*c).read_exact(&mut got).unwrap(); // the test's own thread
    assert_eq!(got, [7; 50]);
    writer.join().unwrap();
    // A plain thread blocked in a read wakes when another closes the socket.
    let reader = {
        let c = c.clone();
        std::thread::spawn(move || (&*c).read(&mut [0; 4]).map_err(|e| e.kind()))
    };
    std::thread::sleep(Duration::from_millis(20));
    c.close();
    // Closed before its read started: `NotConnected`; closed during the read system call:
    // end of file, as the close shuts the connection down.
    let r = reader.join().unwrap();
    assert!(
        matches!(r, Err(io::ErrorKind::NotConnected) | Ok(0)),
        "{r:?}"
    );
    listener.close();
}

#[test]
fn std_conversions() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listener = TcpListener::try_from(std_listener).unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"std").unwrap();
    });
    let (conn, _) = listener.accept().unwrap();
    let mut back: std::net::TcpStream = conn.into();
    let mut buf = [0; 3];
    back.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"std");
    client.join().unwrap();
    let _: std::net::TcpListener = listener.into();
}

#[goro::test]
fn udp_round_trips_and_deadlines() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let echo = goro::go(move || {
        let mut buf = [0; 64];
        server.set_read_deadline(soon());
        for _ in 0..10 {
            let (n, from) = server.recv_from(&mut buf).unwrap();
            server.send_to(&buf[..n], from).unwrap();
        }
    });
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.connect(addr).unwrap();
    client.set_read_deadline(soon());
    for i in 0..10u8 {
        client.send(&[i; 8]).unwrap();
        let mut buf = [0; 64];
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], &[i; 8]);
    }
    echo.join().unwrap();
    client.set_read_deadline(Some(Instant::now() + Duration::from_millis(20)));
    assert_eq!(
        client.recv(&mut [0; 8]).unwrap_err().kind(),
        io::ErrorKind::TimedOut
    );
}

#[goro::test]
fn several_readers_on_one_connection_share_its_data() {
    // Readers take turns per direction (Go's fdMutex): data announced by one readiness edge
    // and left by one reader is seen by the next, never stranded.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let writer = goro::go(move || {
        let (mut conn, _) = listener.accept().unwrap();
        for _ in 0..100 {
            conn.write_all(&[1; 10]).unwrap();
            goro::yield_now();
        }
    });
    let c = Arc::new(TcpStream::connect(addr).unwrap());
    c.set_read_deadline(soon());
    let read_all = move |c: Arc<TcpStream>| {
        let mut total = 0;
        let mut buf = [0; 3];
        loop {
            match (&*c).read(&mut buf) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) => panic!("{e}"),
            }
        }
    };
    // Goroutines and plain threads queue for the same turn.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            goro::go(move || read_all(c))
        })
        .collect();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || read_all(c))
        })
        .collect();
    writer.join().unwrap();
    let total: usize = readers
        .into_iter()
        .map(|r| r.join().unwrap())
        .sum::<usize>()
        + threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .sum::<usize>();
    assert_eq!(total, 1000);
}
