//! A chat server, the classic Go program: a broadcaster goroutine owns the set of clients
//! and is told about arrivals, departures and messages over channels; each client has a
//! goroutine reading its lines and one writing what the broadcaster sends it. Ctrl-C shuts
//! it down through a context.
//!
//! Run: `cargo run --release --example chat_server -- 127.0.0.1:8000`, then connect a few
//! `nc 127.0.0.1 8000` and type.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};

use goro::chan::{self, Receiver, Sender};
use goro::context::{self, Context};
use goro::net::{TcpListener, TcpStream};
use goro::sync::WaitGroup;

/// What a client's writer goroutine is sent.
type Outbox = Sender<String>;

enum Event {
    Arrived(u64, Outbox),
    Left(u64),
    /// A line for everyone, but the client it names (an arrival is not told to itself).
    Said(String, Option<u64>),
}

/// Owns the clients; sends every message to everyone (Go's `broadcaster`).
fn broadcaster(events: Receiver<Event>, ctx: Context) {
    let mut clients: HashMap<u64, Outbox> = HashMap::new();
    loop {
        goro::select! {
            recv(events) -> e => match e {
                Ok(Event::Arrived(id, outbox)) => {
                    clients.insert(id, outbox);
                }
                Ok(Event::Left(id)) => {
                    clients.remove(&id);
                }
                Ok(Event::Said(msg, skip)) => {
                    for (_, outbox) in clients.iter().filter(|(id, _)| Some(**id) != skip) {
                        // A slow client does not hold up the others: its outbox is
                        // buffered, and a full one drops the message.
                        let _ = outbox.try_send(msg.clone());
                    }
                }
                Err(_) => return,
            },
            recv(ctx.done()) -> _ => return,
        }
    }
}

fn handle(conn: TcpStream, id: u64, events: Sender<Event>) {
    let conn = Arc::new(conn);
    let who = conn
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| format!("client {id}"));
    let (outbox, inbox) = chan::bounded::<String>(64);
    // Closed when this client's reading ends, so that its writer stops too.
    let (quit_tx, quit) = chan::bounded::<()>(0);
    let writer = {
        let conn = conn.clone();
        goro::go(move || loop {
            goro::select! {
                recv(inbox) -> msg => match msg {
                    Ok(msg) if (&*conn).write_all(msg.as_bytes()).is_ok() => {}
                    _ => return,
                },
                recv(quit) -> _ => return,
            }
        })
    };
    // Registered before it is greeted: whoever connects after this client has read its
    // greeting is announced to it.
    let _ = events.send(Event::Arrived(id, outbox.clone()));
    let _ = outbox.send(format!("You are {who}\n"));
    drop(outbox);
    let _ = events.send(Event::Said(format!("{who} has arrived\n"), Some(id)));
    for line in BufReader::new(&*conn).lines() {
        let Ok(line) = line else { break };
        let _ = events.send(Event::Said(format!("{who}: {line}\n"), None));
    }
    let _ = events.send(Event::Left(id));
    let _ = events.send(Event::Said(format!("{who} has left\n"), None));
    conn.close();
    drop(quit_tx);
    writer.join().ok();
}

#[goro::main]
fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".into());
    let listener = TcpListener::bind(&addr).unwrap_or_else(|e| {
        eprintln!("chat_server: cannot listen on {addr}: {e}");
        std::process::exit(1);
    });
    println!("listening on {}", listener.local_addr().unwrap());
    let (ctx, cancel) = context::background().with_cancel();
    ctrlc::set_handler(move || (*cancel)()).expect("Ctrl-C handler");

    let (events_tx, events_rx) = chan::unbounded();
    let b = {
        let ctx = ctx.clone();
        goro::go(move || broadcaster(events_rx, ctx))
    };
    let wg = WaitGroup::new();
    // A second handle on each open connection, to close it at shutdown.
    let open: Arc<Mutex<HashMap<u64, TcpStream>>> = Arc::default();
    let mut id = 0;
    while let Ok((conn, _)) = listener.accept_ctx(&ctx) {
        id += 1;
        if let Ok(c) = conn.try_clone() {
            open.lock().unwrap().insert(id, c);
        }
        let (events, open) = (events_tx.clone(), open.clone());
        wg.go(move || {
            handle(conn, id, events);
            open.lock().unwrap().remove(&id);
        });
    }
    // Shutting down: the broadcaster stops with the context; close every connection so
    // that their goroutines end, and wait for them.
    for c in open.lock().unwrap().values() {
        c.close();
    }
    drop(events_tx);
    wg.wait();
    b.join().unwrap();
    println!("shut down: {id} clients served");
}
