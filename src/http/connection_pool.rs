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
//! But an idle connection holds a socket on both ends, and a crawl over
//! many hosts would otherwise keep one open per host it ever visited. So
//! the pool is bounded three ways: per host, over all hosts, and in age.
//!
//! # How
//!
//! The pool is one list of idle connections, oldest first, each labelled
//! with its [`PoolKey`] (scheme, host, port). The client *takes* a
//! connection out for the length of one exchange, so an exchange never
//! shares its socket, and *puts* it back only when the exchange said it is
//! reusable.
//!
//! * Taking picks the host's most recently used connection, the one most
//!   likely to be still open, and drops those the server has closed or
//!   written to meanwhile (`Connection::is_idle_and_open`).
//! * Every touch of the pool (take, put, count) first sweeps out the
//!   connections idle for longer than the maximum age ([`MAX_IDLE_AGE`] by
//!   default): no thread or timer per connection, and a pool nobody
//!   touches holds at most what it held when last touched.
//! * Putting beyond a host's limit closes that host's oldest connection;
//!   beyond the limit over all hosts, the oldest connection of any host.
//!
//! The pool is behind a `Mutex` so that a `Client` can be shared between
//! threads; the lock is never held across an `.await`. The limits are
//! small (128 by default), so the sweep and the searches are plain scans;
//! and since the list is oldest first, the oldest of all is its head. A
//! list rather than a map from host to connections: simpler, and a
//! `HashMap` would bring its hasher and random keys into every binary
//! (about 5 KiB of `examples/tiny.rs`, docs/tiny-binaries.md).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::connection::Connection;
use super::{Scheme, Url};

/// Idle connections older than this are closed rather than reused, by
/// default: servers commonly close idle connections after 5 to 60 seconds.
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

/// How many idle connections a pool keeps, and for how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolLimits {
    /// Per host (scheme, host and port); zero keeps none.
    pub(crate) per_host: usize,
    /// Over all hosts; zero keeps none.
    pub(crate) total: usize,
    /// The longest a connection stays idle.
    pub(crate) max_age: Duration,
}

/// Idle connections, oldest first.
pub(crate) struct ConnectionPool {
    idle: Mutex<Vec<IdleConnection>>,
    limits: PoolLimits,
}

struct IdleConnection {
    key: PoolKey,
    connection: Connection,
    since: Instant,
}

impl ConnectionPool {
    /// A pool within `limits`.
    pub(crate) fn new(limits: PoolLimits) -> ConnectionPool {
        ConnectionPool {
            idle: Mutex::new(Vec::new()),
            limits,
        }
    }

    /// An idle connection for `key` that still looks open, if any.
    pub(crate) fn take(&self, key: &PoolKey) -> Option<Connection> {
        let mut idle = self.swept();
        // Newest first; closed ones on the way are dropped.
        while let Some(newest) = idle.iter().rposition(|entry| entry.key == *key) {
            let entry = idle.remove(newest);
            if entry.connection.is_idle_and_open() {
                return Some(entry.connection);
            }
        }
        None
    }

    /// Keeps `connection` for the next request to `key`, closing the
    /// oldest ones beyond the limits.
    pub(crate) fn put(&self, key: PoolKey, connection: Connection) {
        if self.limits.per_host == 0 || self.limits.total == 0 {
            return;
        }
        let mut idle = self.swept();
        let kept = idle.iter().filter(|entry| entry.key == key).count();
        if kept >= self.limits.per_host {
            // The host's oldest: the first of its connections in the list.
            if let Some(oldest) = idle.iter().position(|entry| entry.key == key) {
                idle.remove(oldest);
            }
        }
        idle.push(IdleConnection {
            key,
            connection,
            since: Instant::now(),
        });
        if idle.len() > self.limits.total {
            // The oldest of any host: the list's head.
            idle.remove(0);
        }
    }

    /// How many idle connections are kept, over all hosts (after sweeping
    /// out those past their age).
    pub(crate) fn idle_count(&self) -> usize {
        self.swept().len()
    }

    /// The list, without the connections idle for longer than the maximum
    /// age. A panic elsewhere while it was locked leaves it consistent
    /// (every change is a single push or removal), so poisoning is ignored.
    fn swept(&self) -> MutexGuard<'_, Vec<IdleConnection>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let max_age = self.limits.max_age;
        idle.retain(|entry| entry.since.elapsed() < max_age);
        idle
    }
}
