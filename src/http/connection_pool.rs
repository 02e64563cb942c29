//! Keep-alive: idle connections kept per host, for the next request.
//!
//! # Why
//!
//! Opening a TCP connection costs a round trip (and, for a remote host,
//! a slow-start ramp) before the first request byte is sent. HTTP/1.1 lets
//! a connection carry one request after another, so a client fetching many
//! URLs from one host should reuse its connections: a thousand sequential
//! GETs then open one connection, not a thousand.
//!
//! # How
//!
//! The pool is a list of idle connections, oldest first, each labelled
//! with its [`PoolKey`] (scheme, host, port). The client *takes* a
//! connection out for the length of one exchange, so an exchange never
//! shares its socket, and *puts* it back only when the exchange said it is
//! reusable. Taking picks the host's most recently used connection, the one
//! most likely to be still open, and closes those of the host's connections
//! it meets first that are older than [`MAX_IDLE_AGE`] or that the server
//! has closed meanwhile. When a host already has its maximum, its oldest
//! connection is closed.
//!
//! A list, not a map from host to connections: it holds a few connections
//! per host, scanning it costs nothing next to a network round trip, and a
//! `HashMap` would bring its hasher and its random keys into every binary
//! (about 5 KiB of `examples/tiny.rs`).
//!
//! The pool is behind a `Mutex` so that a `Client` can be shared between
//! threads; the lock is never held across an `.await`.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::connection::Connection;
use super::{Scheme, Url};

/// Idle connections older than this are closed rather than reused: servers
/// commonly close idle connections after 5 to 60 seconds.
pub const MAX_IDLE_AGE: Duration = Duration::from_secs(30);

/// Which connections can serve a URL: same scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PoolKey {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl PoolKey {
    /// The key of the connections that can serve `url`.
    pub(crate) fn of(url: &Url) -> PoolKey {
        PoolKey {
            scheme: url.scheme(),
            host: url.host().to_string(),
            port: url.port(),
        }
    }
}

/// Idle connections, oldest first.
pub(crate) struct ConnectionPool {
    idle: Mutex<Vec<IdleConnection>>,
    max_idle_per_host: usize,
}

struct IdleConnection {
    key: PoolKey,
    connection: Connection,
    since: Instant,
}

impl ConnectionPool {
    /// A pool that keeps at most `max_idle_per_host` connections per host
    /// (zero: keeps none).
    pub(crate) fn new(max_idle_per_host: usize) -> ConnectionPool {
        ConnectionPool {
            idle: Mutex::new(Vec::new()),
            max_idle_per_host,
        }
    }

    /// An idle connection for `key` that still looks open, if any.
    pub(crate) fn take(&self, key: &PoolKey) -> Option<Connection> {
        let mut idle = self.lock();
        // Newest first; stale ones on the way are dropped (closed).
        while let Some(newest) = idle.iter().rposition(|entry| entry.key == *key) {
            let entry = idle.remove(newest);
            if entry.since.elapsed() < MAX_IDLE_AGE && entry.connection.is_idle_and_open() {
                return Some(entry.connection);
            }
        }
        None
    }

    /// Keeps `connection` for the next request to `key`.
    pub(crate) fn put(&self, key: PoolKey, connection: Connection) {
        if self.max_idle_per_host == 0 {
            return;
        }
        let mut idle = self.lock();
        let kept = idle.iter().filter(|entry| entry.key == key).count();
        if kept >= self.max_idle_per_host {
            if let Some(oldest) = idle.iter().position(|entry| entry.key == key) {
                idle.remove(oldest);
            }
        }
        idle.push(IdleConnection {
            key,
            connection,
            since: Instant::now(),
        });
    }

    /// How many idle connections are kept, over all hosts.
    pub(crate) fn idle_count(&self) -> usize {
        self.lock().len()
    }

    /// The list; a panic elsewhere while it was locked leaves it consistent
    /// (every operation is a single push or remove), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Vec<IdleConnection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
