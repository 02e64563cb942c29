//! The whole of tandem in a small program: what a tool that embeds it pays
//! in bytes.
//!
//! It fetches a few URLs at once with tandem's HTTP client on the loop
//! (`block_on`, `join_all`), under a `timeout`, then hands one CPU job to a
//! one-worker `CpuPool`: a checksum of every body. With no URL it serves
//! itself: a few lines of `std::net` on 127.0.0.1 answer every request with
//! a short text.
//!
//! Built with `--no-default-features` (no TLS, no image codecs) and the
//! `tiny` profile, it is the program whose size CI holds to a budget
//! (`scripts/size-budget.sh`, docs/tiny-binaries.md).
//!
//! Run with: `cargo run --profile tiny --no-default-features --example tiny [http://URL ...]`

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use tandem::{CpuPool, http};

/// How long the downloads may take together.
const LIMIT: Duration = Duration::from_secs(10);

// `main` prints its errors rather than returning them: a `Box<dyn Error>`
// return would link every error type's `Debug` formatting, 3 KiB here.
fn main() {
    let mut urls: Vec<String> = std::env::args().skip(1).collect();
    if urls.is_empty() {
        // An address, not the text "127.0.0.1:0", which would link the
        // parser of host names and ports (2 KiB).
        let Ok(listener) = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))) else {
            fail("cannot listen on 127.0.0.1");
        };
        let port = listener.local_addr().map_or(0, |address| address.port());
        urls = (1..=3)
            .map(|i| format!("http://127.0.0.1:{port}/{i}"))
            .collect();
        std::thread::spawn(move || listener.incoming().flatten().for_each(answer));
    }

    let client = http::Client::new();
    let pool = match CpuPool::new(1) {
        Ok(pool) => pool,
        Err(error) => fail(&format!("no CPU pool: {error}")),
    };
    tandem::block_on(async {
        // Every GET at once; each URL ends in a response or an error.
        let gets = tandem::join_all(urls.iter().map(|url| client.get(url)));
        let Ok(responses) = tandem::timeout(LIMIT, gets).await else {
            println!("the downloads took longer than {} s", LIMIT.as_secs());
            return;
        };
        let mut bodies = Vec::new();
        for (url, response) in urls.iter().zip(responses) {
            match response {
                Ok(response) => {
                    println!(
                        "GET {url}: {} ({} bytes)",
                        response.status(),
                        response.body().len()
                    );
                    bodies.push(response.into_body());
                }
                Err(error) => println!("GET {url}: {error}"),
            }
        }
        // The CPU work goes to the pool's one worker; the loop only awaits.
        let checksum = pool.run(move || {
            bodies
                .iter()
                .flatten()
                .fold(0u32, |sum, &byte| sum.rotate_left(5) ^ u32::from(byte))
        });
        match checksum.await {
            Ok(checksum) => println!("checksum of the bodies, on the pool: {checksum:08x}"),
            Err(error) => println!("the checksum job failed: {error}"),
        }
    });
}

/// Says why the program cannot go on (on stdout, with every other outcome
/// it reports) and ends it with status 1.
fn fail(why: &str) -> ! {
    println!("tiny: {why}");
    std::process::exit(1)
}

/// The self-serve mode's server: read a request's head, answer with a short
/// text, close.
fn answer(mut socket: TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0; 512];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        match socket.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let _ = socket.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Length: 21\r\nConnection: close\r\n\r\nhello from 127.0.0.1\n",
    );
}
