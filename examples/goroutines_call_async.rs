//! A goro program whose goroutines call an async API.
//!
//! The goroutines are plain blocking code, one per request, as in Go. The API they call
//! is async (here a stand-in for an HTTP client or a database driver, built on tokio's
//! timers). Each goroutine hands its call to the tokio runtime with `handle.spawn` and waits
//! for the result with `goro::block_on`: only the goroutine parks, its worker runs other
//! goroutines meanwhile, and the future runs where its reactor is, on tokio's threads, so
//! no reactor context has to cross threads. A `select!` waits on the call and on a
//! cancellation channel at once, with a `fut` case.
//!
//! Run: `cargo run --release --example goroutines_call_async`

use std::pin::pin;
use std::time::Duration;

use goro::chan;
use goro::sync::WaitGroup;

/// The async API: looks a user up after some network delay.
async fn fetch_user(id: u32) -> Result<String, String> {
    tokio::time::sleep(Duration::from_millis(5 + u64::from(id % 4) * 5)).await;
    if id == 13 {
        return Err(format!("user {id}: not found"));
    }
    Ok(format!("user-{id}"))
}

#[goro::main]
fn main() {
    // The async side: a small tokio runtime beside goro's workers.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();

    // 1. One goroutine per request, each blocking on the async call.
    let (results_tx, results_rx) = chan::unbounded();
    let wg = WaitGroup::new();
    for id in 10..16 {
        let handle = rt.handle().clone();
        let results = results_tx.clone();
        wg.go(move || {
            let call = handle.spawn(fetch_user(id));
            let user = goro::block_on(call).expect("the call's task panicked");
            results.send((id, user)).unwrap();
        });
    }
    drop(results_tx);
    wg.wait();
    let mut results: Vec<_> = results_rx.iter().collect();
    results.sort();
    for (id, user) in &results {
        match user {
            Ok(name) => println!("{id}: {name}"),
            Err(e) => println!("{id}: error: {e}"),
        }
    }

    // 2. A call raced against a cancellation, in one select.
    let (cancel_tx, cancel_rx) = chan::bounded::<()>(0);
    let slow = rt.spawn(async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        "too late"
    });
    let mut slow = pin!(slow);
    goro::go(move || {
        goro::sleep(Duration::from_millis(20));
        cancel_tx.close();
    });
    goro::select! {
        fut(slow.as_mut()) -> r => println!("finished: {}", r.unwrap()),
        recv(cancel_rx) -> _ => {
            slow.abort();
            println!("cancelled the slow call");
        }
    }
    rt.shutdown_background();
}
