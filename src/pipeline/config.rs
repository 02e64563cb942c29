//! What a pipeline run needs to know: where to write, what to make, and how
//! much to do at once.
//!
//! Every knob of the Python article is here, with its default: the
//! `(128, 128)` of `resize`, the `max_workers` of the `ProcessPoolExecutor`,
//! and the `aiohttp` session. Three more are tandem's own: how many downloads
//! may be in flight ([`Config::concurrency`], adaptive unless fixed), how
//! many bytes may wait in memory ([`Config::max_buffered`]), and whether the stages
//! overlap ([`Mode::Pipeline`]) or run one after the other as in the
//! article ([`Mode::Batch`]).

use std::path::PathBuf;

use super::DEFAULT_MAX_BUFFERED;
use crate::http;
use crate::resize::Settings;

/// How the stages of a run are scheduled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Each image moves on as soon as its previous stage is done: it is
    /// resized while other images are still downloading. Memory is bounded
    /// by the concurrency and the pool's queue, not by the number of inputs.
    #[default]
    Pipeline,
    /// The article's schedule: every download, then every resize, then
    /// every save (the article saves inside its resize step; here saving is
    /// a third gathered step, off the loop like the pipeline's). Simpler to read, slower, and it holds every image in memory at
    /// once. Kept for teaching and comparison.
    Batch,
}

/// The settings of a run; start with [`Config::new`] and change fields.
///
/// ```
/// use tandem::pipeline::{Config, Mode};
///
/// let config = Config { concurrency: Some(4), mode: Mode::Batch, ..Config::new("resized") };
/// assert_eq!(config.out_dir, std::path::Path::new("resized"));
/// assert_eq!((config.resize.width, config.resize.height), (128, 128));
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Where `resized_<i>.png` files are written; created if missing.
    pub out_dir: PathBuf,
    /// Output size, fit, filter and decode limits.
    pub resize: Settings,
    /// CPU pool workers, for [`run_blocking`](super::run_blocking): the
    /// article's `max_workers`. [`run`](super::run) uses the pool it is given.
    pub workers: usize,
    /// Most downloads in flight at once, fixed (an `asyncio.Semaphore`
    /// around `session.get`; zero counts as one); `None`, the default,
    /// lets the window adapt to keep the pool busy (`window.rs`).
    pub concurrency: Option<usize>,
    /// The memory budget in bytes: bodies being downloaded (by their
    /// `Content-Length`) plus bodies waiting for or in a CPU job never add
    /// up to more (`budget.rs`); a single larger picture proceeds alone.
    /// [`Mode::Batch`] holds every body by design and ignores it.
    pub max_buffered: u64,
    /// Overlapped or one stage after the other.
    pub mode: Mode,
    /// The HTTP client: timeouts, size limits, keep-alive pool.
    pub client: http::Client,
}

impl Config {
    /// Writes into `out_dir`; 128 x 128 stretched (the article's
    /// `resize((128, 128))`), one worker per available core, an adaptive
    /// download window, a budget of [`DEFAULT_MAX_BUFFERED`] (64 MiB),
    /// [`Mode::Pipeline`], a default [`http::Client`].
    pub fn new(out_dir: impl Into<PathBuf>) -> Config {
        Config {
            out_dir: out_dir.into(),
            resize: Settings::new(128, 128),
            workers: crate::pool::default_workers(),
            concurrency: None,
            max_buffered: DEFAULT_MAX_BUFFERED,
            mode: Mode::default(),
            client: http::Client::new(),
        }
    }
}
