//! `tandem --broker` served by `tandem worker` through a real redis-server
//! (started on a free 127.0.0.1 port), and the worker's answers to poison
//! messages. The Python side is in `celery_interop.rs`.
#![cfg(feature = "celery")]

mod support;

use support::cli_run::{TempDir, tandem, text};

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::hostile_server::{HostileServer, Step};
use support::redis_server::RedisServer;
use support::workers::{png_size, served_lengths, tandem_worker};
use tandem::celery::message::{Outgoing, decode, encode};
use tandem::celery::result::{Outcome, key, parse, store};
use tandem::redis::{Client, RedisUrl, Settings};

fn client(url: &str) -> Client {
    Client::new(RedisUrl::parse(url).unwrap(), Settings::default())
}

/// Small demo images, so that a debug build resizes them quickly.
fn small_images(demo: &tandem::demo::Server, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let format = if i % 2 == 0 { "png" } else { "jpeg" };
            demo.url(&format!("/image/{format}?w={}&h=48&seed={i}", 40 + i))
        })
        .collect()
}

/// Waits (at most 60 s) until task `id` has a result; returns it.
pub fn wait_for_result(redis: &Client, id: &str) -> Outcome {
    let started = Instant::now();
    loop {
        if let Some(bytes) = tandem::block_on(redis.get(&key(id))).unwrap() {
            return parse(id, &bytes).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no result for {id}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tandem_broker_is_served_by_tandem_workers() {
    let Some(redis) = RedisServer::start("tandem_broker_is_served_by_tandem_workers") else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let _workers = [
        tandem_worker(&redis.url(), &["--concurrency", "2"]),
        tandem_worker(&redis.url(), &["--concurrency", "2"]),
    ];
    let out = TempDir::new("broker-roundtrip");
    let urls = small_images(&demo, 6);
    let broker = redis.url();
    let mut args = vec!["--broker", &broker, "--out", text(&out.0)];
    let timeline = out.join("run.svg");
    args.extend(["--size", "32x24", "--json", "--concurrency", "4"]);
    args.extend(["--timeline", text(&timeline)]);
    let url_args: Vec<&str> = urls.iter().map(String::as_str).collect();
    args.extend(url_args);
    let run = tandem(&args);
    let (code, stdout, stderr) = (run.code, run.stdout, run.stderr);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    for index in 0..urls.len() {
        assert_eq!(
            png_size(&out.join(&format!("resized_{index}.png"))),
            (32, 24)
        );
    }
    // The remote jobs drawn, one span per input.
    let svg = std::fs::read_to_string(&timeline).unwrap();
    assert!(svg.starts_with("<svg") || svg.contains("<svg"), "{svg:.80}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), urls.len() + 1, "{stdout}");
    assert_eq!(lines.last().unwrap()["succeeded"], urls.len());
    // Each input's `bytes` is what its worker downloaded: the length the
    // demo server serves for its URL, as in a run without --broker.
    let reported: Vec<Option<u64>> = lines[..urls.len()]
        .iter()
        .map(|line| line["bytes"].as_u64())
        .collect();
    let served: Vec<Option<u64>> = served_lengths(&urls).into_iter().map(Some).collect();
    assert_eq!(reported, served, "{stdout}");
    // Every job acknowledged: nothing left for a sweep to restore.
    let redis_client = client(&redis.url());
    let unacked = tandem::block_on(redis_client.command(&[b"HLEN", b"unacked"])).unwrap();
    assert_eq!(unacked.integer(), Some(0));
}

#[test]
fn an_older_workers_answer_is_saved_with_0_bytes_downloaded() {
    let Some(redis) = RedisServer::start("an_older_workers_answer_is_saved") else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let url = demo.url("/image/png?w=16&h=12&seed=2");
    let png = tandem::block_on(tandem::http::get(&url))
        .unwrap()
        .into_body();
    let broker = redis.url();
    // A worker of an older version: takes the one task and answers it as
    // workers did before `downloaded_bytes`, the PNG stored, the result
    // without the field.
    let old_worker = std::thread::spawn({
        let (broker, png) = (broker.clone(), png.clone());
        move || {
            tandem::block_on(async {
                let redis = client(&broker);
                let queue = ["tandem".to_string()];
                let taken = redis.brpop(&queue, Duration::from_secs(30)).await;
                let (_, message) = taken.unwrap().expect("a task within 30 s");
                let delivery = decode(&message).unwrap();
                let id = delivery.id.unwrap();
                let url = delivery.call.unwrap().args[0].clone();
                let png_key = tandem::celery::task::png_key(&id);
                let setex: [&[u8]; 4] = [b"SETEX", png_key.as_bytes(), b"60", &png];
                redis.command(&setex).await.unwrap();
                let value = json!({"key": png_key, "width": 16, "height": 12,
                                   "bytes": png.len(), "url": url,
                                   "source_width": 16, "source_height": 12});
                let outcome = Outcome::Success(value);
                store(&redis, &id, &outcome, Duration::from_secs(60))
                    .await
                    .unwrap();
            });
        }
    });
    let out = TempDir::new("broker-older-worker");
    let mut args = vec!["--broker", &broker, "--out", text(&out.0)];
    args.extend(["--size", "16x12", "--json", &url]);
    let run = tandem(&args);
    old_worker.join().unwrap();
    let (code, stdout, stderr) = (run.code, run.stdout, run.stderr);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(png_size(&out.join("resized_0.png")), (16, 12));
    // Saved, not failed; what it downloaded is not known, reported as 0.
    let item: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        (item["ok"].as_bool(), item["bytes"].as_u64()),
        (Some(true), Some(0)),
        "{stdout}"
    );
}

#[test]
fn poison_messages_are_answered_and_the_worker_keeps_serving() {
    let Some(redis) = RedisServer::start("poison_messages_are_answered") else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let redis_client = client(&redis.url());
    let task = |id: &'static str, name: &'static str, args: Value| {
        encode(&Outgoing {
            id,
            task: name,
            args,
            kwargs: json!({"width": 16, "height": 16}),
            queue: "tandem",
            origin: "test",
        })
    };
    let two_items = {
        let mut envelope: Value =
            serde_json::from_slice(&task("p1", "tandem.resize", json!([]))).unwrap();
        // base64 of `[["u"], {}]`: two items, not three.
        envelope["body"] = json!("W1sidSJdLCB7fV0=");
        envelope.to_string().into_bytes()
    };
    let refused = format!(
        "http://127.0.0.1:{}/x.png",
        support::hostile_server::refused_port()
    );
    let messages = [
        b"not json at all".to_vec(),
        two_items,
        task("p2", "no.such.task", json!(["http://x/"])),
        task("p3", "tandem.resize", json!([refused])),
        task("p4", "tandem.resize", json!([demo.url("/get")])),
        task(
            "p5",
            "tandem.resize",
            json!([demo.url("/image/png?w=20&h=10&seed=1")]),
        ),
    ];
    tandem::block_on(async {
        for message in &messages {
            redis_client.lpush("tandem", message).await.unwrap();
        }
    });
    let _worker = tandem_worker(&redis.url(), &["--concurrency", "1"]);
    // p5 is last in the queue: when it is answered, every other was taken.
    match wait_for_result(&redis_client, "p5") {
        Outcome::Success(value) => assert_eq!(
            (value["width"].as_u64(), value["height"].as_u64()),
            (Some(16), Some(16))
        ),
        other => panic!("p5: {other:?}"),
    }
    for (id, exc_type) in [
        ("p1", "BadMessage"),
        ("p2", "NotRegistered"),
        ("p3", "DownloadError"),
        ("p4", "ImageError"),
    ] {
        match wait_for_result(&redis_client, id) {
            Outcome::Failure(error) => assert_eq!(error.exc_type, exc_type, "{id}: {error}"),
            other => panic!("{id}: {other:?}"),
        }
    }
    tandem::block_on(async {
        let unacked = redis_client.command(&[b"HLEN", b"unacked"]).await.unwrap();
        assert_eq!(unacked.integer(), Some(0), "every message acknowledged");
        let left = redis_client.command(&[b"LLEN", b"tandem"]).await.unwrap();
        assert_eq!(left.integer(), Some(0));
    });
}

#[test]
fn a_worker_stops_gracefully_on_sigterm() {
    let Some(redis) = RedisServer::start("a_worker_stops_gracefully_on_sigterm") else {
        return;
    };
    let mut worker = tandem_worker(&redis.url(), &[]);
    // Wait until it serves: it pings Redis first, then BRPOPs.
    let redis_client = client(&redis.url());
    let started = Instant::now();
    while tandem::block_on(redis_client.command(&[b"CLIENT", b"LIST"]))
        .ok()
        .and_then(|list| {
            list.bytes()
                .map(|b| String::from_utf8_lossy(b).matches("cmd=brpop").count())
        })
        .unwrap_or(0)
        == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the worker never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    worker.signal("TERM");
    assert_eq!(worker.wait_for_exit(Duration::from_secs(10)), Some(Some(0)));
}

#[test]
fn with_no_worker_each_task_is_sent_twice_then_fails() {
    let Some(redis) = RedisServer::start("with_no_worker_each_task_is_sent_twice") else {
        return;
    };
    let out = TempDir::new("broker-no-worker");
    let url = redis.url();
    let args = [
        "--broker",
        &url,
        "--out",
        text(&out.0),
        "--result-timeout",
        "0.3",
        "http://127.0.0.1:9/a.png",
    ];
    let run = tandem(&args);
    let (code, stdout, stderr) = (run.code, run.stdout, run.stderr);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("sent twice"), "{stdout}");
    assert!(stdout.contains("jobs out, summed"), "{stdout}");
    let queued = tandem::block_on(client(&url).command(&[b"LLEN", b"tandem"])).unwrap();
    assert_eq!(queued.integer(), Some(2), "the task and its one resend");
}

#[test]
fn a_broker_that_is_not_redis_is_a_clear_error() {
    let scripts = (0..4)
        .map(|_| {
            vec![
                Step::AwaitRequest,
                Step::Write(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()),
            ]
        })
        .collect();
    let http = HostileServer::start(scripts);
    let url = http.url("").replace("http://", "redis://");
    let run = tandem(&["--broker", &url, "http://127.0.0.1:9/a.png"]);
    let (code, stdout, stderr) = (run.code, run.stdout, run.stderr);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("is this a Redis server?"), "{stderr}");
    let run = tandem(&["worker", "--broker", &url]);
    let (code, stderr) = (run.code, run.stderr);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("is this a Redis server?"), "{stderr}");
}
