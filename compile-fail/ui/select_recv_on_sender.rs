fn main() {
    let (tx, _rx) = goro::chan::bounded::<i32>(1);
    goro::select! {
        recv(tx) -> v => drop(v),
    }
}
