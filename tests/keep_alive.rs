//! The keep-alive pool's bounds (src/http/connection_pool.rs): a HEAD
//! response's stray body never misread as the next response, idle
//! connections swept by age when the pool is touched, and a cap on idle
//! connections over all hosts, oldest closed first. All on 127.0.0.1.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::accept_loop::serve_each;
use support::hostile_server::{HostileServer, Step, respond};
use tandem::http::{Client, ClientBuilder};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
/// A HEAD response announcing five bytes of body, which must not follow.
const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";

fn client() -> ClientBuilder {
    Client::builder().total_timeout(Duration::from_secs(5))
}

#[test]
fn a_stray_body_after_a_head_response_arriving_late_is_not_misread() {
    // The body comes after the client reused the connection for the GET,
    // in front of the GET's response: the client sees no status line and
    // retries once on a fresh connection.
    let server = HostileServer::start(vec![
        vec![
            Step::ReadRequest,
            Step::Write(HEAD.to_vec()),
            Step::ReadRequest,
            Step::Write([&b"HELLO"[..], OK].concat()),
        ],
        respond(OK).to_vec(),
    ]);
    let client = client().build();
    tandem::block_on(async {
        let head = client.head(&server.url("/")).await.unwrap();
        assert_eq!(head.header("content-length"), Some("5"));
        assert_eq!(client.idle_connections(), 1);
        let get = client.get(&server.url("/")).await.unwrap();
        assert_eq!(get.body(), b"ok");
    });
    assert_eq!(server.accepted(), 2);
    assert_eq!(server.requests(), 3);
}

#[test]
fn a_stray_body_right_after_a_head_response_drops_the_connection() {
    // The body comes with the head: the connection is not kept.
    let server = HostileServer::start(vec![
        vec![Step::ReadRequest, Step::Write([HEAD, b"HELLO"].concat())],
        respond(OK).to_vec(),
    ]);
    let client = client().build();
    tandem::block_on(async {
        client.head(&server.url("/")).await.unwrap();
        assert_eq!(client.idle_connections(), 0);
        assert_eq!(client.get(&server.url("/")).await.unwrap().body(), b"ok");
    });
    assert_eq!(server.accepted(), 2);
}

#[test]
fn a_stray_body_arriving_while_idle_drops_the_connection() {
    // Head and body in two writes: the body arrives while the connection
    // is idle in the pool (or, at worst, in front of the next response);
    // either way the GET gets its own answer.
    let server = HostileServer::start(vec![
        vec![
            Step::ReadRequest,
            Step::Write(HEAD.to_vec()),
            Step::Write(b"HELLO".to_vec()),
            Step::Sleep(Duration::from_millis(200)),
        ],
        respond(OK).to_vec(),
    ]);
    let client = client().build();
    tandem::block_on(async {
        client.head(&server.url("/")).await.unwrap();
        async_io::Timer::after(Duration::from_millis(50)).await;
        assert_eq!(client.get(&server.url("/")).await.unwrap().body(), b"ok");
    });
    assert_eq!(server.accepted(), 2);
}

/// Keep-alive servers on `count` ports of 127.0.0.1 (each a "host" to the
/// pool), answering `ok` to every request; and how many connections each
/// accepted.
fn servers(count: usize) -> (Vec<String>, Vec<Arc<AtomicUsize>>) {
    let mut urls = Vec::new();
    let mut accepted = Vec::new();
    for _ in 0..count {
        let server = serve_each(4, Duration::from_secs(10), |stream| serve_ok(&stream));
        urls.push(format!("http://127.0.0.1:{}/", server.port));
        accepted.push(server.accepted);
    }
    (urls, accepted)
}

/// Answers `OK` to each request on `stream` until the client closes it.
fn serve_ok(stream: &std::net::TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    for _ in 0..10_000 {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => {
                if (&*stream).write_all(OK).is_err() {
                    return;
                }
            }
            Ok(_) => {}
        }
    }
}

#[test]
fn idle_connections_over_all_hosts_are_capped_oldest_closed_first() {
    let (urls, accepted) = servers(200);
    let client = client().max_idle_connections(50).build();
    tandem::block_on(async {
        for url in &urls {
            assert_eq!(client.get(url).await.unwrap().body(), b"ok");
            assert!(client.idle_connections() <= 50);
        }
        assert_eq!(client.idle_connections(), 50);
        // The newest 50 are kept: the last host's connection is reused...
        client.get(&urls[199]).await.unwrap();
        // ...and the first host's was closed, so it needs a new one.
        client.get(&urls[0]).await.unwrap();
    });
    assert_eq!(accepted[199].load(Ordering::SeqCst), 1);
    assert_eq!(accepted[0].load(Ordering::SeqCst), 2);
    assert_eq!(client.idle_connections(), 50);
}

#[test]
fn the_default_cap_over_all_hosts_is_128() {
    let (urls, _) = servers(150);
    let client = client().build();
    tandem::block_on(async {
        for url in &urls {
            client.get(url).await.unwrap();
        }
    });
    assert_eq!(client.idle_connections(), 128);
}

#[test]
fn idle_connections_past_their_age_are_swept_when_the_pool_is_touched() {
    let (urls, accepted) = servers(3);
    let client = client().max_idle_age(Duration::from_millis(100)).build();
    tandem::block_on(async {
        client.get(&urls[0]).await.unwrap();
        client.get(&urls[1]).await.unwrap();
        assert_eq!(client.idle_connections(), 2);
        async_io::Timer::after(Duration::from_millis(300)).await;
        // Touching the pool for another host sweeps both out.
        client.get(&urls[2]).await.unwrap();
        assert_eq!(client.idle_connections(), 1);
        // And the swept host gets a new connection.
        client.get(&urls[0]).await.unwrap();
    });
    assert_eq!(accepted[0].load(Ordering::SeqCst), 2);
}
