//! Reading requests off a connection: a bounded head, a discarded body,
//! the next request kept.
//!
//! # Why
//!
//! A server reads bytes that a stranger chose. Each limit here is there so
//! that no client can make the server use unbounded memory or wait on a
//! frame it can't parse: the request head is read into a buffer of at
//! most [`HEAD_LIMIT`] bytes (beyond that the answer is `431`), a request
//! body is skipped only if it declares its length and is at most
//! [`BODY_LIMIT`] bytes, and anything else that can't be framed is refused,
//! which closes the connection.
//!
//! # How
//!
//! ```text
//!   socket bytes ─► buffer ─► request line, headers, blank line   head: Request::parse
//!                             Content-Length bytes                 body, discarded
//!                             next request ...                     kept in the buffer
//! ```
//!
//! [`RequestReader`] owns the buffer for the life of a connection, because a
//! read may return the end of one request and the start of the next one
//! (pipelining): whatever follows a request stays buffered for the next
//! call. The end of the head and the head limit are found by the client's
//! rule (`head_end_within`), and the body length by its `Content-Length`
//! rule; a body framed by `Transfer-Encoding` gets `501`, since skipping it
//! would mean decoding it.

use std::io;

use futures_lite::{AsyncRead, AsyncReadExt};

use super::rejection::Rejection;
use super::request::Request;
use crate::http::body::content_length;
use crate::http::parse::head_end_within;

/// The largest request head accepted, terminating blank line included.
const HEAD_LIMIT: usize = 16 * 1024;

/// The largest request body the server reads (and throws away).
const BODY_LIMIT: u64 = 1024 * 1024;

/// Bytes asked of the socket per read.
const READ_SIZE: usize = 4 * 1024;

/// What came in on a connection.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A request, its body (if any) already discarded.
    Request(Request),
    /// The client closed the connection or it failed: nothing to answer.
    Closed,
    /// A request that cannot be served; answering it closes the connection,
    /// because where the next request starts is unknown.
    Rejected(Rejection),
}

/// Reads one request after another from a connection.
pub(crate) struct RequestReader<R> {
    source: R,
    /// Bytes read but not yet consumed: a partial head, or the start of the
    /// next request.
    buffer: Vec<u8>,
}

impl<R: AsyncRead + Unpin> RequestReader<R> {
    pub(crate) fn new(source: R) -> RequestReader<R> {
        RequestReader {
            source,
            buffer: Vec::with_capacity(READ_SIZE),
        }
    }

    /// Reads the next request head, parses it and discards its body.
    pub(crate) async fn next_request(&mut self) -> Incoming {
        let head_end = match self.read_head().await {
            Ok(Some(head_end)) => head_end,
            Ok(None) => return Incoming::Closed,
            Err(rejection) => return Incoming::Rejected(rejection),
        };
        let parsed = Request::parse(&self.buffer[..head_end]);
        self.buffer.drain(..head_end);
        let request = match parsed {
            Ok(request) => request,
            Err(rejection) => return Incoming::Rejected(rejection),
        };
        match body_len(&request) {
            Ok(0) => Incoming::Request(request),
            Ok(len) => match self.discard(len).await {
                Ok(()) => Incoming::Request(request),
                Err(_) => Incoming::Closed,
            },
            Err(rejection) => Incoming::Rejected(rejection),
        }
    }

    /// Reads until the buffer holds a whole head; returns the head's length.
    /// `Ok(None)` when the connection ends first.
    async fn read_head(&mut self) -> Result<Option<usize>, Rejection> {
        // Where the last search for the end of the head stopped, so that
        // each byte is searched about once.
        let mut searched: usize = 0;
        loop {
            // A client may send blank lines between requests: skip them.
            let blank = self
                .buffer
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            self.buffer.drain(..blank);
            searched = searched.saturating_sub(blank);
            if let Some(len) = head_end_within(&self.buffer, searched, HEAD_LIMIT)? {
                return Ok(Some(len));
            }
            searched = self.buffer.len();
            match self.fill().await {
                Ok(0) | Err(_) => return Ok(None),
                Ok(_) => {}
            }
        }
    }

    /// Consumes `len` body bytes, buffered first, then from the socket.
    async fn discard(&mut self, len: u64) -> io::Result<()> {
        let mut left = len;
        loop {
            let buffered = left.min(self.buffer.len() as u64);
            self.buffer.drain(..buffered as usize);
            left -= buffered;
            if left == 0 {
                return Ok(());
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Appends one read's worth of bytes to the buffer; 0 at end of stream.
    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0; READ_SIZE];
        let read = self.source.read(&mut chunk).await?;
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(read)
    }
}

/// The length of the body after `request`'s head: its `Content-Length`
/// (by the client's rule), else none. A body framed by `Transfer-Encoding`
/// cannot be skipped without decoding it, so it is refused.
fn body_len(request: &Request) -> Result<u64, Rejection> {
    let headers = request.headers();
    if headers.get("transfer-encoding").is_some() {
        return Err(Rejection::new(
            501,
            "request bodies with Transfer-Encoding are not supported",
        ));
    }
    match content_length(headers)?.unwrap_or(0) {
        len if len > BODY_LIMIT => Err(Rejection::new(
            413,
            format!("request bodies are limited to {BODY_LIMIT} bytes"),
        )),
        len => Ok(len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every request in `bytes`, read as from a connection, until it ends.
    fn read_all(bytes: &[u8]) -> Vec<Incoming> {
        let mut reader = RequestReader::new(futures_lite::io::Cursor::new(bytes.to_vec()));
        futures_lite::future::block_on(async {
            let mut incoming = Vec::new();
            loop {
                // Like the server: a rejection is the last answer.
                match reader.next_request().await {
                    Incoming::Closed => return incoming,
                    rejected @ Incoming::Rejected(_) => {
                        incoming.push(rejected);
                        return incoming;
                    }
                    request => incoming.push(request),
                }
            }
        })
    }

    fn path(incoming: &Incoming) -> &str {
        match incoming {
            Incoming::Request(request) => request.path(),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    fn status(bytes: &[u8]) -> u16 {
        match read_all(bytes).first() {
            Some(Incoming::Rejected(rejection)) => rejection.status,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn keeps_pipelined_requests_and_skips_bodies() {
        let bytes = b"GET /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\r\nGET /b HTTP/1.0\nConnection: Keep-Alive\n\n";
        let incoming = read_all(bytes);
        assert_eq!(incoming.len(), 2);
        assert_eq!(path(&incoming[0]), "/a");
        assert_eq!(path(&incoming[1]), "/b");
    }

    #[test]
    fn rejects_what_it_cannot_parse_or_frame() {
        assert_eq!(status(b"GET /\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            501
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"),
            413
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"),
            400
        );
        let conflicting = b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(status(conflicting), 400);
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(HEAD_LIMIT));
        assert_eq!(status(huge.as_bytes()), 431);
    }

    #[test]
    fn a_head_just_within_the_limit_is_read() {
        let head = |len| {
            let filler = len - "GET / HTTP/1.1\r\nX: \r\n\r\n".len();
            format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(filler))
        };
        assert_eq!(path(&read_all(head(HEAD_LIMIT).as_bytes())[0]), "/");
        assert_eq!(status(head(HEAD_LIMIT + 1).as_bytes()), 431);
    }

    #[test]
    fn a_truncated_head_is_a_closed_connection() {
        assert!(read_all(b"GET / HTTP/1.1\r\nHost:").is_empty());
        assert!(read_all(b"").is_empty());
        assert!(read_all(b"\r\n\r\n").is_empty());
    }
}
