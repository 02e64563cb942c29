//! The adaptive download window and the memory budget, against the loopback
//! demo server: the budget is never exceeded (a picture larger than it
//! still proceeds, alone), the window grows while the pool starves, and it
//! stays put when the pool is the bottleneck.
//!
//! What is asserted is what the run did, read from its events and its
//! report, never how long it took. Every request has a timeout, so a
//! deadlock fails the test instead of hanging it.
#![cfg(feature = "image")]

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use tandem::demo::Server;
use tandem::http::Client;
use tandem::pipeline::{Config, Event, Report, WINDOW_START, run};
use tandem::{CpuPool, block_on};

/// A fresh output directory for one test.
fn out_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tandem-adaptive-{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn config(out: &PathBuf) -> Config {
    Config {
        client: Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .total_timeout(Duration::from_secs(30))
            .build(),
        ..Config::new(out)
    }
}

/// What the events showed: the most bodies downloaded and not yet
/// processed at once (their bytes, and how many), and the most downloads
/// started and not yet finished at once.
#[derive(Default)]
struct Watch {
    waiting: HashMap<usize, usize>,
    most_bytes_waiting: usize,
    alone_over_budget: bool,
    downloading: usize,
    most_downloading: usize,
}

impl Watch {
    fn on_event(&mut self, event: Event, budget: usize) {
        match event {
            Event::DownloadStarted(_) => {
                self.downloading += 1;
                self.most_downloading = self.most_downloading.max(self.downloading);
            }
            Event::Downloaded { index, bytes } => {
                self.downloading -= 1;
                self.waiting.insert(index, bytes);
                let total: usize = self.waiting.values().sum();
                if total > budget {
                    // Only a picture larger than the budget, on its own.
                    assert_eq!(self.waiting.len(), 1, "over budget with company: {total}");
                    self.alone_over_budget = true;
                }
                self.most_bytes_waiting = self.most_bytes_waiting.max(total);
            }
            Event::Processed(index) => {
                self.waiting.remove(&index);
            }
            Event::Finished { index, .. } => {
                self.waiting.remove(&index);
            }
        }
    }
}

/// Runs `urls` on a pool of `workers`, watching the events.
fn run_watched(urls: Vec<String>, config: &Config, pool: &CpuPool) -> (Report, Watch) {
    let budget = usize::try_from(config.max_buffered).unwrap();
    let watch = RefCell::new(Watch::default());
    let report = block_on(run(urls, config, pool, |event| {
        watch.borrow_mut().on_event(event, budget)
    }));
    (report, watch.into_inner())
}

#[test]
fn the_budget_holds_with_pictures_larger_than_it_and_many_small_ones() {
    let server = Server::start().unwrap();
    let out = out_dir("budget");
    // Photos (each larger than the budget) among many thumbnails.
    let urls: Vec<String> = (0..40)
        .map(|i| match i % 8 {
            0 => server.url(&format!("/image/jpeg?w=320&h=240&seed={i}")),
            _ => server.url(&format!("/image/png?w=24&h=16&seed={}", i % 4)),
        })
        .collect();
    let budget = 6_000;
    let config = Config {
        max_buffered: budget,
        ..config(&out)
    };
    let pool = CpuPool::new(2).unwrap();
    let (report, watch) = run_watched(urls, &config, &pool);

    assert_eq!(report.succeeded(), 40, "no deadlock, nothing lost");
    let largest = report
        .items
        .iter()
        .map(|item| item.result.as_ref().unwrap().downloaded_bytes as u64)
        .max()
        .unwrap();
    assert!(largest > budget, "the photos are larger than the budget");
    assert!(watch.alone_over_budget, "a photo went through, alone");
    // The budget's own count, which includes downloads in flight.
    let flow = &report.flow;
    assert_eq!(flow.max_buffered, budget);
    assert!(flow.buffered_peak <= largest, "{}", flow.buffered_peak);
    let small_peak = watch.most_bytes_waiting as u64;
    assert!(small_peak <= largest, "{small_peak}");
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn many_small_pictures_stay_within_the_budget() {
    let server = Server::start().unwrap();
    let out = out_dir("small");
    let urls: Vec<String> = (0..48)
        .map(|i| server.url(&format!("/image/png?w=32&h=24&seed={}", i % 4)))
        .collect();
    let budget = 8_000;
    let config = Config {
        max_buffered: budget,
        ..config(&out)
    };
    let pool = CpuPool::new(2).unwrap();
    let (report, watch) = run_watched(urls, &config, &pool);

    assert_eq!(report.succeeded(), 48);
    let each = report.items[0].result.as_ref().unwrap().downloaded_bytes;
    assert!(each * 2 < 8_000, "a few fit at once: {each}");
    assert!(!watch.alone_over_budget);
    assert!(report.flow.buffered_peak <= budget);
    assert!(watch.most_bytes_waiting as u64 <= budget);
    assert!(watch.most_bytes_waiting > 0);
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn the_window_grows_while_the_pool_starves() {
    let server = Server::start().unwrap();
    let out = out_dir("grows");
    // Tiny pictures, each 40 ms late: the workers wait for bytes.
    let count = 3 * WINDOW_START;
    let urls: Vec<String> = (0..count)
        .map(|i| server.url(&format!("/image/png?w=16&h=16&seed={i}&delay=40")))
        .collect();
    let pool = CpuPool::new(2).unwrap();
    let (report, watch) = run_watched(urls, &config(&out), &pool);

    assert_eq!(report.succeeded(), count);
    let flow = &report.flow;
    assert!(flow.adaptive);
    assert_eq!(flow.window[0].size, WINDOW_START);
    assert!(flow.window_max() > WINDOW_START, "{:?}", flow.window);
    assert!(
        watch.most_downloading > WINDOW_START,
        "more downloads in flight than the window started with: {}",
        watch.most_downloading
    );
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn the_window_stays_small_when_the_cpu_is_the_bottleneck() {
    let server = Server::start().unwrap();
    let out = out_dir("saturated");
    // Pictures that take a debug build milliseconds to decode and resize,
    // arriving at once from the cache: the one worker is always behind.
    let count = 3 * WINDOW_START;
    let urls: Vec<String> = (0..count)
        .map(|i| server.url(&format!("/image/png?w=160&h=120&seed={}", i % 4)))
        .collect();
    // Painted before the run, so that every answer is at once.
    let client = Client::new();
    for url in &urls[..4] {
        assert!(block_on(client.get(url)).unwrap().is_success());
    }
    let pool = CpuPool::builder().workers(1).queue(2).build().unwrap();
    let (report, _watch) = run_watched(urls, &config(&out), &pool);

    assert_eq!(report.succeeded(), count);
    let flow = &report.flow;
    // It grew at most while the queue first filled (a worker and a queue
    // slot), or for silence if the machine stalled the first answers;
    // then backlog kept it from growing, and shrank it.
    assert!(
        flow.window_max() <= 2 * WINDOW_START,
        "the window grew although the pool was saturated: {:?}",
        flow.window
    );
    let last = flow.window.last().unwrap().size;
    assert!(last < flow.window_max(), "it backed off: {:?}", flow.window);
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_fixed_concurrency_keeps_the_window_still() {
    let server = Server::start().unwrap();
    let out = out_dir("fixed");
    let urls: Vec<String> = (0..12)
        .map(|i| server.url(&format!("/image/png?w=16&h=16&seed={i}&delay=10")))
        .collect();
    let config = Config {
        concurrency: Some(3),
        ..config(&out)
    };
    let pool = CpuPool::new(2).unwrap();
    let (report, watch) = run_watched(urls, &config, &pool);

    assert_eq!(report.succeeded(), 12);
    assert!(!report.flow.adaptive);
    assert_eq!(report.flow.window_max(), 3);
    assert!(watch.most_downloading <= 3);
    fs::remove_dir_all(&out).unwrap();
}
