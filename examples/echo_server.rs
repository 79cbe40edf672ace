//! An echo server: a goroutine per connection, plain blocking reads and writes, and a clean
//! shutdown on Ctrl-C through a context (Go's classic first server).
//!
//! Run: `cargo run --release --example echo_server -- 127.0.0.1:7000`, then
//! `nc 127.0.0.1 7000` in another terminal. Ctrl-C stops it: no new connections, the open
//! ones are closed, and it reports how many it served.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use goro::context;
use goro::net::{TcpListener, TcpStream};
use goro::sync::WaitGroup;

#[goro::main]
fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    let listener = TcpListener::bind(&addr).unwrap_or_else(|e| {
        eprintln!("echo_server: cannot listen on {addr}: {e}");
        std::process::exit(1);
    });
    println!("listening on {}", listener.local_addr().unwrap());

    // Ctrl-C cancels the server's context.
    let (ctx, cancel) = context::background().with_cancel();
    ctrlc::set_handler(move || (*cancel)()).expect("Ctrl-C handler");

    let open: Arc<Mutex<HashMap<u64, Arc<TcpStream>>>> = Arc::default();
    let served = Arc::new(AtomicU64::new(0));
    let wg = WaitGroup::new();
    let mut next_id = 0;
    loop {
        let conn = match listener.accept_ctx(&ctx) {
            Ok((conn, _)) => Arc::new(conn),
            Err(_) if ctx.err().is_some() => break,
            Err(e) => {
                eprintln!("echo_server: accept: {e}");
                continue;
            }
        };
        let id = next_id;
        next_id += 1;
        open.lock().unwrap().insert(id, conn.clone());
        let (open, served) = (open.clone(), served.clone());
        wg.go(move || {
            let mut buf = [0u8; 4096];
            // Ends when the client hangs up, or when the shutdown closes the connection.
            while let Ok(n @ 1..) = (&*conn).read(&mut buf) {
                if (&*conn).write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            open.lock().unwrap().remove(&id);
            served.fetch_add(1, Ordering::Relaxed);
        });
    }
    // Shutting down: close what is open (blocked reads return at once), then wait.
    for conn in open.lock().unwrap().values() {
        conn.close();
    }
    wg.wait();
    println!(
        "shut down: {} connections served",
        served.load(Ordering::Relaxed)
    );
}
