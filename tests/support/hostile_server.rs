//! A loopback server that misbehaves on cue, for testing the HTTP client.
//!
//! # Why
//!
//! A client is only as robust as the worst server it has been tested
//! against. Real misbehaving servers are slow, rude or broken in ways that
//! need exact timing (a reset *after* half a body, one byte per second), so
//! each misbehaviour here is a *script*: a list of [`Step`]s that one
//! accepted connection performs in order. A test states its server in one
//! line, and the same machinery serves every fault.
//!
//! # How
//!
//! [`HostileServer::start`] binds `127.0.0.1:0` and runs an accept thread
//! that takes exactly one connection per script (bounded), each served on
//! its own thread. Every step is bounded in time: reads have a timeout,
//! sleeps and drips are finite, and a write to a client that went away
//! ends the script. Dropping the server stops the accept thread.
//!
//! Resets: std has no stable `SO_LINGER` setter (`TcpStream::set_linger` is
//! unstable), and tests may not use `unsafe`. But Linux sends a reset (RST)
//! instead of a normal close (FIN) when a socket is closed with received
//! bytes still unread, so [`Step::Reset`] closes with the request unread:
//! use [`Step::AwaitRequest`], not [`Step::ReadRequest`], before it.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// How long a server read waits for the client.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// One action of a scripted connection.
#[derive(Debug, Clone)]
pub enum Step {
    /// Reads one request head, up to its blank line.
    ReadRequest,
    /// Waits until request bytes have arrived, without reading them.
    AwaitRequest,
    /// Writes these bytes at once.
    Write(Vec<u8>),
    /// Writes these bytes one at a time, sleeping `every` before each.
    Drip { bytes: Vec<u8>, every: Duration },
    /// Does nothing for a while: with nothing after it, "never answers".
    Sleep(Duration),
    /// Closes with the request unread, so the client sees a reset.
    Reset,
}

/// A connection's script: its steps, then a normal close.
pub type Script = Vec<Step>;

/// `ReadRequest`, then `Write(bytes)`: answers one request.
pub fn respond(bytes: impl Into<Vec<u8>>) -> [Step; 2] {
    [Step::ReadRequest, Step::Write(bytes.into())]
}

/// A loopback server whose n-th connection plays the n-th script.
pub struct HostileServer {
    port: u16,
    accepted: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl HostileServer {
    /// Serves one connection with `script`.
    pub fn once(script: impl IntoIterator<Item = Step>) -> HostileServer {
        HostileServer::start(vec![script.into_iter().collect()])
    }

    /// Serves `scripts.len()` connections, the n-th with `scripts[n]`.
    pub fn start(scripts: Vec<Script>) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, request_counter, stopping) = (
            Arc::clone(&accepted),
            Arc::clone(&requests),
            Arc::clone(&stop),
        );
        thread::spawn(move || {
            for script in scripts {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let requests = Arc::clone(&request_counter);
                thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || play(stream, script, &requests))
                    .unwrap();
            }
        });
        HostileServer {
            port,
            accepted,
            requests,
            stop,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Request heads read so far (by [`Step::ReadRequest`]).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for HostileServer {
    /// Unblocks the accept thread, if it still waits, so that it ends.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A port on 127.0.0.1 where nothing listens: connecting is refused.
pub fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
    // The listener is dropped here, closing the port.
}

/// Plays `script` on `stream`, then closes it.
fn play(stream: TcpStream, script: Script, requests: &AtomicUsize) {
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
    // Read through `&TcpStream`, so that writes need no second handle.
    let mut reader = BufReader::new(&stream);
    for step in script {
        let carried_on = match step {
            Step::ReadRequest => {
                let read = read_request_head(&mut reader);
                requests.fetch_add(usize::from(read), Ordering::SeqCst);
                read
            }
            Step::AwaitRequest => stream.peek(&mut [0; 1]).is_ok_and(|n| n > 0),
            Step::Write(bytes) => (&stream).write_all(&bytes).is_ok(),
            Step::Drip { bytes, every } => bytes.iter().all(|byte| {
                thread::sleep(every);
                (&stream).write_all(&[*byte]).is_ok()
            }),
            Step::Sleep(duration) => {
                thread::sleep(duration);
                true
            }
            Step::Reset => {
                assert!(
                    reader.buffer().is_empty(),
                    "Step::Reset needs the request unread: use AwaitRequest"
                );
                break;
            }
        };
        if !carried_on {
            break;
        }
    }
}

/// Reads lines up to a blank one (at most 200); false if the client closed
/// or sent something else.
fn read_request_head(reader: &mut impl BufRead) -> bool {
    let mut line = String::new();
    for _ in 0..200 {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line == "\r\n" || line == "\n" => return true,
            Ok(_) => {}
        }
    }
    false
}
