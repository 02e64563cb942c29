//! The client: redirects, timeouts, keep-alive and retry policy. Its
//! settings, and the builder that sets them, are `settings.rs`.
//!
//! # Why
//!
//! The other files know how to do one thing with bytes; this one decides
//! what to do. Python's `aiohttp.ClientSession` plays the same part: one
//! long-lived object that owns the connection pool and the settings, and
//! whose methods are called from many tasks at once.
//!
//! # How
//!
//! One call of [`Client::get`]:
//!
//! ```text
//! parse URL ─► ┌─ total timeout ───────────────────────────────────────┐
//!              │ loop over redirects (at most max_redirects):          │
//!              │   http:  pooled connection, or connect (connect       │
//!              │          timeout) ─► Connection::exchange ─► put back │
//!              │          if reusable                                  │
//!              │   https: ureq on the blocking pool (tls.rs)           │
//!              │   3xx with Location? resolve it, go round again       │
//!              └───────────────────────────────────────────────────────┘
//! ```
//!
//! A kept-alive connection can be closed by the server at any moment while
//! it sits idle; the client only finds out when it writes or reads. So a
//! request that fails with [`Error::Io`] on a *reused* connection, before
//! *any* byte of a response came back, is retried once on a fresh
//! connection. That is safe because GET and HEAD are idempotent, and the
//! server provably sent no answer. The same holds when what came back on a
//! reused connection is no valid status line: leftovers of an earlier
//! response, such as the body a server sends after a HEAD response against
//! the rules, arriving after the connection was taken from the pool (bytes
//! that arrive before are seen there, and the connection is dropped). Any
//! other failure is returned as is.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::connection::{Admit, Connection, Exchange};
use super::connection_pool::{ConnectionPool, PoolKey, PoolLimits};
use super::error::{Part, TimeoutKind};
use super::request::encode_request;
use super::settings::{ClientBuilder, ClientSettings};
use super::{Error, Method, Response, Scheme, Url};
use crate::TimedOut;

/// An HTTP/1.1 client with a keep-alive connection pool.
///
/// Cloning is cheap and shares the pool and settings. Build one per
/// program (or per set of settings) and reuse it.
///
/// ```
/// use std::time::Duration;
/// let client = tandem::http::Client::builder()
///     .connect_timeout(Duration::from_secs(2))
///     .total_timeout(Duration::from_secs(10))
///     .max_body_bytes(1 << 20)
///     .build();
/// let error = tandem::block_on(client.get("http://127.0.0.1:1/")).unwrap_err();
/// assert!(matches!(error, tandem::http::Error::Connect { .. }));
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    settings: ClientSettings,
    pool: ConnectionPool,
    #[cfg(feature = "tls")]
    tls: super::tls::TlsClient,
}

impl Client {
    /// A client with the default settings (see [`ClientBuilder`]).
    pub fn new() -> Client {
        Client::from_settings(ClientSettings::default())
    }

    /// Settings: timeouts, size limits, redirects, keep-alive.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Fetches `url` with GET, following redirects; the whole body is read.
    pub async fn get(&self, url: &str) -> Result<Response, Error> {
        self.request(Method::Get, url).await
    }

    /// [`get`](Client::get), with a say between a response's head and its
    /// body: `admit(status, length)` is awaited once each response head is
    /// in, with the body's length when known (`Content-Length`, or 0 for
    /// no body; `None` for a chunked or close-delimited body), before a
    /// byte of the body is read.
    ///
    /// Why: a caller that bounds its memory (the pipeline's budget) must
    /// reserve room for a body *before* it is read, and only the head says
    /// how large it is. `admit` may wait (the bytes stay in the socket, and
    /// the total timeout runs). It runs once per response, redirects too;
    /// over https (ureq reads responses whole) it runs after the body.
    // ANCHOR: get_admitted
    pub async fn get_admitted(&self, url: &str, admit: &mut Admit<'_>) -> Result<Response, Error> {
        self.request_admitted(Method::Get, url, Some(admit)).await
    }
    // ANCHOR_END: get_admitted

    /// Fetches the head of `url` with HEAD, following redirects.
    pub async fn head(&self, url: &str) -> Result<Response, Error> {
        self.request(Method::Head, url).await
    }

    /// Sends a `method` request for `url`, within the total timeout.
    // `request_admitted`'s own future: no second state machine (tiny binary).
    pub fn request(
        &self,
        method: Method,
        url: &str,
    ) -> impl Future<Output = Result<Response, Error>> {
        self.request_admitted(method, url, None)
    }

    /// [`request`](Client::request), with `admit` between heads and bodies.
    async fn request_admitted(
        &self,
        method: Method,
        url: &str,
        admit: Option<&mut Admit<'_>>,
    ) -> Result<Response, Error> {
        let url = Url::parse(url)?;
        let limit = self.inner.settings.total_timeout;
        match crate::timeout(limit, self.follow_redirects(method, url, admit)).await {
            Ok(result) => result,
            Err(TimedOut(after)) => Err(Error::Timeout {
                kind: TimeoutKind::Total,
                after,
            }),
        }
    }

    /// How many idle keep-alive connections (http://) the client holds
    /// now, over all hosts: never more than
    /// [`ClientBuilder::max_idle_connections`]. Connections idle for longer
    /// than [`ClientBuilder::max_idle_age`] are closed first, so they do not
    /// count.
    pub fn idle_connections(&self) -> usize {
        self.inner.pool.idle_count()
    }

    /// Fetches `url`, then wherever its redirects lead.
    async fn follow_redirects(
        &self,
        method: Method,
        mut url: Url,
        mut admit: Option<&mut Admit<'_>>,
    ) -> Result<Response, Error> {
        let limit = self.inner.settings.max_redirects;
        let mut followed = 0;
        loop {
            let response = self.fetch(method, url, admit.as_deref_mut()).await?;
            // 301/302/303 would turn a POST into a GET; GET and HEAD stay.
            let redirect = matches!(response.status(), 301 | 302 | 303 | 307 | 308);
            let location = response
                .header("location")
                .filter(|_| redirect && limit > 0);
            let Some(location) = location else {
                return Ok(response);
            };
            if followed == limit {
                return Err(Error::TooManyRedirects { limit });
            }
            url = response.url().join(location)?;
            followed += 1;
        }
    }

    /// One request, one response: no redirects.
    async fn fetch(
        &self,
        method: Method,
        url: Url,
        admit: Option<&mut Admit<'_>>,
    ) -> Result<Response, Error> {
        match url.scheme() {
            Scheme::Http => self.fetch_plain(method, url, admit).await,
            #[cfg(feature = "tls")]
            Scheme::Https => {
                let response = self.inner.tls.fetch(method, url).await?;
                if let Some(admit) = admit {
                    admit(response.status(), Some(response.body().len() as u64)).await;
                }
                Ok(response)
            }
            #[cfg(not(feature = "tls"))]
            Scheme::Https => Err(Error::TlsDisabled),
        }
    }

    /// An http:// exchange on a pooled or new connection.
    async fn fetch_plain(
        &self,
        method: Method,
        url: Url,
        mut admit: Option<&mut Admit<'_>>,
    ) -> Result<Response, Error> {
        let settings = &self.inner.settings;
        let key = PoolKey::of(&url);
        let request = encode_request(method, &url, &settings.user_agent, settings.keep_alive);
        let limits = &settings.limits;
        if let Some(mut connection) = self.inner.pool.take(&key) {
            let received_before = connection.received();
            let result = connection
                .exchange(method, &request, limits, admit.as_deref_mut())
                .await;
            // Stale: the server closed it while idle and sent nothing back,
            // or what came first was no valid status line (leftovers of an
            // earlier response).
            let stale = method.is_idempotent()
                && match &result {
                    Err(Error::Io(_)) => connection.received() == received_before,
                    Err(Error::Malformed { part, .. }) => *part == Part::StatusLine,
                    _ => false,
                };
            if !stale {
                return self.finish(key, connection, result, url);
            }
        }
        let mut connection = self.connect(&url).await?;
        let result = connection.exchange(method, &request, limits, admit).await;
        self.finish(key, connection, result, url)
    }

    /// Pools the connection if it can carry another request; builds the
    /// response.
    fn finish(
        &self,
        key: PoolKey,
        connection: Connection,
        result: Result<Exchange, Error>,
        url: Url,
    ) -> Result<Response, Error> {
        let exchange = result?;
        if exchange.reusable && self.inner.settings.keep_alive {
            self.inner.pool.put(key, connection);
        }
        Ok(Response::new(exchange.head, exchange.body, url))
    }

    /// Opens a connection to `url`'s host within the connect timeout.
    async fn connect(&self, url: &Url) -> Result<Connection, Error> {
        let limit = self.inner.settings.connect_timeout;
        match crate::timeout(limit, Connection::open(url.host(), url.port())).await {
            Ok(result) => result,
            Err(TimedOut(after)) => Err(Error::Timeout {
                kind: TimeoutKind::Connect,
                after,
            }),
        }
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl Client {
    /// The client for `settings` (what [`ClientBuilder::build`] calls).
    pub(super) fn from_settings(settings: ClientSettings) -> Client {
        Client {
            inner: Arc::new(Inner {
                pool: ConnectionPool::new(PoolLimits {
                    per_host: settings.idle_per_host(),
                    total: settings.idle_total(),
                    max_age: settings.max_idle_age,
                }),
                #[cfg(feature = "tls")]
                tls: super::tls::TlsClient::new(&settings),
                settings,
            }),
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("settings", &self.inner.settings)
            .field("idle_connections", &self.idle_connections())
            .finish()
    }
}
