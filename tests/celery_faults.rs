//! Faults beyond one machine, each against a real redis-server started on a
//! free 127.0.0.1 port: a worker killed mid-job, Redis killed and restarted
//! mid-run. (Poison messages, a server that is not Redis and a reply over
//! the limit are in `celery_roundtrip.rs` and `redis_client.rs`.)
#![cfg(feature = "celery")]

mod support;

use support::cli_run::{TempDir, text};

use std::process::Command;
use std::time::Duration;

use support::child::KillOnDrop;
use support::hostile_server::{HostileServer, Step};
use support::poll::wait_until;
use support::redis_server::RedisServer;
use support::workers::{png_size, quiet, tandem_worker};
use tandem::redis::{Client, RedisUrl, Settings};

/// An HTTP response carrying a real 30x20 PNG from the demo server.
fn png_response() -> Vec<u8> {
    let demo = tandem::demo::Server::start().unwrap();
    let response = tandem::block_on(tandem::http::get(&demo.url("/image/png?w=30&h=20&seed=1")));
    let png = response.unwrap().into_body();
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        png.len()
    )
    .into_bytes();
    bytes.extend(png);
    bytes
}

/// `tandem --broker <url> --out <out> --size 16x16 <extra> <urls>` as a
/// child process, output discarded.
fn tandem_client(broker: &str, out: &TempDir, extra: &[&str], urls: &[String]) -> KillOnDrop {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
    command
        .args(["--broker", broker, "--out", text(&out.0), "--size", "16x16"])
        .args(extra)
        .args(urls)
        .env_remove("TANDEM_BROKER");
    KillOnDrop::spawn("tandem --broker", quiet(&mut command))
}

fn hlen_unacked(redis: &Client) -> i64 {
    let reply = tandem::block_on(redis.command(&[b"HLEN", b"unacked"]));
    reply.ok().and_then(|reply| reply.integer()).unwrap_or(-1)
}

#[test]
fn a_job_of_a_killed_worker_is_redone_by_another() {
    let Some(redis) = RedisServer::start("a_job_of_a_killed_worker_is_redone_by_another") else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    // The first download never ends (the worker doing it is killed); the
    // second, by the worker that redoes the job, gets an image.
    let image = HostileServer::start(vec![
        vec![Step::ReadRequest, Step::Sleep(Duration::from_secs(20))],
        vec![Step::ReadRequest, Step::Write(png_response())],
    ]);
    let urls = vec![
        image.url("/stuck.png"),
        demo.url("/image/png?w=40&h=30&seed=1"),
        demo.url("/image/jpeg?w=40&h=30&seed=2"),
    ];
    let out = TempDir::new("killed-worker");
    let mut first = tandem_worker(&redis.url(), &["--concurrency", "1"]);
    let mut client = tandem_client(&redis.url(), &out, &[], &urls);
    let redis_client = Client::new(RedisUrl::parse(&redis.url()).unwrap(), Settings::default());
    // The first worker has taken the stuck job (recorded as unacked, its
    // download started); whatever else it did is done.
    wait_until("the stuck download", || {
        image.accepted() == 1 && hlen_unacked(&redis_client) == 1
    });
    first.kill();
    let _second = tandem_worker(
        &redis.url(),
        &["--concurrency", "1", "--visibility-timeout", "1"],
    );
    assert_eq!(client.wait_for_exit(Duration::from_secs(60)), Some(Some(0)));
    for index in 0..urls.len() {
        assert_eq!(
            png_size(&out.join(&format!("resized_{index}.png"))),
            (16, 16)
        );
    }
    assert_eq!(
        std::fs::read_dir(&out.0).unwrap().count(),
        urls.len(),
        "exactly one output per input"
    );
    assert_eq!(image.accepted(), 2, "the stuck job was done once more");
    assert_eq!(hlen_unacked(&redis_client), 0);
}

#[test]
fn a_run_survives_redis_restarting() {
    let Some(mut redis) = RedisServer::start("a_run_survives_redis_restarting") else {
        return;
    };
    // Slow images, so that jobs are in flight when Redis goes away; twice
    // as many answers as inputs, for the jobs that are sent again.
    let inputs = 6;
    let slow = vec![
        Step::ReadRequest,
        Step::Sleep(Duration::from_millis(400)),
        Step::Write(png_response()),
    ];
    let image = HostileServer::start(vec![slow; inputs * 3]);
    let urls: Vec<String> = (0..inputs)
        .map(|i| image.url(&format!("/{i}.png")))
        .collect();
    let out = TempDir::new("redis-restart");
    let _worker = tandem_worker(&redis.url(), &["--concurrency", "2"]);
    let mut client = tandem_client(&redis.url(), &out, &["--result-timeout", "3"], &urls);
    wait_until("a download in flight", || image.accepted() >= 1);
    // Everything Redis held (queued jobs, unacked, results) is lost.
    redis.restart();
    let exit = client.wait_for_exit(Duration::from_secs(90));
    assert_eq!(exit, Some(Some(0)), "the run completes after the restart");
    assert_eq!(
        std::fs::read_dir(&out.0).unwrap().count(),
        inputs,
        "exactly one output per input"
    );
}
