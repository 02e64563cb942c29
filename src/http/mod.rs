//! A non-blocking HTTP/1.1 client: `aiohttp`'s `session.get(url)` for the
//! tandem loop.
//!
//! # Why
//!
//! The loop thread must never block, so the client cannot be a blocking
//! library called from a task: every socket read has to *wait* by returning
//! to the loop, which then serves other connections. HTTP/1.1 over plain
//! TCP is simple enough to write by hand on top of async-io's
//! `Async<TcpStream>`, and seeing it done is part of the tutorial: where a
//! body ends, how keep-alive works, and how a parser defends itself against
//! a hostile server. https is the exception: TLS is delegated to ureq,
//! a blocking client, on the blocking thread pool.
//!
//! ```
//! # let server = std::net::TcpListener::bind("127.0.0.1:0")?;
//! # let url = format!("http://{}/", server.local_addr()?);
//! # std::thread::spawn(move || {
//! #     use std::io::{Read, Write};
//! #     let (mut socket, _) = server.accept().unwrap();
//! #     let _ = socket.read(&mut [0; 1024]);
//! #     socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").unwrap();
//! # });
//! let response = tandem::block_on(tandem::http::get(&url))?;
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.text(), "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How: the path the bytes take
//!
//! ```text
//!  Client::get(url)                                    client.rs
//!    │ Url::parse                                      url.rs
//!    │ pooled connection, or resolve + connect         connection_pool.rs, connection.rs
//!    │ encode_request ──► write to Async<TcpStream>    request.rs
//!    ▼
//!  Async<TcpStream> ──read──► connection buffer        connection.rs
//!    │ skip stray empty lines before the status line   status_line.rs
//!    │ parse_response_head: status line                parse.rs
//!    │   header fields (the grammar requests share)    fields.rs, headers.rs
//!    │ framing: empty / Content-Length / chunked / EOF body.rs
//!    │ read_body: bytes ──► ChunkedDecoder ──►         connection.rs, chunked.rs,
//!    │            BoundedBody                          bounded_body.rs
//!    ▼
//!  Response { head: status + headers, body, url }      response.rs
//!    │ 3xx + Location? Url::join, go round again       client.rs, url/join.rs
//!    │ connection reusable? back into the pool         connection_pool.rs
//!
//!  https://: the same Client, but ureq on blocking::unblock   tls.rs
//!    its errors, a refused certificate typed                  tls_error.rs
//!    private roots (add_root_certificate, --cacert)           roots.rs
//!  the builder, and the settings both transports apply        settings.rs
//!  any failure: one Error variant that says what happened     error.rs
//! ```
//!
//! Every size a server controls is bounded before it is stored: the head
//! ([`ClientBuilder::max_header_bytes`], [`ClientBuilder::max_headers`]),
//! the body ([`ClientBuilder::max_body_bytes`]), chunk size lines and
//! trailers, the number of redirects and of interim responses. Every wait
//! is bounded by the connect and total timeouts.
//!
//! The parsing layers ([`parse`], [`chunked`], and the framing rules in
//! [`body`]) are pure functions over bytes, public so that property tests
//! and fuzzers can drive them directly.

pub mod body;
mod bounded_body;
pub mod chunked;
mod client;
mod connection;
mod connection_pool;
mod error;
pub(crate) mod fields;
mod headers;
pub mod parse;
mod request;
mod response;
#[cfg(feature = "tls")]
mod roots;
mod settings;
pub mod status_line;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "tls")]
mod tls_error;
mod url;

use std::sync::OnceLock;

pub use client::Client;
pub use connection::Admit;
pub use connection_pool::MAX_IDLE_AGE;
pub use error::{CertificateProblem, Error, Part, TimeoutKind};
pub use headers::Headers;
pub use request::Method;
pub use response::Response;
pub use settings::ClientBuilder;
pub use url::{Scheme, Url};

/// Fetches `url` with a GET request, using a client with the default
/// settings shared by the whole program (and so its keep-alive pool).
///
/// This is `await session.get(url)` followed by `await response.read()`.
/// For other settings build a [`Client`].
pub async fn get(url: &str) -> Result<Response, Error> {
    static SHARED: OnceLock<Client> = OnceLock::new();
    SHARED.get_or_init(Client::new).get(url).await
}
