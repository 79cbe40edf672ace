//! Go: `go sayHello()` — the article's first goroutine, joined instead of slept on.
//!
//! In Go, `main` sleeps for a second so that the goroutine gets to print before the program
//! exits. `goro::go` returns a handle, and joining it waits exactly as long as needed.

fn say_hello() {
    println!("Hello from goroutine!");
}

#[goro::main]
pub fn main() {
    let h = goro::go(say_hello); // runs concurrently
    h.join().expect("say_hello does not panic");
    println!("Main finished.");
}

// Output:
// Hello from goroutine!
// Main finished.
