//! Does the pipeline overlap I/O and CPU, and does its memory stay bounded?
//!
//! ```text
//! cargo bench --bench pipeline
//! ```
//!
//! [`IMAGES`] photo-like 1920 x 1080 JPEGs (one seed each) come from the
//! loopback demo server, whose cache is warmed first so that painting them
//! is not measured, each answered [`NETWORK_DELAY_MS`] late as over a real
//! network. Then, interleaved for [`ROUNDS`] rounds (median):
//!
//! * **pipeline**: `pipeline::run` in [`Mode::Pipeline`];
//! * **batch**: the same in [`Mode::Batch`], the article's schedule;
//! * **download only**: the same fetches, same concurrency, no CPU work;
//! * **CPU only, in parallel**: `resize::process` over the downloaded bytes
//!   on `workers` plain threads: no loop, no network, no disk.
//!
//! The **CPU floor** is the sum of each image's `resize::process` time, run
//! one after the other on this thread, divided by the workers: no schedule
//! can finish the CPU work sooner on idle cores. A perfect pipeline takes
//! `max(CPU floor, download only)`. On a shared machine the cores are not
//! idle, so the table also compares against `max(CPU only, download only)`,
//! measured in the same rounds under the same load.
//!
//! **Peak memory**: the bench runs itself again as a child process with
//! `TANDEM_BENCH_RSS=N` (and the server's address), which runs the pipeline
//! over `N` inputs with the default `Config` (an adaptive window within
//! the memory budget) and prints its `VmHWM` (peak resident set) from
//! `/proc/self/status`. The server stays in the parent, so its cache is not
//! counted. Inputs cycle over the same pictures: what grows is the count.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use tandem::pipeline::{Config, Mode, Report, run};
use tandem::resize::process;
use tandem::{CpuPool, Semaphore, block_on, join_all};

/// Inputs of the timing runs.
const IMAGES: usize = 64;
/// Interleaved rounds of the timing runs; the median is reported.
const ROUNDS: usize = 5;
/// Downloads in flight (the `Config` default).
const CONCURRENCY: usize = 8;
/// Each picture arrives this late, as over a real network: on bare
/// loopback the downloads take ~20 ms in all and there is nothing to
/// overlap. With 8 in flight, 64 pictures then take ~320 ms to download.
const NETWORK_DELAY_MS: u64 = 40;
/// Input counts of the memory runs: the second must not cost much more.
const RSS_INPUTS: (usize, usize) = (32, 256);

/// Child mode: the number of inputs to run over.
const RSS_ENV: &str = "TANDEM_BENCH_RSS";
/// Child mode: the demo server's base URL.
const SERVER_ENV: &str = "TANDEM_BENCH_SERVER";
/// Child mode: `pipeline` or `batch`.
const MODE_ENV: &str = "TANDEM_BENCH_MODE";

fn main() {
    if let Ok(inputs) = std::env::var(RSS_ENV) {
        peak_memory_child(inputs.parse().expect("TANDEM_BENCH_RSS is a count"));
        return;
    }
    let workers = tandem::pool::default_workers();
    let server = tandem::demo::Server::start().expect("demo server");
    let base = format!("http://{}", server.addr());
    let urls = image_urls(&base, IMAGES, 0);

    // Warm the server's cache, and keep the bytes for the CPU floor.
    let started = Instant::now();
    let bodies = download_all(&urls, &tandem::http::Client::new());
    println!(
        "{IMAGES} JPEGs 1920x1080, {:.1} MB, painted in {:.1?}; {workers} workers, {CONCURRENCY} downloads at once, median of {ROUNDS} rounds",
        bodies.iter().map(Vec::len).sum::<usize>() as f64 / 1e6,
        started.elapsed()
    );
    let cpu_floor = cpu_floor(&bodies, workers);

    // Bare loopback: downloads cost almost nothing, so the pipeline's own
    // overhead shows. Then a network-like latency, so there is something
    // to overlap.
    for delay_ms in [0, NETWORK_DELAY_MS] {
        timing_table(&base, delay_ms, workers, cpu_floor, &bodies);
    }

    println!();
    println!(
        "| peak RSS (VmHWM) | {} inputs | {} inputs | ratio | target |",
        RSS_INPUTS.0, RSS_INPUTS.1
    );
    println!("|---|---:|---:|---:|---:|");
    for (mode, target) in [("pipeline", "<= 1.5"), ("batch", "(unbounded)")] {
        let small = peak_memory(&base, RSS_INPUTS.0, mode);
        let large = peak_memory(&base, RSS_INPUTS.1, mode);
        println!(
            "| {mode} | {:.1} MB | {:.1} MB | {:.2} | {target} |",
            small as f64 / 1024.0,
            large as f64 / 1024.0,
            large as f64 / small as f64
        );
    }
}

/// Times pipeline, batch, download only and CPU only, interleaved, with
/// every picture answered `delay_ms` late; prints the table.
fn timing_table(
    base: &str,
    delay_ms: u64,
    workers: usize,
    cpu_floor: Duration,
    bodies: &[Vec<u8>],
) {
    let pool = CpuPool::new(workers).expect("CPU pool");
    let out_dir =
        std::env::temp_dir().join(format!("tandem-bench-pipeline-{}", std::process::id()));
    let pipeline_config = config(&out_dir, Mode::Pipeline);
    let batch_config = config(&out_dir, Mode::Batch);
    let mut last_pipeline = None;
    let urls = image_urls(base, IMAGES, delay_ms);
    let timings = common::side_by_side(
        ROUNDS,
        &mut [
            ("pipeline", &mut || {
                last_pipeline = Some(run_once(&urls, &pipeline_config, &pool));
            }),
            ("batch", &mut || {
                run_once(&urls, &batch_config, &pool);
            }),
            ("download only", &mut || {
                download_all(&urls, &pipeline_config.client);
            }),
            ("CPU only, in parallel", &mut || {
                cpu_in_parallel(bodies, workers)
            }),
        ],
    );
    let _ = std::fs::remove_dir_all(&out_dir);
    let [pipeline, batch, download_only, cpu_parallel] = timings[..] else {
        unreachable!("four contenders")
    };
    let report = last_pipeline.expect("the pipeline ran");
    let ideal = cpu_floor.max(download_only);
    let measured_ideal = cpu_parallel.max(download_only);

    println!();
    match delay_ms {
        0 => println!("Bare loopback:"),
        ms => println!("Each picture answered {ms} ms late, like a network:"),
    }
    println!();
    println!("| measure | time | ratio | target |");
    println!("|---|---:|---:|---:|");
    row("download only (no CPU)", download_only, "", "");
    row("CPU floor (sum of process / workers)", cpu_floor, "", "");
    row("CPU only, on `workers` threads", cpu_parallel, "", "");
    row("batch (the article)", batch, "", "");
    let vs_ideal = format!("{:.2} of max(floor, download)", ratio(pipeline, ideal));
    row("pipeline", pipeline, &vs_ideal, "<= 1.15");
    let vs_measured = format!(
        "{:.2} of max(CPU only, download)",
        ratio(pipeline, measured_ideal)
    );
    row("pipeline", pipeline, &vs_measured, "");
    row(
        "pipeline / batch",
        pipeline,
        &format!("{:.2}", ratio(pipeline, batch)),
        "< 1",
    );
    println!();
    println!(
        "last pipeline run: {} saved, io_time {:.1?}, cpu_time {:.1?} (in-run, summed over workers), overlap {:.1?}",
        report.succeeded(),
        report.io_time(),
        report.cpu_time(),
        report.overlap_time()
    );
}

/// `count` URLs of 1920x1080 JPEGs, cycling over [`IMAGES`] seeds, each
/// answered `delay_ms` late.
fn image_urls(base: &str, count: usize, delay_ms: u64) -> Vec<String> {
    (0..count)
        .map(|i| {
            let seed = i % IMAGES;
            format!("{base}/image/jpeg?w=1920&h=1080&seed={seed}&delay={delay_ms}")
        })
        .collect()
}

fn config(out_dir: &std::path::Path, mode: Mode) -> Config {
    Config {
        concurrency: Some(CONCURRENCY),
        mode,
        ..Config::new(out_dir)
    }
}

fn run_once(urls: &[String], config: &Config, pool: &CpuPool) -> Report {
    let report = block_on(run(urls.to_vec(), config, pool, |_| {}));
    assert_eq!(report.succeeded(), urls.len(), "every image is saved");
    report
}

/// Fetches every URL, [`CONCURRENCY`] at a time; no CPU work.
fn download_all(urls: &[String], client: &tandem::http::Client) -> Vec<Vec<u8>> {
    let permits = Semaphore::new(CONCURRENCY);
    block_on(join_all(urls.iter().map(|url| async {
        let _permit = permits.acquire().await;
        let response = client.get(url).await.expect("download");
        assert!(response.is_success());
        response.into_body()
    })))
}

/// The sum of every image's `process` time on this thread, over `workers`;
/// the best of three passes.
fn cpu_floor(bodies: &[Vec<u8>], workers: usize) -> Duration {
    let settings = tandem::resize::Settings::new(128, 128);
    let pass = || -> Duration {
        bodies
            .iter()
            .map(|body| {
                let started = Instant::now();
                process(body, &settings).expect("a valid JPEG");
                started.elapsed()
            })
            .sum()
    };
    let best = (0..3).map(|_| pass()).min().expect("three passes");
    best / workers as u32
}

/// `process` over every body on `workers` plain threads, each taking the
/// next body: the CPU work alone, with no loop, no download and no disk.
fn cpu_in_parallel(bodies: &[Vec<u8>], workers: usize) {
    let settings = tandem::resize::Settings::new(128, 128);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(body) = bodies.get(index) else { break };
                    process(body, &settings).expect("a valid JPEG");
                }
            });
        }
    });
}

/// Runs this binary as a child over `inputs` inputs; returns its `VmHWM`
/// in KiB.
fn peak_memory(server: &str, inputs: usize, mode: &str) -> u64 {
    let output = Command::new(std::env::current_exe().expect("the bench binary"))
        .env(RSS_ENV, inputs.to_string())
        .env(SERVER_ENV, server)
        .env(MODE_ENV, mode)
        .output()
        .expect("run the child");
    assert!(output.status.success(), "child failed: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("the child prints its VmHWM in KiB")
}

/// Child mode: one run over `inputs` inputs, then print `VmHWM` (KiB).
fn peak_memory_child(inputs: usize) {
    let server = std::env::var(SERVER_ENV).expect("TANDEM_BENCH_SERVER");
    let mode = match std::env::var(MODE_ENV).as_deref() {
        Ok("batch") => Mode::Batch,
        _ => Mode::Pipeline,
    };
    let out_dir: PathBuf =
        std::env::temp_dir().join(format!("tandem-bench-rss-{}", std::process::id()));
    // The command's defaults: an adaptive window within the memory budget.
    let config = Config {
        mode,
        ..Config::new(&out_dir)
    };
    let pool = CpuPool::new(tandem::pool::default_workers()).expect("CPU pool");
    run_once(&image_urls(&server, inputs, 0), &config, &pool);
    let _ = std::fs::remove_dir_all(&out_dir);
    let peak = common::peak_rss_kib();
    println!("{peak}");
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn row(name: &str, time: Duration, ratio: &str, target: &str) {
    println!(
        "| {name} | {:.1} ms | {ratio} | {target} |",
        time.as_secs_f64() * 1e3
    );
}
