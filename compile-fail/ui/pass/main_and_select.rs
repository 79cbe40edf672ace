//! What must compile, and run: `#[goro::main]` on `fn main` (here returning a `Result`, with
//! `?` in the body), and `select!` in each of its forms, including `select! {}`.

use std::time::Duration;

use goro::chan;

/// Go's `select {}`: no case, so it never returns (not called here).
#[allow(dead_code)]
fn wait_forever() -> ! {
    goro::select! {}
}

#[goro::main]
fn main() -> Result<(), chan::RecvError> {
    assert!(goro::in_goroutine());
    let (tx, rx) = chan::bounded::<i32>(1);
    let nil: Option<&chan::Receiver<i32>> = None;
    goro::select! {
        send(tx, 1) -> r => r.unwrap(),
        recv(nil) -> _v => unreachable!("a nil channel is never ready"),
    }
    let got = goro::select! {
        recv(rx) -> v => v?,
        default(Duration::from_secs(60)) => unreachable!("the value was sent"),
    };
    assert_eq!(got, 1);
    goro::select! {
        recv(rx) -> _v => unreachable!("the channel is empty"),
        default => {}
    }
    Ok(())
}
