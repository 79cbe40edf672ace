use std::time::{Duration, Instant};
fn skynet(num: u64, size: u64) -> u64 {
    if size == 1 { return num; }
    let hs: Vec<_> = (0..10).map(|i| { let s = size / 10; goro::go(move || skynet(num + i * s, s)) }).collect();
    hs.into_iter().map(|h| h.join().unwrap()).sum()
}
#[goro::main]
fn main() {
    let t = Instant::now();
    let hs: Vec<_> = (0..1_000_000u64).map(|i| goro::go(move || i)).collect();
    let s: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    println!("spawn 1M: {:?} sum {}", t.elapsed(), s);
    let t = Instant::now();
    println!("skynet {} in {:?}", skynet(0, 1_000_000), t.elapsed());
    let t = Instant::now();
    let wg = goro::sync::WaitGroup::new();
    for _ in 0..100_000 { wg.go(|| goro::sleep(Duration::from_millis(10))); }
    wg.wait();
    println!("100k sleeps {:?}", t.elapsed());
    println!("num_goroutine {}", goro::num_goroutine());
}
