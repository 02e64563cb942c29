//! The accept loop under the tests' hand-written servers: a
//! `std::net::TcpListener` on 127.0.0.1:0 that accepts a bounded number of
//! connections and serves each on its own thread, every socket with read
//! and write timeouts, so no test can hang on a server.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// A listening server: its port, and how many connections it accepted.
pub struct Accepting {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicUsize>,
}

/// Accepts at most `max_connections` connections and runs `handle` on
/// each, on a thread of its own, its reads and writes bounded by
/// `timeout`.
pub fn serve_each(
    max_connections: usize,
    timeout: Duration,
    handle: impl Fn(TcpStream) + Send + Sync + 'static,
) -> Accepting {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    let handle = Arc::new(handle);
    thread::spawn(move || {
        for stream in listener.incoming().take(max_connections) {
            let Ok(stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            stream.set_read_timeout(Some(timeout)).unwrap();
            stream.set_write_timeout(Some(timeout)).unwrap();
            let handle = Arc::clone(&handle);
            thread::spawn(move || handle(stream));
        }
    });
    Accepting { port, accepted }
}
