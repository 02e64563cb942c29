//! Beyond one machine: Celery's protocol over Redis, so that the CPU work
//! can be served by a fleet of `tandem worker`s, Python Celery workers, or
//! both, and `tandem --broker` can send it to them.
//!
//! # Why
//!
//! The Python article ends by saying that when one machine is not enough,
//! the CPU work moves to a task queue such as Celery. Its readers run
//! Celery on Redis. So the queue that replaces the pool's channel is not a
//! home-made one: it is Celery's, message for message, and Celery's own
//! tools (a Python `send_task`, `AsyncResult.get`, other workers) work with
//! it. The chapter `docs/11-beyond-one-machine.md` tells the story.
//!
//! # How
//!
//! ```text
//!  message.rs        the task message (protocol 2) in kombu's Redis lists
//!  result.rs         celery-task-meta-<id>: stored, published, read back
//!  task.rs           tandem.resize: arguments, work, answer
//!  unacked.rs        late acknowledgement and the visibility-timeout sweep
//!  worker.rs         tandem worker: consumers, sweeper, signals
//!  worker_io.rs      its settings and the events it reports
//!  expires.rs        a message taken past its `expires` is not run
//!  eta.rs            a message is held until its `eta` (countdown)
//!  iso8601.rs        the `expires` and `eta` headers' dates, read into Unix time
//!  control/          `celery inspect` and `control revoke` answered
//!  events.rs         Celery's events (`--events`), for Flower
//!  broker_client.rs  tandem --broker: send, await, fetch, save
//!  error.rs          RemoteError (a task failed), Error (the broker did)
//!  base64.rs, ids.rs the body's encoding; UUIDs and timestamps
//! ```

mod base64;
mod broker_client;
mod control;
mod date_header;
mod error;
mod eta;
mod events;
mod expires;
mod ids;
mod iso8601;
pub mod message;
pub mod result;
pub mod task;
pub mod unacked;
mod worker;
mod worker_io;

pub use broker_client::{
    BrokerConfig, run as run_through_broker, run_blocking as run_through_broker_blocking,
};
pub use error::{Error, RemoteError};
pub use ids::uuid4;
pub use worker::{serve, serve_blocking};
pub use worker_io::{Job, WorkerConfig, WorkerEvent, sweep_interval};

/// The queue tandem uses when none is named.
pub const DEFAULT_QUEUE: &str = "tandem";
