//! Compile-fail tests of goro's macros; the tests are in `tests/compile_fail.rs`, the cases in
//! `ui/`.
