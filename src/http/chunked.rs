//! Decoding `Transfer-Encoding: chunked`, one byte slice at a time.
//!
//! # Why
//!
//! A server that does not know a body's length up front sends it in
//! chunks, each preceded by its size in hexadecimal:
//!
//! ```text
//! 5;ext=1\r\n      size line: hex size, optional extensions
//! hello\r\n        5 bytes of data, then CRLF
//! 0\r\n            the last chunk has size 0
//! Expires: x\r\n   optional trailer fields
//! \r\n             blank line: the body is over
//! ```
//!
//! The bytes arrive from the socket in arbitrary pieces: a size line can be
//! split across two reads, one read can hold the end of a chunk and the
//! start of the next. A *state machine* that remembers where it is between
//! pieces handles every split the same way. It is pure (bytes in, body bytes
//! out), so tests can feed it one byte at a time, and a fuzzer any bytes.
//!
//! # How
//!
//! ```text
//!   Size ──n>0──► Data{n} ──n bytes──► DataEnd ──CRLF──► Size
//!    │
//!    └──0──► Trailer ──blank line──► Done
//! ```
//!
//! Bounds: a size line (extensions included) is at most
//! [`MAX_CHUNK_SIZE_LINE`] bytes; trailers together are at most the limit
//! given to [`ChunkedDecoder::new`] (the client's header limit); sizes
//! that overflow `u64` are errors; body bytes go through a [`BoundedBody`],
//! which refuses to grow past its limit. Extensions and trailers are
//! checked, then discarded. As in the head, a bare LF ends a line.

use super::Error;
use super::bounded_body::BoundedBody;
use super::error::Part;
use super::fields::{is_forbidden_control, parse_header_line};

/// The longest chunk size line accepted, extensions and CRLF included.
pub const MAX_CHUNK_SIZE_LINE: usize = 4096;

/// Decodes a chunked body from the pieces it arrives in.
///
/// ```
/// use tandem::http::body::BoundedBody;
/// use tandem::http::chunked::ChunkedDecoder;
/// let wire = b"5\r\nhello\r\n6;lang=en\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n";
/// let mut decoder = ChunkedDecoder::new(1024);
/// let mut body = BoundedBody::new(1024);
/// let consumed = decoder.decode(wire, &mut body)?;
/// assert!(decoder.is_done());
/// assert_eq!(consumed, wire.len());
/// assert_eq!(body.into_vec(), b"hello world");
/// # Ok::<(), tandem::http::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// The line being collected: a size line, the CRLF after a chunk's data,
    /// or a trailer line. Bounded by [`ChunkedDecoder::line_limit`].
    line: Vec<u8>,
    trailer_bytes: usize,
    max_trailer_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting a size line.
    Size,
    /// Copying chunk data; `remaining` bytes of this chunk to go.
    Data { remaining: u64 },
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// Collecting trailer lines, until a blank one.
    Trailer,
    /// The body is complete; further bytes are not ours.
    Done,
}

impl ChunkedDecoder {
    /// A decoder at the start of a body, accepting at most
    /// `max_trailer_bytes` of trailer lines.
    pub fn new(max_trailer_bytes: usize) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            line: Vec::new(),
            trailer_bytes: 0,
            max_trailer_bytes,
        }
    }

    /// Whether the last chunk and the trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes from the start of `input`, appending chunk data to `body`.
    ///
    /// Returns how many bytes of `input` were used: all of them, unless the
    /// body ended within `input` (then [`is_done`](Self::is_done) is true
    /// and the rest belongs to whatever follows the body).
    pub fn decode(&mut self, input: &[u8], body: &mut BoundedBody) -> Result<usize, Error> {
        let mut used = 0;
        while used < input.len() && self.state != State::Done {
            let rest = &input[used..];
            used += match self.state {
                State::Data { remaining } => {
                    let take = usize::try_from(remaining).map_or(rest.len(), |r| r.min(rest.len()));
                    body.extend(&rest[..take])?;
                    let remaining = remaining - take as u64;
                    self.state = if remaining == 0 {
                        State::DataEnd
                    } else {
                        State::Data { remaining }
                    };
                    take
                }
                _ => self.collect_line(rest)?,
            };
        }
        Ok(used)
    }

    /// Moves bytes from `rest` into the current line, up to and including
    /// its LF; acts on the line once complete. Returns the bytes used.
    fn collect_line(&mut self, rest: &[u8]) -> Result<usize, Error> {
        let (piece, complete) = match rest.iter().position(|&byte| byte == b'\n') {
            Some(line_feed) => (&rest[..line_feed], true),
            None => (rest, false),
        };
        if self.line.len() + piece.len() > self.line_limit() {
            return Err(self.line_too_long());
        }
        self.line.extend_from_slice(piece);
        if complete {
            let line = std::mem::take(&mut self.line);
            self.end_line(line.strip_suffix(b"\r").unwrap_or(&line))?;
        }
        Ok(piece.len() + usize::from(complete))
    }

    /// Acts on a complete line (without its line break).
    fn end_line(&mut self, line: &[u8]) -> Result<(), Error> {
        self.state = match self.state {
            State::Size => match parse_chunk_size(line)? {
                0 => State::Trailer,
                size => State::Data { remaining: size },
            },
            State::DataEnd if line.is_empty() => State::Size,
            State::DataEnd => return Err(self.line_too_long()),
            State::Trailer if line.is_empty() => State::Done,
            State::Trailer => {
                self.trailer_bytes += line.len();
                parse_header_line(line).map_err(|_| {
                    Error::malformed(Part::Trailer, "a trailer must be a valid header line")
                })?;
                State::Trailer
            }
            // Lines are collected only in the states above.
            State::Data { .. } | State::Done => unreachable!("no line is collected here"),
        };
        Ok(())
    }

    /// How long the current line may grow, its CR included.
    fn line_limit(&self) -> usize {
        match self.state {
            State::Size => MAX_CHUNK_SIZE_LINE,
            State::DataEnd => 1,
            _ => self.max_trailer_bytes.saturating_sub(self.trailer_bytes) + 1,
        }
    }

    /// The error for a line over its limit.
    fn line_too_long(&self) -> Error {
        match self.state {
            State::Size => {
                Error::malformed(Part::ChunkSize, "chunk size line longer than 4096 bytes")
            }
            State::DataEnd => {
                Error::malformed(Part::ChunkData, "chunk data is longer than its size says")
            }
            _ => Error::HeadersTooLarge {
                limit: self.max_trailer_bytes,
            },
        }
    }
}

/// `1a2b` or `1a2b;name=value`: the size in hexadecimal, extensions ignored.
fn parse_chunk_size(line: &[u8]) -> Result<u64, Error> {
    let malformed = |reason| Error::malformed(Part::ChunkSize, reason);
    let digits = line
        .iter()
        .take_while(|byte| byte.is_ascii_hexdigit())
        .count();
    if digits == 0 {
        return Err(malformed("chunk size is not a hexadecimal number"));
    }
    let size = line[..digits]
        .iter()
        .try_fold(0u64, |size, &digit| {
            // Always Some: `digit` passed is_ascii_hexdigit.
            let value = char::from(digit).to_digit(16).map(u64::from)?;
            size.checked_mul(16)?.checked_add(value)
        })
        .ok_or(malformed("chunk size does not fit in 64 bits"))?;
    let after = &line[digits..];
    let after = &after[after
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count()..];
    match after {
        [] => Ok(size),
        [b';', extensions @ ..] if !extensions.iter().any(|&b| is_forbidden_control(b)) => Ok(size),
        [b';', ..] => Err(malformed("control character in a chunk extension")),
        _ => Err(malformed("unexpected bytes after the chunk size")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIRE: &[u8] =
        b"5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer-A: x\r\n\r\n";

    /// Decodes `input` fed in pieces of `piece` bytes; returns the body and
    /// the bytes used.
    fn decode_in_pieces(input: &[u8], piece: usize) -> Result<(Vec<u8>, usize), Error> {
        let mut decoder = ChunkedDecoder::new(1024);
        let mut body = BoundedBody::new(1 << 20);
        let mut used = 0;
        for chunk in input.chunks(piece) {
            used += decoder.decode(chunk, &mut body)?;
            if decoder.is_done() {
                return Ok((body.into_vec(), used));
            }
        }
        Ok((body.into_vec(), used))
    }

    fn error_of(input: &[u8]) -> Error {
        decode_in_pieces(input, input.len().max(1)).unwrap_err()
    }

    #[test]
    fn decodes_whatever_the_split() {
        for piece in 1..=WIRE.len() {
            let (body, used) = decode_in_pieces(WIRE, piece).unwrap();
            assert_eq!(body, b"hello world", "pieces of {piece}");
            assert_eq!(used, WIRE.len());
        }
    }

    #[test]
    fn stops_at_the_end_of_the_body() {
        let wire = [WIRE, b"HTTP/1.1 200 OK\r\n"].concat();
        let mut decoder = ChunkedDecoder::new(1024);
        let mut body = BoundedBody::new(100);
        assert_eq!(decoder.decode(&wire, &mut body).unwrap(), WIRE.len());
        assert!(decoder.is_done());
    }

    #[test]
    fn accepts_bare_line_feeds_and_upper_case_hex() {
        let (body, _) = decode_in_pieces(b"A\nabcdefghij\n0\n\n", 3).unwrap();
        assert_eq!(body, b"abcdefghij");
    }

    #[test]
    fn rejects_bad_sizes() {
        for bad in [
            &b"\r\n"[..],
            b"-5\r\n",
            b"x\r\n",
            b"0x5\r\n",
            b"5 5\r\n",
            b"10000000000000000\r\n",
            b"5;ext\x00\r\n",
            b"5\rX\n",
        ] {
            assert!(
                matches!(
                    error_of(bad),
                    Error::Malformed {
                        part: Part::ChunkSize,
                        ..
                    }
                ),
                "{bad:?}"
            );
        }
        let long = [&b"5;"[..], &[b'e'; MAX_CHUNK_SIZE_LINE]].concat();
        assert!(matches!(
            error_of(&long),
            Error::Malformed {
                part: Part::ChunkSize,
                ..
            }
        ));
    }

    #[test]
    fn leading_zeros_do_not_overflow() {
        let (body, _) = decode_in_pieces(b"00000000000000000001\r\nx\r\n0\r\n\r\n", 7).unwrap();
        assert_eq!(body, b"x");
    }

    #[test]
    fn rejects_data_longer_than_its_size() {
        assert!(matches!(
            error_of(b"2\r\nabc\r\n0\r\n\r\n"),
            Error::Malformed {
                part: Part::ChunkData,
                ..
            }
        ));
    }

    #[test]
    fn bounds_the_trailers() {
        let mut wire = b"0\r\n".to_vec();
        for _ in 0..100 {
            wire.extend_from_slice(b"X-Trailer: 0123456789\r\n");
        }
        assert!(matches!(
            error_of(&wire),
            Error::HeadersTooLarge { limit: 1024 }
        ));
        assert!(matches!(
            error_of(b"0\r\nnot a header\r\n\r\n"),
            Error::Malformed {
                part: Part::Trailer,
                ..
            }
        ));
    }

    #[test]
    fn enforces_the_body_limit_before_storing() {
        let mut decoder = ChunkedDecoder::new(1024);
        let mut body = BoundedBody::new(8);
        let result = decoder.decode(b"10\r\n0123456789abcdef\r\n0\r\n\r\n", &mut body);
        assert!(matches!(result, Err(Error::BodyTooLarge { limit: 8 })));
        assert!(body.len() <= 8);
    }
}
