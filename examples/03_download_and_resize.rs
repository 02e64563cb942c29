//! The article's third program: download images with the event loop, then
//! resize them on a pool of workers. Batch style, line for line.
//!
//! ```python
//! import asyncio, io
//! from concurrent.futures import ProcessPoolExecutor
//! import aiohttp
//! from PIL import Image
//!
//! async def download(session, url):
//!     async with session.get(url) as response:
//!         return await response.read()
//!
//! def resize(data, i):
//!     img = Image.open(io.BytesIO(data)).resize((128, 128))
//!     img.save(f"resized_{i}.png")
//!
//! async def main(urls):
//!     async with aiohttp.ClientSession() as session:
//!         images = await asyncio.gather(*(download(session, url) for url in urls))
//!     loop = asyncio.get_running_loop()
//!     with ProcessPoolExecutor() as pool:
//!         await asyncio.gather(*(
//!             loop.run_in_executor(pool, resize, data, i) for i, data in enumerate(images)
//!         ))
//!
//! asyncio.run(main(urls))
//! ```
//!
//! Run with: `cargo run --release --example 03_download_and_resize [URL ...]`
//!
//! Without URLs it downloads demo pictures from a loopback server. Nothing
//! overlaps here: every download ends before the first resize starts.
//! Example 05 runs the same work as a pipeline.

use std::error::Error;
use std::path::Path;

use tandem::http::Client;
use tandem::resize::{Settings, process};
use tandem::{CpuPool, join_all};

// `def resize(data, i)`: runs on a pool worker, like the Python function.
fn resize(data: Vec<u8>, i: usize) -> Result<(), Box<dyn Error + Send + Sync>> {
    let img = process(&data, &Settings::new(128, 128))?;
    std::fs::write(
        Path::new("resized").join(format!("resized_{i}.png")),
        img.png,
    )?;
    Ok(())
}

// `async def main(urls)`
async fn main_async(urls: Vec<String>) -> Result<(), Box<dyn Error>> {
    // `async with aiohttp.ClientSession() as session:`
    let session = Client::new();
    // `images = await asyncio.gather(*(download(session, url) for url in urls))`
    let images = join_all(urls.iter().map(|url| session.get(url))).await;

    // `with ProcessPoolExecutor() as pool:`
    let pool = CpuPool::new(tandem::pool::default_workers())?;
    // `await asyncio.gather(*(loop.run_in_executor(pool, resize, data, i) ...))`
    let jobs = images.into_iter().enumerate().map(|(i, image)| {
        // A failed download has nothing to resize: its error stays in place.
        let job = image.map(|response| pool.run(move || resize(response.into_body(), i)));
        async move {
            let job = job?; // the download's error, if any
            job.await? // the job's panic, if any; else resize's own result
        }
    });
    for (i, result) in join_all(jobs).await.into_iter().enumerate() {
        match result {
            Ok(()) => println!("resized/resized_{i}.png"),
            Err(err) => println!("image {i}: {err}"),
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut urls: Vec<String> = std::env::args().skip(1).collect();
    // The demo server lives until the end of `main` when there are no URLs.
    let mut _server = None;
    if urls.is_empty() {
        let server = tandem::demo::Server::start()?;
        urls = server.image_urls(8);
        _server = Some(server);
    }
    std::fs::create_dir_all("resized")?;
    // `asyncio.run(main(urls))`
    tandem::block_on(main_async(urls))
}
