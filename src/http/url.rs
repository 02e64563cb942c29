//! URLs: just enough of RFC 3986 to send a request and follow a redirect.
//!
//! # Why
//!
//! A request needs four things from a URL: the scheme (which transport),
//! the host and port (where to connect) and the *request target*, the path
//! and query that go on the request line. A redirect needs one more: a
//! `Location` may be relative (`/login`, `../img.png`, `?page=2`) and must be
//! resolved against the URL it came from. That is all this file does; it is
//! not a general URL library.
//!
//! # How
//!
//! [`Url::parse`] splits `scheme://host:port/path?query#fragment`, drops the
//! fragment (it is never sent), and checks every part, because the target
//! and host are written verbatim into the request: a control character
//! there could smuggle a second request. Spaces and non-ASCII bytes in the
//! path and query are percent-encoded, as browsers do; control characters
//! are rejected. User info (`user:password@`) is rejected rather than
//! silently dropped. [`Url::join`] resolves a reference with the
//! algorithm of RFC 3986 §5.2, including `.` and `..` segments
//! (`url/join.rs`).

mod join;

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use super::Error;

/// The transport a URL asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain TCP, handled by tandem's own HTTP/1.1 code.
    Http,
    /// TLS, handled by ureq on the blocking pool (feature `tls`).
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// An absolute `http` or `https` URL, checked and ready to request.
///
/// ```
/// let url: tandem::http::Url = "http://Example.com:8080/a/b?q=1#top".parse()?;
/// assert_eq!(url.host(), "example.com");
/// assert_eq!(url.port(), 8080);
/// assert_eq!(url.target(), "/a/b?q=1");
/// assert_eq!(url.join("../c")?.to_string(), "http://example.com:8080/c");
/// # Ok::<(), tandem::http::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Url {
    scheme: Scheme,
    /// Lowercase; an IPv6 literal without its brackets.
    host: String,
    port: u16,
    /// Path and query, starting with `/`; safe to write on the request line.
    target: String,
}

impl Url {
    /// Parses an absolute `http://` or `https://` URL.
    ///
    /// A scheme other than those two is [`Error::UnsupportedScheme`]; any
    /// other problem is [`Error::InvalidUrl`].
    pub fn parse(input: &str) -> Result<Url, Error> {
        let invalid = |reason| Error::InvalidUrl {
            url: input.to_string(),
            reason,
        };
        let text = input.trim();
        let (scheme, rest) = split_scheme(text)
            .ok_or_else(|| invalid("missing scheme: expected http:// or https://"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => return Err(Error::UnsupportedScheme(other.to_string())),
        };
        let rest = rest
            .strip_prefix("//")
            .ok_or_else(|| invalid("expected // after the scheme"))?;
        let without_fragment = rest.split('#').next().unwrap_or_default();
        let authority_end = without_fragment
            .find(['/', '?'])
            .unwrap_or(without_fragment.len());
        let (authority, target) = without_fragment.split_at(authority_end);
        let (host, port) = parse_authority(authority).map_err(invalid)?;
        let target = encode_target(target).map_err(invalid)?;
        Ok(Url {
            scheme,
            host,
            port: port.unwrap_or(scheme.default_port()),
            target: with_leading_slash(target),
        })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host: a lowercase name, an IPv4 address, or an IPv6 address
    /// without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request target: path and query, starting with `/`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The path alone, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }

    /// `host`, or `host:port` when the port is not the default, with IPv6
    /// brackets: the value of the `Host` header.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.target
        )
    }
}

impl FromStr for Url {
    type Err = Error;

    fn from_str(input: &str) -> Result<Url, Error> {
        Url::parse(input)
    }
}

/// Splits `scheme:rest` when `text` starts with a syntactically valid
/// scheme (a letter, then letters, digits, `+`, `-` or `.`).
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// Splits `host[:port]` or `[ipv6][:port]`; the host comes back lowercase.
fn parse_authority(authority: &str) -> Result<(String, Option<u16>), &'static str> {
    if authority.contains('@') {
        return Err("user info (user:password@) is not supported");
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (address, after) = bracketed
            .split_once(']')
            .ok_or("unclosed [ in an IPv6 address")?;
        address
            .parse::<Ipv6Addr>()
            .map_err(|_| "invalid IPv6 address")?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or("junk after an IPv6 address")?,
            ),
        };
        (address, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("missing host");
    }
    let host_chars_ok = authority.starts_with('[')
        || host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !host_chars_ok {
        return Err("host may contain only ASCII letters, digits, '-', '.' and '_'");
    }
    let port = match port {
        // `http://host:/` means the default port (RFC 3986 §3.2.3).
        None | Some("") => None,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => match digits.parse::<u16>() {
            Ok(0) | Err(_) => return Err("port must be between 1 and 65535"),
            Ok(port) => Some(port),
        },
        Some(_) => return Err("port must be a number"),
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// Makes a path and query safe for the request line: percent-encodes spaces
/// and non-ASCII bytes, rejects control characters.
fn encode_target(target: &str) -> Result<String, &'static str> {
    let mut encoded = String::with_capacity(target.len());
    for byte in target.bytes() {
        match byte {
            0x00..=0x1F | 0x7F => return Err("control character in the path or query"),
            b' ' | 0x80..=0xFF => encoded.push_str(&format!("%{byte:02X}")),
            _ => encoded.push(char::from(byte)),
        }
    }
    Ok(encoded)
}

/// `""` and `"?q"` become `"/"` and `"/?q"`.
fn with_leading_slash(target: String) -> String {
    if target.starts_with('/') {
        target
    } else {
        format!("/{target}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn parses_the_parts() {
        let parsed = url("HTTP://Host.Example:8080/p/a%20th?x=1&y#frag");
        assert_eq!(parsed.scheme(), Scheme::Http);
        assert_eq!(parsed.host(), "host.example");
        assert_eq!(parsed.port(), 8080);
        assert_eq!(parsed.target(), "/p/a%20th?x=1&y");
        assert_eq!(url("https://h").target(), "/");
        assert_eq!(url("https://h").port(), 443);
        assert_eq!(url("http://h?q").target(), "/?q");
        assert_eq!(url("http://h:/").port(), 80);
        assert_eq!(url("http://[::1]:81/").host(), "::1");
        assert_eq!(url("http://[::1]:81/").authority(), "[::1]:81");
        assert_eq!(url("http://h/a b/é").target(), "/a%20b/%C3%A9");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "",
            "example.com/x",
            "http:/x",
            "http://",
            "http://:80/",
            "http://u:p@h/",
            "http://h:0/",
            "http://h:65536/",
            "http://h:x/",
            "http://h\r\nX: y/",
            "http://h/\r\nX: y",
            "http://[::1/",
            "http://[zz]/",
            "http://hé/",
        ] {
            assert!(
                matches!(Url::parse(bad), Err(Error::InvalidUrl { .. })),
                "{bad:?} should be invalid"
            );
        }
        assert!(matches!(
            Url::parse("ftp://h/"),
            Err(Error::UnsupportedScheme(scheme)) if scheme == "ftp"
        ));
    }
}
