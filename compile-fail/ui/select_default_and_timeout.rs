fn main() {
    let (_tx, rx) = goro::chan::bounded::<i32>(1);
    goro::select! {
        recv(rx) -> v => drop(v),
        default => println!("nothing ready"),
        default(std::time::Duration::from_millis(10)) => println!("timed out"),
    }
}
