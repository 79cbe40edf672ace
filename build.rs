//! Turns the sanitizer cargo builds with into a cfg of this crate's own.
//!
//! With `RUSTFLAGS="-Zsanitizer=thread"` (or `address`), cargo sets `CARGO_CFG_SANITIZE` for
//! build scripts; this emits `cfg(goro_tsan)` (or `cfg(goro_asan)`), under which goroutine
//! stack switches are announced to the sanitizer (`src/rt/goroutine/sanitizer.rs`). Stable
//! builds see neither cfg and compile exactly as without this script. (`cfg(sanitize = ..)`
//! itself would need the unstable `cfg_sanitize` feature.)

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(goro_tsan, goro_asan)");
    let sanitizers = std::env::var("CARGO_CFG_SANITIZE").unwrap_or_default();
    for s in sanitizers.split(',') {
        match s.trim() {
            "thread" => println!("cargo::rustc-cfg=goro_tsan"),
            "address" => println!("cargo::rustc-cfg=goro_asan"),
            _ => {}
        }
    }
}
