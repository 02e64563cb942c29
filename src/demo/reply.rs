//! Writing a reply: status line, headers, framing and body, in one place.
//!
//! # Why
//!
//! On a keep-alive connection the client finds the end of each response
//! from its *framing*: a `Content-Length`, or `Transfer-Encoding: chunked`
//! with a zero-sized last chunk, or (HTTP/1.0 only) the server closing the
//! connection. One wrong byte count and every later response on the
//! connection is garbage. So the routes only say *what* to send (a status,
//! headers, a [`Body`]) and this file alone decides *how* it is framed.
//!
//! # How
//!
//! [`Reply::write_to`] writes the head, then the body. Bodies in memory
//! go out with `Content-Length`. The demo pattern behind `/bytes/N` and
//! `/chunked/N` is never held in memory whole: it is written window by
//! window from a small table, so a 64 MiB answer costs 16 KiB of memory.
//! Responses to `HEAD` carry the same headers as to `GET` and no body;
//! `1xx`, `204` and `304` responses never have a body.

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::sync::OnceLock;

use futures_lite::{AsyncWrite, AsyncWriteExt};

use super::rejection::Rejection;
use super::request::Request;

/// The demo pattern repeats every `PATTERN_PERIOD` bytes: byte `i` is
/// `(i % 251) as u8`. 251 is prime, so the pattern never lines up with
/// buffer or chunk sizes (powers of two, powers of ten): a client that drops
/// or repeats bytes at a boundary gets a visibly wrong body.
const PATTERN_PERIOD: usize = 251;

/// Bytes per write of the pattern, and the size of the long chunks.
const WRITE_WINDOW: usize = 16 * 1024;

/// The sizes of the first chunks of a chunked body, after which every chunk
/// is [`WRITE_WINDOW`] bytes: tiny chunks and chunk-size lines of one to
/// four hex digits, to exercise a client's chunk parser.
const FIRST_CHUNK_SIZES: [usize; 5] = [1, 10, 100, 1000, 10_000];

/// What to send back: a status, headers and a body.
#[derive(Debug)]
pub(crate) struct Reply {
    status: u16,
    /// Headers besides the framing ones (`Content-Length`,
    /// `Transfer-Encoding`, `Connection`), which [`Reply::write_to`] adds.
    headers: Vec<(&'static str, String)>,
    body: Body,
}

/// The body of a [`Reply`].
#[derive(Debug)]
pub(crate) enum Body {
    /// Bytes in memory (shared, so a cached image is not copied).
    Bytes(Arc<[u8]>),
    /// `len` bytes of the demo pattern, generated while writing, framed by
    /// `Content-Length` or, when `chunked`, by `Transfer-Encoding: chunked`.
    Pattern { len: u64, chunked: bool },
}

/// What the writer must know about the exchange it ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriteMode {
    /// The request was `HEAD`: send the headers only.
    pub head_only: bool,
    /// The client allows the connection to carry another request.
    pub keep_alive: bool,
    /// The client speaks HTTP/1.1, so chunked framing is allowed.
    pub http11: bool,
}

impl WriteMode {
    /// The mode for the response to `request`.
    pub(crate) fn answering(request: &Request) -> WriteMode {
        WriteMode {
            head_only: request.method() == "HEAD",
            keep_alive: request.keep_alive(),
            http11: request.http11(),
        }
    }

    /// The mode for a response that is the last on its connection, whatever
    /// the request said: the answer to a request that could not be parsed.
    pub(crate) fn closing() -> WriteMode {
        WriteMode {
            head_only: false,
            keep_alive: false,
            http11: true,
        }
    }
}

impl From<Rejection> for Reply {
    fn from(rejection: Rejection) -> Reply {
        let status = rejection.status;
        Reply::text(
            status,
            format!("{status} {}: {}\n", reason(status), rejection.message),
        )
    }
}

impl Reply {
    /// A response whose body is `body`, of type `content_type`.
    pub(crate) fn new(status: u16, content_type: &str, body: impl Into<Arc<[u8]>>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: Body::Bytes(body.into()),
        }
    }

    /// A `text/plain` response.
    pub(crate) fn text(status: u16, text: impl Into<String>) -> Reply {
        Reply::new(
            status,
            "text/plain; charset=utf-8",
            text.into().into_bytes(),
        )
    }

    /// `len` bytes of the demo pattern, framed by `Content-Length` or, when
    /// `chunked`, by chunked transfer coding.
    pub(crate) fn pattern(len: u64, chunked: bool) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type", "application/octet-stream".to_string())],
            body: Body::Pattern { len, chunked },
        }
    }

    /// Adds a header (not a framing one: those are the writer's).
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// Writes the response to `out` and flushes it. Returns whether the
    /// connection may carry another request: `mode.keep_alive`, unless the
    /// body had to be delimited by closing the connection.
    pub(crate) async fn write_to<W>(&self, mut out: W, mode: WriteMode) -> io::Result<bool>
    where
        W: AsyncWrite + Unpin,
    {
        let has_body = status_allows_body(self.status);
        let chunked = has_body && matches!(self.body, Body::Pattern { chunked: true, .. });
        // HTTP/1.0 has no chunked coding: the end of the connection ends the body.
        let close_delimited = chunked && !mode.http11;
        let keep_alive = mode.keep_alive && !close_delimited;

        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        head.push_str("Server: tandem-demo\r\n");
        for (name, value) in &self.headers {
            // Writing into a String cannot fail.
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if has_body && !close_delimited {
            if chunked {
                head.push_str("Transfer-Encoding: chunked\r\n");
            } else {
                let _ = write!(head, "Content-Length: {}\r\n", self.body.len());
            }
        }
        head.push_str(if keep_alive {
            "Connection: keep-alive\r\n\r\n"
        } else {
            "Connection: close\r\n\r\n"
        });
        out.write_all(head.as_bytes()).await?;

        if has_body && !mode.head_only {
            match &self.body {
                Body::Bytes(bytes) => out.write_all(bytes).await?,
                Body::Pattern { len, .. } if chunked && !close_delimited => {
                    write_pattern_chunked(&mut out, *len).await?;
                }
                Body::Pattern { len, .. } => write_pattern(&mut out, *len).await?,
            }
        }
        out.flush().await?;
        Ok(keep_alive)
    }
}

impl Body {
    /// The body's length in bytes.
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::Pattern { len, .. } => *len,
        }
    }
}

/// `1xx`, `204 No Content` and `304 Not Modified` never carry a body, nor
/// the headers that frame one.
fn status_allows_body(status: u16) -> bool {
    status >= 200 && status != 204 && status != 304
}

/// Writes `len` bytes of the pattern, unframed.
async fn write_pattern<W: AsyncWrite + Unpin>(out: &mut W, len: u64) -> io::Result<()> {
    let table = PatternTable::new();
    let mut written = 0;
    while written < len {
        let window = table.window(written, len - written);
        out.write_all(window).await?;
        written += window.len() as u64;
    }
    Ok(())
}

/// Writes `len` bytes of the pattern as chunks, then the last chunk.
async fn write_pattern_chunked<W: AsyncWrite + Unpin>(out: &mut W, len: u64) -> io::Result<()> {
    let table = PatternTable::new();
    let mut written = 0;
    let mut chunk_sizes = FIRST_CHUNK_SIZES
        .into_iter()
        .chain(std::iter::repeat(WRITE_WINDOW));
    while written < len {
        let size = chunk_sizes.next().expect("the chunk sizes repeat forever");
        let window = table.window(written, (len - written).min(size as u64));
        // Size line, data and CRLF in one write: one segment per chunk.
        let mut chunk = format!("{:x}\r\n", window.len()).into_bytes();
        chunk.extend_from_slice(window);
        chunk.extend_from_slice(b"\r\n");
        out.write_all(&chunk).await?;
        written += window.len() as u64;
    }
    out.write_all(b"0\r\n\r\n").await
}

/// The pattern from offset 0, one period longer than the largest window, so
/// that the window at any offset is a slice of it. Built once per process.
struct PatternTable(&'static [u8]);

impl PatternTable {
    fn new() -> PatternTable {
        static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
        let table = TABLE.get_or_init(|| {
            (0..WRITE_WINDOW + PATTERN_PERIOD)
                .map(|i| (i % PATTERN_PERIOD) as u8)
                .collect()
        });
        PatternTable(table)
    }

    /// The pattern bytes from `offset`, at most `max_len` of them and at
    /// most [`WRITE_WINDOW`].
    fn window(&self, offset: u64, max_len: u64) -> &[u8] {
        let start = (offset % PATTERN_PERIOD as u64) as usize;
        let len = max_len.min(WRITE_WINDOW as u64) as usize;
        &self.0[start..start + len]
    }
}

/// The reason phrase of `status`: the standard one for common codes, the
/// name of the class for the others.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => match status / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            _ => "Server Error",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `response` into memory.
    fn written(response: &Reply, mode: WriteMode) -> (String, bool) {
        let mut out = Vec::new();
        let keep_alive = futures_lite::future::block_on(response.write_to(&mut out, mode)).unwrap();
        (String::from_utf8_lossy(&out).into_owned(), keep_alive)
    }

    const GET_11: WriteMode = WriteMode {
        head_only: false,
        keep_alive: true,
        http11: true,
    };

    #[test]
    fn pattern_windows_continue_across_writes() {
        let mut out = Vec::new();
        futures_lite::future::block_on(write_pattern(&mut out, 40_000)).unwrap();
        let expected: Vec<u8> = (0..40_000).map(|i| (i % PATTERN_PERIOD) as u8).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn chunked_body_starts_with_tiny_chunks() {
        let (text, keep_alive) = written(&Reply::pattern(12, true), GET_11);
        assert!(keep_alive);
        assert!(text.contains("Transfer-Encoding: chunked\r\n"));
        assert!(!text.contains("Content-Length"));
        let body = text.split_once("\r\n\r\n").unwrap().1;
        let expected = "1\r\n\u{0}\r\na\r\n\u{1}\u{2}\u{3}\u{4}\u{5}\u{6}\u{7}\u{8}\u{9}\u{a}\r\n1\r\n\u{b}\r\n0\r\n\r\n";
        assert_eq!(body, expected);
    }

    #[test]
    fn http10_gets_a_close_delimited_body_instead_of_chunks() {
        let mode = WriteMode {
            http11: false,
            ..GET_11
        };
        let (text, keep_alive) = written(&Reply::pattern(3, true), mode);
        assert!(!keep_alive);
        assert!(text.contains("Connection: close\r\n"));
        assert!(!text.contains("Transfer-Encoding"));
        assert!(text.ends_with("\r\n\r\n\u{0}\u{1}\u{2}"));
    }

    #[test]
    fn head_and_no_content_responses_have_no_body() {
        let head = WriteMode {
            head_only: true,
            ..GET_11
        };
        let (text, _) = written(&Reply::text(200, "hello"), head);
        assert!(text.ends_with("Content-Length: 5\r\nConnection: keep-alive\r\n\r\n"));
        let (text, _) = written(&Reply::text(204, "ignored"), GET_11);
        assert!(text.starts_with("HTTP/1.1 204 No Content\r\n"));
        assert!(!text.contains("Content-Length"));
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn rejections_become_text_responses() {
        let response = Reply::from(Rejection::bad_request("no"));
        let (text, keep_alive) = written(&response, WriteMode::closing());
        assert!(!keep_alive);
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(text.ends_with("Connection: close\r\n\r\n400 Bad Request: no\n"));
    }
}
