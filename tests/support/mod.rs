//! Helpers shared by integration tests: `mod support;` in a test file.
//!
//! Each test file is its own crate, so a helper shared between files lives
//! here, in a directory (not `tests/support.rs`), so that cargo does not
//! build it as a test of its own. A test file uses some helpers, not all:
//! the others would be dead code in that crate, hence the `allow`.
#![allow(dead_code)]

pub mod accept_loop;
#[cfg(feature = "celery")]
pub mod broker;
pub mod child;
pub mod chunked_split;
pub mod cli_run;
pub mod hostile_server;
pub mod images;
pub mod json;
pub mod poll;
pub mod redis_server;
pub mod rng;
#[cfg(feature = "tls")]
pub mod tls_server;
pub mod workers;
