//! The server: a handle on the caller's thread, a loop on its own.
//!
//! # Why
//!
//! A test wants a server that is there when `start` returns and gone when
//! the handle is dropped, with nothing left behind: no thread, no listening
//! port, no connection half-open. And the loop must be tandem's own, so
//! the server doubles as an example: one loop thread, one task per
//! connection, CPU work elsewhere.
//!
//! # How
//!
//! ```text
//!   Server::start          "tandem-demo" thread: block_on(accept_loop)
//!   bind 127.0.0.1:0  ───► loop { accept ─► spawn(serve_connection) } until stop
//!   ...
//!   drop(Server)           stop ─► accept loop returns, drops the listener
//!   (stop sender dropped)       ─► block_on cancels the connection tasks
//!   join thread ◄──────────────────  (their sockets close) and returns
//! ```
//!
//! Stopping needs no bookkeeping of the connections: dropping the stop
//! sender wakes the accept loop, which returns; [`crate::block_on`] then
//! cancels every connection task still running, on the loop thread (the
//! executor's cancel-at-end), and a cancelled task drops its socket, which
//! closes the connection wherever it was, even mid-response. Since every
//! task is created and dropped on this one thread, they can share the
//! routes through an `Rc`.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use async_io::{Async, Timer};
use futures_lite::{AsyncReadExt, FutureExt};

use super::reply::{Reply, WriteMode};
use super::request_reader::{Incoming, RequestReader};
use super::routes::Routes;

/// How long a connection may wait for its next request head before the
/// server closes it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the server keeps reading (and dropping) what a client still
/// sends after the last response, before closing (see `linger`).
const LINGER_TIMEOUT: Duration = Duration::from_secs(1);

/// The most bytes read while lingering.
const LINGER_LIMIT: usize = 256 * 1024;

/// The pause after a failed `accept` (for example: out of file
/// descriptors), so that the loop does not spin on the error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The pictures of [`Server::image_urls`], in order: (format, width,
/// height). Large photos dominate, as on a real page; PNGs cost more to
/// download and to decode than JPEGs of the same size.
pub const IMAGE_CATALOGUE: [(&str, u32, u32); 8] = [
    ("jpeg", 1920, 1080),
    ("png", 1280, 720),
    ("jpeg", 800, 600),
    ("png", 640, 480),
    ("jpeg", 1280, 720),
    ("jpeg", 1920, 1080),
    ("png", 800, 600),
    ("jpeg", 640, 480),
];

/// How many seeds [`Server::image_urls`] cycles through: URLs repeat after
/// this many.
const DEMO_SEEDS: usize = 64;

/// A running demo server on `127.0.0.1`. Dropping it stops the server.
///
/// The module documentation lists its routes.
///
/// ```
/// let server = tandem::demo::Server::start()?;
/// let url = server.url("/image/png?w=64&h=48");
/// assert!(url.starts_with("http://127.0.0.1:"));
/// assert_eq!(server.connections_accepted(), 0);
/// drop(server); // stops accepting, closes connections, joins the thread
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server {
    addr: SocketAddr,
    counters: Arc<Counters>,
    /// Dropping it tells the loop to stop. `None` once stopped.
    stop: Option<flume::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// What the loop did, readable from the handle.
#[derive(Default)]
struct Counters {
    connections: AtomicUsize,
    requests: AtomicUsize,
}

impl Server {
    /// Binds `127.0.0.1` on a free port and starts serving on a background
    /// thread named `tandem-demo`. The server accepts connections as soon as
    /// this returns.
    ///
    /// Fails when the port can't be bound or a thread can't be started.
    pub fn start() -> io::Result<Server> {
        let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
        let addr = listener.get_ref().local_addr()?;
        let routes = Routes::new(format!("http://{addr}"))?;
        let counters = Arc::new(Counters::default());
        let (stop, stopped) = flume::bounded(1);
        let loop_counters = Arc::clone(&counters);
        let thread = thread::Builder::new()
            .name("tandem-demo".to_string())
            .spawn(move || {
                crate::block_on(accept_loop(listener, routes, loop_counters, stopped))
            })?;
        Ok(Server {
            addr,
            counters,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address the server listens on: `127.0.0.1` and its port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path` on this server: `url("/get")` is
    /// `http://127.0.0.1:PORT/get`. A missing leading `/` is added.
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://{}{slash}{path}", self.addr)
    }

    /// `count` URLs of demo pictures on this server: what the examples and
    /// the command line download when given no URL.
    ///
    /// The set is fixed and deterministic: it cycles through
    /// [`IMAGE_CATALOGUE`], a mix of JPEG photos and PNG illustrations from
    /// 1920x1080 down to 640x480, each with its own seed, so that every URL
    /// in the first 64 is a different picture (later ones repeat, and come
    /// from the server's cache). Without the `image` feature the server
    /// answers these URLs with `501`.
    ///
    /// ```
    /// let server = tandem::demo::Server::start()?;
    /// let urls = server.image_urls(3);
    /// assert_eq!(urls[0], server.url("/image/jpeg?w=1920&h=1080&seed=0"));
    /// assert_eq!(urls[1], server.url("/image/png?w=1280&h=720&seed=1"));
    /// assert_eq!(urls, server.image_urls(3));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn image_urls(&self, count: usize) -> Vec<String> {
        (0..count)
            .map(|index| {
                let (format, width, height) = IMAGE_CATALOGUE[index % IMAGE_CATALOGUE.len()];
                let seed = index % DEMO_SEEDS;
                self.url(&format!("/image/{format}?w={width}&h={height}&seed={seed}"))
            })
            .collect()
    }

    /// [`image_urls`](Server::image_urls), each answered late, as over a
    /// network: picture `i` after a delay in `min..=max` milliseconds,
    /// spread over the range by a fixed hash of `i` (so runs repeat).
    /// `None` adds no delay.
    ///
    /// ```
    /// let server = tandem::demo::Server::start()?;
    /// let urls = server.delayed_image_urls(2, Some((30, 150)));
    /// assert!(urls[0].starts_with(&server.image_urls(1)[0]));
    /// assert!(urls[0].contains("&delay="));
    /// assert_eq!(server.delayed_image_urls(2, None), server.image_urls(2));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn delayed_image_urls(&self, count: usize, delay_ms: Option<(u64, u64)>) -> Vec<String> {
        let urls = self.image_urls(count).into_iter().enumerate();
        urls.map(|(index, url)| match delay_ms {
            None => url,
            Some((min, max)) => {
                // Knuth's multiplicative hash: neighbours land far apart.
                let spread = (index as u64).wrapping_mul(2_654_435_761) % (max - min + 1);
                format!("{url}&delay={}", min + spread)
            }
        })
        .collect()
    }

    /// Paints the first `count` pictures of [`image_urls`](Server::image_urls)
    /// now, so that a run timed afterwards measures the client, not the
    /// painter: the server makes each picture once and keeps it. Returns
    /// once all are painted.
    ///
    /// A picture costs the server a tenth of a second or more of a core;
    /// painted on demand, on the same cores as the client's workers, they
    /// would make the downloads look slow and the CPU work look small.
    pub fn paint_ahead(&self, count: usize) -> io::Result<()> {
        let client = crate::http::Client::new();
        let unique = count.min(DEMO_SEEDS);
        let fetched = crate::block_on(crate::join_all(self.image_urls(unique).into_iter().map(
            |url| {
                let client = client.clone();
                async move { client.head(&url).await }
            },
        )));
        for response in fetched {
            let response = response.map_err(io::Error::other)?;
            if !response.is_success() {
                let status = response.status();
                return Err(io::Error::other(format!("painting answered HTTP {status}")));
            }
        }
        Ok(())
    }

    /// How many TCP connections the server has accepted so far. With
    /// keep-alive, many requests share one connection.
    pub fn connections_accepted(&self) -> usize {
        self.counters.connections.load(Ordering::SeqCst)
    }

    /// How many requests the server has answered so far, malformed ones
    /// included. A request counts once its response starts, so a client
    /// that has read a response sees it counted.
    pub fn requests_served(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Dropping the sender wakes the loop's `stopped.recv_async()`.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // A panic on the loop thread was already reported by the panic
            // hook; dropping must not panic again.
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("connections_accepted", &self.connections_accepted())
            .field("requests_served", &self.requests_served())
            .finish()
    }
}

/// The loop thread's main future: accepts connections until `stopped`
/// disconnects. The connection tasks still running when it returns are
/// cancelled by `block_on` (see the module documentation).
async fn accept_loop(
    listener: Async<TcpListener>,
    routes: Routes,
    counters: Arc<Counters>,
    stopped: flume::Receiver<()>,
) {
    let routes = Rc::new(routes);
    loop {
        let accepted = async { Some(listener.accept().await) }
            .or(async {
                let _ = stopped.recv_async().await;
                None
            })
            .await;
        let stream = match accepted {
            None => return,
            Some(Ok((stream, _peer))) => stream,
            Some(Err(_)) => {
                Timer::after(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        counters.connections.fetch_add(1, Ordering::SeqCst);
        let (routes, counters) = (Rc::clone(&routes), Arc::clone(&counters));
        crate::spawn(async move { serve_connection(stream, &routes, &counters).await }).detach();
    }
}

/// Serves requests on one connection until either side ends it.
async fn serve_connection(stream: Async<TcpStream>, routes: &Routes, counters: &Counters) {
    // Responses are written whole and the client waits for them: Nagle's
    // algorithm could only delay their last segment.
    let _ = stream.get_ref().set_nodelay(true);
    let mut requests = RequestReader::new(&stream);
    loop {
        let Ok(incoming) = crate::timeout(IDLE_TIMEOUT, requests.next_request()).await else {
            return;
        };
        let (response, mode) = match incoming {
            Incoming::Closed => return,
            Incoming::Rejected(rejection) => (Reply::from(rejection), WriteMode::closing()),
            Incoming::Request(request) => (
                routes.respond(&request).await,
                WriteMode::answering(&request),
            ),
        };
        counters.requests.fetch_add(1, Ordering::SeqCst);
        match response.write_to(&stream, mode).await {
            Ok(true) => {}
            Ok(false) => {
                linger(&stream).await;
                return;
            }
            Err(_) => return,
        }
    }
}

/// Half-closes the connection, then reads and drops what the client still
/// sends, until it closes too (or a bound is reached).
///
/// Closing a socket that has unread input makes the kernel send a reset,
/// and a reset can destroy the response the client has not read yet: the
/// client of a `431` is typically still sending its oversized head.
async fn linger(stream: &Async<TcpStream>) {
    if stream
        .get_ref()
        .shutdown(std::net::Shutdown::Write)
        .is_err()
    {
        return;
    }
    let mut sink = futures_lite::io::sink();
    let drain = futures_lite::io::copy(stream.take(LINGER_LIMIT as u64), &mut sink);
    let _ = crate::timeout(LINGER_TIMEOUT, drain).await;
}
