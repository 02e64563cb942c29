//! Everything that can go wrong talking to Redis, as one enum.
//!
//! The worker and the broker client react by kind: a connection that
//! failed ([`Error::is_connection`]) is dropped and a new one made, with
//! backoff; a server error (`-ERR`) or a reply of the wrong shape is a bug
//! or a misconfiguration, reported as it is.

use std::fmt;
use std::io;
use std::time::Duration;

/// Why a Redis command failed.
#[derive(Debug)]
pub enum Error {
    /// The `redis://` URL could not be understood.
    InvalidUrl {
        /// The URL, with any password hidden.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No connection could be made to `addr` (`host:port`).
    Connect {
        /// `host:port`.
        addr: String,
        /// The operating system's (or resolver's) error.
        source: io::Error,
    },
    /// A time limit ran out.
    Timeout {
        /// What was being waited for.
        waiting_for: &'static str,
        /// The limit.
        after: Duration,
    },
    /// The connection failed after it was made (reset, closed early).
    Io(io::Error),
    /// The server's bytes are not RESP: probably not a Redis server.
    Protocol(String),
    /// A reply announced more than the client's limits allow.
    ReplyTooLarge {
        /// Which part: "bulk string", "array", "reply line", "array nesting".
        what: &'static str,
        /// The limit (bytes, elements or levels).
        limit: usize,
    },
    /// The server refused a command (`-ERR ...`, `-NOAUTH ...`).
    Server(String),
    /// A reply of a shape the command cannot produce.
    UnexpectedReply {
        /// The command.
        command: &'static str,
        /// The reply, abbreviated.
        reply: String,
    },
}

impl Error {
    /// Whether the connection is unusable after this error, so that the
    /// next command should make a new one.
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. }
                | Error::Timeout { .. }
                | Error::Io(_)
                | Error::Protocol(_)
                | Error::ReplyTooLarge { .. }
        )
    }
}

impl Error {
    /// Whether trying again on a new connection may succeed: the server
    /// went away (a restart) or is not accepting yet. A timeout, a reply
    /// that is not RESP or too large would only happen again.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Connect { .. } | Error::Io(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { url, reason } => write!(f, "invalid Redis URL '{url}': {reason}"),
            Error::Connect { addr, source } => {
                write!(f, "cannot connect to Redis at {addr}: {source}")
            }
            Error::Timeout { waiting_for, after } => {
                write!(f, "no {waiting_for} from Redis within {after:?}")
            }
            Error::Io(err) => write!(f, "Redis connection failed: {err}"),
            Error::Protocol(reason) => write!(f, "not a Redis reply: {reason}"),
            Error::ReplyTooLarge { what, limit } => {
                write!(f, "Redis reply too large: {what} over the limit of {limit}")
            }
            Error::Server(message) => write!(f, "Redis refused: {message}"),
            Error::UnexpectedReply { command, reply } => {
                write!(f, "unexpected reply to {command}: {reply}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source, .. } => Some(source),
            Error::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Error {
        Error::Io(err)
    }
}
