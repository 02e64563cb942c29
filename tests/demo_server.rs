//! The demo server, seen from a plain `std::net::TcpStream`: routes,
//! framing, keep-alive, limits, concurrency and shutdown.
//!
//! Every read has a timeout and every loop a bound, so a broken server
//! fails these tests instead of hanging them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use tandem::demo::Server;

/// The longest any single read or write may block.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A response as read off the wire.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// How many chunks carried the body, when it was chunked.
    chunks: usize,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client connection that reads responses one after the other.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(server: &Server) -> Client {
        let stream = TcpStream::connect(server.addr()).expect("connect to the demo server");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            reader: BufReader::new(stream),
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.reader
            .get_mut()
            .write_all(bytes)
            .expect("write the request");
    }

    /// Sends `GET path` (or another method), with `extra` header lines.
    fn send(&mut self, method: &str, path: &str, extra: &str) {
        let request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n");
        self.send_raw(request.as_bytes());
    }

    /// Reads one response; `head_only` for the answer to `HEAD`.
    fn read_reply(&mut self, head_only: bool) -> Reply {
        let status_line = self.read_line();
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(
            parts.next(),
            Some("HTTP/1.1"),
            "status line {status_line:?}"
        );
        let status = parts.next().unwrap().parse().unwrap();
        assert!(parts.next().is_some_and(|reason| !reason.is_empty()));
        let mut headers = Vec::new();
        for _ in 0..100 {
            let line = self.read_line();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header line");
            headers.push((name.to_string(), value.trim().to_string()));
        }
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
            chunks: 0,
        };
        if head_only || status == 204 || status == 304 {
            return reply;
        }
        if reply.header("transfer-encoding") == Some("chunked") {
            for _ in 0..100_000 {
                let size = usize::from_str_radix(&self.read_line(), 16).expect("a chunk size");
                if size == 0 {
                    assert_eq!(self.read_line(), "", "no trailers");
                    return reply;
                }
                let start = reply.body.len();
                reply.body.resize(start + size, 0);
                self.reader.read_exact(&mut reply.body[start..]).unwrap();
                assert_eq!(self.read_line(), "", "CRLF after chunk data");
                reply.chunks += 1;
            }
            panic!("too many chunks");
        }
        let len: usize = reply
            .header("content-length")
            .expect("a Content-Length")
            .parse()
            .unwrap();
        reply.body.resize(len, 0);
        self.reader.read_exact(&mut reply.body).unwrap();
        reply
    }

    /// One line without its CRLF.
    fn read_line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read a line");
        assert!(
            line.ends_with("\r\n"),
            "line {line:?} does not end with CRLF"
        );
        line.truncate(line.len() - 2);
        line
    }

    /// Whether the server has closed the connection: the next read sees the
    /// end of the stream (or a reset).
    fn is_closed(&mut self) -> bool {
        let mut byte = [0];
        match self.reader.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(err) => {
                err.kind() != std::io::ErrorKind::WouldBlock
                    && err.kind() != std::io::ErrorKind::TimedOut
            }
        }
    }
}

/// `GET path` on a fresh connection.
fn get(server: &Server, path: &str) -> Reply {
    let mut client = Client::connect(server);
    client.send("GET", path, "Connection: close\r\n");
    client.read_reply(false)
}

/// The bytes `/bytes/N` and `/chunked/N` send: byte `i` is `i % 251`.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn urls_name_the_loopback_port() {
    let server = Server::start().unwrap();
    assert!(server.addr().ip().is_loopback());
    assert_eq!(
        server.url("/get"),
        format!("http://127.0.0.1:{}/get", server.addr().port())
    );
    assert_eq!(server.url("get"), server.url("/get"));
}

#[test]
fn get_describes_the_request_in_json() {
    let server = Server::start().unwrap();
    let mut client = Client::connect(&server);
    client.send("GET", "/get?name=tandem&n=1", "X-Demo: \"quoted\"\r\n");
    let reply = client.read_reply(false);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let json = reply.text();
    for expected in [
        "\"method\": \"GET\"",
        "\"path\": \"/get\"",
        "\"name\": \"tandem\"",
        "\"n\": \"1\"",
        "\"X-Demo\": \"\\\"quoted\\\"\"",
        &format!("\"url\": \"{}\"", server.url("/get?name=tandem&n=1")),
    ] {
        assert!(json.contains(expected), "{expected} not in {json}");
    }
}

#[test]
fn bytes_have_a_content_length_and_the_pattern() {
    let server = Server::start().unwrap();
    let reply = get(&server, "/bytes/100000");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("100000"));
    assert_eq!(
        reply.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(reply.body == pattern(100_000));
    assert_eq!(get(&server, "/bytes/0").body, b"");
    assert_eq!(get(&server, "/bytes/67108865").status, 400);
    assert_eq!(get(&server, "/bytes/lots").status, 400);
}

#[test]
fn chunked_sends_the_pattern_in_several_chunks() {
    let server = Server::start().unwrap();
    let reply = get(&server, "/chunked/50000");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), None);
    assert!(reply.body == pattern(50_000));
    // 1 + 10 + 100 + 1000 + 10000 bytes, then 16 KiB chunks.
    assert_eq!(reply.chunks, 8);
    assert_eq!(get(&server, "/chunked/0").body, b"");
    assert_eq!(get(&server, "/chunked/67108865").status, 400);
}

#[test]
fn status_answers_with_the_code_asked_for() {
    let server = Server::start().unwrap();
    let teapot = get(&server, "/status/418");
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.text(), "418 I'm a teapot\n");
    assert_eq!(get(&server, "/status/503").status, 503);
    let no_content = get(&server, "/status/204");
    assert_eq!(no_content.status, 204);
    assert_eq!(no_content.header("content-length"), None);
    assert_eq!(get(&server, "/status/199").status, 400);
    assert_eq!(get(&server, "/status/600").status, 400);
}

#[test]
fn delay_answers_late_and_is_capped() {
    let server = Server::start().unwrap();
    let started = Instant::now();
    let reply = get(&server, "/delay/200");
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains("\"path\": \"/delay/200\""));
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(get(&server, "/delay/60001").status, 400);
}

#[test]
fn redirect_chains_end_at_get() {
    let server = Server::start().unwrap();
    let origin = server.url("");
    let origin = origin.trim_end_matches('/');
    let mut client = Client::connect(&server);
    let mut path = "/redirect/3".to_string();
    let mut hops = 0;
    while hops < 10 {
        client.send("GET", &path, "");
        let reply = client.read_reply(false);
        if reply.status == 200 {
            break;
        }
        assert_eq!(reply.status, 302);
        let location = reply.header("location").unwrap();
        path = location
            .strip_prefix(origin)
            .expect("an absolute Location")
            .to_string();
        hops += 1;
    }
    assert_eq!((hops, path.as_str()), (3, "/get"));

    let first = get(&server, "/relative-redirect/2");
    assert_eq!(first.header("location"), Some("/relative-redirect/1"));
    let last = get(&server, "/relative-redirect/1");
    assert_eq!(last.header("location"), Some("/get"));
    assert_eq!(get(&server, "/redirect/0").status, 400);
    assert_eq!(get(&server, "/redirect/101").status, 400);
}

#[test]
fn text_and_html_carry_prose() {
    let server = Server::start().unwrap();
    let text = get(&server, "/text");
    assert_eq!(text.status, 200);
    assert!(
        text.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(text.text().contains("White Rabbit"));
    let twice = get(&server, "/text?repeat=2");
    assert_eq!(twice.body.len(), 2 * text.body.len());
    let html = get(&server, "/html");
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(html.text().contains("<p>Alice was beginning"));
    assert!(html.text().contains("<a href=\"/get\">"));
    assert_eq!(get(&server, "/text?repeat=1001").status, 400);
}

#[test]
fn unknown_routes_and_methods_are_refused() {
    let server = Server::start().unwrap();
    assert_eq!(get(&server, "/").status, 404);
    assert_eq!(get(&server, "/nope").status, 404);
    assert_eq!(get(&server, "/image/gif").status, 404);
    let mut client = Client::connect(&server);
    client.send("POST", "/get", "Content-Length: 5\r\n\r\nhello");
    let refused = client.read_reply(false);
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("allow"), Some("GET, HEAD"));
    // The body was skipped: the connection still works.
    client.send("GET", "/status/200", "");
    assert_eq!(client.read_reply(false).status, 200);
}

#[test]
fn head_gets_the_headers_without_the_body() {
    let server = Server::start().unwrap();
    let mut client = Client::connect(&server);
    client.send("HEAD", "/bytes/1234", "");
    let reply = client.read_reply(true);
    assert_eq!(reply.header("content-length"), Some("1234"));
    // Had a body been sent, this would read its bytes as a status line.
    client.send("GET", "/bytes/3", "");
    assert_eq!(client.read_reply(false).body, [0, 1, 2]);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let server = Server::start().unwrap();
    let mut client = Client::connect(&server);
    for path in ["/get", "/bytes/10", "/chunked/10"] {
        client.send("GET", path, "");
        let reply = client.read_reply(false);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("connection"), Some("keep-alive"));
    }
    assert_eq!(server.connections_accepted(), 1);
    assert_eq!(server.requests_served(), 3);

    client.send("GET", "/get", "Connection: close\r\n");
    let last = client.read_reply(false);
    assert_eq!(last.header("connection"), Some("close"));
    assert!(client.is_closed());
    assert_eq!(server.connections_accepted(), 1);
    assert_eq!(server.requests_served(), 4);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Server::start().unwrap();
    let mut client = Client::connect(&server);
    client.send_raw(b"GET /status/201 HTTP/1.1\r\n\r\nGET /bytes/2 HTTP/1.1\r\n\r\nGET /status/202 HTTP/1.1\r\n\r\n");
    assert_eq!(client.read_reply(false).status, 201);
    assert_eq!(client.read_reply(false).body, [0, 1]);
    assert_eq!(client.read_reply(false).status, 202);
}

#[test]
fn http10_closes_unless_asked_to_keep_alive() {
    let server = Server::start().unwrap();
    let mut client = Client::connect(&server);
    client.send_raw(b"GET /chunked/5 HTTP/1.0\r\n\r\n");
    let status_line = client.read_line();
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    let mut rest = Vec::new();
    client.reader.read_to_end(&mut rest).unwrap();
    let rest = String::from_utf8_lossy(&rest);
    assert!(!rest.contains("Transfer-Encoding"), "{rest}");
    assert!(
        rest.ends_with("Connection: close\r\n\r\n\u{0}\u{1}\u{2}\u{3}\u{4}"),
        "{rest}"
    );

    let mut client = Client::connect(&server);
    client.send_raw(b"GET /bytes/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(
        client.read_reply(false).header("connection"),
        Some("keep-alive")
    );
}

#[test]
fn malformed_and_oversized_heads_are_refused_and_closed() {
    let server = Server::start().unwrap();
    let mut client = Client::connect(&server);
    client.send_raw(b"NONSENSE\r\n\r\n");
    assert_eq!(client.read_reply(false).status, 400);
    assert!(client.is_closed());

    let mut client = Client::connect(&server);
    let huge = format!(
        "GET /get HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "x".repeat(20 * 1024)
    );
    client.send_raw(huge.as_bytes());
    let reply = client.read_reply(false);
    assert_eq!(reply.status, 431);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(client.is_closed());
}

#[test]
fn fifty_concurrent_clients_are_served() {
    let server = Server::start().unwrap();
    thread::scope(|scope| {
        let clients: Vec<_> = (0..50)
            .map(|i| {
                let server = &server;
                scope.spawn(move || {
                    // The delay keeps every connection open at once.
                    let reply = get(server, &format!("/delay/100?client={i}"));
                    assert_eq!(reply.status, 200);
                    assert!(reply.text().contains(&format!("\"client\": \"{i}\"")));
                })
            })
            .collect();
        for client in clients {
            client.join().expect("a client thread panicked");
        }
    });
    assert_eq!(server.connections_accepted(), 50);
    assert_eq!(server.requests_served(), 50);
}

#[test]
fn dropping_the_server_closes_everything_promptly() {
    let server = Server::start().unwrap();
    let addr = server.addr();
    // One idle keep-alive connection, one waiting on a long delay.
    let mut idle = Client::connect(&server);
    idle.send("GET", "/get", "");
    assert_eq!(idle.read_reply(false).status, 200);
    let mut waiting = Client::connect(&server);
    waiting.send("GET", "/delay/30000", "");
    // Make sure the server has accepted both before stopping it.
    let deadline = Instant::now() + IO_TIMEOUT;
    while server.connections_accepted() < 2 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }

    let started = Instant::now();
    drop(server);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "drop took {:?}",
        started.elapsed()
    );
    assert!(idle.is_closed());
    assert!(waiting.is_closed());
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

#[cfg(feature = "image")]
mod images {
    use super::*;

    #[test]
    fn png_and_jpeg_decode_to_the_size_asked_for() {
        let server = Server::start().unwrap();
        for (format, content_type) in [("png", "image/png"), ("jpeg", "image/jpeg")] {
            let reply = get(&server, &format!("/image/{format}?w=64&h=40&seed=3"));
            assert_eq!(reply.status, 200);
            assert_eq!(reply.header("content-type"), Some(content_type));
            let picture = image::load_from_memory(&reply.body).expect("a decodable picture");
            assert_eq!((picture.width(), picture.height()), (64, 40));
        }
    }

    #[test]
    fn the_default_size_is_320_by_240() {
        let server = Server::start().unwrap();
        let reply = get(&server, "/image/png");
        let picture = image::load_from_memory(&reply.body).unwrap();
        assert_eq!((picture.width(), picture.height()), (320, 240));
    }

    #[test]
    fn the_same_parameters_give_the_same_bytes() {
        // Two servers: two caches, so the second picture is painted anew.
        let (one, two) = (Server::start().unwrap(), Server::start().unwrap());
        let path = "/image/jpeg?w=48&h=32&seed=7";
        let first = get(&one, path).body;
        assert_eq!(first, get(&two, path).body);
        assert_eq!(first, get(&one, path).body, "from the cache");
        assert_ne!(first, get(&one, "/image/jpeg?w=48&h=32&seed=8").body);
    }

    #[test]
    fn the_loop_answers_while_pictures_are_painted() {
        let server = Server::start().unwrap();
        let pictures = 6;
        thread::scope(|scope| {
            // Six distinct pictures keep the painters busy for a while.
            let painting: Vec<_> = (0..pictures)
                .map(|seed| {
                    let server = &server;
                    scope.spawn(move || {
                        let reply = get(server, &format!("/image/jpeg?w=640&h=480&seed={seed}"));
                        assert_eq!(reply.status, 200);
                        Instant::now()
                    })
                })
                .collect();
            let deadline = Instant::now() + IO_TIMEOUT;
            while server.connections_accepted() < pictures && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
            let answered = {
                assert_eq!(get(&server, "/status/200").status, 200);
                Instant::now()
            };
            let last_picture = painting
                .into_iter()
                .map(|client| client.join().unwrap())
                .max()
                .unwrap();
            assert!(answered < last_picture, "the loop waited for the painters");
        });
    }

    #[test]
    fn sizes_are_checked() {
        let server = Server::start().unwrap();
        for query in ["w=0", "h=8193", "w=wide", "seed=-1"] {
            assert_eq!(
                get(&server, &format!("/image/png?{query}")).status,
                400,
                "{query}"
            );
        }
    }
}

#[cfg(not(feature = "image"))]
#[test]
fn images_need_the_image_feature() {
    let server = Server::start().unwrap();
    for path in ["/image/png", "/image/jpeg?w=10"] {
        let reply = get(&server, path);
        assert_eq!(reply.status, 501);
        assert!(reply.text().contains("`image` feature"));
    }
}
