//! Parsing a response head (status line and header fields) from bytes.
//!
//! # Why
//!
//! The response parser is where a server's bytes, possibly hostile, meet
//! our memory. So it is written as pure functions over a byte slice: no
//! socket, no clock, no global state. The same bytes always give the same
//! answer, which makes the parser easy to unit-test, property-test and fuzz
//! ([`parse_response_head`] is the entry point to feed arbitrary bytes to).
//! Every size is bounded by [`HeadLimits`] before anything is stored.
//!
//! Where a head ends ([`find_head_end`], and `head_end_within` with a
//! limit), how it splits into lines (`head_lines`) and the [`Version`]s
//! are the same for a request, so the demo server's request parser uses
//! them too.
//!
//! # How
//!
//! The caller reads from the socket into a buffer and asks
//! [`parse_response_head`] whether the buffer holds a complete head yet:
//!
//! * `Ok(None)`: not yet (the bytes so far can still become a head, and
//!   are under the size limit): read more;
//! * `Ok(Some((head, consumed)))`: the head is the first `consumed` bytes;
//!   the rest of the buffer is the start of the body;
//! * `Err(..)`: give up on this connection.
//!
//! Choices, where RFC 9112 leaves room:
//!
//! * a bare LF ends a line as CRLF does (§2.2 allows it); a CR anywhere
//!   else is an error;
//! * the status line is `HTTP/1.0` or `HTTP/1.1`, a space, three digits,
//!   then optionally a space and a reason phrase (which may be empty or
//!   missing altogether);
//! * bytes that cannot start a status line (an HTTP/0.9 body, an HTTP/2
//!   frame, another protocol's greeting) are an error as soon as they
//!   arrive, not when a blank line eventually comes: such a server may
//!   never send one, and a clear error beats a timeout;
//! * header fields follow the grammar both directions share (`fields.rs`):
//!   token names, values without control characters but tab, obs-text kept
//!   lossily, obs-fold lines joined with a space;
//! * line lengths need no limit of their own: the whole head, every line
//!   included, is bounded by [`HeadLimits::max_bytes`].

use super::error::Part;
use super::fields::{is_forbidden_control, parse_header_block};
use super::{Error, Headers};

/// Bounds on a response head, checked before the head is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Bytes of status line plus header lines plus line breaks.
    pub max_bytes: usize,
    /// Header fields.
    pub max_headers: usize,
}

impl Default for HeadLimits {
    /// 64 KiB and 100 fields.
    fn default() -> HeadLimits {
        HeadLimits {
            max_bytes: 64 * 1024,
            max_headers: 100,
        }
    }
}

/// The HTTP version of a response (or, in the demo server, a request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `HTTP/1.0`: the connection closes after the response.
    Http10,
    /// `HTTP/1.1`: the connection may be kept alive.
    Http11,
}

impl Version {
    /// The version `name` spells: `HTTP/1.1` or `HTTP/1.0`, exactly.
    pub(crate) fn from_name(name: &[u8]) -> Option<Version> {
        VERSIONS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|&(_, version)| version)
    }
}

/// A parsed status line and header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: Version,
    /// The status code, 100 to 999.
    pub status: u16,
    /// The reason phrase, possibly empty.
    pub reason: String,
    /// The header fields, in order.
    pub headers: Headers,
}

/// Parses the response head at the start of `buffer`.
///
/// Returns `Ok(None)` when the head is not complete yet, or the head and the
/// number of bytes it took. Never reads past the blank line that ends the
/// head, and never stores more than `limits` allow.
///
/// ```
/// use tandem::http::parse::{parse_response_head, HeadLimits};
/// let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
/// let (head, consumed) = parse_response_head(bytes, &HeadLimits::default())?.unwrap();
/// assert_eq!(head.status, 200);
/// assert_eq!(head.headers.get("content-length"), Some("2"));
/// assert_eq!(&bytes[consumed..], b"hi");
/// assert!(parse_response_head(b"HTTP/1.1 200 OK\r\n", &HeadLimits::default())?.is_none());
/// # Ok::<(), tandem::http::Error>(())
/// ```
pub fn parse_response_head(
    buffer: &[u8],
    limits: &HeadLimits,
) -> Result<Option<(ResponseHead, usize)>, Error> {
    if !could_be_status_line(buffer) {
        return Err(not_a_version());
    }
    let Some(end) = head_end_within(buffer, 0, limits.max_bytes)? else {
        return Ok(None);
    };
    let mut lines = head_lines(&buffer[..end]);
    let (version, status, reason) = parse_status_line(lines.next().unwrap_or_default())?;
    let headers = parse_header_block(lines, limits.max_headers)?;
    let head = ResponseHead {
        version,
        status,
        reason,
        headers,
    };
    Ok(Some((head, end)))
}

/// Where the head ends: the index just past the blank line (`\r\n\r\n` or
/// `\n\n`, mixed forms included), searching from about `from`.
///
/// A caller that reads in pieces passes the previous buffer length as
/// `from`, so that each byte is searched about once, not once per read.
pub fn find_head_end(buffer: &[u8], from: usize) -> Option<usize> {
    // Back up three bytes: the terminator may straddle two reads.
    let mut start = from.min(buffer.len()).saturating_sub(3);
    while let Some(offset) = buffer[start..].iter().position(|&byte| byte == b'\n') {
        let line_feed = start + offset;
        match &buffer[line_feed + 1..] {
            [b'\n', ..] => return Some(line_feed + 2),
            [b'\r', b'\n', ..] => return Some(line_feed + 3),
            _ => start = line_feed + 1,
        }
    }
    None
}

/// Like [`find_head_end`], but an error as soon as the head is known to be
/// longer than `max_bytes`: when it ends past them, or when more than
/// `max_bytes` have arrived and it has not ended yet.
pub(crate) fn head_end_within(
    buffer: &[u8],
    from: usize,
    max_bytes: usize,
) -> Result<Option<usize>, Error> {
    match find_head_end(buffer, from) {
        Some(end) if end <= max_bytes => Ok(Some(end)),
        None if buffer.len() <= max_bytes => Ok(None),
        _ => Err(Error::HeadersTooLarge { limit: max_bytes }),
    }
}

/// The lines of the head at the start of `head`, each without its CRLF or
/// LF, up to (not including) the blank line that ends it.
pub(crate) fn head_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    head.split(|&byte| byte == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .take_while(|line| !line.is_empty())
}

/// The versions tandem speaks, as they are spelled on the wire.
const VERSIONS: [(&[u8], Version); 2] = [
    (b"HTTP/1.1", Version::Http11),
    (b"HTTP/1.0", Version::Http10),
];

/// Whether `buffer` may still turn into a status line: its first bytes (as
/// many as it has, up to nine) agree with `HTTP/1.1 ` or `HTTP/1.0 `.
/// Looks at nine bytes at most, so it is cheap to ask after every read.
pub(crate) fn could_be_status_line(buffer: &[u8]) -> bool {
    VERSIONS.iter().any(|(name, _)| {
        let status_line_start = name.iter().chain(b" ");
        buffer
            .iter()
            .zip(status_line_start)
            .all(|(got, want)| got == want)
    })
}

/// The error for a response that does not start with a known version.
fn not_a_version() -> Error {
    Error::malformed(Part::StatusLine, "expected \"HTTP/1.1 \" or \"HTTP/1.0 \"")
}

/// `HTTP/1.1 200 OK`, `HTTP/1.1 200 ` or `HTTP/1.1 200`.
fn parse_status_line(line: &[u8]) -> Result<(Version, u16, String), Error> {
    let malformed = |reason| Error::malformed(Part::StatusLine, reason);
    let (version, rest) = line
        .iter()
        .position(|&byte| byte == b' ')
        .and_then(|space| Some((Version::from_name(&line[..space])?, &line[space + 1..])))
        .ok_or_else(not_a_version)?;
    let (code, reason) = match rest {
        [a, b, c, reason @ ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => (
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'),
            reason,
        ),
        _ => return Err(malformed("the status code must be three digits")),
    };
    let reason = match reason {
        [] => &[][..],
        [b' ', reason @ ..] => reason,
        _ => return Err(malformed("the status code must be three digits")),
    };
    if code < 100 {
        return Err(malformed("the status code is below 100"));
    }
    if reason.iter().any(|&byte| is_forbidden_control(byte)) {
        return Err(malformed("control character in the reason phrase"));
    }
    Ok((version, code, String::from_utf8_lossy(reason).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Option<(ResponseHead, usize)>, Error> {
        parse_response_head(bytes, &HeadLimits::default())
    }

    fn head(bytes: &[u8]) -> ResponseHead {
        parse(bytes).unwrap().unwrap().0
    }

    fn malformed_part(bytes: &[u8]) -> Part {
        match parse(bytes) {
            Err(Error::Malformed { part, .. }) => part,
            other => panic!("expected Malformed for {bytes:?}, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_complete_head() {
        let bytes = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nX-A:  1 \r\n\r\nbody";
        let (head, consumed) = parse(bytes).unwrap().unwrap();
        assert_eq!(head.version, Version::Http11);
        assert_eq!(head.status, 404);
        assert_eq!(head.reason, "Not Found");
        assert_eq!(head.headers.get("content-type"), Some("text/html"));
        assert_eq!(head.headers.get("x-a"), Some("1"));
        assert_eq!(&bytes[consumed..], b"body");
    }

    #[test]
    fn reason_phrase_is_optional() {
        assert_eq!(head(b"HTTP/1.1 200\r\n\r\n").reason, "");
        assert_eq!(head(b"HTTP/1.1 200 \r\n\r\n").reason, "");
        assert_eq!(
            head(b"HTTP/1.0 204 No Content\n\n").version,
            Version::Http10
        );
    }

    #[test]
    fn incomplete_until_the_blank_line() {
        let bytes = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
        for cut in 0..bytes.len() {
            assert!(parse(&bytes[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        assert!(parse(bytes).unwrap().is_some());
    }

    #[test]
    fn finds_the_end_across_reads() {
        let bytes = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nrest";
        // `from` is where the previous, unsuccessful search stopped.
        for from in 0..=25 {
            assert_eq!(find_head_end(bytes, from), Some(25), "from {from}");
        }
        assert_eq!(find_head_end(b"a\n\nb", 3), Some(3));
    }

    #[test]
    fn rejects_bad_status_lines() {
        for bad in [
            &b"\r\n\r\n"[..],
            b"HTTP/1.1\r\n\r\n",
            b"HTTP/2 200 OK\r\n\r\n",
            b"http/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 -20 OK\r\n\r\n",
            b"HTTP/1.1 099 OK\r\n\r\n",
            b"HTTP/1.1  200 OK\r\n\r\n",
            b"HTTP/1.1 200 O\x00K\r\n\r\n",
            b"HTTP/1.1 200 O\rK\r\n\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
        ] {
            assert_eq!(malformed_part(bad), Part::StatusLine, "{bad:?}");
        }
        // The header lines follow the shared grammar (tested in fields.rs).
        assert_eq!(
            malformed_part(b"HTTP/1.1 200 OK\r\nName : space\r\n\r\n"),
            Part::HeaderLine
        );
    }

    #[test]
    fn enforces_the_limits() {
        let limits = HeadLimits {
            max_bytes: 64,
            max_headers: 2,
        };
        let long = [&b"HTTP/1.1 200 OK\r\nX: "[..], &[b'a'; 100]].concat();
        assert!(matches!(
            parse_response_head(&long, &limits),
            Err(Error::HeadersTooLarge { limit: 64 })
        ));
        let complete_but_long = [&long[..], b"\r\n\r\n"].concat();
        assert!(matches!(
            parse_response_head(&complete_but_long, &limits),
            Err(Error::HeadersTooLarge { limit: 64 })
        ));
        let many = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert!(matches!(
            parse_response_head(many, &limits),
            Err(Error::TooManyHeaders { limit: 2 })
        ));
    }

    #[test]
    fn refuses_what_cannot_become_a_status_line_at_once() {
        // No blank line yet, but these can never start a response.
        for early in [
            &b"<html>"[..],
            b"\x00\x00\x12\x04\x00",
            b"HTTP/2 ",
            b"HTTP/1.1\r",
            b"SSH-2.0",
        ] {
            assert_eq!(malformed_part(early), Part::StatusLine, "{early:?}");
        }
        // Every prefix of a real status line is still only incomplete.
        for cut in 0..=9 {
            assert!(parse(&b"HTTP/1.0 200 OK\r\n"[..cut]).unwrap().is_none());
        }
    }

    #[test]
    fn never_panics_on_prefixes_of_garbage() {
        // A cheap stand-in for fuzzing: every prefix of some nasty inputs.
        let inputs: [&[u8]; 4] = [
            b"HTTP/1.1 200 OK\r\n\r\r\n\n\n",
            b"\n\n\r\n\r\n",
            b"HTTP/1.1 \xff\xfe\xfd\r\n\xff: \xff\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
        ];
        for input in inputs {
            for cut in 0..=input.len() {
                let _ = parse(&input[..cut]);
            }
        }
    }
}
