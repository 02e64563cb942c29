//! Interoperability with Python Celery, both ways, through a real
//! redis-server: a Python client (`send_task`, `AsyncResult.get`) served by
//! `tandem worker`; `tandem --broker` served by Python Celery workers
//! running `contrib/celery/tandem_tasks.py`; and a mixed fleet.
//!
//! Without python3 + celery[redis] + pillow (or redis-server) these tests
//! say loudly that they were skipped; `TANDEM_REQUIRE_SERVICES=1` (as in
//! `.ci/run`) makes that a failure instead.
#![cfg(feature = "celery")]

mod support;

use support::cli_run::{TempDir, tandem, text};

use serde_json::Value;
use support::workers::services;
use support::workers::{
    celery_worker, png_size, python, served_lengths, tandem_worker, tandem_worker_logged,
};

#[test]
fn a_python_client_is_served_by_a_tandem_worker() {
    let Some(redis) = services("a_python_client_is_served_by_a_tandem_worker") else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let _worker = tandem_worker(&redis.url(), &[]);
    let image = demo.url("/image/jpeg?w=60&h=40&seed=3");
    let refused = format!(
        "http://127.0.0.1:{}/a.png",
        support::hostile_server::refused_port()
    );
    let program = format!(
        r#"
import json
from tandem_tasks import app
ok = app.send_task("tandem.resize", args=["{image}"], kwargs={{"width": 24, "height": 16}}, queue="tandem")
value = ok.get(timeout=60)
png = app.backend.client.get(value["key"])
bad = app.send_task("tandem.resize", args=["{refused}"], queue="tandem")
try:
    bad.get(timeout=60)
    failure = None
except Exception as err:
    failure = [type(err).__name__, str(err)]
print(json.dumps({{"value": value, "png": len(png), "failure": failure, "id": ok.id}}))
"#
    );
    let printed: Value = serde_json::from_str(python(&redis.url(), &program).trim()).unwrap();
    let value = &printed["value"];
    assert_eq!(
        (value["width"].as_u64(), value["height"].as_u64()),
        (Some(24), Some(16))
    );
    assert_eq!(
        (
            value["source_width"].as_u64(),
            value["source_height"].as_u64()
        ),
        (Some(60), Some(40))
    );
    assert_eq!(value["url"], image.as_str());
    assert_eq!(
        value["key"],
        format!("tandem:png:{}", printed["id"].as_str().unwrap())
    );
    assert_eq!(value["bytes"], printed["png"]);
    assert_eq!(
        value["downloaded_bytes"].as_u64(),
        Some(served_lengths(std::slice::from_ref(&image))[0]),
        "{value}"
    );
    // Python raised an exception named after the cause, with tandem's message.
    assert_eq!(printed["failure"][0], "DownloadError", "{printed}");
    assert!(
        printed["failure"][1]
            .as_str()
            .unwrap()
            .contains("download failed"),
        "{printed}"
    );
}

/// Runs `tandem --broker --json` over `count` small demo images at 20x30
/// and checks every output, and that each input's `bytes` is what its
/// worker downloaded.
fn run_through_broker(broker: &str, name: &str, count: usize) {
    let demo = tandem::demo::Server::start().unwrap();
    let out = TempDir::new(name);
    let urls: Vec<String> = (0..count)
        .map(|i| demo.url(&format!("/image/png?w={}&h=30&seed={i}", 50 + i)))
        .collect();
    let mut args = vec!["--broker", broker, "--out", text(&out.0), "--size", "20x30"];
    args.push("--json");
    args.extend(urls.iter().map(String::as_str));
    let run = tandem(&args);
    let (code, stdout, stderr) = (run.code, run.stdout, run.stderr);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let reported: Vec<Option<u64>> = stdout
        .lines()
        .take(count)
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["bytes"].as_u64())
        .collect();
    let served: Vec<Option<u64>> = served_lengths(&urls).into_iter().map(Some).collect();
    assert_eq!(reported, served, "{stdout}");
    for index in 0..count {
        assert_eq!(
            png_size(&out.join(&format!("resized_{index}.png"))),
            (20, 30)
        );
    }
    assert_eq!(
        std::fs::read_dir(&out.0).unwrap().count(),
        count,
        "one file per input"
    );
}

#[test]
fn tandem_broker_is_served_by_python_workers() {
    let Some(redis) = services("tandem_broker_is_served_by_python_workers") else {
        return;
    };
    let _python = celery_worker(&redis.url(), "tandem", "3600");
    redis.wait_for_consumers(1);
    run_through_broker(&redis.url(), "python-served", 4);
}

#[test]
fn a_mixed_fleet_serves_one_queue() {
    let Some(redis) = services("a_mixed_fleet_serves_one_queue") else {
        return;
    };
    let _python = celery_worker(&redis.url(), "tandem", "3600");
    redis.wait_for_consumers(1);
    let logs = TempDir::new("mixed-fleet-log");
    let log = logs.join("tandem-worker.jsonl");
    let mut tandem = tandem_worker_logged(&redis.url(), &["--concurrency", "1"], &log);
    redis.wait_for_consumers(2);
    let total = 12;
    run_through_broker(&redis.url(), "mixed-fleet", total);
    tandem.signal("TERM");
    assert_eq!(
        tandem.wait_for_exit(std::time::Duration::from_secs(10)),
        Some(Some(0))
    );
    let by_tandem = std::fs::read_to_string(&log).unwrap().lines().count();
    // Both kinds of worker took jobs from the one queue (the Python worker
    // was waiting first, so it took at least the first).
    assert!(
        0 < by_tandem && by_tandem < total,
        "tandem served {by_tandem} of {total}"
    );
}

#[test]
fn celery_inspect_ping_is_answered_by_a_tandem_worker() {
    let Some(redis) = services("celery_inspect_ping_is_answered_by_a_tandem_worker") else {
        return;
    };
    let _worker = tandem_worker(&redis.url(), &[]);
    redis.wait_for_consumers(1);
    let program = r#"
import json
from tandem_tasks import app
replies = []
for _ in range(10):
    replies = app.control.ping(timeout=1.0)
    if replies:
        break
print(json.dumps(replies))
"#;
    let replies: Value = serde_json::from_str(python(&redis.url(), program).trim()).unwrap();
    let replies = replies.as_array().unwrap();
    assert_eq!(replies.len(), 1, "{replies:?}");
    let (node, answer) = replies[0].as_object().unwrap().iter().next().unwrap();
    assert!(node.starts_with("tandem-"), "{node}");
    assert_eq!(answer, &serde_json::json!({"ok": "pong"}));
}

#[test]
fn celery_events_show_a_tandem_workers_jobs() {
    let Some(redis) = services("celery_events_show_a_tandem_workers_jobs") else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let _worker = tandem_worker(&redis.url(), &["--events"]);
    redis.wait_for_consumers(1);
    let image = demo.url("/image/png?w=30&h=20&seed=4");
    // Python's own event receiver (what Flower uses), listening while a
    // task is sent and done.
    let program = format!(
        r#"
import json, os, threading
from tandem_tasks import app
seen = []
def report():
    print(json.dumps([[e["type"], e.get("hostname", "")] for e in seen]), flush=True)
def task_later():
    app.send_task("tandem.resize", args=["{image}"], queue="tandem").get(timeout=60)
# Bounded: whatever was seen is printed after 30 s at the latest.
threading.Timer(30.0, lambda: (report(), os._exit(0))).start()
with app.connection_for_read() as connection:
    receiver = None
    def on_event(event):
        seen.append(event)
        if event["type"] == "task-succeeded":
            receiver.should_stop = True
    receiver = app.events.Receiver(connection, handlers={{"*": on_event}})
    # After a heartbeat (every 2 s) has had time to come.
    threading.Timer(2.5, task_later).start()
    receiver.capture(limit=None, timeout=None, wakeup=True)
report()
os._exit(0)
"#
    );
    let printed = python(&redis.url(), &program);
    let seen: Value = serde_json::from_str(printed.lines().next().unwrap_or("")).unwrap();
    let types: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[0].as_str().unwrap())
        .collect();
    for kind in [
        "worker-heartbeat",
        "task-received",
        "task-started",
        "task-succeeded",
    ] {
        assert!(types.contains(&kind), "no {kind} in {types:?}");
    }
    assert!(
        seen[0][1].as_str().unwrap().starts_with("tandem-"),
        "{seen}"
    );
}
