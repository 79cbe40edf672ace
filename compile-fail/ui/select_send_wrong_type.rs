fn main() {
    let (tx, _rx) = goro::chan::bounded::<i32>(1);
    goro::select! {
        send(tx, "one") -> r => drop(r),
    }
}
