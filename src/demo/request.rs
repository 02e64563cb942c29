//! Reading a request: a bounded head, a minimal parse, a discarded body.
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
//!   socket bytes ─► buffer ─► "METHOD /path?query HTTP/1.1\r\n"   request line
//!                             "Name: value\r\n" ...                 headers
//!                             "\r\n"                                end of head
//!                             Content-Length bytes                  body, discarded
//!                             next request ...                      kept in the buffer
//! ```
//!
//! [`RequestReader`] owns the buffer for the life of a connection, because a
//! read may return the end of one request and the start of the next one
//! (pipelining): whatever follows a request stays buffered for the next
//! call. Header names are compared without regard to case, as HTTP wants.

use std::io;

use futures_lite::{AsyncRead, AsyncReadExt};

use super::response::Rejection;

/// The largest request head accepted, terminating blank line included.
const HEAD_LIMIT: usize = 16 * 1024;

/// The largest request body the server reads (and throws away).
const BODY_LIMIT: u64 = 1024 * 1024;

/// Bytes asked of the socket per read.
const READ_SIZE: usize = 4 * 1024;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    method: String,
    /// The request target as sent: path and query.
    target: String,
    http11: bool,
    /// Names as sent (case kept, for `/get` to echo); values trimmed.
    headers: Vec<(String, String)>,
}

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
        let parsed = parse_head(&self.buffer[..head_end]);
        self.buffer.drain(..head_end);
        let request = match parsed {
            Ok(request) => request,
            Err(rejection) => return Incoming::Rejected(rejection),
        };
        match request.body_len() {
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
        loop {
            // A client may send blank lines between requests: skip them.
            let blank = self
                .buffer
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            self.buffer.drain(..blank);
            match head_len(&self.buffer) {
                Some(len) if len <= HEAD_LIMIT => return Ok(Some(len)),
                Some(_) => return Err(head_too_large()),
                None if self.buffer.len() >= HEAD_LIMIT => return Err(head_too_large()),
                None => {}
            }
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

impl Request {
    /// The method, as sent (`GET`, `HEAD`, ...).
    pub(crate) fn method(&self) -> &str {
        &self.method
    }

    /// The request target as sent: path and query.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// The path: the target without its query.
    pub(crate) fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(&self.target, |(path, _)| path)
    }

    /// The query's `name=value` pairs, in order, undecoded. A pair without
    /// `=` has an empty value.
    pub(crate) fn query_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        let query = self.target.split_once('?').map_or("", |(_, query)| query);
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
    }

    /// The value of the first query parameter called `name`.
    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query_pairs()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    /// Every header, in the order sent.
    pub(crate) fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The values of the headers called `name`, case-insensitively.
    pub(crate) fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether the request is HTTP/1.1 (else HTTP/1.0).
    pub(crate) fn http11(&self) -> bool {
        self.http11
    }

    /// Whether the client lets the connection carry another request:
    /// HTTP/1.1 unless it says `Connection: close`, HTTP/1.0 only if it says
    /// `Connection: keep-alive`.
    pub(crate) fn keep_alive(&self) -> bool {
        let has_token = |wanted: &str| {
            self.header_values("connection")
                .flat_map(|value| value.split(','))
                .any(|token| token.trim().eq_ignore_ascii_case(wanted))
        };
        if has_token("close") {
            false
        } else {
            self.http11 || has_token("keep-alive")
        }
    }

    /// The length of the request body. A body framed by `Transfer-Encoding`
    /// cannot be skipped without decoding it, so it is refused.
    fn body_len(&self) -> Result<u64, Rejection> {
        if self.header_values("transfer-encoding").next().is_some() {
            return Err(Rejection::new(
                501,
                "request bodies with Transfer-Encoding are not supported",
            ));
        }
        let mut len = None;
        for value in self.header_values("content-length") {
            // Digits only: `u64::parse` would also take a leading `+`.
            let parsed: u64 = Some(value)
                .filter(|value| !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| Rejection::bad_request("Content-Length is not a number"))?;
            if len.is_some_and(|len| len != parsed) {
                return Err(Rejection::bad_request("conflicting Content-Length headers"));
            }
            len = Some(parsed);
        }
        match len.unwrap_or(0) {
            len if len > BODY_LIMIT => Err(Rejection::new(
                413,
                format!("request bodies are limited to {BODY_LIMIT} bytes"),
            )),
            len => Ok(len),
        }
    }
}

/// The length of the head at the start of `buffer`, through the blank line
/// that ends it, if the buffer holds it all. Bare `\n` line ends are
/// accepted, as HTTP recommends.
fn head_len(buffer: &[u8]) -> Option<usize> {
    buffer
        .iter()
        .enumerate()
        .filter(|&(_, &byte)| byte == b'\n')
        .find_map(|(i, _)| match buffer.get(i + 1..) {
            Some([b'\n', ..]) => Some(i + 2),
            Some([b'\r', b'\n', ..]) => Some(i + 3),
            _ => None,
        })
}

/// Parses a whole head: request line, then header lines up to the blank one.
fn parse_head(head: &[u8]) -> Result<Request, Rejection> {
    let text = std::str::from_utf8(head)
        .map_err(|_| Rejection::bad_request("the request head is not UTF-8"))?;
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));

    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::bad_request(
            "the request line is not `METHOD /path HTTP/1.1`",
        ));
    };
    if !is_token(method) {
        return Err(Rejection::bad_request("the method is not a token"));
    }
    if !target.starts_with('/') {
        return Err(Rejection::bad_request("the request target is not a path"));
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        other if other.starts_with("HTTP/") => {
            return Err(Rejection::new(
                505,
                "this server speaks HTTP/1.0 and HTTP/1.1",
            ));
        }
        _ => {
            return Err(Rejection::bad_request(
                "the request line does not end with an HTTP version",
            ));
        }
    };

    let mut headers = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        if line.starts_with([' ', '\t']) {
            return Err(Rejection::bad_request(
                "folded header lines are not accepted",
            ));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(Rejection::bad_request("a header line has no `:`"));
        };
        if !is_token(name) {
            return Err(Rejection::bad_request("a header name is not a token"));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }

    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        http11,
        headers,
    })
}

/// Whether `text` is an HTTP token: a method or a header name.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The rejection of a head longer than [`HEAD_LIMIT`].
fn head_too_large() -> Rejection {
    Rejection::new(
        431,
        format!("the request head is limited to {HEAD_LIMIT} bytes"),
    )
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

    fn request(incoming: &Incoming) -> &Request {
        match incoming {
            Incoming::Request(request) => request,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn parses_request_line_headers_and_query() {
        let incoming =
            read_all(b"GET /image/png?w=10&h=20&flag HTTP/1.1\r\nHost: x\r\nX-Demo:  yes \r\n\r\n");
        let request = request(&incoming[0]);
        assert_eq!(request.method(), "GET");
        assert_eq!(request.path(), "/image/png");
        assert_eq!(request.query_param("h"), Some("20"));
        assert_eq!(request.query_param("flag"), Some(""));
        assert_eq!(request.query_param("seed"), None);
        assert_eq!(request.header_values("x-demo").collect::<Vec<_>>(), ["yes"]);
        assert!(request.keep_alive());
    }

    #[test]
    fn keeps_pipelined_requests_and_skips_bodies() {
        let bytes = b"GET /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\r\nGET /b HTTP/1.0\nConnection: Keep-Alive\n\n";
        let incoming = read_all(bytes);
        assert_eq!(incoming.len(), 2);
        assert_eq!(request(&incoming[0]).path(), "/a");
        let second = request(&incoming[1]);
        assert_eq!(second.path(), "/b");
        assert!(!second.http11());
        assert!(second.keep_alive());
    }

    #[test]
    fn connection_close_ends_keep_alive() {
        let incoming = read_all(b"GET / HTTP/1.1\r\nconnection: TE, close\r\n\r\n");
        assert!(!request(&incoming[0]).keep_alive());
        let incoming = read_all(b"GET / HTTP/1.0\r\n\r\n");
        assert!(!request(&incoming[0]).keep_alive());
    }

    #[test]
    fn rejects_what_it_cannot_parse_or_frame() {
        let status = |bytes: &[u8]| match read_all(bytes).first() {
            Some(Incoming::Rejected(rejection)) => rejection.status,
            other => panic!("expected a rejection, got {other:?}"),
        };
        assert_eq!(status(b"GET /\r\n\r\n"), 400);
        assert_eq!(status(b"GET http://example.com/ HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(status(b"GET / HTTP/1.1\r\nNo colon\r\n\r\n"), 400);
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            501
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"),
            413
        );
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(HEAD_LIMIT));
        assert_eq!(status(huge.as_bytes()), 431);
    }

    #[test]
    fn a_truncated_head_is_a_closed_connection() {
        assert!(read_all(b"GET / HTTP/1.1\r\nHost:").is_empty());
        assert!(read_all(b"").is_empty());
    }
}
