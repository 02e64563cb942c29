//! Does the adaptive download window do as well as the best fixed one,
//! without the user guessing it?
//!
//! ```text
//! cargo bench --bench adaptive
//! ```
//!
//! 64 demo pictures (JPEG photos and PNG illustrations, 640x480 to
//! 1920x1080, ~39 MB in all), served by the demo server **in a child
//! process** (this binary again, with `TANDEM_BENCH_SERVE=1`), painted
//! before any clock starts, so that serving competes with the pipeline
//! only as a real server on the same machine would. Two networks:
//!
//! * **delay**: each picture answered 30–150 ms late (spread per picture,
//!   the default of `tandem --demo-delay`), like a real network;
//! * **loopback**: no delay at all.
//!
//! On each, side by side and interleaved for [`ROUNDS`] rounds (medians):
//! the adaptive default, and the window fixed at 4, 8, 16, 32, 64 and 128.
//! Targets: with delay, adaptive within 1.1x of the best fixed window; on
//! loopback, within 1.02x of fixed 8 (the default before the window
//! adapted). Then the **peak RSS** of each contender, each in a fresh
//! child process (`TANDEM_BENCH_RSS_OF=...`), against the 64 MiB budget.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tandem::pipeline::{Config, Report, run};
use tandem::{CpuPool, block_on};

/// Pictures per run.
const IMAGES: usize = 64;
/// Interleaved rounds; the median is reported. `TANDEM_BENCH_ROUNDS`
/// changes it.
const ROUNDS: usize = 9;
/// The network delay, like `tandem --demo-delay 30-150`.
const DELAY_MS: (u64, u64) = (30, 150);
/// The fixed windows compared against.
const FIXED: [usize; 6] = [4, 8, 16, 32, 64, 128];
/// The window before it adapted (the reference on loopback).
const OLD_DEFAULT: usize = 8;

/// Child mode: serve the demo pictures until stdin closes.
const SERVE_ENV: &str = "TANDEM_BENCH_SERVE";
/// Child mode: one run (`adaptive` or a fixed window) over the URLs on
/// stdin, then print the peak RSS in KiB.
const RSS_ENV: &str = "TANDEM_BENCH_RSS_OF";

fn main() {
    if std::env::var_os(SERVE_ENV).is_some() {
        serve();
        return;
    }
    if let Ok(window) = std::env::var(RSS_ENV) {
        rss_child(parse_window(&window));
        return;
    }
    let (mut server, delayed, plain) = start_server();
    let workers = tandem::pool::default_workers();
    println!(
        "{IMAGES} demo pictures from a server in another process; {workers} workers; \
         median of {} interleaved rounds",
        rounds()
    );
    let delay = format!("each {}-{} ms late", DELAY_MS.0, DELAY_MS.1);
    let delayed_times = timing_table(&delay, &delayed, workers);
    let plain_times = timing_table("bare loopback", &plain, workers);

    println!();
    let best = best_fixed(&delayed_times);
    print_ratio("with delay", &delayed_times, best, "1.1");
    let old = 1 + FIXED.iter().position(|&w| w == OLD_DEFAULT).unwrap();
    print_ratio("loopback", &plain_times, old, "1.02");

    println!();
    println!("| peak RSS (VmHWM), one child each | with delay | loopback |");
    println!("|---|---:|---:|");
    for name in contender_names() {
        println!(
            "| {name} | {:.1} MiB | {:.1} MiB |",
            peak_rss(&name, &delayed) as f64 / 1024.0,
            peak_rss(&name, &plain) as f64 / 1024.0,
        );
    }
    println!(
        "(budget: {} MiB of bodies)",
        tandem::pipeline::DEFAULT_MAX_BUFFERED >> 20
    );
    drop(server.stdin.take());
    let _ = server.wait();
}

/// Times every contender over `urls`; prints the table; returns every
/// round's time of each, adaptive first, then [`FIXED`] in order.
fn timing_table(title: &str, urls: &[String], workers: usize) -> Vec<Vec<Duration>> {
    let pool = CpuPool::new(workers).expect("CPU pool");
    let out = out_dir("timing");
    let configs: Vec<Config> = contender_names()
        .iter()
        .map(|name| config(&out, parse_window(name)))
        .collect();
    let names = contender_names();
    let mut last: Vec<Option<Report>> = configs.iter().map(|_| None).collect();
    let pool = &pool;
    let mut runs: Vec<Box<dyn FnMut() + '_>> = configs
        .iter()
        .zip(last.iter_mut())
        .map(|(config, last)| {
            Box::new(move || *last = Some(run_once(urls, config, pool))) as Box<dyn FnMut()>
        })
        .collect();
    let mut contenders: Vec<(&str, &mut dyn FnMut())> = names
        .iter()
        .zip(runs.iter_mut())
        .map(|(name, run)| (name.as_str(), &mut **run as &mut dyn FnMut()))
        .collect();
    let times = common::side_by_side_samples(rounds(), &mut contenders);
    drop(contenders);
    drop(runs);
    let _ = std::fs::remove_dir_all(&out);

    println!();
    println!("{title}:");
    println!();
    println!("| window | wall (median) | window max / mean | overlap | bodies buffered, peak |");
    println!("|---|---:|---:|---:|---:|");
    for ((name, samples), report) in names.iter().zip(&times).zip(&last) {
        let time = common::median(samples.clone());
        let report = report.as_ref().expect("each contender ran");
        let flow = &report.flow;
        println!(
            "| {name} | {:.1} ms | {} / {:.1} | {:.0}% | {:.1} MiB |",
            ms(time),
            flow.window_max(),
            flow.window_mean(report.wall),
            100.0 * report.overlap_time().as_secs_f64() / report.wall.as_secs_f64(),
            flow.buffered_peak as f64 / f64::from(1 << 20),
        );
    }
    times
}

/// The index (in `samples`) of the fixed window with the lowest median.
fn best_fixed(samples: &[Vec<Duration>]) -> usize {
    (1..samples.len())
        .min_by_key(|&index| common::median(samples[index].clone()))
        .expect("fixed windows")
}

/// Adaptive against contender `other`: the ratio of their medians, and
/// the median and quartiles of the round-by-round ratios (each round runs
/// both within a second or two, so slow drifts of the machine's load
/// cancel out).
fn print_ratio(title: &str, samples: &[Vec<Duration>], other: usize, target: &str) {
    let names = contender_names();
    let (adaptive, reference) = (&samples[0], &samples[other]);
    let per_round: Vec<f64> = adaptive
        .iter()
        .zip(reference)
        .map(|(&a, &b)| ratio(a, b))
        .collect();
    let (median, low, high) = common::quartiles(per_round);
    let (a, b) = (
        common::median(adaptive.clone()),
        common::median(reference.clone()),
    );
    println!(
        "{title}: adaptive {:.1} ms vs {} {:.1} ms: ratio of medians {:.2}; round by round \
         median {median:.2} (quartiles {low:.2}-{high:.2}) (target <= {target})",
        ms(a),
        names[other],
        ms(b),
        ratio(a, b)
    );
}

fn contender_names() -> Vec<String> {
    let fixed = FIXED.iter().map(|window| format!("fixed {window}"));
    std::iter::once("adaptive".to_string())
        .chain(fixed)
        .collect()
}

/// `adaptive` is `None`; `fixed N` is `Some(N)`.
fn parse_window(name: &str) -> Option<usize> {
    name.strip_prefix("fixed ")
        .map(|window| window.parse().expect("fixed N"))
}

fn config(out: &Path, window: Option<usize>) -> Config {
    Config {
        concurrency: window,
        ..Config::new(out)
    }
}

fn run_once(urls: &[String], config: &Config, pool: &CpuPool) -> Report {
    let report = block_on(run(urls.to_vec(), config, pool, |_| {}));
    assert_eq!(report.succeeded(), urls.len(), "every picture is saved");
    report
}

fn out_dir(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "tandem-bench-adaptive-{what}-{}",
        std::process::id()
    ))
}

/// Starts the server child; returns it and its URLs, delayed and plain.
fn start_server() -> (Child, Vec<String>, Vec<String>) {
    let mut child = Command::new(std::env::current_exe().expect("the bench binary"))
        .env(SERVE_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server child");
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let (mut delayed, mut plain) = (Vec::new(), Vec::new());
    for line in stdout.lines() {
        let line = line.expect("the child's stdout");
        match line.split_once(' ') {
            Some(("delayed", url)) => delayed.push(url.to_string()),
            Some(("plain", url)) => plain.push(url.to_string()),
            _ if line == "ready" => break,
            _ => panic!("unexpected line from the server child: {line}"),
        }
    }
    assert_eq!((delayed.len(), plain.len()), (IMAGES, IMAGES));
    (child, delayed, plain)
}

/// Child mode: starts the demo server, paints the pictures, prints their
/// URLs and `ready`, then serves until stdin closes.
fn serve() {
    let server = tandem::demo::Server::start().expect("demo server");
    server.paint_ahead(IMAGES).expect("painting");
    let mut stdout = std::io::stdout().lock();
    for url in server.delayed_image_urls(IMAGES, Some(DELAY_MS)) {
        writeln!(stdout, "delayed {url}").unwrap();
    }
    for url in server.image_urls(IMAGES) {
        writeln!(stdout, "plain {url}").unwrap();
    }
    writeln!(stdout, "ready").unwrap();
    stdout.flush().unwrap();
    drop(stdout);
    // Serve until the parent closes our stdin.
    let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
}

/// Runs one contender over `urls` in a fresh child; its peak RSS in KiB.
fn peak_rss(name: &str, urls: &[String]) -> u64 {
    let mut child = Command::new(std::env::current_exe().expect("the bench binary"))
        .env(RSS_ENV, name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the RSS child");
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(urls.join("\n").as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().expect("the RSS child");
    assert!(output.status.success(), "RSS child failed: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("the child prints its VmHWM in KiB")
}

/// Child mode: one run with `window` over the URLs on stdin.
fn rss_child(window: Option<usize>) {
    let urls: Vec<String> = std::io::stdin().lines().map(Result::unwrap).collect();
    let out = out_dir("rss");
    let pool = CpuPool::new(tandem::pool::default_workers()).expect("CPU pool");
    run_once(&urls, &config(&out, window), &pool);
    let _ = std::fs::remove_dir_all(&out);
    println!("{}", common::peak_rss_kib());
}

/// [`ROUNDS`], or `TANDEM_BENCH_ROUNDS`.
fn rounds() -> usize {
    std::env::var("TANDEM_BENCH_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(ROUNDS)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
