fn main() {
    let (_tx, rx) = goro::chan::bounded::<i32>(1);
    goro::select! {
        send(rx, 1) -> r => drop(r),
    }
}
