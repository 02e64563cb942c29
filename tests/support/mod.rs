//! Helpers shared by integration tests: `mod support;` in a test file.
//!
//! Each test file is its own crate, so a helper shared between files lives
//! here, in a directory (not `tests/support.rs`), so that cargo does not
//! build it as a test of its own.

pub mod hostile_server;
