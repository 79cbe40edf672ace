//! A tour of the article "Concurrency in Go", section by section, in goro.
//!
//! Each section is one of the examples in this directory, run in the article's order.

#[allow(dead_code)]
#[path = "goroutines.rs"]
mod goroutines;
#[allow(dead_code)]
#[path = "waitgroup.rs"]
mod waitgroup;

fn section(title: &str) {
    println!();
    println!("== {title} ==");
}

#[goro::main]
fn main() {
    println!("goro: a tour of \"Concurrency in Go\"");

    section("Goroutines");
    goroutines::main();

    section("sync.WaitGroup");
    waitgroup::main();
}
