//! A worker pool doing real network I/O: four workers fetch twelve pages over HTTP from a
//! local server, each request bounded by a deadline, and the pool's results come back in
//! order. The article's worker pools, with the waiting being sockets instead of sleeps:
//! while a worker waits for a reply, its goroutine is parked and its thread runs others.
//!
//! The server is in the same program (a goroutine per connection, as `http_hello`); one of
//! its pages is slow, to show a request giving up at its deadline without holding up the
//! rest.
//!
//! Run: `cargo run --release --example pool_fetch`

use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

use goro::net::{TcpListener, TcpStream};
use goro::pool::{Pool, TaskError};

/// How long a fetch may take, from connect to the end of the body.
const DEADLINE: Duration = Duration::from_secs(1);

/// Serves `/page/N` with a body of N lines; `/slow` answers after 10 s.
fn serve(listener: TcpListener) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { return };
        goro::go(move || {
            let mut reader = BufReader::new(&conn);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                return;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let body = match path.strip_prefix("/page/") {
                Some(n) => {
                    let n: usize = n.parse().unwrap_or(0);
                    (1..=n).map(|i| format!("line {i}\n")).collect::<String>()
                }
                None => {
                    goro::sleep(Duration::from_secs(10));
                    "finally\n".to_string()
                }
            };
            let _ = (&conn).write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        });
    }
}

/// GET `path` from `addr`: the body's length, or why not.
fn fetch(addr: std::net::SocketAddr, path: &str) -> Result<usize, String> {
    let deadline = Instant::now() + DEADLINE;
    let conn = TcpStream::connect_timeout(&addr, DEADLINE).map_err(|e| e.to_string())?;
    conn.set_deadline(Some(deadline));
    (&conn)
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: local\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    (&conn)
        .read_to_end(&mut response)
        .map_err(|e| format!("GET {path}: {e}"))?;
    let text = String::from_utf8_lossy(&response);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    Ok(body.len())
}

#[goro::main]
fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    goro::go(move || serve(listener));

    let mut paths: Vec<String> = (1..=11).map(|n| format!("/page/{n}")).collect();
    paths.insert(5, "/slow".to_string());

    let pool = Pool::new(4);
    let start = Instant::now();
    // Go: a results channel per job, read in order.
    let handles: Vec<_> = paths
        .iter()
        .map(|p| {
            let p = p.clone();
            pool.submit_with_result(move || fetch(addr, &p)).unwrap()
        })
        .collect();
    for (path, h) in paths.iter().zip(handles) {
        // The job's own `Result`, with a panic or a cancellation as further cases.
        match h.join() {
            Ok(len) => println!("{path}: {len} bytes"),
            Err(TaskError::Failed(e)) => println!("{path}: failed: {e}"),
            Err(e) => println!("{path}: {e}"),
        }
    }
    pool.wait();
    eprintln!("fetched in {:?}", start.elapsed());
}
