//! Step 2 of the article: fetch several URLs together on the loop, then
//! analyse each text on the CPU pool.
//!
//! The Python original:
//!
//! ```python
//! def heavy_analysis(data: str) -> str:
//!     return f"分析済み: {len(data)}文字"
//!
//! async def fetch(session, url):
//!     async with session.get(url) as resp:
//!         return await resp.text()
//!
//! async def main():
//!     urls = ["https://example.com", "https://httpbin.org/get"]
//!     async with aiohttp.ClientSession() as session:
//!         texts = await asyncio.gather(*(fetch(session, u) for u in urls))
//!     loop = asyncio.get_running_loop()
//!     with ProcessPoolExecutor() as pool:
//!         results = await asyncio.gather(
//!             *(loop.run_in_executor(pool, heavy_analysis, t) for t in texts)
//!         )
//!     print(results)
//! ```
//!
//! With no arguments the URLs point at tandem's embedded demo server on
//! 127.0.0.1, so this runs without internet; given URLs, it fetches those.
//!
//! Run with: `cargo run --release --example 02_fetch_and_analyze [URL ...]`

use tandem::{CpuPool, http};

/// The CPU side: count characters, words and lines. (The article counts
/// characters only; a little more work makes the pool worth its name.)
fn heavy_analysis(text: &str) -> String {
    let characters = text.chars().count();
    let words = text.split_whitespace().count();
    let lines = text.lines().count();
    format!("分析済み (analysed): {characters} characters, {words} words, {lines} lines")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    // Keep the demo server alive for the whole run when we use it.
    let (_server, urls) = if arguments.is_empty() {
        let server = tandem::demo::Server::start()?;
        let urls = vec![
            server.url("/html"),
            server.url("/get"),
            server.url("/text?repeat=50"),
        ];
        (Some(server), urls)
    } else {
        (None, arguments)
    };

    // `async with aiohttp.ClientSession() as session:` — one client, so
    // requests to the same host share kept-alive connections.
    let client = http::Client::new();
    let pool = CpuPool::new(tandem::pool::default_workers())?;

    let results = tandem::block_on(async {
        // `texts = await asyncio.gather(*(fetch(session, u) for u in urls))`
        let texts = tandem::try_join_all(urls.iter().map(|url| client.get(url))).await?;
        // `await asyncio.gather(*(loop.run_in_executor(pool, heavy_analysis, t) ...))`
        let analyses = texts.into_iter().map(|response| {
            let text = response.text().into_owned();
            pool.run(move || heavy_analysis(&text))
        });
        tandem::try_join_all(analyses)
            .await
            .map_err(|err| Box::new(err) as Box<dyn std::error::Error>)
    })?;

    for (url, result) in urls.iter().zip(&results) {
        println!("{url}: {result}");
    }
    Ok(())
}
