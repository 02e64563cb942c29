//! https:// through ureq, on the blocking thread pool (feature `tls`).
//!
//! # Why
//!
//! TLS is a protocol to *use*, not to write in a tutorial: a TLS stack
//! (here rustls, through ureq) is large and security-critical. ureq is a
//! blocking client, so tandem runs each https request with
//! [`blocking::unblock`]: the loop thread awaits the result while a pool
//! thread waits on the network, exactly as Python code would wrap a
//! blocking library in `run_in_executor`. The cost is one thread per
//! https request in flight, instead of one socket.
//!
//! # How
//!
//! The client's limits are handed to ureq where ureq has a matching
//! setting, and checked afterwards where it does not:
//!
//! | limit                | how                                               |
//! |----------------------|---------------------------------------------------|
//! | connect timeout      | ureq `timeout_connect`                            |
//! | total timeout        | ureq `timeout_global`, *and* tandem's own timer   |
//! | max header bytes     | ureq `max_response_header_size`                   |
//! | max header count     | checked after ureq parsed the head                |
//! | max body bytes       | ureq's body reader `limit`                        |
//! | redirects            | off in ureq: the [`Client`](super::Client) follows them |
//! | keep-alive           | ureq's own pool: `max_idle_per_host`, `max_idle_connections`, `max_idle_age` |
//! | root certificates    | ureq `tls_config().root_certs` (roots.rs)         |
//!
//! ureq's errors become tandem's in `tls_error.rs`; a refused certificate
//! is [`Error::Certificate`].
//!
//! ureq does not keep the reason phrase of a status line, so over https
//! [`Response::reason`] is the standard phrase of the status code (`OK`
//! for 200), or empty for a code without one, not the server's words.
//!
//! Following redirects in the client keeps the redirect limit and the
//! scheme check the same for both transports, and lets an https page
//! redirect to an http one.
//!
//! When tandem's total timeout fires first, the awaiting task gives up at
//! once, but the pool thread runs on until ureq's own `timeout_global`
//! (the same duration) stops it.

use std::time::{Duration, Instant};

use ureq::http::Version as UreqVersion;

use super::parse::{ResponseHead, Version};
use super::settings::ClientSettings;
use super::tls_error::from_ureq;
use super::{Error, Headers, Method, Response, Url, roots};

/// A ureq agent configured like the client.
pub(crate) struct TlsClient {
    agent: ureq::Agent,
    settings: ClientSettings,
}

impl TlsClient {
    /// An agent applying `settings`.
    pub(crate) fn new(settings: &ClientSettings) -> TlsClient {
        let config = ureq::Agent::config_builder()
            .https_only(true)
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(finite(settings.connect_timeout))
            .timeout_global(finite(settings.total_timeout))
            .max_response_header_size(settings.limits.head.max_bytes)
            .max_idle_connections_per_host(settings.idle_per_host())
            .max_idle_connections(settings.idle_total())
            .max_idle_age(settings.max_idle_age)
            .user_agent(settings.user_agent.as_str())
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(roots::root_certs(&settings.root_certificates))
                    .build(),
            )
            .build();
        TlsClient {
            agent: ureq::Agent::new_with_config(config),
            settings: settings.clone(),
        }
    }

    /// One https request, one response: no redirects.
    pub(crate) async fn fetch(&self, method: Method, url: Url) -> Result<Response, Error> {
        let agent = self.agent.clone();
        let settings = self.settings.clone();
        blocking::unblock(move || fetch_blocking(&agent, &settings, method, url)).await
    }
}

/// The request itself, run on a blocking pool thread.
fn fetch_blocking(
    agent: &ureq::Agent,
    settings: &ClientSettings,
    method: Method,
    url: Url,
) -> Result<Response, Error> {
    let target = url.to_string();
    let sent = match method {
        Method::Get => agent.get(&target).call(),
        Method::Head => agent.head(&target).call(),
    };
    let (parts, body) = sent
        .map_err(|error| from_ureq(error, &url, settings))?
        .into_parts();
    let max_headers = settings.limits.head.max_headers;
    if parts.headers.len() > max_headers {
        return Err(Error::TooManyHeaders { limit: max_headers });
    }
    let mut headers = Headers::new();
    for (name, value) in &parts.headers {
        headers.push(name.as_str(), String::from_utf8_lossy(value.as_bytes()));
    }
    let body = match method {
        Method::Head => Vec::new(),
        Method::Get => body
            .into_with_config()
            .limit(settings.limits.max_body_bytes)
            .read_to_vec()
            .map_err(|error| from_ureq(error, &url, settings))?,
    };
    let head = ResponseHead {
        version: match parts.version {
            UreqVersion::HTTP_10 => Version::Http10,
            _ => Version::Http11,
        },
        status: parts.status.as_u16(),
        reason: parts
            .status
            .canonical_reason()
            .unwrap_or_default()
            .to_string(),
        headers,
    };
    Ok(Response::new(head, body, url))
}

/// `limit`, or `None` (no limit) when it is too large to add to a clock
/// reading, as `Duration::MAX` is: ureq would panic on the addition. The
/// margin covers ureq adding it to a later reading.
fn finite(limit: Duration) -> Option<Duration> {
    Instant::now()
        .checked_add(limit.saturating_mul(2))
        .map(|_| limit)
}
