//! The same job as example 03, overlapped: each image is resized the moment
//! it arrives, while the next ones are still downloading, and saved the
//! moment it is resized.
//!
//! Run with: `cargo run --release --example 05_pipeline [URL ...]`
//!
//! Without URLs it downloads demo pictures from a loopback server. The
//! totals at the end say how much downloading (I/O) and resizing (CPU)
//! overlapped; `src/pipeline/mod.rs` draws both schedules.

use std::error::Error;

use tandem::pipeline::{Config, Event, run_blocking};

fn main() -> Result<(), Box<dyn Error>> {
    let server = tandem::demo::Server::start()?;
    let mut urls: Vec<String> = std::env::args().skip(1).collect();
    if urls.is_empty() {
        urls = server.image_urls(16);
    }

    let config = Config::new("resized");
    let mut done = 0;
    let total = urls.len();
    let report = run_blocking(urls, &config, |event| {
        if let Event::Finished { .. } = event {
            done += 1;
            eprint!("\r{done}/{total} done");
        }
    })?;
    eprintln!();

    for item in &report.items {
        match &item.result {
            Ok(saved) => println!(
                "{:>3} {} ({} KB, {}x{})",
                item.index,
                saved.path.display(),
                saved.downloaded_bytes / 1024,
                saved.source_size.0,
                saved.source_size.1,
            ),
            Err(err) => println!("{:>3} {}: {err}", item.index, item.url),
        }
    }
    println!(
        "{} saved, {} failed, {} workers",
        report.succeeded(),
        report.failed(),
        report.workers
    );
    println!("wall     {:>8.1?}", report.wall);
    println!(
        "io_time  {:>8.1?}  (some download in flight)",
        report.io_time()
    );
    println!(
        "cpu_time {:>8.1?}  (summed over workers)",
        report.cpu_time()
    );
    println!(
        "overlap  {:>8.1?}  (downloading while resizing)",
        report.overlap_time()
    );
    Ok(())
}
