#[goro::main]
fn start() {}

fn main() {
    start();
}
