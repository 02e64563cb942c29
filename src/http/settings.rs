//! Every setting of a client, in one place: the [`ClientBuilder`] that sets
//! them, and the value both transports read.
//!
//! # Why
//!
//! The plain-TCP path (`client.rs`, `connection.rs`) and the https path
//! (`tls.rs`) must apply the same timeouts and limits, or a limit would
//! hold for one scheme and not the other. So the settings are one value,
//! built by the [`ClientBuilder`], owned by the [`Client`], and handed to
//! the TLS transport as they are. It lives in its own file so that neither
//! transport imports the other; the builder lives here too, each of its
//! methods beside the defaults it documents.

use std::time::Duration;

use super::Client;

#[cfg(feature = "tls")]
use super::Error;
use super::connection::ExchangeLimits;
use super::connection_pool::MAX_IDLE_AGE;
use super::parse::HeadLimits;
use super::request::without_controls;

/// Every setting of a client; see the [`ClientBuilder`] methods for what
/// each means.
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) total_timeout: Duration,
    /// The head and body limits of every response.
    pub(crate) limits: ExchangeLimits,
    pub(crate) max_redirects: u32,
    pub(crate) user_agent: String,
    pub(crate) keep_alive: bool,
    pub(crate) max_idle_per_host: usize,
    /// Idle connections kept over all hosts.
    pub(crate) max_idle_connections: usize,
    pub(crate) max_idle_age: Duration,
    /// The roots https trusts instead of the built-in ones; none: built-in.
    #[cfg(feature = "tls")]
    pub(crate) root_certificates: Vec<ureq::tls::Certificate<'static>>,
}

impl ClientSettings {
    /// How many idle connections a transport may keep per host: none when
    /// keep-alive is off.
    pub(crate) fn idle_per_host(&self) -> usize {
        if self.keep_alive {
            self.max_idle_per_host
        } else {
            0
        }
    }

    /// How many idle connections a transport may keep over all hosts: none
    /// when keep-alive is off.
    pub(crate) fn idle_total(&self) -> usize {
        if self.keep_alive {
            self.max_idle_connections
        } else {
            0
        }
    }
}

impl Default for ClientSettings {
    /// The defaults the builder documents.
    fn default() -> ClientSettings {
        ClientSettings {
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(60),
            limits: ExchangeLimits {
                head: HeadLimits::default(),
                max_body_bytes: 64 * 1024 * 1024,
            },
            max_redirects: 10,
            user_agent: concat!("tandem/", env!("CARGO_PKG_VERSION")).to_string(),
            keep_alive: true,
            max_idle_per_host: 32,
            max_idle_connections: 128,
            max_idle_age: MAX_IDLE_AGE,
            #[cfg(feature = "tls")]
            root_certificates: Vec::new(),
        }
    }
}

/// Settings for a [`Client`]; start with [`Client::builder`].
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    settings: ClientSettings,
}

impl ClientBuilder {
    /// Limit on resolving the host and opening the TCP connection, per
    /// connection. Default: 10 s.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.settings.connect_timeout = limit;
        self
    }

    /// Limit on a whole request: connections, redirects, every body.
    /// Default: 60 s. `Duration::MAX` means no limit.
    pub fn total_timeout(mut self, limit: Duration) -> Self {
        self.settings.total_timeout = limit;
        self
    }

    /// Largest body accepted; a larger one is [`Error::BodyTooLarge`](super::Error::BodyTooLarge).
    /// Default: 64 MiB.
    pub fn max_body_bytes(mut self, limit: u64) -> Self {
        self.settings.limits.max_body_bytes = limit;
        self
    }

    /// Largest response head (status line and headers) accepted, and
    /// largest total of chunked trailers. Default: 64 KiB.
    pub fn max_header_bytes(mut self, limit: usize) -> Self {
        self.settings.limits.head.max_bytes = limit;
        self
    }

    /// Most header fields accepted in a response. Default: 100.
    pub fn max_headers(mut self, limit: usize) -> Self {
        self.settings.limits.head.max_headers = limit;
        self
    }

    /// Most redirects followed for one request. Default: 10. Zero means
    /// redirects are not followed: the 3xx response is returned as is.
    pub fn max_redirects(mut self, limit: u32) -> Self {
        self.settings.max_redirects = limit;
        self
    }

    /// The `User-Agent` header. Control characters (which could end the
    /// header line early) are replaced by spaces. Default: `tandem/<version>`.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.settings.user_agent = without_controls(user_agent);
        self
    }

    /// Whether connections are kept open for the next request to the same
    /// host. Default: on. Off sends `Connection: close`.
    pub fn keep_alive(mut self, enabled: bool) -> Self {
        self.settings.keep_alive = enabled;
        self
    }

    /// Most idle connections kept per host (scheme, host and port).
    /// Default: 32.
    pub fn max_idle_per_host(mut self, count: usize) -> Self {
        self.settings.max_idle_per_host = count;
        self
    }

    /// Most idle connections kept over all hosts; beyond it, the one idle
    /// the longest is closed. Default: 128.
    pub fn max_idle_connections(mut self, count: usize) -> Self {
        self.settings.max_idle_connections = count;
        self
    }

    /// The longest a connection is kept idle: older ones are closed when
    /// the pool is next used (no timer runs for them). Default:
    /// [`MAX_IDLE_AGE`](super::MAX_IDLE_AGE), 30 s.
    pub fn max_idle_age(mut self, age: Duration) -> Self {
        self.settings.max_idle_age = age;
        self
    }

    /// Trusts the certificate authorities in `pem` (one or more PEM
    /// `CERTIFICATE` blocks) for https, for a private authority or a
    /// company proxy. Once any root is added, the added roots *replace* the
    /// built-in (Mozilla) ones, as `curl --cacert` does; call it again to
    /// add more. [`Error::RootCertificate`] if `pem` holds no valid
    /// certificate. Feature `tls`.
    ///
    /// ```no_run
    /// let pem = std::fs::read("company-root.pem")?;
    /// let client = tandem::http::Client::builder().add_root_certificate(&pem)?.build();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tls")]
    pub fn add_root_certificate(mut self, pem: &[u8]) -> Result<Self, Error> {
        let certificates = super::roots::parse(pem)?;
        self.settings.root_certificates.extend(certificates);
        Ok(self)
    }

    /// The client.
    pub fn build(self) -> Client {
        Client::from_settings(self.settings)
    }
}
