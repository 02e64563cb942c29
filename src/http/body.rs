//! Where a response body ends: the framing rules, as pure functions.
//!
//! # Why
//!
//! HTTP/1.1 sends responses back to back on one connection, so the client
//! must know exactly where a body ends: read too little and the next
//! response starts with leftover bytes, read too much and we wait forever.
//! RFC 9112 §6.3 gives the rules, in order; [`framing`] applies them to a
//! parsed head. Reading the body so framed is the connection's job
//! (`connection.rs`, `read_body`), and the bytes go into a [`BoundedBody`]
//! (`bounded_body.rs`, re-exported here), which refuses to grow past the
//! client's limit *before* storing them.
//!
//! # How
//!
//! | the response                              | [`Framing`]  | reusable? |
//! |-------------------------------------------|--------------|-----------|
//! | to a HEAD request, or status 1xx/204/304  | `Empty`      | yes       |
//! | `Transfer-Encoding: chunked`              | `Chunked`    | yes       |
//! | `Content-Length: n`                       | `Length(n)`  | yes       |
//! | neither                                   | `UntilClose` | no        |
//!
//! Choices, where the RFC leaves room:
//!
//! * `Content-Length` must be digits only (no sign, no spaces inside, no
//!   hex) and fit in a `u64`; several values (repeated fields or a list)
//!   are accepted only when they are all equal;
//! * `Transfer-Encoding` must be exactly `chunked`: tandem asks for no
//!   other coding and does not decode one;
//! * a response with *both* `Content-Length` and `Transfer-Encoding` is
//!   rejected as malformed. RFC 9112 would let chunked win and close the
//!   connection afterwards, but such a response is the classic shape of a
//!   smuggling attack, and no honest server sends one.

use super::error::Part;
use super::parse::ResponseHead;
use super::{Error, Headers, Method};

pub use super::bounded_body::BoundedBody;

/// How the end of a response body is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// There is no body.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunks, until the zero-size chunk and the trailers.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// Decides the [`Framing`] of the response to `method` with `head`.
///
/// ```
/// use tandem::http::body::{framing, Framing};
/// use tandem::http::parse::{parse_response_head, HeadLimits};
/// use tandem::http::Method;
/// let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n";
/// let (head, _) = parse_response_head(bytes, &HeadLimits::default())?.unwrap();
/// assert_eq!(framing(Method::Get, &head)?, Framing::Length(42));
/// assert_eq!(framing(Method::Head, &head)?, Framing::Empty);
/// # Ok::<(), tandem::http::Error>(())
/// ```
pub fn framing(method: Method, head: &ResponseHead) -> Result<Framing, Error> {
    if method == Method::Head || matches!(head.status, 100..=199 | 204 | 304) {
        return Ok(Framing::Empty);
    }
    let length = content_length(&head.headers)?;
    let chunked = is_chunked(&head.headers)?;
    match (chunked, length) {
        (true, Some(_)) => Err(Error::malformed(
            Part::TransferEncoding,
            "both Transfer-Encoding and Content-Length (a smuggling pattern)",
        )),
        (true, None) => Ok(Framing::Chunked),
        (false, Some(length)) => Ok(Framing::Length(length)),
        (false, None) => Ok(Framing::UntilClose),
    }
}

/// The value of `Content-Length`, if present: digits only, every value
/// equal.
pub fn content_length(headers: &Headers) -> Result<Option<u64>, Error> {
    let malformed = |reason| Error::malformed(Part::ContentLength, reason);
    let mut length = None;
    for item in headers
        .get_all("content-length")
        .flat_map(|value| value.split(','))
    {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() || !item.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(malformed("not a non-negative decimal number"));
        }
        let value: u64 = item
            .parse()
            .map_err(|_| malformed("too large for 64 bits"))?;
        if length.is_some_and(|previous| previous != value) {
            return Err(malformed("conflicting values"));
        }
        length = Some(value);
    }
    Ok(length)
}

/// Whether `Transfer-Encoding` says `chunked`; any other coding is an error.
fn is_chunked(headers: &Headers) -> Result<bool, Error> {
    let mut codings = headers
        .get_all("transfer-encoding")
        .flat_map(|value| value.split(','))
        .map(str::trim);
    match (codings.next(), codings.next()) {
        (None, _) => Ok(false),
        (Some(coding), None) if coding.eq_ignore_ascii_case("chunked") => Ok(true),
        _ => Err(Error::malformed(
            Part::TransferEncoding,
            "only `chunked` is supported",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse::{HeadLimits, parse_response_head};

    fn framing_of(head: &str) -> Result<Framing, Error> {
        let bytes = format!("{head}\r\n\r\n");
        let (head, _) = parse_response_head(bytes.as_bytes(), &HeadLimits::default())
            .unwrap()
            .unwrap();
        framing(Method::Get, &head)
    }

    #[test]
    fn picks_the_framing() {
        let ok = |head| framing_of(head).unwrap();
        assert_eq!(
            ok("HTTP/1.1 200 OK\r\nContent-Length: 0"),
            Framing::Length(0)
        );
        assert_eq!(
            ok("HTTP/1.1 200 OK\r\nContent-Length: 7, 7"),
            Framing::Length(7)
        );
        assert_eq!(
            ok("HTTP/1.1 200 OK\r\ncontent-length: 7\r\nCONTENT-LENGTH: 7"),
            Framing::Length(7)
        );
        assert_eq!(
            ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked"),
            Framing::Chunked
        );
        assert_eq!(ok("HTTP/1.1 200 OK"), Framing::UntilClose);
        assert_eq!(
            ok("HTTP/1.1 204 No Content\r\nContent-Length: 9"),
            Framing::Empty
        );
        assert_eq!(
            ok("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked"),
            Framing::Empty
        );
    }

    #[test]
    fn rejects_bad_content_lengths() {
        for bad in [
            "-1",
            "+1",
            "1.0",
            "0x10",
            "",
            "1 2",
            "abc",
            "18446744073709551616",
            "1, 2",
        ] {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {bad}");
            assert!(
                matches!(
                    framing_of(&head),
                    Err(Error::Malformed {
                        part: Part::ContentLength,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        let conflicting = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2";
        assert!(matches!(
            framing_of(conflicting),
            Err(Error::Malformed {
                part: Part::ContentLength,
                ..
            })
        ));
        assert_eq!(
            framing_of("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615").unwrap(),
            Framing::Length(u64::MAX)
        );
    }

    #[test]
    fn rejects_unsupported_or_ambiguous_transfer_encodings() {
        for bad in [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5",
        ] {
            assert!(
                matches!(
                    framing_of(bad),
                    Err(Error::Malformed {
                        part: Part::TransferEncoding,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }
}
