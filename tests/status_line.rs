//! Stray empty lines before a status line (src/http/status_line.rs),
//! against raw loopback servers (tests/support/hostile_server.rs).
//!
//! A server may send a line break before a response: aiohttp does after
//! `100 Continue`, and a body followed by an extra CRLF leaves one in front
//! of the next response on a kept-alive connection. The client skips up to
//! eight, on the first head of a connection, after interim responses, and
//! on a reused connection; a ninth is a malformed status line.

mod support;

use std::time::Duration;

use support::hostile_server::{HostileServer, Step, respond};
use tandem::http::status_line::MAX_EMPTY_LINES;
use tandem::http::{Client, Error, Part, Response};

fn client() -> Client {
    Client::builder()
        .total_timeout(Duration::from_secs(5))
        .build()
}

fn get(client: &Client, url: &str) -> Result<Response, Error> {
    tandem::block_on(client.get(url))
}

/// One GET to a server that answers with `bytes`.
fn get_answered_with(bytes: &[u8]) -> Result<Response, Error> {
    let server = HostileServer::once(respond(bytes));
    get(&client(), &server.url("/"))
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

#[test]
fn empty_lines_before_the_first_response_are_skipped() {
    for prefix in [&b"\r\n"[..], b"\n", b"\r\n\n\r\n"] {
        let response = get_answered_with(&[prefix, OK].concat()).unwrap();
        assert_eq!((response.status(), response.body()), (200, &b"ok"[..]));
    }
}

#[test]
fn an_empty_line_after_100_continue_is_skipped() {
    // What aiohttp sends.
    let bytes = [&b"HTTP/1.1 100 Continue\r\n\r\n\r\n"[..], OK].concat();
    let response = get_answered_with(&bytes).unwrap();
    assert_eq!((response.status(), response.body()), (200, &b"ok"[..]));
}

#[test]
fn empty_lines_trickling_in_byte_by_byte_are_skipped() {
    let server = HostileServer::once([
        Step::ReadRequest,
        Step::Drip {
            bytes: [&b"\r\n\r\n\n"[..], OK].concat(),
            every: Duration::from_millis(1),
        },
    ]);
    let response = get(&client(), &server.url("/")).unwrap();
    assert_eq!(response.body(), b"ok");
}

#[test]
fn eight_empty_lines_are_skipped_and_nine_refused() {
    let eight = b"\r\n".repeat(MAX_EMPTY_LINES);
    assert_eq!(MAX_EMPTY_LINES, 8);
    assert_eq!(
        get_answered_with(&[&eight[..], OK].concat())
            .unwrap()
            .status(),
        200
    );
    let nine = b"\r\n".repeat(MAX_EMPTY_LINES + 1);
    match get_answered_with(&[&nine[..], OK].concat()) {
        Err(Error::Malformed {
            part: Part::StatusLine,
            ..
        }) => {}
        other => panic!("expected a malformed status line, got {other:?}"),
    }
}

#[test]
fn an_endless_stream_of_line_breaks_is_refused() {
    // Never a status line: refused after the ninth, not read forever.
    let flood = b"\r\n".repeat(10_000);
    assert!(matches!(
        get_answered_with(&flood),
        Err(Error::Malformed {
            part: Part::StatusLine,
            ..
        })
    ));
}

#[test]
fn a_kept_alive_connection_with_stray_line_breaks_is_reused() {
    // The first body is followed by a CRLF in the same write; the second
    // response comes with two more in front of it.
    let server = HostileServer::once([
        Step::ReadRequest,
        Step::Write([OK, b"\r\n"].concat()),
        Step::ReadRequest,
        Step::Write([&b"\r\n\r\n"[..], OK].concat()),
    ]);
    let client = client();
    for _ in 0..2 {
        assert_eq!(get(&client, &server.url("/")).unwrap().body(), b"ok");
    }
    assert_eq!(server.accepted(), 1);
    assert_eq!(server.requests(), 2);
}
