//! The HTTP client against hostile servers: one test per misbehaviour.
//!
//! Each test scripts a loopback server (tests/support/hostile_server.rs)
//! to misbehave in one way, and asserts the exact [`Error`] variant the
//! client returns, or the [`Response`] where the input is valid after all.
//! Every failed exchange must also leave no connection in the client's
//! keep-alive pool: a connection in an unknown state would poison the next
//! request to that host. docs/reliability.md lists the faults.

mod support;

use std::io;
use std::time::{Duration, Instant};

use support::hostile_server::{HostileServer, Script, Step, refused_port, respond};
use tandem::http::{Client, ClientBuilder, Error, Part, Response, TimeoutKind};

/// The body cap of the test clients.
const BODY_CAP: u64 = 64 * 1024;

/// A client with a small body cap and a total timeout that no test should
/// reach unless it means to.
fn client() -> ClientBuilder {
    Client::builder()
        .total_timeout(Duration::from_secs(5))
        .max_body_bytes(BODY_CAP)
}

fn get(client: &Client, url: &str) -> Result<Response, Error> {
    tandem::block_on(client.get(url))
}

/// One GET to a server playing `script` once.
fn get_once(script: impl IntoIterator<Item = Step>) -> Result<Response, Error> {
    let server = HostileServer::once(script);
    get(&client().build(), &server.url("/"))
}

/// One GET with `client` to a server playing `script`; the request must
/// fail, and the failed connection must not be kept.
fn error_with(client: &Client, script: impl IntoIterator<Item = Step>) -> Error {
    let server = HostileServer::once(script);
    let error = get(client, &server.url("/")).expect_err("the request should fail");
    assert_eq!(client.idle_connections(), 0, "kept a failed connection");
    error
}

/// [`error_with`] a default test client.
fn error_of(script: impl IntoIterator<Item = Step>) -> Error {
    error_with(&client().build(), script)
}

/// The error for a server that answers `response` and closes.
fn error_for(response: &[u8]) -> Error {
    error_of(respond(response))
}

/// Asserts `error` is `Malformed` in `part`.
#[track_caller]
fn assert_malformed(error: Error, part: Part) {
    match error {
        Error::Malformed { part: found, .. } if found == part => {}
        other => panic!("expected Malformed {part:?}, got {other:?}"),
    }
}

/// Asserts `error` is an `Io` error of `kind`.
#[track_caller]
fn assert_io(error: Error, kind: io::ErrorKind) {
    match error {
        Error::Io(found) if found.kind() == kind => {}
        other => panic!("expected Io {kind:?}, got {other:?}"),
    }
}

/// A `200 OK` with a Content-Length body, keeping the connection open.
fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

// ----- the status line ---------------------------------------------------

#[test]
fn bad_status_line() {
    assert_malformed(error_for(b"HTTP/1.1 OK\r\n\r\n"), Part::StatusLine);
}

#[test]
fn missing_reason_phrase_is_valid() {
    let response = get_once(respond(&b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"[..])).unwrap();
    assert_eq!((response.status(), response.reason()), (200, ""));
    assert_eq!(response.body(), b"ok");
}

#[test]
fn status_code_below_100() {
    assert_malformed(error_for(b"HTTP/1.1 099 Low\r\n\r\n"), Part::StatusLine);
}

#[test]
fn status_code_of_four_digits() {
    assert_malformed(error_for(b"HTTP/1.1 1000 High\r\n\r\n"), Part::StatusLine);
}

#[test]
fn http09_response_without_status_line() {
    // HTTP/0.9 answered with the bare body, then closed.
    assert_malformed(error_for(b"<html>hello</html>\n"), Part::StatusLine);
}

#[test]
fn http2_preface_garbage_fails_at_once() {
    // An HTTP/2-only server sends a SETTINGS frame and waits for ours: no
    // blank line ever comes. The client must not wait for the timeout.
    let settings_frame = b"\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64";
    let started = Instant::now();
    let error = error_of([
        Step::ReadRequest,
        Step::Write(settings_frame.to_vec()),
        Step::Sleep(Duration::from_secs(2)),
    ]);
    assert_malformed(error, Part::StatusLine);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn empty_response_closed_at_once() {
    assert_io(error_of([Step::ReadRequest]), io::ErrorKind::UnexpectedEof);
}

// ----- Content-Length and Transfer-Encoding --------------------------------

#[test]
fn non_numeric_content_length() {
    assert_malformed(
        error_for(b"HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\nhello"),
        Part::ContentLength,
    );
}

#[test]
fn negative_content_length() {
    assert_malformed(
        error_for(b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello"),
        Part::ContentLength,
    );
}

#[test]
fn content_length_overflowing_u64() {
    assert_malformed(
        error_for(b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\nx"),
        Part::ContentLength,
    );
}

#[test]
fn content_length_over_the_cap_fails_before_the_body() {
    let error = error_for(b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nx");
    assert!(
        matches!(error, Error::BodyTooLarge { limit: BODY_CAP }),
        "{error:?}"
    );
}

#[test]
fn conflicting_duplicate_content_length() {
    assert_malformed(
        error_for(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        Part::ContentLength,
    );
}

#[test]
fn both_content_length_and_chunked() {
    assert_malformed(
        error_for(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ),
        Part::TransferEncoding,
    );
}

#[test]
fn body_shorter_than_declared_then_close() {
    assert_io(
        error_for(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten.."),
        io::ErrorKind::UnexpectedEof,
    );
}

// ----- chunked bodies --------------------------------------------------------

/// A chunked response head followed by `body`.
fn chunked(body: &[u8]) -> Vec<u8> {
    [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
        body,
    ]
    .concat()
}

#[test]
fn non_hex_chunk_size() {
    assert_malformed(
        error_for(&chunked(b"zz\r\nhello\r\n0\r\n\r\n")),
        Part::ChunkSize,
    );
}

#[test]
fn overlong_chunk_size_line() {
    let line = [&b"5;"[..], &[b'x'; 5000], b"\r\nhello\r\n0\r\n\r\n"].concat();
    assert_malformed(error_for(&chunked(&line)), Part::ChunkSize);
}

#[test]
fn chunk_data_longer_than_its_size() {
    assert_malformed(
        error_for(&chunked(b"2\r\nabc\r\n0\r\n\r\n")),
        Part::ChunkData,
    );
}

#[test]
fn missing_final_chunk_then_close() {
    assert_io(
        error_for(&chunked(b"5\r\nhello\r\n")),
        io::ErrorKind::UnexpectedEof,
    );
}

#[test]
fn endless_chunked_body_hits_the_cap() {
    let chunk = [&b"4000\r\n"[..], &[b'x'; 0x4000], b"\r\n"].concat();
    let body: Vec<u8> = chunk.repeat(8); // 128 KiB, twice the cap
    let error = error_for(&chunked(&body));
    assert!(
        matches!(error, Error::BodyTooLarge { limit: BODY_CAP }),
        "{error:?}"
    );
}

// ----- the header section ---------------------------------------------------

#[test]
fn headers_without_end_then_close() {
    assert_io(
        error_for(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"),
        io::ErrorKind::UnexpectedEof,
    );
}

#[test]
fn header_line_over_the_limit() {
    let client = client().max_header_bytes(8 * 1024).build();
    let response = format!(
        "HTTP/1.1 200 OK\r\nX-Big: {}\r\n\r\n",
        "a".repeat(16 * 1024)
    );
    let error = error_with(&client, respond(response));
    assert!(
        matches!(error, Error::HeadersTooLarge { limit: 8192 }),
        "{error:?}"
    );
}

#[test]
fn too_many_headers() {
    let client = client().max_headers(10).build();
    let many: String = (0..20).map(|i| format!("X-{i}: {i}\r\n")).collect();
    let response = format!("HTTP/1.1 200 OK\r\n{many}Content-Length: 0\r\n\r\n");
    let error = error_with(&client, respond(response));
    assert!(
        matches!(error, Error::TooManyHeaders { limit: 10 }),
        "{error:?}"
    );
}

#[test]
fn nul_in_header_name() {
    assert_malformed(
        error_for(b"HTTP/1.1 200 OK\r\nX-N\x00l: 1\r\nContent-Length: 0\r\n\r\n"),
        Part::HeaderLine,
    );
}

#[test]
fn non_utf8_bytes_in_header_name() {
    assert_malformed(
        error_for(b"HTTP/1.1 200 OK\r\nX-\xff\xfe: 1\r\nContent-Length: 0\r\n\r\n"),
        Part::HeaderLine,
    );
}

#[test]
fn obs_text_in_header_value_is_kept_lossily() {
    // Behaviour: obs-text (0x80-0xFF) is allowed in a value; bytes that are
    // not UTF-8 become U+FFFD, valid UTF-8 is kept.
    let response = get_once(respond(
        &b"HTTP/1.1 200 OK\r\nX-Latin1: caf\xe9\r\nX-Utf8: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n"[..],
    ))
    .unwrap();
    assert_eq!(response.header("x-latin1"), Some("caf\u{FFFD}"));
    assert_eq!(response.header("x-utf8"), Some("café"));
}

// ----- interim responses ------------------------------------------------------

#[test]
fn interim_responses_before_the_final_one_are_skipped() {
    let response = get_once(respond(
        &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[..],
    ))
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), b"ok");
}

#[test]
fn too_many_interim_responses() {
    let flood = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(17);
    assert_malformed(
        error_for(&[&flood[..], &ok("late")].concat()),
        Part::StatusLine,
    );
}

#[test]
fn switching_protocols_unasked() {
    assert_malformed(
        error_for(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        Part::StatusLine,
    );
}

// ----- redirects --------------------------------------------------------------

/// A redirect to `location` with an empty body.
fn redirect(status: u16, location: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
        .into_bytes()
}

#[test]
fn redirect_to_a_file_url() {
    let error = get_once(respond(redirect(302, "file:///etc/passwd"))).unwrap_err();
    assert!(
        matches!(&error, Error::RedirectScheme { location } if location == "file:///etc/passwd"),
        "{error:?}"
    );
}

#[test]
fn redirect_to_a_javascript_url() {
    let error = get_once(respond(redirect(301, "javascript:alert(1)"))).unwrap_err();
    assert!(matches!(error, Error::RedirectScheme { .. }), "{error:?}");
}

#[test]
fn redirect_loop_stops_at_the_limit() {
    // One kept-alive connection answering every request with a redirect to
    // itself: the first request and three followed redirects.
    let script: Script = (0..4)
        .flat_map(|_| respond(redirect(302, "/loop")))
        .collect();
    let server = HostileServer::once(script);
    let client = client().max_redirects(3).build();
    let error = get(&client, &server.url("/loop")).unwrap_err();
    assert!(
        matches!(error, Error::TooManyRedirects { limit: 3 }),
        "{error:?}"
    );
    assert_eq!((server.accepted(), server.requests()), (1, 4));
}

#[test]
fn redirect_to_a_refused_port() {
    let port = refused_port();
    let error = get_once(respond(redirect(307, &format!("http://127.0.0.1:{port}/")))).unwrap_err();
    match error {
        Error::Connect { addr, source } => {
            assert_eq!(addr.port(), port);
            assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
        }
        other => panic!("expected Connect, got {other:?}"),
    }
}

#[test]
fn found_without_location_is_returned_as_is() {
    // Behaviour: a 3xx without Location is a response, not an error.
    let response = get_once(respond(
        &b"HTTP/1.1 302 Found\r\nContent-Length: 4\r\n\r\nlost"[..],
    ))
    .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.body(), b"lost");
}

// ----- slow and silent servers ------------------------------------------------

/// A client whose whole request must end within 300 ms.
fn impatient() -> Client {
    client().total_timeout(Duration::from_millis(300)).build()
}

#[track_caller]
fn assert_total_timeout(error: Error) {
    assert!(
        matches!(error, Error::Timeout { kind: TimeoutKind::Total, after } if after == Duration::from_millis(300)),
        "{error:?}"
    );
}

#[test]
fn slow_drip_of_one_byte_per_second_hits_the_total_timeout() {
    let started = Instant::now();
    let error = error_with(
        &impatient(),
        [
            Step::ReadRequest,
            Step::Drip {
                bytes: ok("hello"),
                every: Duration::from_secs(1),
            },
        ],
    );
    assert_total_timeout(error);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn server_that_never_answers_hits_the_total_timeout() {
    let started = Instant::now();
    let error = error_with(
        &impatient(),
        [Step::ReadRequest, Step::Sleep(Duration::from_secs(2))],
    );
    assert_total_timeout(error);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn quick_drip_of_a_valid_response_is_read() {
    // One byte per millisecond: slow, but within the limits.
    let response = get_once([
        Step::ReadRequest,
        Step::Drip {
            bytes: ok("dripped"),
            every: Duration::from_millis(1),
        },
    ])
    .unwrap();
    assert_eq!(response.body(), b"dripped");
}

// ----- broken connections and bodies -------------------------------------------

#[test]
fn reset_mid_body() {
    let error = error_of([
        Step::AwaitRequest,
        Step::Write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..".to_vec()),
        Step::Sleep(Duration::from_millis(100)),
        Step::Reset,
    ]);
    assert_io(error, io::ErrorKind::ConnectionReset);
}

#[test]
fn reset_before_any_response() {
    // On a fresh connection a reset is an error, not a reason to retry.
    assert_io(
        error_of([Step::AwaitRequest, Step::Reset]),
        io::ErrorKind::ConnectionReset,
    );
}

#[test]
fn endless_body_hits_the_cap() {
    // Close-delimited, and far longer than the cap: written in blocks until
    // the client goes away.
    let block = vec![b'x'; 16 * 1024];
    let mut script = vec![
        Step::ReadRequest,
        Step::Write(b"HTTP/1.1 200 OK\r\n\r\n".to_vec()),
    ];
    script.extend((0..64).map(|_| Step::Write(block.clone())));
    let error = error_of(script);
    assert!(
        matches!(error, Error::BodyTooLarge { limit: BODY_CAP }),
        "{error:?}"
    );
}

#[test]
fn gzip_without_asking_is_returned_raw() {
    // Behaviour: tandem sends no Accept-Encoding and decodes no content
    // coding; the body comes back as sent, the header tells what it is.
    let gzip = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00";
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gzip.len()
    );
    let response = get_once(respond([head.as_bytes(), gzip].concat())).unwrap();
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(response.body(), gzip);
}

#[test]
fn bytes_after_the_body_are_not_kept_alive() {
    // The body is two bytes but more follow: the connection is out of step
    // and must not serve the next request.
    let server = HostileServer::start(vec![
        respond(&b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"[..]).to_vec(),
        respond(ok("second")).to_vec(),
    ]);
    let client = client().build();
    assert_eq!(get(&client, &server.url("/")).unwrap().body(), b"ok");
    assert_eq!(client.idle_connections(), 0);
    assert_eq!(get(&client, &server.url("/")).unwrap().body(), b"second");
    assert_eq!(server.accepted(), 2);
}

// ----- keep-alive ---------------------------------------------------------------

#[test]
fn head_response_with_a_body_does_not_poison_the_next_request() {
    // A HEAD response has no body, whatever its Content-Length says; this
    // server sends five bytes anyway, in the same write as the head.
    let server = HostileServer::start(vec![
        [
            Step::ReadRequest,
            Step::Write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_vec()),
            Step::ReadRequest,
            Step::Write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nwrong".to_vec()),
        ]
        .to_vec(),
        respond(ok("right")).to_vec(),
    ]);
    let client = client().build();
    let head = tandem::block_on(client.head(&server.url("/"))).unwrap();
    assert_eq!((head.status(), head.body()), (200, &b""[..]));
    assert_eq!(client.idle_connections(), 0, "kept a connection with junk");
    assert_eq!(get(&client, &server.url("/")).unwrap().body(), b"right");
    assert_eq!(server.accepted(), 2);
}

#[test]
fn head_response_with_a_late_body_does_not_poison_the_next_request() {
    // The stray body arrives after the connection went back to the pool;
    // the pool must notice before reusing it.
    let server = HostileServer::start(vec![
        [
            Step::ReadRequest,
            Step::Write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".to_vec()),
            Step::Sleep(Duration::from_millis(50)),
            Step::Write(b"hello".to_vec()),
            Step::ReadRequest,
            Step::Write(ok("wrong")),
        ]
        .to_vec(),
        respond(ok("right")).to_vec(),
    ]);
    let client = client().build();
    assert!(tandem::block_on(client.head(&server.url("/"))).is_ok());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(get(&client, &server.url("/")).unwrap().body(), b"right");
    assert_eq!(server.accepted(), 2);
}

#[test]
fn keep_alive_connection_closed_between_requests_is_retried() {
    // The server answers one request, then closes without reading the
    // next one, which the client has sent on the kept-alive connection.
    let server = HostileServer::start(vec![
        [
            Step::ReadRequest,
            Step::Write(ok("first")),
            Step::Sleep(Duration::from_millis(100)),
        ]
        .to_vec(),
        respond(ok("second")).to_vec(),
    ]);
    let client = client().build();
    tandem::block_on(async {
        assert_eq!(client.get(&server.url("/")).await.unwrap().body(), b"first");
        assert_eq!(client.idle_connections(), 1);
        assert_eq!(
            client.get(&server.url("/")).await.unwrap().body(),
            b"second"
        );
    });
    assert_eq!(server.accepted(), 2);
}

#[test]
fn keep_alive_connection_closed_while_idle_is_not_reused() {
    // This time the close arrives before the next request is sent.
    let server = HostileServer::start(vec![
        respond(ok("first")).to_vec(),
        respond(ok("second")).to_vec(),
    ]);
    let client = client().build();
    assert_eq!(get(&client, &server.url("/")).unwrap().body(), b"first");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(get(&client, &server.url("/")).unwrap().body(), b"second");
    assert_eq!(server.accepted(), 2);
}
