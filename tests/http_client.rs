//! The HTTP client against tiny loopback servers written here.
//!
//! Each server is a `std::net::TcpListener` on 127.0.0.1:0 with one thread
//! per accepted connection, serving canned bytes. Every accept loop takes a
//! bounded number of connections, every server socket has a read timeout,
//! and every request the client makes has a total timeout, so no test can
//! hang.

mod support;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use support::accept_loop::{Accepting, serve_each};
use tandem::http::{Client, Error, Part, TimeoutKind};

/// How long a server thread waits for a request before giving up.
const SERVER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A loopback server and the number of connections it accepted.
struct TestServer {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl TestServer {
    /// Serves at most `max_connections` connections, each on its own thread
    /// with `handle`.
    fn raw(
        max_connections: usize,
        handle: impl Fn(TcpStream) + Send + Sync + 'static,
    ) -> TestServer {
        let Accepting { port, accepted } = serve_each(max_connections, SERVER_READ_TIMEOUT, handle);
        TestServer { port, accepted }
    }

    /// A keep-alive server: answers each request on a connection with
    /// `respond(path)`, until the client closes, asks for `Connection:
    /// close`, or `respond` says to close.
    fn routes(
        max_connections: usize,
        respond: impl Fn(&str) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        TestServer::raw(max_connections, move |stream| {
            // Read and write through `&TcpStream`: no second descriptor, so
            // 500 connections stay well under a 1024-descriptor limit.
            let mut reader = BufReader::new(&stream);
            // Bounded: at most this many requests per connection.
            for _ in 0..10_000 {
                let Some(request) = read_request(&mut reader) else {
                    return;
                };
                let (bytes, close) = match respond(&request.path) {
                    Reply::KeepOpen(bytes) => (bytes, request.close),
                    Reply::Close(bytes) => (bytes, true),
                };
                if (&stream).write_all(&bytes).is_err() || close {
                    return;
                }
            }
        })
    }

    /// Answers every request with the same bytes, then closes.
    fn canned(response: &'static [u8]) -> TestServer {
        TestServer::routes(16, move |_| Reply::Close(response.to_vec()))
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// What a routes server sends back, and whether it then closes.
enum Reply {
    KeepOpen(Vec<u8>),
    Close(Vec<u8>),
}

/// A `200 OK` with a Content-Length body, for keep-alive servers.
fn ok(body: &str) -> Reply {
    Reply::KeepOpen(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// A redirect with an empty body.
fn redirect(status: u16, location: &str) -> Reply {
    Reply::KeepOpen(
        format!("HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
            .into_bytes(),
    )
}

struct Request {
    path: String,
    close: bool,
}

/// Reads one request head; `None` when the client closed or sent junk.
fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let path = line.split(' ').nth(1)?.to_string();
    let mut close = false;
    for _ in 0..100 {
        line.clear();
        reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
        if line == "\r\n" {
            return Some(Request { path, close });
        }
        close |= line.eq_ignore_ascii_case("connection: close\r\n");
    }
    None
}

/// A client whose every request gives up after a few seconds.
fn builder() -> tandem::http::ClientBuilder {
    Client::builder().total_timeout(Duration::from_secs(5))
}

fn get(client: &Client, url: &str) -> Result<tandem::http::Response, Error> {
    tandem::block_on(client.get(url))
}

fn get_error(url: &str) -> Error {
    get(&builder().build(), url).unwrap_err()
}

// ----- bodies -----------------------------------------------------------

#[test]
fn content_length_body() {
    let server = TestServer::canned(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    );
    let response = tandem::block_on(tandem::http::get(&server.url("/"))).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.reason(), "OK");
    assert_eq!(response.header("content-type"), Some("text/plain"));
    assert_eq!(response.body(), b"hello");
    assert_eq!(response.url().to_string(), server.url("/"));
}

#[test]
fn chunked_body_with_extension_and_trailer() {
    let server = TestServer::canned(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n",
    );
    let response = get(&builder().build(), &server.url("/")).unwrap();
    assert_eq!(response.text(), "hello world");
}

#[test]
fn close_delimited_body_is_read_to_the_end_and_not_pooled() {
    let server = TestServer::canned(b"HTTP/1.1 200 OK\r\n\r\nuntil the server closes");
    let client = builder().build();
    let response = get(&client, &server.url("/")).unwrap();
    assert_eq!(response.into_body(), b"until the server closes");
    assert_eq!(client.idle_connections(), 0);
}

#[test]
fn interim_responses_are_skipped() {
    let server = TestServer::canned(
        b"HTTP/1.1 100 Continue\r\n\r\n\
          HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let response = get(&builder().build(), &server.url("/")).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("link"), None);
    assert_eq!(response.body(), b"ok");
}

#[test]
fn missing_reason_phrase_is_valid() {
    let server = TestServer::canned(b"HTTP/1.1 404\r\nContent-Length: 4\r\n\r\nnope");
    let response = get(&builder().build(), &server.url("/")).unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.reason(), "");
    assert!(!response.is_success());
}

#[test]
fn head_204_and_304_have_no_body_and_keep_the_connection() {
    let server = TestServer::routes(4, |path| match path {
        // HEAD: the length of the body a GET would get, but no body.
        "/head" => Reply::KeepOpen(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_vec()),
        "/204" => Reply::KeepOpen(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()),
        "/304" => {
            Reply::KeepOpen(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n".to_vec())
        }
        _ => ok("after"),
    });
    let client = builder().build();
    tandem::block_on(async {
        let head = client.head(&server.url("/head")).await.unwrap();
        assert_eq!((head.status(), head.body()), (200, &b""[..]));
        assert_eq!(head.header("content-length"), Some("1000"));
        assert!(
            client
                .get(&server.url("/204"))
                .await
                .unwrap()
                .body()
                .is_empty()
        );
        assert!(
            client
                .get(&server.url("/304"))
                .await
                .unwrap()
                .body()
                .is_empty()
        );
        assert_eq!(client.get(&server.url("/")).await.unwrap().body(), b"after");
    });
    assert_eq!(server.accepted(), 1);
}

// ----- redirects ----------------------------------------------------------

#[test]
fn redirects_absolute_and_relative() {
    let target = TestServer::routes(4, |path| ok(&format!("final {path}")));
    let target_url = target.url("/final?from=abs");
    let server = TestServer::routes(4, move |path| match path {
        "/abs" => redirect(302, &target_url),
        "/dir/rel" => redirect(301, "../final"),
        "/see-other" => redirect(303, "?page=2"),
        "/temporary" => redirect(307, "/dir/rel"),
        other => ok(&format!("final {other}")),
    });
    let client = builder().build();
    let fetch = |path: &str| get(&client, &server.url(path)).unwrap();

    let response = fetch("/abs");
    assert_eq!(response.text(), "final /final?from=abs");
    assert_eq!(response.url().to_string(), target.url("/final?from=abs"));
    assert_eq!(fetch("/dir/rel").url().to_string(), server.url("/final"));
    assert_eq!(fetch("/see-other").text(), "final /see-other?page=2");
    let chained = fetch("/temporary");
    assert_eq!(chained.text(), "final /final");
}

#[test]
fn redirect_loop_stops_at_the_limit() {
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let server = TestServer::routes(4, move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        redirect(307, "/loop")
    });
    let client = builder().max_redirects(3).build();
    let error = get(&client, &server.url("/loop")).unwrap_err();
    assert!(
        matches!(error, Error::TooManyRedirects { limit: 3 }),
        "{error}"
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        4,
        "the first request and 3 redirects"
    );

    // With redirects off, the 3xx itself is the response.
    let client = builder().max_redirects(0).build();
    let response = get(&client, &server.url("/loop")).unwrap();
    assert_eq!(response.status(), 307);
    assert_eq!(response.header("location"), Some("/loop"));
}

#[test]
fn redirect_to_another_scheme_is_an_error() {
    let server = TestServer::routes(4, |_| redirect(308, "ftp://127.0.0.1/file"));
    let error = get_error(&server.url("/"));
    assert!(
        matches!(error, Error::RedirectScheme { ref location } if location == "ftp://127.0.0.1/file"),
        "{error}"
    );
}

// ----- errors -------------------------------------------------------------

#[test]
fn invalid_url_and_unsupported_scheme() {
    assert!(matches!(get_error("http://"), Error::InvalidUrl { .. }));
    assert!(matches!(get_error("not a url"), Error::InvalidUrl { .. }));
    assert!(matches!(
        get_error("http://127.0.0.1:99999/"),
        Error::InvalidUrl { .. }
    ));
    assert!(matches!(get_error("ftp://127.0.0.1/"), Error::UnsupportedScheme(ref s) if s == "ftp"));
}

#[test]
fn refused_port_is_a_connect_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = get_error(&format!("http://127.0.0.1:{port}/"));
    match error {
        Error::Connect { addr, source } => {
            assert_eq!(addr.port(), port);
            assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
        }
        other => panic!("expected Connect, got {other}"),
    }
}

#[test]
fn connect_timeout() {
    let server = TestServer::canned(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    // A zero limit expires at the first poll, before the TCP handshake can
    // be reported; a reachable loopback server cannot be slower than that
    // any other way without privileges.
    let client = builder().connect_timeout(Duration::ZERO).build();
    let error = get(&client, &server.url("/")).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                kind: TimeoutKind::Connect,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn total_timeout_with_a_silent_server() {
    let server = TestServer::raw(1, |mut stream| {
        let _ = stream.read(&mut [0; 1024]);
        thread::sleep(Duration::from_secs(2));
    });
    let client = Client::builder()
        .total_timeout(Duration::from_millis(200))
        .build();
    let started = Instant::now();
    let error = get(&client, &server.url("/")).unwrap_err();
    assert!(
        matches!(error, Error::Timeout { kind: TimeoutKind::Total, after } if after == Duration::from_millis(200)),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn malformed_responses() {
    let cases: [(&'static [u8], Part); 5] = [
        (b"HTTP/1.1 OK\r\n\r\n", Part::StatusLine),
        (b"ICY 200 OK\r\n\r\n", Part::StatusLine),
        (
            b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
            Part::HeaderLine,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
            Part::ContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            Part::ChunkSize,
        ),
    ];
    for (response, expected) in cases {
        let server = TestServer::canned(response);
        match get_error(&server.url("/")) {
            Error::Malformed { part, .. } => assert_eq!(part, expected),
            other => panic!("expected Malformed {expected:?}, got {other}"),
        }
    }
}

#[test]
fn conflicting_content_lengths_are_malformed() {
    let server = TestServer::canned(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    );
    assert!(matches!(
        get_error(&server.url("/")),
        Error::Malformed {
            part: Part::ContentLength,
            ..
        }
    ));
}

#[test]
fn headers_too_large() {
    let huge = format!(
        "HTTP/1.1 200 OK\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let server = TestServer::routes(1, move |_| Reply::Close(huge.clone().into_bytes()));
    let error = get_error(&server.url("/"));
    assert!(
        matches!(error, Error::HeadersTooLarge { limit: 65_536 }),
        "{error}"
    );

    let many: String = (0..20).map(|i| format!("X-{i}: {i}\r\n")).collect();
    let response = format!("HTTP/1.1 200 OK\r\n{many}Content-Length: 0\r\n\r\n");
    let server = TestServer::routes(1, move |_| Reply::Close(response.clone().into_bytes()));
    let client = builder().max_headers(10).build();
    let error = get(&client, &server.url("/")).unwrap_err();
    assert!(
        matches!(error, Error::TooManyHeaders { limit: 10 }),
        "{error}"
    );
}

#[test]
fn body_too_large() {
    // An endless close-delimited body: the client must stop at its limit.
    let endless = TestServer::raw(2, |mut stream| {
        let _ = stream.read(&mut [0; 1024]);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
        let block = [b'x'; 16 * 1024];
        for _ in 0..4096 {
            if stream.write_all(&block).is_err() {
                return;
            }
        }
    });
    let client = builder().max_body_bytes(100_000).build();
    let error = get(&client, &endless.url("/")).unwrap_err();
    assert!(
        matches!(error, Error::BodyTooLarge { limit: 100_000 }),
        "{error}"
    );

    // An announced length over the limit fails before reading the body.
    let announced = TestServer::canned(b"HTTP/1.1 200 OK\r\nContent-Length: 100001\r\n\r\n");
    let error = get(&client, &announced.url("/")).unwrap_err();
    assert!(
        matches!(error, Error::BodyTooLarge { limit: 100_000 }),
        "{error}"
    );
}

#[test]
fn connection_closed_or_reset_mid_body_is_an_io_error() {
    let truncated = TestServer::canned(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..");
    match get_error(&truncated.url("/")) {
        Error::Io(error) => assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof),
        other => panic!("expected Io, got {other}"),
    }

    // The server never reads the request, so closing its socket with those
    // bytes unread sends a reset (RST) instead of a normal close (FIN).
    let reset = TestServer::raw(1, |mut stream| {
        // Wait until the request is in the socket's buffer, unread.
        let _ = stream.peek(&mut [0; 1]);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..");
        thread::sleep(Duration::from_millis(200));
    });
    match get_error(&reset.url("/")) {
        Error::Io(error) => assert_eq!(error.kind(), io::ErrorKind::ConnectionReset),
        other => panic!("expected Io, got {other}"),
    }
}

#[cfg(not(feature = "tls"))]
#[test]
fn https_without_the_tls_feature() {
    assert!(matches!(
        get_error("https://127.0.0.1:1/"),
        Error::TlsDisabled
    ));
}

#[cfg(feature = "tls")]
#[test]
fn https_to_a_plain_http_server_fails_cleanly() {
    let server = TestServer::canned(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let url = format!("https://127.0.0.1:{}/", server.port);
    let error = get_error(&url);
    assert!(matches!(error, Error::Tls(_) | Error::Io(_)), "{error}");
}

// ----- keep-alive and concurrency -----------------------------------------

#[test]
fn a_thousand_sequential_gets_reuse_connections() {
    let server = TestServer::routes(100, ok);
    let client = builder().build();
    let started = Instant::now();
    tandem::block_on(async {
        for i in 0..1_000 {
            let path = format!("/item/{i}");
            let response = client.get(&server.url(&path)).await.unwrap();
            assert_eq!(response.text(), path);
        }
    });
    assert!(
        server.accepted() <= 2,
        "opened {} connections",
        server.accepted()
    );
    assert_eq!(client.idle_connections(), 1);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn requests_alternating_between_hosts_keep_one_connection_each() {
    let first = TestServer::routes(10, |_| ok("first"));
    let second = TestServer::routes(10, |_| ok("second"));
    let client = builder().max_idle_per_host(1).build();
    for _ in 0..5 {
        assert_eq!(get(&client, &first.url("/")).unwrap().body(), b"first");
        assert_eq!(get(&client, &second.url("/")).unwrap().body(), b"second");
    }
    assert_eq!((first.accepted(), second.accepted()), (1, 1));
    assert_eq!(client.idle_connections(), 2);
}

#[test]
fn keep_alive_off_opens_a_connection_per_request() {
    let server = TestServer::routes(100, |_| ok("x"));
    let client = builder().keep_alive(false).build();
    for _ in 0..5 {
        assert_eq!(get(&client, &server.url("/")).unwrap().body(), b"x");
    }
    assert_eq!(server.accepted(), 5);
    assert_eq!(client.idle_connections(), 0);
}

#[test]
fn server_closing_a_kept_alive_connection_is_retried_once() {
    // Each connection answers one request without `Connection: close`, then
    // lingers a little and closes without reading the next request: the
    // client's second request goes out on a connection that then dies.
    let server = TestServer::raw(4, |stream| {
        let mut reader = BufReader::new(&stream);
        if read_request(&mut reader).is_some() {
            let _ = (&stream).write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            thread::sleep(Duration::from_millis(100));
        }
    });
    let client = builder().build();
    tandem::block_on(async {
        for _ in 0..2 {
            assert_eq!(client.get(&server.url("/")).await.unwrap().body(), b"ok");
        }
    });
    assert_eq!(server.accepted(), 2);
}

#[test]
fn five_hundred_concurrent_gets_on_one_loop_thread() {
    let server = TestServer::routes(600, ok);
    let client = Client::builder()
        .total_timeout(Duration::from_secs(15))
        .build();
    let responses = tandem::block_on(tandem::join_all((0..500).map(|i| {
        let url = server.url(&format!("/{i}"));
        let client = &client;
        async move { client.get(&url).await }
    })));
    for (i, response) in responses.into_iter().enumerate() {
        assert_eq!(response.unwrap().text(), format!("/{i}"));
    }
}
