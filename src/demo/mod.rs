//! A loopback HTTP/1.1 server to run the examples and tests against.
//!
//! # Why
//!
//! Examples that fetch URLs need URLs to fetch, and tests must not depend on
//! the internet: it may be absent, slow, or answer differently tomorrow. So
//! tandem carries its own httpbin-like server, bound to `127.0.0.1` on a free
//! port, started in one line and stopped by dropping it:
//!
//! ```
//! use std::io::{Read, Write};
//!
//! let server = tandem::demo::Server::start()?;
//! let mut stream = std::net::TcpStream::connect(server.addr())?;
//! stream.write_all(b"GET /status/418 HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n")?;
//! let mut answer = String::new();
//! stream.read_to_string(&mut answer)?;
//! assert!(answer.starts_with("HTTP/1.1 418 I'm a teapot\r\n"));
//! assert_eq!(server.requests_served(), 1);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The server is also a second worked example of tandem itself: it is a
//! network program with CPU-heavy parts (generating a 1920x1080 JPEG takes
//! a tenth of a second or more), built from the same pieces as the client
//! side.
//!
//! # How
//!
//! ```text
//!   your thread               "tandem-demo" thread               "tandem-demo-img-N"
//!   ┌──────────────┐  drop    ┌──────────────────────────────┐   ┌───────────────────┐
//!   │ Server       │ ───────► │ tandem::block_on(accept loop)│   │ CpuPool workers:  │
//!   │  addr, url() │  (stop)  │  one task per connection:    │──►│ paint + encode    │
//!   │  counters    │          │  read head, route, respond   │◄──│ images, cached    │
//!   └──────────────┘          └──────────────────────────────┘   └───────────────────┘
//! ```
//!
//! * [`Server::start`] binds the listener, then runs [`crate::block_on`] on a
//!   background thread. The accept loop spawns one task per connection with
//!   [`crate::spawn`]; each task serves requests one after the other on its
//!   connection (keep-alive) until the client closes, asks for
//!   `Connection: close`, or stays idle too long.
//! * Every route but the images answers from the loop thread at once (or
//!   after an `async_io::Timer`, for `/delay`). Images are painted and
//!   encoded on a [`CpuPool`](crate::CpuPool) owned by the server, and cached,
//!   so the loop never computes and each picture is made once.
//! * Dropping the [`Server`] stops it: the accept loop stops accepting and
//!   returns, and `block_on` cancels every connection task still running,
//!   which closes its connection (even in the middle of a response); the
//!   thread is joined.
//!
//! One file per concept: `request_reader.rs` reads requests off a
//! connection, `request.rs` parses a request head (with the client's HTTP
//! grammar from [`crate::http`]), `rejection.rs` is how a request is
//! refused, `routes.rs` maps a request to a reply, `reply.rs` writes a
//! reply and its framing, `images.rs` knows which pictures exist and makes
//! and caches them on a pool, `painting.rs` paints one, and `server.rs`
//! holds the [`Server`] handle and the accept and connection loops.
//!
//! # Routes
//!
//! Every route answers `GET` and `HEAD`; other methods get `405`.
//!
//! | route | answer |
//! |-------|--------|
//! | `/get` | `200`, JSON describing the request: method, path, query arguments, headers, URL |
//! | `/bytes/N` | `N` bytes of the demo pattern (byte `i` is `i % 251`), with `Content-Length`; `N` ≤ 64 MiB |
//! | `/chunked/N` | the same `N` bytes with `Transfer-Encoding: chunked`, in chunks of 1, 10, 100, 1000, 10000, then 16384 bytes |
//! | `/image/png`, `/image/jpeg` | a generated picture; query `w` and `h` (1 to 8192, default 320x240) and `seed` (default 0); the same parameters give the same bytes; `delay=MS` answers late, like a slow network |
//! | `/status/CODE` | that status (200 to 599) and a one-line text body |
//! | `/delay/MS` | what `/get` answers, after `MS` milliseconds (at most 60000) |
//! | `/redirect/N` | `302` to the absolute URL of `/redirect/N-1`; `/redirect/1` goes to `/get`; `N` from 1 to 100 |
//! | `/relative-redirect/N` | the same chain with relative `Location`s (`/relative-redirect/N-1`, then `/get`) |
//! | `/text`, `/html` | a page of English prose, as plain text or as HTML with a few links; query `repeat` (1 to 1000) repeats it |
//! | anything else | `404` |
//!
//! [`Server::image_urls`] lists a fixed set of these pictures, the
//! [`IMAGE_CATALOGUE`] from 640x480 to 1920x1080, for the examples and the
//! command line.
//!
//! Without the `image` feature the image routes answer `501 Not Implemented`.
//! Malformed requests get `400`, a request head over 16 KiB gets `431`, and
//! both close the connection. Request bodies are read and discarded (up to
//! 1 MiB, else `413`).

#[cfg(feature = "image")]
mod images;
#[cfg(feature = "image")]
mod painting;
mod rejection;
mod reply;
mod request;
mod request_reader;
mod routes;
mod server;

pub use server::{IMAGE_CATALOGUE, Server};
