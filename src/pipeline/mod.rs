//! The main job: download images and resize them, I/O and CPU overlapped.
//!
//! # Why
//!
//! The article's third program does its work in three gathered steps:
//! download everything, then resize everything on the process pool, then
//! (inside each job) save. Each step waits for the slowest member of the one
//! before, so the network and the cores take turns instead of working
//! together, and every downloaded image is in memory at the same time:
//!
//! ```text
//!  Batch (the article)           time ──►
//!  loop     │ dl0 dl1 dl2 dl3 ... dlN │                          │
//!  worker 0 │            idle         │ cpu0 cpu2 ... │          │
//!  worker 1 │            idle         │ cpu1 cpu3 ... │          │
//!  saves    │                                         │ s0 ... sN│
//!
//!  Pipeline (tandem's default)
//!  loop     │ dl0 dl1 dl2 dl3 dl4 dl5 ... dlN │
//!  worker 0 │     cpu0    cpu2    cpu4 ...        cpuN │
//!  worker 1 │         cpu1    cpu3    cpu5 ...         │
//!  saves    │          s0  s1  s2  s3  s4 ...         sN│
//! ```
//!
//! In a pipeline each image goes to the pool the moment its bytes arrive and
//! to the disk the moment it is resized, so the run takes about as long as
//! the slower of "all the downloads" and "all the CPU work", not their sum.
//! And since a download waits for room in the pool's queue before the next
//! one starts, and bodies are counted against a memory budget, memory
//! stays bounded however many URLs there are.
//!
//! # How
//!
//! [`run`] takes the URLs, a [`Config`] and a [`CpuPool`](crate::CpuPool);
//! [`run_blocking`] brings its own pool and loop. Each input ends as one
//! [`Item`] of the [`Report`], in input order, with its [`Stages`] timed on
//! one clock:
//!
//! * `config.rs`: what to make, where, and how much at once ([`Config`],
//!   [`Mode`]).
//! * `schedule.rs`: when each stage of each input runs ([`run`],
//!   [`run_blocking`]): a download slot, then the stages, every input
//!   joined on the loop.
//! * `window.rs`: how many downloads are in flight, adapting to the
//!   pool's queue unless fixed ([`WINDOW_START`], [`WINDOW_MAX`]).
//! * `budget.rs`: how many bytes of bodies may be in flight or waiting for
//!   a worker ([`DEFAULT_MAX_BUFFERED`]).
//! * `work.rs`: what each stage does:
//!   [`http::Client`](crate::http::Client) on the loop,
//!   [`resize::process`](crate::resize::process) on the pool, the save on
//!   [`unblock`](crate::unblock).
//! * `atomic_write.rs`: [`write_atomically`], so that no reader sees half
//!   a file.
//! * `report.rs`: progress as [`Event`]s, then the outcome: per-item
//!   results and spans, and the totals (I/O time, CPU time, how much they
//!   overlapped).
//!
//! ```
//! use tandem::pipeline::{run_blocking, Config};
//!
//! let server = tandem::demo::Server::start()?;
//! let out = std::env::temp_dir().join(format!("tandem-doc-pipeline-{}", std::process::id()));
//! let report = run_blocking(server.image_urls(3), &Config::new(&out), |_event| {})?;
//! for item in &report.items {
//!     let saved = item.result.as_ref().unwrap();
//!     assert_eq!(saved.output_size, (128, 128));
//! }
//! std::fs::remove_dir_all(&out)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod atomic_write;
mod budget;
mod config;
mod report;
mod schedule;
mod window;
mod work;

pub use atomic_write::write_atomically;
pub use budget::DEFAULT_MAX_BUFFERED;
pub use config::{Config, Mode};
pub use report::{CpuSpan, Event, Flow, Item, ItemError, Report, Saved, Span, Stages, WindowPoint};
pub use schedule::{run, run_blocking};
pub use window::{MAX as WINDOW_MAX, START as WINDOW_START};
#[cfg(feature = "celery")]
pub(crate) use work::Work;
