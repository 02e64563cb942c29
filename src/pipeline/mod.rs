//! The main job: download images and resize them, I/O and CPU overlapped.
//!
//! (Being written: `config.rs` and `run.rs` follow; `report.rs` is the
//! contract between the pipeline and the command line.)

mod report;

pub use report::{CpuSpan, Item, ItemError, Report, Saved, Span, Stages};
