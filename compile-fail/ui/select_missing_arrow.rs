fn main() {
    let (_tx, rx) = goro::chan::bounded::<i32>(1);
    goro::select! {
        recv(rx) => println!("received"),
    }
}
