//! A Redis client on the loop: just enough of Redis to be Celery's broker
//! and result backend.
//!
//! # Why
//!
//! Celery users already run Redis as their broker. To let tandem workers
//! and Python workers serve one queue, tandem must speak to Redis, and the
//! Rust clients that exist bring tokio with them. Redis's protocol (RESP2)
//! is small enough to write in the style of the HTTP client: a non-blocking
//! socket on the reactor, pure parsing functions over bytes, every size and
//! every wait bounded.
//!
//! # How
//!
//! ```text
//!  url.rs         redis://[user:password@]host[:port][/db]  ─► RedisUrl
//!  resp.rs        commands to bytes, bytes to Value          (pure)
//!  connection.rs  one socket: AUTH, SELECT, command, pipeline, pushes
//!  client.rs      idle connections, reconnect with backoff, GET/LPUSH/BRPOP...
//!  error.rs       Error, by kind
//! ```
//!
//! Only the commands tandem uses have a method on [`Client`]; any other is
//! one [`Client::command`] call away, with the same limits.
//!
//! ```no_run
//! use tandem::redis::{Client, RedisUrl, Settings};
//!
//! let client = Client::new(RedisUrl::parse("redis://127.0.0.1:6379")?, Settings::default());
//! tandem::block_on(async {
//!     client.lpush("tandem", b"hello").await?;
//!     let popped = client.brpop(&["tandem".into()], std::time::Duration::from_secs(1)).await?;
//!     assert_eq!(popped, Some(("tandem".into(), b"hello".to_vec())));
//!     Ok::<(), tandem::redis::Error>(())
//! })?;
//! # Ok::<(), tandem::redis::Error>(())
//! ```

mod client;
mod connection;
mod error;
pub mod resp;
mod url;

use std::time::Duration;

pub use client::Client;
pub use connection::{Connection, unexpected};
pub use error::Error;
pub use resp::{ReplyLimits, Value};
pub use url::RedisUrl;

/// Time and size limits of a [`Client`] and its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Resolving, connecting, AUTH and SELECT, together. Default 5 s.
    pub connect_timeout: Duration,
    /// Waiting for one reply (beyond a BRPOP's own wait). Default 10 s.
    pub read_timeout: Duration,
    /// How long [`Client`] keeps trying to reconnect. Default 30 s.
    pub reconnect_for: Duration,
    /// Sizes one reply may announce.
    pub limits: ReplyLimits,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            reconnect_for: Duration::from_secs(30),
            limits: ReplyLimits::default(),
        }
    }
}
