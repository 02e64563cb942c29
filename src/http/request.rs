//! Writing a request: the method, the target, and a few header lines.
//!
//! # Why
//!
//! A GET request is a handful of text lines, so tandem writes it by hand
//! instead of pulling in a library. The one danger is *injection*: a CR or
//! LF inside the target or a header value would end the line early and let
//! the rest pass as a header of its own, or as a second request. The URL
//! parser already refuses control characters, and the user agent is
//! cleaned when it is set, so [`encode_request`] can write its inputs as
//! they are.
//!
//! # How
//!
//! ```text
//! GET /path?query HTTP/1.1
//! Host: example.com:8080
//! User-Agent: tandem/0.1.0
//! Accept: */*
//! Connection: close          (only when keep-alive is off)
//! <blank line>
//! ```
//!
//! HTTP/1.1 keeps connections alive unless either side says
//! `Connection: close`, so nothing is sent when keep-alive is on.

use super::Url;

/// The request methods tandem sends. Both are safe and idempotent, which is
/// what makes retrying a request on a stale kept-alive connection correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Fetch the resource.
    Get,
    /// Fetch only the head: same status and headers, no body.
    Head,
}

impl Method {
    /// `"GET"` or `"HEAD"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
        }
    }

    /// Whether sending the request twice has the same effect as once
    /// (RFC 9110 §9.2.2), so that a failed attempt may be retried.
    pub fn is_idempotent(self) -> bool {
        match self {
            Method::Get | Method::Head => true,
        }
    }
}

/// The bytes of a `method` request for `url`.
///
/// `user_agent` must hold no control characters (the
/// [`ClientBuilder`](super::ClientBuilder) guarantees it).
pub(crate) fn encode_request(
    method: Method,
    url: &Url,
    user_agent: &str,
    keep_alive: bool,
) -> Vec<u8> {
    let connection = if keep_alive {
        ""
    } else {
        "Connection: close\r\n"
    };
    format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n{connection}\r\n",
        method.as_str(),
        url.target(),
        url.authority(),
    )
    .into_bytes()
}

/// `text` with every control character replaced by a space: safe to use as
/// a header value.
pub(crate) fn without_controls(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_request_head() {
        let url = Url::parse("http://example.com:8080/a?b=c#frag").unwrap();
        let request = encode_request(Method::Get, &url, "t/1", true);
        assert_eq!(
            request,
            b"GET /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: t/1\r\nAccept: */*\r\n\r\n"
        );
        let url = Url::parse("http://example.com/").unwrap();
        let request = String::from_utf8(encode_request(Method::Head, &url, "t", false)).unwrap();
        assert!(request.starts_with("HEAD / HTTP/1.1\r\nHost: example.com\r\n"));
        assert!(request.ends_with("Connection: close\r\n\r\n"));
    }

    #[test]
    fn cleans_header_values() {
        assert_eq!(without_controls("a\r\nX-Evil: 1\0"), "a  X-Evil: 1 ");
    }
}
