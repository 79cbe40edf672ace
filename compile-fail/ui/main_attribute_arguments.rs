#[goro::main(foo)]
fn main() {}
