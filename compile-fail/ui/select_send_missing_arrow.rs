fn main() {
    let (tx, _rx) = goro::chan::bounded::<i32>(1);
    goro::select! {
        send(tx, 1) => println!("sent"),
    }
}
