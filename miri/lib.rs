//! Nothing: the crate exists for its test, `tests/miri.rs` (see `Cargo.toml`).
