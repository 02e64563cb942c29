//! Empty lines before a status line: skipped, a few of them.
//!
//! # Why
//!
//! Some servers send a stray line break before a response: aiohttp writes
//! one after `100 Continue`, and a server that ends a body with an extra
//! CRLF leaves one in front of the next response on a kept-alive
//! connection. RFC 9112 §2.2 lets a recipient be robust here: a client
//! "SHOULD ignore at least one empty line (CRLF) received prior to the
//! request-line", and the same tolerance for a status line costs nothing.
//! Without it such a response fails as a malformed status line.
//!
//! # How
//!
//! [`status_line_start`] looks at the start of the read buffer, before the
//! head parser does, and says where the status line begins, past at most
//! [`MAX_EMPTY_LINES`] empty lines (CRLF or a bare LF). More than that is
//! not a stray line break but a server sending nothing useful, and is an
//! error, so a stream of line breaks cannot keep the client reading. It is
//! asked before every head, the first on a connection and each one after a
//! 1xx interim response (`connection.rs`).

use super::Error;
use super::error::Part;

/// The most empty lines skipped before a status line.
pub const MAX_EMPTY_LINES: usize = 8;

/// Where the status line starts in `buffer`: `Ok(Some(offset))` past the
/// empty lines in front of it, `Ok(None)` while the buffer holds nothing
/// but (at most [`MAX_EMPTY_LINES`]) empty lines, perhaps ending in half a
/// CRLF, so that more bytes must be read to tell.
///
/// ```
/// use tandem::http::status_line::status_line_start;
/// assert_eq!(status_line_start(b"HTTP/1.1 200 OK\r\n")?, Some(0));
/// assert_eq!(status_line_start(b"\r\n\nHTTP/1.1 200 OK\r\n")?, Some(3));
/// assert_eq!(status_line_start(b"\r\n\r")?, None);
/// assert!(status_line_start(&b"\r\n".repeat(9)).is_err());
/// # Ok::<(), tandem::http::Error>(())
/// ```
pub fn status_line_start(buffer: &[u8]) -> Result<Option<usize>, Error> {
    let mut offset = 0;
    for _ in 0..=MAX_EMPTY_LINES {
        let line_break = match &buffer[offset..] {
            [] | [b'\r'] => return Ok(None),
            [b'\n', ..] => 1,
            [b'\r', b'\n', ..] => 2,
            _ => return Ok(Some(offset)),
        };
        offset += line_break;
    }
    // One empty line more than allowed has arrived.
    Err(Error::malformed(
        Part::StatusLine,
        "more than 8 empty lines before the status line",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_up_to_the_limit() {
        for count in 0..=MAX_EMPTY_LINES {
            for line_break in [&b"\r\n"[..], b"\n"] {
                let bytes = [&line_break.repeat(count)[..], b"HTTP/1.1 200 OK\r\n"].concat();
                assert_eq!(
                    status_line_start(&bytes).unwrap(),
                    Some(count * line_break.len()),
                    "{bytes:?}"
                );
            }
        }
    }

    #[test]
    fn waits_while_only_line_breaks_arrived() {
        for bytes in [&b""[..], b"\r", b"\n", b"\r\n\r", b"\n\r\n"] {
            assert_eq!(status_line_start(bytes).unwrap(), None, "{bytes:?}");
        }
        assert_eq!(
            status_line_start(&b"\r\n".repeat(MAX_EMPTY_LINES)).unwrap(),
            None
        );
    }

    #[test]
    fn refuses_more_than_the_limit() {
        let too_many = b"\r\n".repeat(MAX_EMPTY_LINES + 1);
        assert!(matches!(
            status_line_start(&too_many),
            Err(Error::Malformed {
                part: Part::StatusLine,
                ..
            })
        ));
    }

    #[test]
    fn a_lone_carriage_return_is_left_to_the_head_parser() {
        // Not an empty line: the head parser says it is no status line.
        assert_eq!(status_line_start(b"\rX").unwrap(), Some(0));
        assert_eq!(status_line_start(b"\r\n\rX").unwrap(), Some(2));
    }
}
