//! What goes into `tandem worker` and what comes out: its settings, the
//! events it reports, a job's outcome.
//!
//! # Why
//!
//! The command line (`src/cli/worker_args.rs`, `worker_lines.rs`) builds the
//! settings and prints the events; the worker (`worker.rs`) only reads the
//! one and emits the other. Keeping them here keeps `worker.rs` about what
//! a worker does.

use std::time::Duration;

use super::task::Answer;
use super::{RemoteError, result, unacked};
use crate::redis::{self, RedisUrl};
use crate::{http, resize};

/// The settings of `tandem worker`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Where Redis is.
    pub broker: RedisUrl,
    /// Its timeouts and limits.
    pub redis: redis::Settings,
    /// The queue served.
    pub queue: String,
    /// CPU pool threads.
    pub workers: usize,
    /// Jobs in flight at once.
    pub concurrency: usize,
    /// How long a taken message may stay unacknowledged before any worker
    /// puts it back (kombu's `visibility_timeout`).
    pub visibility_timeout: Duration,
    /// How often this worker sweeps.
    pub sweep_every: Duration,
    /// How long results and PNGs are kept (Celery's `result_expires`).
    pub result_expires: Duration,
    /// Resize limits (the size comes with each task).
    pub resize: resize::Settings,
    /// The HTTP client for downloads.
    pub http: http::Client,
    /// Send Celery's events (`--events`, Celery's `-E`) for Flower.
    pub events: bool,
}

impl WorkerConfig {
    /// Serves `queue` at `broker`: one CPU thread per core, 8 jobs in
    /// flight, kombu's visibility timeout (1 hour), Celery's result expiry
    /// (1 day).
    pub fn new(broker: RedisUrl, queue: &str) -> WorkerConfig {
        WorkerConfig {
            broker,
            redis: redis::Settings::default(),
            queue: queue.to_string(),
            workers: crate::pool::default_workers(),
            concurrency: 8,
            visibility_timeout: unacked::DEFAULT_VISIBILITY_TIMEOUT,
            sweep_every: sweep_interval(unacked::DEFAULT_VISIBILITY_TIMEOUT),
            result_expires: result::DEFAULT_EXPIRES,
            resize: resize::Settings::new(128, 128),
            http: http::Client::new(),
            events: false,
        }
    }
}

/// A quarter of the visibility timeout, between 100 ms and 10 s: late
/// messages come back at most a quarter late, and an idle fleet sweeps
/// rarely.
pub fn sweep_interval(visibility: Duration) -> Duration {
    (visibility / 4).clamp(Duration::from_millis(100), Duration::from_secs(10))
}

/// What a worker reports while it runs.
#[derive(Debug)]
pub enum WorkerEvent {
    /// Connected; serving `queue`.
    Ready,
    /// A job ended (and was acknowledged).
    Done(Job),
    /// A message that is not even an envelope was dropped.
    Dropped(RemoteError),
    /// Redis failed; the worker keeps trying.
    Broker(redis::Error),
    /// The sweep put `n` messages back on their lists.
    Restored(usize),
    /// A signal came: no more messages are taken.
    Stopping,
    /// A message is held until its eta (`eta.rs`).
    Scheduled {
        /// The task id, if the message had one.
        task_id: Option<String>,
        /// The eta as sent.
        eta: String,
    },
    /// A held message was put back on its queue before its eta: the worker
    /// stops, or it was held as long as the visibility timeout allows.
    GivenBack(Option<String>),
}

/// One job's outcome.
#[derive(Debug)]
pub struct Job {
    /// The task id, if the message had one.
    pub task_id: Option<String>,
    /// The URL, if the call was a valid `tandem.resize`.
    pub url: Option<String>,
    /// The answer, or the error also stored as its FAILURE (REVOKED if
    /// revoked or expired).
    pub result: Result<Answer, RemoteError>,
    /// From taking the message to acknowledging it.
    pub elapsed: Duration,
    /// Whether the message had been taken before (restored by a sweep).
    pub redelivered: bool,
}
