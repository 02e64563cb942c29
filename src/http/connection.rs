//! One TCP connection: connecting, and one request/response exchange on it.
//!
//! # Why
//!
//! This is where the bytes of the module map come from: an
//! `async_io::Async<TcpStream>` is a non-blocking socket registered with
//! the reactor, so a read that has no data yet parks the *task*, not the
//! thread, and the loop serves other connections meanwhile. Everything
//! else in `http` is either pure (parsing) or policy (the client).
//!
//! # How
//!
//! * [`Connection::open`] resolves the host and tries each address in turn
//!   (`net.rs`, shared with the Redis client: a literal IP directly, a name
//!   on the blocking pool, since the system resolver blocks).
//! * A connection keeps a read buffer: bytes read from the socket but not
//!   yet consumed. The head parser looks at it, the body reader takes from
//!   it, and whatever a read brought past the head is the start of the
//!   body.
//! * [`Connection::exchange`] writes a request, reads the head (skipping
//!   1xx interim responses), reads the body, and says whether the
//!   connection can carry another request.
//! * [`Connection::read_body`] reads the body the way its [`Framing`] says
//!   (`body.rs` decides which), into a [`BoundedBody`], through a
//!   [`ChunkedDecoder`] when chunked.

use std::future::Future;
use std::io;
use std::net::TcpStream;
use std::pin::Pin;

use async_io::Async;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use super::body::{Framing, framing};
use super::bounded_body::BoundedBody;
use super::chunked::ChunkedDecoder;
use super::error::Part;
use super::parse::{
    HeadLimits, ResponseHead, Version, could_be_status_line, find_head_end, parse_response_head,
};
use super::status_line::status_line_start;
use super::{Error, Method};

/// How many bytes one socket read asks for.
const READ_CHUNK: usize = 16 * 1024;

/// How many 1xx interim responses may precede the final one.
const MAX_INTERIM_RESPONSES: usize = 16;

/// What [`Client::get_admitted`](super::Client::get_admitted) awaits
/// between a response's head and its body: called with the status and the
/// body's announced length (`None` when only the end of the body will
/// tell).
pub type Admit<'a> = dyn FnMut(u16, Option<u64>) -> Pin<Box<dyn Future<Output = ()> + 'a>> + 'a;

/// What one exchange may receive: a head within `head` (whose byte limit
/// also bounds the trailers of a chunked body), and a body of at most
/// `max_body_bytes`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExchangeLimits {
    pub(crate) head: HeadLimits,
    pub(crate) max_body_bytes: u64,
}

/// What one exchange produced.
pub(crate) struct Exchange {
    pub(crate) head: ResponseHead,
    pub(crate) body: Vec<u8>,
    /// Whether the connection may carry another request: the body ended
    /// where its framing said, nothing followed it, and neither HTTP/1.0
    /// nor `Connection: close` ruled reuse out.
    pub(crate) reusable: bool,
}

/// A connected socket and the bytes read from it but not consumed yet.
pub(crate) struct Connection {
    stream: Async<TcpStream>,
    buffer: Vec<u8>,
    /// Bytes read over the connection's life: lets the client tell a stale
    /// kept-alive connection (nothing came back) from a failed response.
    received: u64,
}

impl Connection {
    /// Connects to `host:port`, trying every address the host resolves to.
    pub(crate) async fn open(host: &str, port: u16) -> Result<Connection, Error> {
        let addrs = crate::net::resolve(host, port)
            .await
            .map_err(|source| Error::Dns {
                host: host.to_string(),
                source,
            })?;
        let stream = crate::net::connect_any(&addrs)
            .await
            .map_err(|(addr, source)| Error::Connect { addr, source })?;
        Ok(Connection {
            stream,
            buffer: Vec::new(),
            received: 0,
        })
    }

    /// Sends `request`, reads the response to it, and reports whether the
    /// connection can be reused. `admit`, if given, is awaited between the
    /// head and the body (see [`Client::get_admitted`](super::Client::get_admitted)).
    // ANCHOR: exchange
    pub(crate) async fn exchange(
        &mut self,
        method: Method,
        request: &[u8],
        limits: &ExchangeLimits,
        admit: Option<&mut Admit<'_>>,
    ) -> Result<Exchange, Error> {
        self.stream.write_all(request).await?;
        let head = self.read_final_head(&limits.head).await?;
        let framing = framing(method, &head)?;
        if let Some(admit) = admit {
            let announced = match framing {
                Framing::Empty => Some(0),
                Framing::Length(length) => Some(length),
                Framing::Chunked | Framing::UntilClose => None,
            };
            admit(head.status, announced).await;
        }
        let body = self
            .read_body(framing, limits.max_body_bytes, limits.head.max_bytes)
            .await?;
        // A stray line break after the body is no reason to close: the next
        // head would skip it anyway (status_line.rs).
        if matches!(status_line_start(&self.buffer), Ok(None)) {
            self.buffer.clear();
        }
        let reusable = framing != Framing::UntilClose
            && self.buffer.is_empty()
            && head.version == Version::Http11
            && !head.headers.contains_token("connection", "close");
        Ok(Exchange {
            head,
            body,
            reusable,
        })
    }
    // ANCHOR_END: exchange

    /// Reads heads until one is not a 1xx interim response (`100 Continue`,
    /// `103 Early Hints`), and returns that one.
    async fn read_final_head(&mut self, limits: &HeadLimits) -> Result<ResponseHead, Error> {
        for _ in 0..=MAX_INTERIM_RESPONSES {
            let head = self.read_head(limits).await?;
            match head.status {
                101 => {
                    return Err(Error::malformed(
                        Part::StatusLine,
                        "101 Switching Protocols, but no upgrade was asked for",
                    ));
                }
                100..=199 => continue,
                _ => return Ok(head),
            }
        }
        Err(Error::malformed(
            Part::StatusLine,
            "more than 16 interim (1xx) responses",
        ))
    }

    /// Reads until the buffer holds a complete head; consumes and returns it.
    /// A few empty lines before the status line are skipped.
    async fn read_head(&mut self, limits: &HeadLimits) -> Result<ResponseHead, Error> {
        let mut searched: usize = 0;
        loop {
            if let Some(start) = status_line_start(&self.buffer)? {
                self.consume(start);
                searched = searched.saturating_sub(start);
                // Parse only once the end is in sight (or the limit is
                // passed), so a head trickling in byte by byte is not parsed
                // each time; but refuse at once bytes that cannot start a
                // response.
                if find_head_end(&self.buffer, searched).is_some()
                    || self.buffer.len() > limits.max_bytes
                    || !could_be_status_line(&self.buffer)
                {
                    if let Some((head, used)) = parse_response_head(&self.buffer, limits)? {
                        self.consume(used);
                        return Ok(head);
                    }
                }
            }
            searched = self.buffer.len();
            if self.fill().await? == 0 {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection before a complete response head",
                )));
            }
        }
    }

    /// Reads the body framed by `framing`: at most `max_body_bytes` of
    /// body, `max_trailer_bytes` of chunked trailers.
    ///
    /// On success the connection is positioned just after the body.
    async fn read_body(
        &mut self,
        framing: Framing,
        max_body_bytes: u64,
        max_trailer_bytes: usize,
    ) -> Result<Vec<u8>, Error> {
        let mut body = BoundedBody::new(max_body_bytes);
        match framing {
            Framing::Empty => {}
            Framing::Length(length) => {
                if length > max_body_bytes {
                    return Err(Error::BodyTooLarge {
                        limit: max_body_bytes,
                    });
                }
                body = BoundedBody::with_announced_length(max_body_bytes, length);
                while (body.len() as u64) < length {
                    if self.buffer.is_empty() && self.fill().await? == 0 {
                        return Err(closed_mid_body());
                    }
                    let missing = usize::try_from(length - body.len() as u64).unwrap_or(usize::MAX);
                    let take = self.buffer.len().min(missing);
                    body.extend(&self.buffer[..take])?;
                    self.consume(take);
                }
            }
            Framing::Chunked => {
                let mut decoder = ChunkedDecoder::new(max_trailer_bytes);
                loop {
                    let used = decoder.decode(&self.buffer, &mut body)?;
                    self.consume(used);
                    if decoder.is_done() {
                        break;
                    }
                    if self.fill().await? == 0 {
                        return Err(closed_mid_body());
                    }
                }
            }
            Framing::UntilClose => loop {
                body.extend(&self.buffer)?;
                self.buffer.clear();
                if self.fill().await? == 0 {
                    break;
                }
            },
        }
        Ok(body.into_vec())
    }

    /// Marks the first `count` buffered bytes as used.
    fn consume(&mut self, count: usize) {
        self.buffer.drain(..count);
    }

    /// Reads once from the socket into the buffer; `Ok(0)` means the server
    /// closed the connection.
    ///
    /// If the future is dropped mid-read the buffer is left padded with
    /// zeros; that only happens on a timeout, which drops the connection.
    // ANCHOR: fill
    async fn fill(&mut self) -> io::Result<usize> {
        let start = self.buffer.len();
        self.buffer.resize(start + READ_CHUNK, 0);
        let result = self.stream.read(&mut self.buffer[start..]).await;
        let count = *result.as_ref().unwrap_or(&0);
        self.buffer.truncate(start + count);
        self.received += count as u64;
        result
    }
    // ANCHOR_END: fill

    /// Bytes received over the connection's life.
    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// Whether an idle connection still looks usable: the server has neither
    /// closed it nor sent anything unasked. Does not wait.
    pub(crate) fn is_idle_and_open(&self) -> bool {
        // The socket is non-blocking, so `peek` answers at once:
        // WouldBlock means open and quiet, 0 means closed.
        let mut probe = [0u8; 1];
        match self.stream.get_ref().peek(&mut probe) {
            Err(error) => error.kind() == io::ErrorKind::WouldBlock,
            Ok(_) => false,
        }
    }
}

/// The error for a connection closed before its framing said the body ends.
fn closed_mid_body() -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the server closed the connection before the end of the body",
    ))
}
