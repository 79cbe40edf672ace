fn main() {
    let (_tx, rx) = goro::chan::bounded::<i32>(1);
    goro::select! {
        foo(rx) -> v => drop(v),
    }
}
