//! A tour of the article "Concurrency in Go", section by section, in goro.
//!
//! Each section is one of the examples in this directory, run in the article's order.

#[path = "buffered.rs"]
mod buffered;
#[path = "channels.rs"]
mod channels;
#[path = "closing.rs"]
mod closing;
#[path = "ctx_pool.rs"]
mod ctx_pool;
#[path = "ctx_timeout.rs"]
mod ctx_timeout;
#[path = "dynamic_pool.rs"]
mod dynamic_pool;
#[path = "errchan_pool.rs"]
mod errchan_pool;
#[path = "errgroup.rs"]
mod errgroup;
#[path = "fanout.rs"]
mod fanout;
#[path = "goroutines.rs"]
mod goroutines;
#[path = "parallelism.rs"]
mod parallelism;
#[path = "select.rs"]
mod select;
#[path = "timeout.rs"]
mod timeout;
#[path = "waitgroup.rs"]
mod waitgroup;
#[path = "workerpool.rs"]
mod workerpool;

fn section(title: &str) {
    println!();
    println!("== {title} ==");
}

#[goro::main]
fn main() {
    println!("goro: a tour of \"Concurrency in Go\"");

    section("Concurrency vs. Parallelism");
    parallelism::main();

    section("Goroutines");
    goroutines::main();

    section("Channels");
    channels::main();

    section("Buffered Channels");
    buffered::main();

    section("Closing Channels");
    closing::main();

    section("Select Statement");
    select::main();

    section("Fan-Out / Fan-In");
    fanout::main();

    section("Worker Pool");
    workerpool::main();

    section("Dynamic Pools");
    dynamic_pool::main();

    section("Error Handling: errChan");
    errchan_pool::main();

    section("Error Handling: errgroup");
    errgroup::main();

    section("Context-Aware Pools");
    ctx_pool::main();

    section("Timeout with select");
    timeout::main();

    section("Timeout with context");
    ctx_timeout::main();

    section("sync.WaitGroup");
    waitgroup::main();
}
