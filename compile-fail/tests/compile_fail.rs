//! Misuse of `goro::select!` and `#[goro::main]` does not compile, and the error says what is
//! wrong. Each `ui/*.rs` must fail to compile with the compiler output in the `.stderr` file
//! beside it; each `ui/pass/*.rs` must compile and run. After a deliberate change to a
//! message, `TRYBUILD=overwrite cargo test --release -p goro-compile-fail` rewrites the
//! `.stderr` files: read them before committing, and update [`WRITTEN_BY`].

use std::process::Command;

/// The rustc (major, minor) that wrote the `.stderr` files. Compiler messages change between
/// releases: an older rustc (down to the crate's rust-version) skips the comparison, a newer
/// one runs it, so that a toolchain upgrade shows what changed.
const WRITTEN_BY: (u32, u32) = (1, 95);

/// The (major, minor) version of the `rustc` that cargo runs, if it can be read.
fn rustc_version() -> Option<(u32, u32)> {
    let out = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("--version")
        .output()
        .ok()?;
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let text = String::from_utf8(out.stdout).ok()?;
    let mut parts = text.split_whitespace().nth(1)?.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[test]
fn ui() {
    match rustc_version() {
        Some(v) if v < WRITTEN_BY => {
            eprintln!(
                "compile_fail: skipped: ui/*.stderr were written by rustc {}.{}, this is \
                 rustc {}.{}",
                WRITTEN_BY.0, WRITTEN_BY.1, v.0, v.1
            );
            return;
        }
        _ => {}
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    t.pass("ui/pass/*.rs");
}
