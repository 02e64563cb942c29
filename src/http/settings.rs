//! Every setting of a client, in one place: what the builder sets and both
//! transports read.
//!
//! # Why
//!
//! The plain-TCP path (`client.rs`, `connection.rs`) and the https path
//! (`tls.rs`) must apply the same timeouts and limits, or a limit would
//! hold for one scheme and not the other. So the settings are one value,
//! built by the [`ClientBuilder`](super::ClientBuilder), owned by the
//! [`Client`](super::Client), and handed to the TLS transport as they are.
//! It lives in its own file so that neither transport imports the other.

use std::time::Duration;

use super::connection::ExchangeLimits;
use super::connection_pool::MAX_IDLE_AGE;
use super::parse::HeadLimits;

/// Every setting of a client; see the [`ClientBuilder`](super::ClientBuilder)
/// methods for what each means.
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
