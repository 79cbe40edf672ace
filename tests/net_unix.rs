//! `goro::net::unix`: stream listeners and connections, pairs and datagrams, from goroutines.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use goro::net::unix::{UnixDatagram, UnixListener, UnixStream};

fn temp_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("goro-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[goro::test]
fn a_listener_serves_goroutine_clients() {
    let path = temp_path("listener");
    let listener = UnixListener::bind(&path).unwrap();
    let server = goro::go(move || {
        for _ in 0..20 {
            let (mut conn, _) = listener.accept().unwrap();
            goro::go(move || {
                let mut buf = [0; 32];
                let n = conn.read(&mut buf).unwrap();
                conn.write_all(&buf[..n]).unwrap();
            });
        }
    });
    let clients: Vec<_> = (0..20u8)
        .map(|i| {
            let path = path.clone();
            goro::go(move || {
                let mut c = UnixStream::connect(&path).unwrap();
                c.set_deadline(Some(Instant::now() + Duration::from_secs(20)));
                c.write_all(&[i; 4]).unwrap();
                let mut back = [0; 4];
                c.read_exact(&mut back).unwrap();
                back
            })
        })
        .collect();
    for (i, c) in clients.into_iter().enumerate() {
        assert_eq!(c.join().unwrap(), [i as u8; 4]);
    }
    server.join().unwrap();
    std::fs::remove_file(&path).unwrap();
}

#[goro::test]
fn pairs_deadlines_and_close() {
    let (a, b) = UnixStream::pair().unwrap();
    b.set_read_deadline(Some(Instant::now() + Duration::from_millis(20)));
    assert_eq!(
        (&b).read(&mut [0; 4]).unwrap_err().kind(),
        io::ErrorKind::TimedOut
    );
    b.set_read_deadline(None);
    let b = std::sync::Arc::new(b);
    let reader = {
        let b = b.clone();
        goro::go(move || (&*b).read(&mut [0; 4]).map_err(|e| e.kind()))
    };
    goro::sleep(Duration::from_millis(20));
    b.close();
    assert_eq!(reader.join().unwrap(), Err(io::ErrorKind::NotConnected));
    drop(a);
}

#[goro::test]
fn datagrams() {
    let (a, b) = UnixDatagram::pair().unwrap();
    let h = goro::go(move || {
        let mut buf = [0; 16];
        let n = b.recv(&mut buf).unwrap();
        buf[..n].to_vec()
    });
    a.send(b"datagram").unwrap();
    assert_eq!(h.join().unwrap(), b"datagram");
}
