//! Go: `go sayHello()` — the article's first goroutine, and its warning: `main` does not
//! wait for goroutines.
//!
//! In Go, `main` sleeps for a second so that the goroutine gets to print before the program
//! exits. `goro::go` returns a handle, and joining it waits exactly as long as needed. A
//! goroutine nobody waits for is on its own: when `main` returns the program ends, as in
//! Go, whatever it was doing.

use std::time::Duration;

fn say_hello() {
    println!("Hello from goroutine!");
}

#[goro::main]
pub fn main() {
    let h = goro::go(say_hello); // runs concurrently
    h.join().expect("say_hello does not panic");

    // Started and not waited for (`go slowJob()` with no `time.Sleep` after it): `main`
    // returns long before the job is done, and the program ends without its line.
    goro::go(|| {
        goro::sleep(Duration::from_secs(60));
        println!("Slow job finished."); // never printed
    });
    println!("Main finished.");
}

// Output:
// Hello from goroutine!
// Main finished.
