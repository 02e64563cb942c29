//! Celery's `eta` (`countdown`) against a `tandem worker`, through a real
//! redis-server, sent by Python Celery's own `send_task(..., countdown=...)`:
//! the job is not downloaded before its eta and ends after it; a job sent
//! later but due now runs first, even with `--concurrency 1`; `inspect
//! scheduled` lists the held job in Celery's shape; a job revoked while it
//! waits never runs; a worker stopped while it holds one gives it back to
//! the queue and exits at once, and the next worker runs it; an eta beyond
//! half the visibility timeout is given back meanwhile and runs once; an
//! `eta` that is not a date is acknowledged with a `FAILURE`.
//!
//! Without python3 + celery[redis] + pillow (or redis-server) these tests
//! say loudly that they were skipped; `TANDEM_REQUIRE_SERVICES=1` makes
//! that a failure instead.
#![cfg(feature = "celery")]

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use support::broker::Broker;
use support::cli_run::TempDir;
use support::poll::wait_until;
use support::redis_server::RedisServer;
use support::workers::{python, services, tandem_worker_logged, worker_log_lines};

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Python that waits, bounded, until the worker took every message sent
/// (none queued, `taken` in `unacked`).
const WAIT_TAKEN: &str = r#"
def wait_taken(taken):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if redis.llen("tandem") == 0 and redis.hlen("unacked") >= taken:
            return
        time.sleep(0.02)
    raise SystemExit("the worker did not take the message")
"#;

#[test]
fn a_countdown_job_waits_for_its_eta_while_a_later_one_runs_first() {
    let Some(redis) = services("a_countdown_job_waits_for_its_eta_while_a_later_one_runs_first")
    else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let logs = TempDir::new("eta-log");
    let log = logs.join("tandem-worker.jsonl");
    let _worker = tandem_worker_logged(&redis.url(), &["--concurrency", "1"], &log);
    redis.wait_for_consumers(1);
    let (later, now) = (
        demo.url("/image/png?w=40&h=30&seed=11"),
        demo.url("/image/png?w=40&h=30&seed=12"),
    );
    let program = format!(
        r#"
import json, time
from datetime import datetime
from tandem_tasks import app
redis = app.backend.client
{WAIT_TAKEN}
first = app.send_task("tandem.resize", args=["{later}"], queue="tandem", countdown=4)
wait_taken(1)
second = app.send_task("tandem.resize", args=["{now}"], queue="tandem")
second.get(timeout=10)
second_done, first_then = time.time(), first.state
scheduled = app.control.inspect(timeout=1.0).scheduled() or {{}}
first.get(timeout=15)
print(json.dumps({{"first": first.id, "second_done": second_done, "first_then": first_then,
    "first_done": time.time(), "scheduled": scheduled, "state": first.state}}))
"#
    );
    // The download times, seen from the demo server's side.
    let mut downloads = Vec::new();
    let printed = std::thread::scope(|scope| {
        let client = scope.spawn(|| python(&redis.url(), &program));
        while !client.is_finished() {
            let served = demo.requests_served();
            if served > downloads.len() {
                downloads.resize(served, unix_seconds(SystemTime::now()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        client.join().unwrap()
    });
    let printed: Value = serde_json::from_str(printed.trim()).unwrap();
    let nodes = printed["scheduled"].as_object().unwrap();
    assert_eq!(nodes.len(), 1, "{printed}");
    let (node, listed) = nodes.iter().next().unwrap();
    assert!(node.starts_with("tandem-"), "{node}");
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "only the held job: {listed:?}");
    assert_eq!(listed[0]["priority"], 6);
    assert_eq!(listed[0]["request"]["id"], printed["first"]);
    assert_eq!(listed[0]["request"]["args"], json!([later]));
    let eta = python_timestamp(&redis, listed[0]["eta"].as_str().unwrap());
    assert_eq!(printed["state"], "SUCCESS");
    assert_eq!(printed["first_then"], "PENDING", "{printed}");
    let second_done = printed["second_done"].as_f64().unwrap();
    assert!(second_done < eta, "the later job ran first: {printed}");
    assert_eq!(downloads.len(), 2, "{downloads:?}");
    assert!(
        downloads[0] < eta && downloads[1] >= eta,
        "downloads at {downloads:?}, eta {eta}"
    );
    assert!(printed["first_done"].as_f64().unwrap() >= eta);
    let lines = worker_log_lines(&log);
    let ids: Vec<&Value> = lines.iter().map(|line| &line["task_id"]).collect();
    assert_eq!(ids.len(), 2, "{lines:?}");
    assert_eq!(ids[1], &printed["first"], "the eta job ended last");
}

/// An ISO 8601 date as Python's `datetime.fromisoformat(...).timestamp()`.
fn python_timestamp(redis: &RedisServer, iso: &str) -> f64 {
    let program = format!(
        "from datetime import datetime\nprint(datetime.fromisoformat({iso:?}).timestamp())"
    );
    python(&redis.url(), &program).trim().parse().unwrap()
}

#[test]
fn a_job_revoked_while_it_waits_for_its_eta_never_runs() {
    let Some(redis) = services("a_job_revoked_while_it_waits_for_its_eta_never_runs") else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let logs = TempDir::new("eta-revoke-log");
    let log = logs.join("tandem-worker.jsonl");
    let _worker = tandem_worker_logged(&redis.url(), &["--concurrency", "1"], &log);
    redis.wait_for_consumers(1);
    let broker = Broker::new(&redis);
    let image = demo.url("/image/png?w=40&h=30&seed=13");
    let program = format!(
        r#"
import json, time
from tandem_tasks import app
redis = app.backend.client
{WAIT_TAKEN}
job = app.send_task("tandem.resize", args=["{image}"], queue="tandem", countdown=2)
wait_taken(1)
app.control.revoke(job.id)
print(json.dumps({{"id": job.id}}))
"#
    );
    let printed: Value = serde_json::from_str(python(&redis.url(), &program).trim()).unwrap();
    // Past the eta: the worker decided, stored, acknowledged.
    wait_until("the worker's line", || worker_log_lines(&log).len() == 1);
    let line = &worker_log_lines(&log)[0];
    assert_eq!(line["task_id"], printed["id"]);
    assert_eq!(
        (line["exc_type"].as_str(), line["error"].as_str()),
        (Some("TaskRevokedError"), Some("revoked")),
        "{line}"
    );
    assert_eq!(demo.requests_served(), 0, "never downloaded");
    assert_eq!(broker.count(&[b"HLEN", b"unacked"]), Some(0));
    let id = printed["id"].as_str().unwrap();
    let state = format!(
        "from tandem_tasks import app\nr = app.AsyncResult({id:?})\nprint(r.state, repr(r.result))"
    );
    let state = python(&redis.url(), &state);
    assert_eq!(state.trim(), "REVOKED TaskRevokedError('revoked')");
}

#[test]
fn a_worker_stopped_while_a_job_waits_gives_it_back_and_the_next_runs_it() {
    let Some(redis) =
        services("a_worker_stopped_while_a_job_waits_gives_it_back_and_the_next_runs_it")
    else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let logs = TempDir::new("eta-stop-log");
    let first_log = logs.join("first.jsonl");
    let mut first = tandem_worker_logged(&redis.url(), &[], &first_log);
    redis.wait_for_consumers(1);
    let broker = Broker::new(&redis);
    let image = demo.url("/image/png?w=40&h=30&seed=14");
    let program = format!(
        r#"
import json, time
from tandem_tasks import app
redis = app.backend.client
{WAIT_TAKEN}
job = app.send_task("tandem.resize", args=["{image}"], queue="tandem", countdown=6)
wait_taken(1)
print(json.dumps({{"id": job.id, "sent": time.time()}}))
"#
    );
    let printed: Value = serde_json::from_str(python(&redis.url(), &program).trim()).unwrap();
    first.signal("TERM");
    assert_eq!(
        first.wait_for_exit(Duration::from_secs(3)),
        Some(Some(0)),
        "the worker did not wait for the eta"
    );
    assert_eq!(broker.count(&[b"LLEN", b"tandem"]), Some(1), "given back");
    assert_eq!(broker.count(&[b"HLEN", b"unacked"]), Some(0));
    assert!(worker_log_lines(&first_log).is_empty(), "not ended");
    assert_eq!(demo.requests_served(), 0);
    let second_log = logs.join("second.jsonl");
    let _second = tandem_worker_logged(&redis.url(), &[], &second_log);
    let id = printed["id"].as_str().unwrap();
    let get = format!(
        "import time\nfrom tandem_tasks import app\nv = app.AsyncResult({id:?}).get(timeout=15)\n\
         print(time.time(), v['key'])"
    );
    let got = python(&redis.url(), &get);
    let (done, key) = got.trim().split_once(' ').unwrap();
    assert_eq!(key, format!("tandem:png:{id}"));
    let sent = printed["sent"].as_f64().unwrap();
    let done: f64 = done.parse().unwrap();
    assert!(done >= sent + 5.0, "the second worker kept the eta too");
    assert_eq!(demo.requests_served(), 1, "run once");
    let lines = worker_log_lines(&second_log);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["redelivered"], true, "{lines:?}");
}

#[test]
fn an_eta_that_is_not_a_date_is_acknowledged_with_a_failure() {
    let Some(redis) = services("an_eta_that_is_not_a_date_is_acknowledged_with_a_failure") else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let logs = TempDir::new("eta-bad-log");
    let log = logs.join("tandem-worker.jsonl");
    let _worker = tandem_worker_logged(&redis.url(), &[], &log);
    redis.wait_for_consumers(1);
    let broker = Broker::new(&redis);
    let image = demo.url("/image/png?w=40&h=30&seed=15");
    let id = broker.push_with_header(&image, "eta", json!("tomorrow"));
    let program = format!(
        "from tandem_tasks import app\njob = app.AsyncResult({id:?})\n\
         try:\n    job.get(timeout=10)\nexcept Exception as err:\n    \
         print(job.state, type(err).__name__, str(err))"
    );
    let printed = python(&redis.url(), &program);
    assert_eq!(
        printed.trim(),
        "FAILURE InvalidTaskError invalid ETA value 'tomorrow': not an ISO 8601 date and time \
         like 2026-12-03T07:00:00.000000+00:00"
    );
    assert_eq!(demo.requests_served(), 0, "not run");
    wait_until("acknowledged", || {
        broker.count(&[b"HLEN", b"unacked"]) == Some(0)
    });
    wait_until("the worker's line", || worker_log_lines(&log).len() == 1);
}

#[test]
fn an_eta_beyond_half_the_visibility_timeout_is_given_back_and_runs_once() {
    let Some(redis) =
        services("an_eta_beyond_half_the_visibility_timeout_is_given_back_and_runs_once")
    else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let logs = TempDir::new("eta-visibility-log");
    let log = logs.join("tandem-worker.jsonl");
    // Held at most 1 s: the 4 s countdown goes back to the queue three
    // times or so before its eta; the sweep (every 0.5 s) never finds it
    // overdue.
    let extra = ["--concurrency", "2", "--visibility-timeout", "2"];
    let _worker = tandem_worker_logged(&redis.url(), &extra, &log);
    redis.wait_for_consumers(1);
    let broker = Broker::new(&redis);
    let image = demo.url("/image/png?w=40&h=30&seed=16");
    let program = format!(
        r#"
import json, time
from tandem_tasks import app
job = app.send_task("tandem.resize", args=["{image}"], queue="tandem", countdown=4)
sent = time.time()
job.get(timeout=15)
print(json.dumps({{"id": job.id, "sent": sent, "done": time.time()}}))
"#
    );
    let printed: Value = serde_json::from_str(python(&redis.url(), &program).trim()).unwrap();
    let waited = printed["done"].as_f64().unwrap() - printed["sent"].as_f64().unwrap();
    assert!(waited >= 3.9, "ran before its eta: {printed}");
    assert_eq!(demo.requests_served(), 1, "run once");
    let lines = worker_log_lines(&log);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["redelivered"], true, "given back meanwhile");
    assert_eq!(broker.count(&[b"HLEN", b"unacked"]), Some(0));
    assert_eq!(broker.count(&[b"LLEN", b"tandem"]), Some(0));
}
