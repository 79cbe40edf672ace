fn main() {
    let (_tx, rx) = goro::chan::bounded::<i32>(1);
    goro::select! {
        recv(rx) -> v => drop(v),
        default => println!("nothing ready"),
        default => println!("nothing ready either"),
    }
}
