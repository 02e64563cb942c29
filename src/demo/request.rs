//! A request head: what the server needs from it, parsed with the client's
//! rules.
//!
//! # Why
//!
//! HTTP/1.1 writes a request head as it writes a response head, so the
//! grammar is the client's, not a second copy: the lines of the head
//! ([`crate::http::parse`]), header fields into [`Headers`]
//! ([`crate::http::fields`]). Only the request line has no client
//! counterpart, and it is built from the same pieces (tokens, [`Version`]s).
//!
//! Where a server may be stricter than a client, this one is, and says
//! so (RFC 9110 §5.5 and RFC 9112 §5.2 allow both): a head that is not
//! UTF-8 and a folded header line are refused with `400` rather than
//! repaired, as the client must repair what a server sends.
//!
//! # How
//!
//! ```text
//!   "METHOD /path?query HTTP/1.1\r\n"   parse_request_line: token, path, version
//!   "Name: value\r\n" ...                parse_header_block (the client's)
//!   "\r\n"                               end of head (found by the reader)
//! ```
//!
//! [`Request::parse`] takes a whole head, as `request_reader.rs` finds it;
//! a refusal is a [`Rejection`]: `400`, or `505` for an HTTP version other
//! than 1.0 and 1.1.

use super::rejection::Rejection;
use crate::http::Headers;
use crate::http::fields::{folded_continuation, is_token, parse_header_block};
use crate::http::parse::{Version, head_lines};

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    method: String,
    /// The request target as sent: path and query.
    target: String,
    version: Version,
    /// Names as sent (case kept, for `/get` to echo); values trimmed.
    headers: Headers,
}

impl Request {
    /// Parses a whole head: request line, then header lines up to the blank
    /// one.
    pub(crate) fn parse(head: &[u8]) -> Result<Request, Rejection> {
        // The server echoes requests as text: it refuses a head that is not
        // UTF-8 rather than repair it as the client must.
        if std::str::from_utf8(head).is_err() {
            return Err(Rejection::bad_request("the request head is not UTF-8"));
        }
        let mut lines = head_lines(head);
        let (method, target, version) = parse_request_line(lines.next().unwrap_or_default())?;
        // A server may refuse obs-fold (RFC 9112 §5.2), which a client must join.
        if lines
            .clone()
            .any(|line| folded_continuation(line).is_some())
        {
            return Err(Rejection::bad_request(
                "folded header lines are not accepted",
            ));
        }
        // No count limit of its own: the reader's head limit bounds the fields.
        let headers = parse_header_block(lines, usize::MAX)?;
        Ok(Request {
            method,
            target,
            version,
            headers,
        })
    }

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
    pub(crate) fn headers(&self) -> &Headers {
        &self.headers
    }

    /// Whether the request is HTTP/1.1 (else HTTP/1.0).
    pub(crate) fn http11(&self) -> bool {
        self.version == Version::Http11
    }

    /// Whether the client lets the connection carry another request:
    /// HTTP/1.1 unless it says `Connection: close`, HTTP/1.0 only if it says
    /// `Connection: keep-alive` (RFC 9112 §9.3).
    pub(crate) fn keep_alive(&self) -> bool {
        let says = |token| self.headers.contains_token("connection", token);
        !says("close") && (self.http11() || says("keep-alive"))
    }
}

/// `METHOD /path?query HTTP/1.1`: a token, a path and a version, separated
/// by single spaces. A version that is not 1.0 or 1.1 gets `505`.
fn parse_request_line(line: &[u8]) -> Result<(String, String, Version), Rejection> {
    let mut parts = line.split(|&byte| byte == b' ');
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
    if !target.starts_with(b"/") {
        return Err(Rejection::bad_request("the request target is not a path"));
    }
    let version = match Version::from_name(version) {
        Some(version) => version,
        None if version.starts_with(b"HTTP/") => {
            return Err(Rejection::new(
                505,
                "this server speaks HTTP/1.0 and HTTP/1.1",
            ));
        }
        None => {
            return Err(Rejection::bad_request(
                "the request line does not end with an HTTP version",
            ));
        }
    };
    // The head is UTF-8 (checked first), so nothing is replaced.
    let text = |bytes| String::from_utf8_lossy(bytes).into_owned();
    Ok((text(method), text(target), version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(head: &[u8]) -> Request {
        Request::parse(head).unwrap()
    }

    fn status(head: &[u8]) -> u16 {
        Request::parse(head).unwrap_err().status
    }

    #[test]
    fn parses_request_line_headers_and_query() {
        let request =
            parse(b"GET /image/png?w=10&h=20&flag HTTP/1.1\r\nHost: x\r\nX-Demo:  yes \r\n\r\n");
        assert_eq!(request.method(), "GET");
        assert_eq!(request.path(), "/image/png");
        assert_eq!(request.query_param("h"), Some("20"));
        assert_eq!(request.query_param("flag"), Some(""));
        assert_eq!(request.query_param("seed"), None);
        let demo: Vec<_> = request.headers().get_all("x-demo").collect();
        assert_eq!(demo, ["yes"]);
        assert!(request.keep_alive());
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        assert!(!parse(b"GET / HTTP/1.1\r\nconnection: TE, close\r\n\r\n").keep_alive());
        assert!(!parse(b"GET / HTTP/1.0\r\n\r\n").keep_alive());
        let kept = parse(b"GET /b HTTP/1.0\nConnection: Keep-Alive\n\n");
        assert!(!kept.http11());
        assert!(kept.keep_alive());
    }

    #[test]
    fn rejects_bad_request_lines() {
        for bad in [
            &b"GET /\r\n\r\n"[..],
            b"GET  / HTTP/1.1\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET http://example.com/ HTTP/1.1\r\n\r\n",
            b"GET / FTP/1.1\r\n\r\n",
        ] {
            assert_eq!(status(bad), 400, "{bad:?}");
        }
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), 505);
    }

    #[test]
    fn header_lines_follow_the_clients_grammar() {
        for bad in [
            &b"GET / HTTP/1.1\r\nNo colon\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nName : space\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
            // Stricter than the client: a server may refuse these two.
            b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: caf\xe9\r\n\r\n",
        ] {
            assert_eq!(status(bad), 400, "{bad:?}");
        }
    }
}
