//! The parts of the `tandem` command that are not the library: reading the
//! command line, showing progress, and reporting the outcome.
//!
//! `src/main.rs` runs them in order: [`args`] turns the arguments into
//! options (walked by [`command_line`], each value checked by [`values`],
//! within [`limits`]; the help text is [`usage`]), [`cacert`]
//! reads the roots of `--cacert`, [`out_dir`] checks that the output can
//! be written, the library's pipeline does the
//! work while [`progress`] draws its events, then [`summary`] prints the
//! outcome and [`timeline`] draws it (`--timeline`). `tandem worker` and
//! `--broker` are read by [`worker_args`] (through the same walker) and a
//! worker's lines written by [`worker_lines`].

pub mod args;
pub mod cacert;
pub mod command_line;
pub mod limits;
pub mod out_dir;
pub mod progress;
pub mod summary;
pub mod timeline;
pub mod usage;
pub mod values;
#[cfg(feature = "celery")]
pub mod worker_args;
#[cfg(feature = "celery")]
pub mod worker_lines;
