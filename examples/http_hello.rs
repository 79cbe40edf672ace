//! A tiny HTTP/1.1 server: a goroutine per connection answers every request with
//! "Hello, world!", keeping the connection alive between requests; Ctrl-C shuts it down
//! through a context. About the smallest server that `curl` or a load generator can talk to.
//!
//! Run: `cargo run --release --example http_hello -- 127.0.0.1:8080`, then
//! `curl http://127.0.0.1:8080/`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use goro::context;
use goro::net::{TcpListener, TcpStream};
use goro::sync::WaitGroup;

const BODY: &str = "Hello, world!\n";

/// Serves one connection: requests one after another, until the client closes, asks to
/// close, or stays idle for 30 s (Go's `IdleTimeout`). Returns the requests answered.
fn serve(conn: TcpStream) -> u64 {
    let _ = conn.set_nodelay(true);
    let mut reader = BufReader::new(&conn);
    let mut answered = 0;
    loop {
        conn.set_read_deadline(Some(Instant::now() + Duration::from_secs(30)));
        // The request line and headers, up to the empty line; the body (if any) is not
        // needed for this answer, and GET has none.
        let mut close = false;
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return answered,
            Ok(_) => {}
        }
        let http10 = request_line.trim_end().ends_with("HTTP/1.0");
        loop {
            let mut header = String::new();
            match reader.read_line(&mut header) {
                Ok(0) | Err(_) => return answered,
                Ok(_) => {}
            }
            let h = header.trim_end().to_ascii_lowercase();
            if h.is_empty() {
                break;
            }
            if h == "connection: close" {
                close = true;
            }
        }
        let close = close || http10;
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n{BODY}",
            BODY.len(),
            if close { "Connection: close\r\n" } else { "" },
        );
        if (&conn).write_all(response.as_bytes()).is_err() {
            return answered;
        }
        answered += 1;
        if close {
            return answered;
        }
    }
}

#[goro::main]
fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&addr).unwrap_or_else(|e| {
        eprintln!("http_hello: cannot listen on {addr}: {e}");
        std::process::exit(1);
    });
    println!("listening on http://{}/", listener.local_addr().unwrap());
    let (ctx, cancel) = context::background().with_cancel();
    ctrlc::set_handler(move || (*cancel)()).expect("Ctrl-C handler");

    let requests = Arc::new(AtomicU64::new(0));
    let wg = WaitGroup::new();
    // A second handle on each open connection, to close it at shutdown.
    let open: Arc<Mutex<HashMap<u64, TcpStream>>> = Arc::default();
    let mut id = 0;
    while let Ok((conn, _)) = listener.accept_ctx(&ctx) {
        id += 1;
        if let Ok(c) = conn.try_clone() {
            open.lock().unwrap().insert(id, c);
        }
        let (requests, open) = (requests.clone(), open.clone());
        wg.go(move || {
            requests.fetch_add(serve(conn), Ordering::Relaxed);
            open.lock().unwrap().remove(&id);
        });
    }
    // Shutting down: idle keep-alive connections are closed (their reads end), then we
    // wait for the goroutines.
    for c in open.lock().unwrap().values() {
        c.close();
    }
    wg.wait();
    println!(
        "shut down: {} requests answered",
        requests.load(Ordering::Relaxed)
    );
}
