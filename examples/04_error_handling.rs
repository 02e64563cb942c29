//! Step 4 of the article: failures are results, and the pool has a size.
//!
//! The Python original:
//!
//! ```python
//! results = await asyncio.gather(
//!     *(fetch(session, u) for u in urls),
//!     return_exceptions=True
//! )
//! for r in results:
//!     if isinstance(r, Exception):
//!         print("エラー発生:", r)
//!     else:
//!         print("成功:", len(r))
//!
//! ProcessPoolExecutor(max_workers=2)  # keep CPU work from running away
//! ```
//!
//! In Rust a failure already is a value: `join_all` over futures of `Result`
//! keeps every outcome in its place, which is `return_exceptions=True`.
//! Each error says what happened (refused, timed out, HTTP status...).
//!
//! With no arguments it fetches, from the embedded demo server on
//! 127.0.0.1: two good URLs, a 500, a port nobody listens on, and a
//! response slower than the client's timeout. Given URLs, it fetches those.
//!
//! Run with: `cargo run --release --example 04_error_handling [URL ...]`

use std::time::Duration;

use tandem::{CpuPool, http};

/// A port on 127.0.0.1 that refuses connections: bind one, then let it go.
fn refused_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let (_server, urls) = if arguments.is_empty() {
        let server = tandem::demo::Server::start()?;
        let urls = vec![
            server.url("/get"),
            server.url("/text"),
            server.url("/status/500"),
            format!("http://127.0.0.1:{}/", refused_port()?),
            server.url("/delay/5000"),
        ];
        (Some(server), urls)
    } else {
        (None, arguments)
    };

    // A bounded wait per request, so one slow server cannot hold the run.
    let client = http::Client::builder()
        .total_timeout(Duration::from_secs(1))
        .build();
    // `ProcessPoolExecutor(max_workers=2)`
    let pool = CpuPool::new(2)?;

    // ANCHOR: gather
    let outcomes = tandem::block_on(tandem::join_all(urls.iter().map(|url| async {
        let response = client.get(url).await.map_err(|err| err.to_string())?;
        if !response.is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        // The CPU part (here: count characters) on one of the two workers.
        let text = response.text().into_owned();
        pool.run(move || text.chars().count())
            .await
            .map_err(|err| err.to_string())
    })));
    // ANCHOR_END: gather

    // ANCHOR: report
    for (url, outcome) in urls.iter().zip(outcomes) {
        match outcome {
            Ok(characters) => println!("成功 (ok):     {url}: {characters} characters"),
            Err(error) => println!("エラー発生 (error): {url}: {error}"),
        }
    }
    // ANCHOR_END: report
    Ok(())
}
