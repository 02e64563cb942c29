//! What does the queue cost? The main job through Redis and two `tandem
//! worker` processes, against the local pipeline with as many CPU threads.
//!
//! ```text
//! cargo bench --bench broker
//! ```
//!
//! Needs `redis-server` (skips with a message without it). The bench
//! starts one on a free 127.0.0.1 port, the demo server in this process,
//! and two `tandem worker --workers 1 --concurrency 2` processes. Then,
//! interleaved for [`ROUNDS`] rounds (median, and the spread):
//!
//! * **local**: `pipeline::run_blocking`, 2 CPU threads, 8 downloads at once;
//! * **broker**: `celery::run_through_broker_blocking` (what `tandem --broker`
//!   runs), 8 tasks outstanding, served by the two workers (1 CPU thread each).
//!
//! over the demo's [`IMAGES`] images (JPEG and PNG, 640x480 to 1920x1080).
//! Reported: the throughput ratio (local time / broker time, target ≥ 0.85)
//! and the time added per image ((broker − local) / images, target ≤ 2 ms).
//! A third pair runs [`SERIAL`] images one at a time (concurrency 1), where
//! no overlap hides the queue: its difference per image is the round trip
//! a task adds (LPUSH, BRPOP, unacked, result, PUBLISH, GET of the PNG).

// The tests' helpers, shared rather than copied; the bench uses a few.
#[allow(dead_code)]
#[path = "../tests/support/child.rs"]
mod child;
mod common;
#[allow(dead_code)]
#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use tandem::celery::{BrokerConfig, run_through_broker_blocking};
use tandem::pipeline::{Config, run_blocking};
use tandem::redis::RedisUrl;

/// Images per round.
const IMAGES: usize = 64;
/// Images of the one-at-a-time rounds.
const SERIAL: usize = 16;
/// Interleaved rounds.
const ROUNDS: usize = 5;

fn main() {
    let Some(redis) = redis_server::RedisServer::start("bench broker") else {
        return;
    };
    let demo = tandem::demo::Server::start().expect("demo server");
    let urls = demo.image_urls(IMAGES);
    let out = std::env::temp_dir().join(format!("tandem-bench-broker-{}", std::process::id()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"));
            command
                .args([
                    "worker",
                    "--broker",
                    &redis.url(),
                    "--workers",
                    "1",
                    "--concurrency",
                    "2",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            child::KillOnDrop::spawn("tandem worker", &mut command)
        })
        .collect();
    redis.wait_for_consumers(2 * 2);

    let local = Config {
        workers: 2,
        concurrency: Some(8),
        ..Config::new(&out)
    };
    let broker = BrokerConfig::new(RedisUrl::parse(&redis.url()).unwrap(), "tandem");
    let serial = Config {
        concurrency: Some(1),
        ..local.clone()
    };
    let run_local = |config: &Config, urls: &[String]| {
        let report = run_blocking(urls.to_vec(), config, |_| {}).expect("pool");
        assert_eq!(report.failed(), 0);
    };
    let run_broker = |config: &Config, urls: &[String]| {
        let report =
            run_through_broker_blocking(urls.to_vec(), config, &broker, |_| {}).expect("broker");
        assert_eq!(
            report.failed(),
            0,
            "{:?}",
            report.items.iter().find(|i| i.result.is_err())
        );
    };
    // Warm up: the demo server paints each picture once, the workers connect.
    run_local(&local, &urls);
    run_broker(&local, &urls);

    let mut samples = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        let timed = |run: &dyn Fn()| {
            let started = Instant::now();
            run();
            started.elapsed()
        };
        samples[0].push(timed(&|| run_local(&local, &urls)));
        samples[1].push(timed(&|| run_broker(&local, &urls)));
        samples[2].push(timed(&|| run_local(&serial, &urls[..SERIAL])));
        samples[3].push(timed(&|| run_broker(&serial, &urls[..SERIAL])));
    }
    drop(workers);
    let _ = std::fs::remove_dir_all(&out);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let spread = |s: &[Duration]| {
        let (min, max) = (s.iter().min().unwrap(), s.iter().max().unwrap());
        format!("{:.1}–{:.1} ms", ms(*min), ms(*max))
    };
    let medians: Vec<Duration> = samples.iter().map(|s| common::median(s.clone())).collect();
    println!(
        "{IMAGES} demo images, 2 CPU threads either way, median of {ROUNDS} interleaved rounds"
    );
    println!(
        "  local pipeline      {:>8.1} ms  ({})",
        ms(medians[0]),
        spread(&samples[0])
    );
    println!(
        "  through the broker  {:>8.1} ms  ({})",
        ms(medians[1]),
        spread(&samples[1])
    );
    let ratios: Vec<f64> = samples[0]
        .iter()
        .zip(&samples[1])
        .map(|(l, b)| l.as_secs_f64() / b.as_secs_f64())
        .collect();
    let added: Vec<f64> = samples[0]
        .iter()
        .zip(&samples[1])
        .map(|(l, b)| (ms(*b) - ms(*l)) / IMAGES as f64)
        .collect();
    let range = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let (ratio, low, high) = range(&ratios);
    println!("  throughput, broker / local: {ratio:.2} (rounds {low:.2}–{high:.2}; target ≥ 0.85)");
    let (per, low, high) = range(&added);
    println!("  added per image: {per:.2} ms (rounds {low:.2}–{high:.2}; target ≤ 2 ms)");
    let serial_added: Vec<f64> = samples[2]
        .iter()
        .zip(&samples[3])
        .map(|(l, b)| (ms(*b) - ms(*l)) / SERIAL as f64)
        .collect();
    let (per, low, high) = range(&serial_added);
    println!(
        "  one at a time ({SERIAL} images): local {:.1} ms, broker {:.1} ms; round trip added per task {per:.2} ms (rounds {low:.2}–{high:.2})",
        ms(medians[2]),
        ms(medians[3])
    );
}
