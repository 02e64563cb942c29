//! Everything that can go wrong with a request, as one enum to match on.
//!
//! # Why
//!
//! A download pipeline reacts differently to different failures: a refused
//! connection is worth retrying later, a malformed response is not, a body
//! over the size limit is a policy decision. So every failure is a variant
//! of [`Error`] that says what happened and carries what is needed to
//! report it (the host, the address, the limit that was hit), instead of one
//! opaque string.
//!
//! # How
//!
//! Each layer produces its own variants: the URL parser [`Error::InvalidUrl`]
//! and [`Error::UnsupportedScheme`]; the connector [`Error::Dns`],
//! [`Error::Connect`] and [`Error::Timeout`]; the response parser
//! [`Error::Malformed`] and the size limits; the redirect loop
//! [`Error::TooManyRedirects`] and [`Error::RedirectScheme`]; the https
//! transport [`Error::Certificate`] (`tls_error.rs`), and the builder
//! [`Error::RootCertificate`]. A socket that
//! fails after the connection was made (a reset, an early close) is
//! [`Error::Io`], so `?` on an `io::Result` converts to it.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// Why a request failed.
///
/// ```
/// use tandem::http::Error;
/// let error = tandem::block_on(tandem::http::get("ftp://example.com/")).unwrap_err();
/// assert!(matches!(error, Error::UnsupportedScheme(ref scheme) if scheme == "ftp"));
/// ```
#[derive(Debug)]
pub enum Error {
    /// The URL (or a redirect's `Location`) could not be parsed.
    InvalidUrl {
        /// The text that was given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The URL's scheme is neither `http` nor `https`.
    UnsupportedScheme(String),
    /// The host name could not be resolved to an address.
    Dns {
        /// The name that was looked up.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// No TCP connection could be made. A closed port shows as
    /// `source.kind() == io::ErrorKind::ConnectionRefused`.
    Connect {
        /// The last address tried.
        addr: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// A time limit of the [`Client`](super::Client) ran out.
    Timeout {
        /// Which limit.
        kind: TimeoutKind,
        /// Its value.
        after: Duration,
    },
    /// The server's bytes are not a valid HTTP/1.1 response.
    Malformed {
        /// Where in the response the problem is.
        part: Part,
        /// What is wrong there.
        reason: &'static str,
    },
    /// The response head (status line and headers, or the trailers of a
    /// chunked body) is larger than the limit.
    HeadersTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The response has more header fields than the limit.
    TooManyHeaders {
        /// The limit, in fields.
        limit: usize,
    },
    /// The response body is larger than the limit. Detected before the
    /// bytes past the limit are stored.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The server kept redirecting after `limit` redirects were followed.
    TooManyRedirects {
        /// The limit, in redirects.
        limit: u32,
    },
    /// A redirect points to a scheme other than `http` or `https`.
    RedirectScheme {
        /// The redirect's `Location`.
        location: String,
    },
    /// The connection failed after it was made: a reset, or a close before
    /// the response was complete (`io::ErrorKind::UnexpectedEof`).
    Io(io::Error),
    /// The server's certificate was refused (https): the handshake stopped
    /// before any request was sent.
    Certificate {
        /// The host the URL names.
        host: String,
        /// Why the certificate was refused.
        problem: CertificateProblem,
    },
    /// A root certificate given to
    /// `ClientBuilder::add_root_certificate` (feature `tls`)
    /// is not a PEM certificate.
    RootCertificate {
        /// What is wrong with it.
        reason: String,
    },
    /// The https transport (ureq and rustls) failed in another way; the
    /// message is theirs.
    Tls(String),
    /// An `https://` URL, but tandem was built without the `tls` feature.
    TlsDisabled,
}

/// Which time limit ran out, in an [`Error::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// Resolving the host and opening the TCP connection.
    Connect,
    /// The whole request: connecting, redirects, reading the body.
    Total,
}

/// Why a server's certificate was refused, in an [`Error::Certificate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateProblem {
    /// No trusted root vouches for it: it is self-signed, or signed by a
    /// private authority whose root was not added
    /// (`ClientBuilder::add_root_certificate` (feature `tls`),
    /// `tandem --cacert`).
    UntrustedIssuer,
    /// It is not valid for the host name (or IP address) of the URL.
    WrongHost,
    /// It has expired, or is not valid yet.
    Expired,
    /// It is refused for another reason: malformed, revoked, a bad
    /// signature, the wrong purpose.
    Invalid,
}

/// The part of a response that is malformed, in an [`Error::Malformed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `HTTP/1.1 200 OK`.
    StatusLine,
    /// A `Name: value` line of the head.
    HeaderLine,
    /// The `Content-Length` header.
    ContentLength,
    /// The `Transfer-Encoding` header.
    TransferEncoding,
    /// The hexadecimal size line of a chunk.
    ChunkSize,
    /// The line break that must follow a chunk's data.
    ChunkData,
    /// A trailer line after the last chunk.
    Trailer,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { url, reason } => write!(f, "invalid URL {url:?}: {reason}"),
            Error::UnsupportedScheme(scheme) => {
                write!(f, "unsupported URL scheme {scheme:?}: only http and https")
            }
            Error::Dns { host, source } => write!(f, "could not resolve host {host:?}: {source}"),
            Error::Connect { addr, source } => write!(f, "could not connect to {addr}: {source}"),
            Error::Timeout { kind, after } => {
                let what = match kind {
                    TimeoutKind::Connect => "connecting",
                    TimeoutKind::Total => "the whole request",
                };
                write!(f, "timed out: {what} took longer than {after:?}")
            }
            Error::Malformed { part, reason } => {
                write!(f, "malformed response, {part}: {reason}")
            }
            Error::HeadersTooLarge { limit } => {
                write!(
                    f,
                    "response headers are larger than the limit of {limit} bytes"
                )
            }
            Error::TooManyHeaders { limit } => {
                write!(
                    f,
                    "response has more than the limit of {limit} header fields"
                )
            }
            Error::BodyTooLarge { limit } => {
                write!(f, "response body is larger than the limit of {limit} bytes")
            }
            Error::TooManyRedirects { limit } => {
                write!(f, "still redirected after following {limit} redirects")
            }
            Error::RedirectScheme { location } => {
                write!(
                    f,
                    "redirect to {location:?}: only http and https are followed"
                )
            }
            Error::Io(error) => write!(f, "connection failed mid-response: {error}"),
            Error::Certificate { host, problem } => {
                write!(f, "the certificate of {host} was refused: {problem}")
            }
            Error::RootCertificate { reason } => {
                write!(f, "invalid root certificate: {reason}")
            }
            Error::Tls(message) => write!(f, "https request failed: {message}"),
            Error::TlsDisabled => {
                write!(
                    f,
                    "https URL, but tandem was built without the `tls` feature"
                )
            }
        }
    }
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertificateProblem::UntrustedIssuer => {
                "it is not signed by a trusted root (self-signed, or a private authority \
                 whose root certificate was not given)"
            }
            CertificateProblem::WrongHost => "it is not valid for this host name",
            CertificateProblem::Expired => "it has expired or is not valid yet",
            CertificateProblem::Invalid => "it is invalid",
        })
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::StatusLine => "status line",
            Part::HeaderLine => "header line",
            Part::ContentLength => "Content-Length",
            Part::TransferEncoding => "Transfer-Encoding",
            Part::ChunkSize => "chunk size line",
            Part::ChunkData => "end of chunk data",
            Part::Trailer => "trailer line",
        })
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Dns { source, .. } | Error::Connect { source, .. } | Error::Io(source) => {
                Some(source)
            }
            _ => None,
        }
    }
}

/// A socket error once connected: the connection broke mid-response.
impl From<io::Error> for Error {
    fn from(error: io::Error) -> Error {
        Error::Io(error)
    }
}

impl Error {
    /// A `Malformed` error: `part` is wrong because of `reason`.
    pub(crate) fn malformed(part: Part, reason: &'static str) -> Error {
        Error::Malformed { part, reason }
    }
}
