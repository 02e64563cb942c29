//! One connection to Redis: connect, authenticate, then commands and their
//! replies, each bounded in time and size.
//!
//! # Why
//!
//! Like `http/connection.rs`, this is where bytes meet the reactor: an
//! `Async<TcpStream>` whose reads park the task, not the thread, so one
//! loop thread serves many connections. Everything about *which* commands
//! to send lives above, in `client.rs`; everything about the bytes' shape
//! lives below, in `resp.rs`.
//!
//! # How
//!
//! ```text
//!  open:      resolve, connect ─► AUTH (if a password) ─► SELECT (if db ≠ 0)
//!             all within `connect_timeout`
//!  command:   write RESP ─► read until resp::parse has one reply
//!             within `read_timeout` (plus the block time of a BRPOP)
//!  pipeline:  write n commands at once ─► read n replies
//!  subscribe: write SUBSCRIBE; then `next_reply` reads what is pushed
//! ```
//!
//! The read buffer grows only until one reply is complete; a reply that
//! announces more than the [`ReplyLimits`] is refused before it is stored.

use std::net::TcpStream;
use std::time::Duration;

use async_io::Async;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use super::resp::{self, ReplyLimits, Value};
use super::{Error, RedisUrl, Settings};

/// How many bytes one socket read asks for.
const READ_CHUNK: usize = 16 * 1024;

/// A connected, authenticated socket and the bytes read but not yet parsed.
pub struct Connection {
    stream: Async<TcpStream>,
    buffer: Vec<u8>,
    limits: ReplyLimits,
    read_timeout: Duration,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.stream.get_ref().peer_addr().ok())
            .field("buffered", &self.buffer.len())
            .finish()
    }
}

impl Connection {
    /// Connects to `url`, sends `AUTH` and `SELECT` as it says, all within
    /// `settings.connect_timeout`.
    pub async fn open(url: &RedisUrl, settings: &Settings) -> Result<Connection, Error> {
        let limit = settings.connect_timeout;
        let opened = crate::timeout(limit, Connection::handshake(url, settings)).await;
        opened.unwrap_or(Err(Error::Timeout {
            waiting_for: "connection",
            after: limit,
        }))
    }

    async fn handshake(url: &RedisUrl, settings: &Settings) -> Result<Connection, Error> {
        let addr = format!("{}:{}", url.host, url.port);
        let connect_error = |source| Error::Connect {
            addr: addr.clone(),
            source,
        };
        let addrs = crate::net::resolve(&url.host, url.port)
            .await
            .map_err(connect_error)?;
        let stream = crate::net::connect_any(&addrs)
            .await
            .map_err(|(_, source)| connect_error(source))?;
        let mut connection = Connection {
            stream,
            buffer: Vec::new(),
            limits: settings.limits,
            read_timeout: settings.read_timeout,
        };
        if let Some(password) = &url.password {
            match &url.user {
                Some(user) => {
                    connection
                        .ok(&[b"AUTH", user.as_bytes(), password.as_bytes()])
                        .await?
                }
                None => connection.ok(&[b"AUTH", password.as_bytes()]).await?,
            }
        }
        if url.db != 0 {
            connection
                .ok(&[b"SELECT", url.db.to_string().as_bytes()])
                .await?;
        }
        Ok(connection)
    }

    /// Sends one command and reads its reply. A `-ERR` reply is
    /// [`Error::Server`].
    pub async fn command(&mut self, args: &[&[u8]]) -> Result<Value, Error> {
        self.command_blocking(args, Duration::ZERO).await
    }

    /// [`command`](Self::command) for a command that may block in the
    /// server for up to `blocks_for` (BRPOP): the read may take that much
    /// longer.
    pub async fn command_blocking(
        &mut self,
        args: &[&[u8]],
        blocks_for: Duration,
    ) -> Result<Value, Error> {
        self.send(args).await?;
        match self.next_reply(self.read_timeout + blocks_for).await? {
            Value::Error(message) => Err(Error::Server(message)),
            value => Ok(value),
        }
    }

    /// Sends every command in one write, then reads one reply per command.
    /// Server errors stay in the list as [`Value::Error`] (as in a MULTI
    /// block, where an error in one does not stop the others).
    pub async fn pipeline(&mut self, commands: &[Vec<&[u8]>]) -> Result<Vec<Value>, Error> {
        let bytes: Vec<u8> = commands
            .iter()
            .flat_map(|args| resp::encode(args))
            .collect();
        self.write(&bytes).await?;
        let mut replies = Vec::with_capacity(commands.len());
        for _ in commands {
            replies.push(self.next_reply(self.read_timeout).await?);
        }
        Ok(replies)
    }

    /// Sends a command without reading a reply (SUBSCRIBE: its replies come
    /// through [`next_reply`](Self::next_reply)).
    pub async fn send(&mut self, args: &[&[u8]]) -> Result<(), Error> {
        self.write(&resp::encode(args)).await
    }

    /// The next reply, or [`Error::Timeout`] after `limit`.
    pub async fn next_reply(&mut self, limit: Duration) -> Result<Value, Error> {
        let read = crate::timeout(limit, self.read_reply()).await;
        read.unwrap_or(Err(Error::Timeout {
            waiting_for: "reply",
            after: limit,
        }))
    }

    /// Whether a complete reply is already buffered (so `next_reply` will
    /// not wait).
    pub fn has_buffered_reply(&self) -> bool {
        matches!(resp::parse(&self.buffer, &self.limits), Ok(Some(_)))
    }

    async fn read_reply(&mut self) -> Result<Value, Error> {
        loop {
            if let Some((value, used)) = resp::parse(&self.buffer, &self.limits)? {
                self.buffer.drain(..used);
                return Ok(value);
            }
            let start = self.buffer.len();
            self.buffer.resize(start + READ_CHUNK, 0);
            let read = self.stream.read(&mut self.buffer[start..]).await;
            let count = *read.as_ref().unwrap_or(&0);
            self.buffer.truncate(start + count);
            if read? == 0 {
                return Err(Error::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "Redis closed the connection",
                )));
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let limit = self.read_timeout;
        let written = crate::timeout(limit, self.stream.write_all(bytes)).await;
        match written {
            Ok(result) => Ok(result?),
            Err(_) => Err(Error::Timeout {
                waiting_for: "room to write",
                after: limit,
            }),
        }
    }

    /// A command whose reply must be `+OK`.
    async fn ok(&mut self, args: &[&[u8]]) -> Result<(), Error> {
        match self.command(args).await? {
            Value::Simple(_) => Ok(()),
            other => Err(unexpected("AUTH/SELECT", &other)),
        }
    }
}

/// [`Error::UnexpectedReply`] for `command`, the reply abbreviated.
pub fn unexpected(command: &'static str, reply: &Value) -> Error {
    let mut text = format!("{reply:?}");
    if text.len() > 120 {
        let mut end = 117;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    Error::UnexpectedReply {
        command,
        reply: text,
    }
}
