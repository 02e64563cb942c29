//! The client the worker and the broker client share: a few idle
//! connections kept for reuse, a new one made (with backoff) when Redis
//! went away, and one method per command tandem needs.
//!
//! # Why
//!
//! Many futures on the loop talk to Redis at once: each of a worker's
//! consumers blocks in its own BRPOP while others store results. One
//! connection per command in flight, taken from a small idle list and put
//! back after a good reply, serves them without a lock: the loop is one
//! thread, so a `RefCell` around the list is enough (it is never borrowed
//! across an `await`).
//!
//! When Redis restarts, every connection fails at its next use. The failed
//! connection and the idle ones are dropped, and the command is sent once
//! more on a new connection; making that connection is retried with a growing pause
//! (50 ms, doubling, at most 2 s) for at most `reconnect_for`, then the
//! last error is returned. Sending a command twice is safe for every
//! command here except that a BRPOP whose reply was lost may lose its
//! message, exactly as with kombu: the visibility timeout does not cover a
//! message that was never recorded as unacknowledged.
//!
//! # How
//!
//! ```text
//!  command(args) ─► take idle or connect (backoff) ─► send, read reply
//!                      ▲                                   │ connection error
//!                      └──────── once more, new connection ┘
//!                   ok: connection back to the idle list
//! ```

use std::cell::RefCell;
use std::time::{Duration, Instant};

use super::resp::Value;
use super::{Connection, Error, RedisUrl, Settings};

/// Connections kept idle for reuse; more may be open while in use.
const MAX_IDLE: usize = 16;

/// A Redis client for one loop thread: a URL, settings, idle connections.
pub struct Client {
    url: RedisUrl,
    settings: Settings,
    idle: RefCell<Vec<Connection>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url)
            .field("settings", &self.settings)
            .field("idle", &self.idle.borrow().len())
            .finish()
    }
}

impl Client {
    /// A client for `url`; no connection is made until the first command.
    pub fn new(url: RedisUrl, settings: Settings) -> Client {
        Client {
            url,
            settings,
            idle: RefCell::new(Vec::new()),
        }
    }

    /// Where this client connects.
    pub fn url(&self) -> &RedisUrl {
        &self.url
    }

    /// Its settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Connects now (with backoff), to find out early whether Redis is
    /// there; the connection is kept for reuse.
    pub async fn ping(&self) -> Result<(), Error> {
        match self.command(&[b"PING"]).await? {
            Value::Simple(_) | Value::Bulk(_) => Ok(()),
            other => Err(super::connection::unexpected("PING", &other)),
        }
    }

    /// Sends a command; on a connection error, once more on a new
    /// connection.
    pub async fn command(&self, args: &[&[u8]]) -> Result<Value, Error> {
        self.command_blocking(args, Duration::ZERO).await
    }

    /// [`command`](Self::command) for a command that blocks in the server
    /// for up to `blocks_for`.
    pub async fn command_blocking(
        &self,
        args: &[&[u8]],
        blocks_for: Duration,
    ) -> Result<Value, Error> {
        self.with_one_retry(async |connection| connection.command_blocking(args, blocks_for).await)
            .await
    }

    /// Sends `commands` in one write and reads their replies, with the
    /// same retry as [`command`](Self::command).
    pub async fn pipeline(&self, commands: &[Vec<&[u8]>]) -> Result<Vec<Value>, Error> {
        self.with_one_retry(async |connection| connection.pipeline(commands).await)
            .await
    }

    /// Runs `exchange` on a connection; when the server went away (a
    /// transient error), the idle connections are as dead as this one:
    /// they are dropped and `exchange` runs once more on a new connection.
    async fn with_one_retry<T>(
        &self,
        mut exchange: impl AsyncFnMut(&mut Connection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut retried = false;
        loop {
            let mut connection = self.connection().await?;
            match exchange(&mut connection).await {
                Err(err) if err.is_transient() && !retried => {
                    self.idle.borrow_mut().clear();
                    retried = true;
                }
                Err(err) if err.is_connection() => return Err(err),
                result => {
                    self.put_back(connection);
                    return result;
                }
            }
        }
    }

    /// An idle connection, or a new one; a failed connect is retried with
    /// backoff for at most `settings.reconnect_for`.
    pub async fn connection(&self) -> Result<Connection, Error> {
        if let Some(connection) = self.idle.borrow_mut().pop() {
            return Ok(connection);
        }
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            match Connection::open(&self.url, &self.settings).await {
                Ok(connection) => return Ok(connection),
                Err(err) if !err.is_transient() => return Err(err),
                Err(err) => {
                    if started.elapsed() + pause > self.settings.reconnect_for {
                        return Err(err);
                    }
                    async_io::Timer::after(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// Keeps a connection that is in a clean state for the next command.
    pub fn put_back(&self, connection: Connection) {
        let mut idle = self.idle.borrow_mut();
        if idle.len() < MAX_IDLE && !connection.has_buffered_reply() {
            idle.push(connection);
        }
    }

    /// `GET key`: the value, or `None` if there is no such key.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        match self.command(&[b"GET", key.as_bytes()]).await? {
            Value::Nil => Ok(None),
            Value::Bulk(bytes) => Ok(Some(bytes)),
            other => Err(super::connection::unexpected("GET", &other)),
        }
    }

    /// `LPUSH list value`: what kombu's `_put` does to send a message.
    pub async fn lpush(&self, list: &str, value: &[u8]) -> Result<(), Error> {
        self.command(&[b"LPUSH", list.as_bytes(), value])
            .await
            .map(drop)
    }

    /// `BRPOP list... timeout`: the list a value came from and the value,
    /// or `None` when `wait` passed with every list empty. The lists are
    /// tried in the order given.
    pub async fn brpop(
        &self,
        lists: &[String],
        wait: Duration,
    ) -> Result<Option<(String, Vec<u8>)>, Error> {
        let seconds = format!("{}", wait.as_secs_f64());
        let mut args: Vec<&[u8]> = vec![b"BRPOP"];
        args.extend(lists.iter().map(|list| list.as_bytes()));
        args.push(seconds.as_bytes());
        match self.command_blocking(&args, wait).await? {
            Value::Nil => Ok(None),
            Value::Array(mut pair) if pair.len() == 2 => {
                let value = pair.pop().and_then(|v| v.bytes().map(<[u8]>::to_vec));
                let list = pair.pop().and_then(|v| v.bytes().map(<[u8]>::to_vec));
                match (list, value) {
                    (Some(list), Some(value)) => {
                        Ok(Some((String::from_utf8_lossy(&list).into_owned(), value)))
                    }
                    _ => Err(Error::UnexpectedReply {
                        command: "BRPOP",
                        reply: "a pair that is not two strings".into(),
                    }),
                }
            }
            other => Err(super::connection::unexpected("BRPOP", &other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_port_fails_after_the_bounded_backoff() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = RedisUrl::parse(&format!("redis://127.0.0.1:{port}")).unwrap();
        let settings = Settings {
            reconnect_for: Duration::from_millis(300),
            ..Settings::default()
        };
        let client = Client::new(url, settings);
        let error = crate::block_on(client.ping()).unwrap_err();
        assert!(matches!(error, Error::Connect { .. }), "{error}");
    }
}
