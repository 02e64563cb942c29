//! The parts of the `tandem` command that are not the library: reading the
//! command line, showing progress, and reporting the outcome.
//!
//! `src/main.rs` runs them in order: [`args`] turns the arguments into
//! options (each value checked by [`values`]), the library's pipeline does the work while [`progress`] draws
//! its events, then [`summary`] prints the outcome and [`timeline`] draws
//! it (`--timeline`).

pub mod args;
pub mod progress;
pub mod summary;
pub mod timeline;
pub mod values;
