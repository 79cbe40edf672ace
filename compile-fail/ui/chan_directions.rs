// Go's test/chan/perm.go: a channel end is used in the wrong direction. In goro the two ends
// are separate types, so these are missing methods.
fn main() {
    let (tx, rx) = goro::chan::bounded::<i32>(1);
    rx.send(1).unwrap(); // Go: send to receive-only channel
    let _ = tx.recv(); // Go: receive from send-only channel
    rx.close(); // Go: close of receive-only channel
}
