//! The pipeline's contract, against the loopback demo server: one outcome
//! per input in input order, valid PNGs on disk, typed errors for bad
//! inputs while the good ones are still written, and no temporary files.
//!
//! Pictures are small so that a debug build runs this in seconds; every
//! request has a timeout, so a broken run fails instead of hanging.
#![cfg(feature = "image")]

use std::fs;
use std::io::{Cursor, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use image::{GenericImageView, ImageFormat};
use tandem::demo::Server;
use tandem::http::{self, Client};
use tandem::pipeline::{Config, Event, ItemError, Mode, Report, run, run_blocking};
use tandem::resize::{Fit, ResizeError};

/// A fresh, empty output directory for one test.
fn out_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tandem-pipeline-{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn config(out: &Path) -> Config {
    Config {
        workers: 2,
        concurrency: Some(4),
        client: Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .total_timeout(Duration::from_secs(20))
            .build(),
        ..Config::new(out)
    }
}

/// Small pictures, PNG and JPEG, of different sizes.
fn small_images(server: &Server, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let format = if i % 2 == 0 { "png" } else { "jpeg" };
            server.url(&format!("/image/{format}?w={}&h=48&seed={i}", 40 + 8 * i))
        })
        .collect()
}

/// Checks that `path` is a PNG of `size` and returns its bytes.
fn assert_png(path: &Path, size: (u32, u32)) -> Vec<u8> {
    let bytes = fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let decoded = image::load_from_memory_with_format(&bytes, ImageFormat::Png)
        .expect("the output is a valid PNG");
    assert_eq!(decoded.dimensions(), size, "{}", path.display());
    bytes
}

/// Names in `dir` that look like temporary files.
fn temporary_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp"))
        .collect()
}

/// A URL that answers one request with `body` as an `image/png`.
fn serve_once(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/broken.png", listener.local_addr().unwrap());
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let _ = stream.read(&mut [0; 4096]);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body);
    });
    url
}

/// A URL on a port where nothing listens.
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/image/png")
}

/// A PNG cut in half: the right signature, a broken body.
fn corrupt_png() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut png = Vec::new();
    picture
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    png.truncate(png.len() / 2);
    png
}

fn run_with(urls: Vec<String>, config: &Config) -> Report {
    run_blocking(urls, config, |_| {}).unwrap()
}

#[test]
fn every_input_becomes_a_128x128_png_in_input_order() {
    let server = Server::start().unwrap();
    let out = out_dir("order");
    let urls = small_images(&server, 6);

    let report = run_with(urls.clone(), &config(&out));

    assert_eq!(report.items.len(), urls.len());
    assert_eq!((report.succeeded(), report.failed()), (6, 0));
    assert_eq!(report.workers, 2);
    for (index, item) in report.items.iter().enumerate() {
        assert_eq!((item.index, &item.url), (index, &urls[index]));
        let saved = item.result.as_ref().unwrap();
        assert_eq!(saved.path, out.join(format!("resized_{index}.png")));
        assert_eq!(saved.source_size, (40 + 8 * index as u32, 48));
        assert_eq!(saved.output_size, (128, 128));
        assert!(saved.downloaded_bytes > 0);
        assert_png(&saved.path, (128, 128));
        // Every stage ran, in order, within the run.
        let (download, cpu, save) = (
            item.stages.download.unwrap(),
            item.stages.cpu.unwrap(),
            item.stages.save.unwrap(),
        );
        assert!(download.end <= cpu.whole().start);
        assert!(cpu.whole().end <= save.start);
        assert!(save.end <= report.wall);
        assert!(cpu.worker < 2);
    }
    assert!(report.cpu_time() > Duration::ZERO);
    assert!(report.io_time() <= report.wall);
    assert!(temporary_files(&out).is_empty());
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn bad_inputs_fail_with_typed_errors_and_the_others_are_written() {
    let server = Server::start().unwrap();
    for mode in [Mode::Pipeline, Mode::Batch] {
        let out = out_dir(&format!("errors-{mode:?}"));
        let urls = vec![
            server.url("/image/png?w=32&h=32&seed=1"),
            server.url("/status/404"),
            refused_url(),
            server.url("/bytes/100"),
            // A one-shot server: a fresh one per run.
            serve_once(corrupt_png()),
            server.url("/image/jpeg?w=32&h=32&seed=2"),
        ];

        let report = run_with(
            urls,
            &Config {
                mode,
                ..config(&out)
            },
        );
        let results: Vec<_> = report.items.iter().map(|item| &item.result).collect();

        assert_eq!(results.len(), 6);
        assert!(results[0].is_ok(), "{mode:?}: {:?}", results[0]);
        assert!(matches!(results[1], Err(ItemError::HttpStatus(404))));
        assert!(
            matches!(
                results[2],
                Err(ItemError::Download(http::Error::Connect { .. }))
            ),
            "{mode:?}: {:?}",
            results[2]
        );
        assert!(matches!(
            results[3],
            Err(ItemError::Image(ResizeError::UnsupportedFormat))
        ));
        assert!(
            matches!(results[4], Err(ItemError::Image(ResizeError::Decode(_)))),
            "{mode:?}: {:?}",
            results[4]
        );
        assert!(results[5].is_ok());
        // The corrupt body failed on a worker; the 404 never reached the pool.
        assert!(report.items[4].stages.cpu.is_some());
        assert!(report.items[1].stages.cpu.is_none());

        for written in [0, 5] {
            assert_png(&out.join(format!("resized_{written}.png")), (128, 128));
        }
        for failed in 1..=4 {
            assert!(!out.join(format!("resized_{failed}.png")).exists());
        }
        assert!(temporary_files(&out).is_empty());
        fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn batch_mode_writes_the_same_files() {
    let server = Server::start().unwrap();
    let (pipelined, batched) = (out_dir("same-pipeline"), out_dir("same-batch"));
    let urls = small_images(&server, 5);

    let pipeline = run_with(urls.clone(), &config(&pipelined));
    let batch = run_with(
        urls,
        &Config {
            mode: Mode::Batch,
            ..config(&batched)
        },
    );

    assert_eq!((pipeline.succeeded(), batch.succeeded()), (5, 5));
    for index in 0..5 {
        let name = format!("resized_{index}.png");
        assert_eq!(
            assert_png(&pipelined.join(&name), (128, 128)),
            assert_png(&batched.join(&name), (128, 128))
        );
    }
    fs::remove_dir_all(&pipelined).unwrap();
    fs::remove_dir_all(&batched).unwrap();
}

#[test]
fn a_second_run_replaces_existing_files() {
    let server = Server::start().unwrap();
    let out = out_dir("rerun");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("resized_0.png"), b"stale").unwrap();
    let urls = small_images(&server, 2);

    let first = run_with(urls.clone(), &config(&out));
    let second = run_with(urls, &config(&out));

    assert_eq!((first.succeeded(), second.succeeded()), (2, 2));
    assert_png(&out.join("resized_0.png"), (128, 128));
    assert_eq!(fs::read_dir(&out).unwrap().count(), 2);
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn fit_contain_keeps_the_aspect_ratio() {
    let server = Server::start().unwrap();
    let out = out_dir("contain");
    let mut config = config(&out);
    config.resize.fit = Fit::Contain;

    let report = run_with(vec![server.url("/image/png?w=64&h=32")], &config);

    let saved = report.items[0].result.as_ref().unwrap();
    assert_eq!(saved.output_size, (128, 64));
    assert_png(&saved.path, (128, 64));
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn an_unusable_output_directory_fails_every_item() {
    let server = Server::start().unwrap();
    let out = out_dir("not-a-dir");
    fs::write(&out, b"a file where the directory should be").unwrap();

    let report = run_with(small_images(&server, 3), &config(&out));

    assert_eq!(report.items.len(), 3);
    assert!(
        report
            .items
            .iter()
            .all(|item| matches!(item.result, Err(ItemError::Save(_))))
    );
    assert_eq!(server.requests_served(), 0, "nothing is downloaded");
    fs::remove_file(&out).unwrap();
}

#[test]
fn events_report_every_stage_and_one_finish_per_input() {
    let server = Server::start().unwrap();
    let out = out_dir("events");
    let urls = vec![
        small_images(&server, 1).remove(0),
        server.url("/status/500"),
    ];
    let mut events = Vec::new();

    let pool = tandem::CpuPool::new(2).unwrap();
    let report = tandem::block_on(run(urls, &config(&out), &pool, |event| events.push(event)));

    assert_eq!(report.succeeded(), 1);
    let of = |index: usize| -> Vec<Event> {
        events
            .iter()
            .copied()
            .filter(|event| match *event {
                Event::DownloadStarted(i) | Event::Processed(i) => i == index,
                Event::Downloaded { index: i, .. } | Event::Finished { index: i, .. } => i == index,
            })
            .collect()
    };
    let bytes = report.items[0].result.as_ref().unwrap().downloaded_bytes;
    assert_eq!(
        of(0),
        vec![
            Event::DownloadStarted(0),
            Event::Downloaded { index: 0, bytes },
            Event::Processed(0),
            Event::Finished { index: 0, ok: true },
        ]
    );
    assert_eq!(
        of(1),
        vec![
            Event::DownloadStarted(1),
            Event::Finished {
                index: 1,
                ok: false
            }
        ]
    );
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn downloads_in_flight_never_exceed_the_concurrency() {
    let server = Server::start().unwrap();
    let out = out_dir("concurrency");
    // Slow answers, so that unbounded downloads would all overlap.
    let urls = vec![server.url("/delay/40"); 6];
    let config = Config {
        concurrency: Some(2),
        ..config(&out)
    };

    let report = run_with(urls, &config);

    // `/delay` answers JSON, which is no image.
    assert_eq!(report.failed(), 6);
    // Sweep over start (+1) and end (-1) times; ends first on ties.
    let mut changes: Vec<(Duration, i32)> = report
        .items
        .iter()
        .map(|item| item.stages.download.unwrap())
        .flat_map(|span| [(span.start, 1), (span.end, -1)])
        .collect();
    changes.sort();
    let most = changes
        .iter()
        .scan(0, |in_flight, &(_, change)| {
            *in_flight += change;
            Some(*in_flight)
        })
        .max();
    assert_eq!(most, Some(2));
    // Three rounds of two.
    assert!(report.io_time() >= Duration::from_millis(3 * 40));
    fs::remove_dir_all(&out).unwrap();
}
