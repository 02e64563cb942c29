//! Celery's `expires` against a `tandem worker`, through a real
//! redis-server, sent by Python Celery's own `send_task(..., expires=...)`:
//! a message taken past its expiry ends as a Python Celery worker ends it
//! (not run, `REVOKED` with `TaskRevokedError('expired')`, acknowledged,
//! `task-revoked` with `expired: true`), one taken before it runs to its
//! end, and an `expires` that is not a date is acknowledged with a
//! `FAILURE`.
//!
//! Without python3 + celery[redis] + pillow (or redis-server) these tests
//! say loudly that they were skipped; `TANDEM_REQUIRE_SERVICES=1` makes
//! that a failure instead.
#![cfg(feature = "celery")]

mod support;

use serde_json::{Value, json};
use support::broker::Broker;
use support::cli_run::TempDir;
use support::poll::wait_until;
use support::workers::{celery_worker, python, tandem_worker_logged};
use support::workers::{services, worker_log_lines};

#[test]
fn a_message_past_its_expires_ends_on_tandem_as_on_a_python_worker() {
    let Some(redis) = services("a_message_past_its_expires_ends_on_tandem_as_on_a_python_worker")
    else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let logs = TempDir::new("expires-log");
    let log = logs.join("tandem-worker.jsonl");
    let _tandem = tandem_worker_logged(&redis.url(), &["--events"], &log);
    let _python = celery_worker(&redis.url(), "py", "3600");
    redis.wait_for_consumers(2);
    let image = demo.url("/image/png?w=40&h=30&seed=7");
    // The same three expired messages to each worker: an aware datetime
    // at +05:30 (read as UTC it would be hours ahead), a naive one (UTC to
    // Celery), a string ending in Z. Celery's event receiver listens.
    let program = format!(
        r#"
import json, os, threading, time
from datetime import datetime, timedelta, timezone
from tandem_tasks import app
redis = app.backend.client
past = datetime.now(timezone.utc) - timedelta(seconds=30)
expires = {{
    "offset": past.astimezone(timezone(timedelta(hours=5, minutes=30))),
    "naive": past.replace(tzinfo=None),
    "zulu": past.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
}}
sent, metas, ends, events = {{}}, {{}}, {{}}, []
def report():
    print(json.dumps({{"sent": sent, "metas": metas, "ends": ends, "events": events}}), flush=True)
    os._exit(0)
def meta(task_id):
    raw = redis.get("celery-task-meta-" + task_id)
    return json.loads(raw) if raw else None
def send_and_wait():
    for kind, value in expires.items():
        for queue in ("tandem", "py"):
            job = app.send_task("tandem.resize", args=["{image}"], queue=queue, expires=value)
            sent[kind + "/" + queue] = job.id
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(meta(i) for i in sent.values()):
        time.sleep(0.05)
    for name, task_id in sent.items():
        metas[name] = meta(task_id)
        result = app.AsyncResult(task_id)
        ends[name] = [result.state, repr(result.result)]
    ours = [i for name, i in sent.items() if name.endswith("/tandem")]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        revoked = [e["uuid"] for e in events if e["type"] == "task-revoked"]
        if all(i in revoked for i in ours):
            break
        time.sleep(0.05)
    report()
# Bounded: whatever was seen is printed after 90 s at the latest.
threading.Timer(90.0, report).start()
with app.connection_for_read() as connection:
    def on_event(event):
        if event["type"].startswith("task-"):
            events.append({{k: event.get(k) for k in ("type", "uuid", "hostname", "expired")}})
    receiver = app.events.Receiver(connection, handlers={{"*": on_event}})
    threading.Timer(2.5, send_and_wait).start()
    receiver.capture(limit=None, timeout=None, wakeup=True)
"#
    );
    let printed: Value = serde_json::from_str(python(&redis.url(), &program).trim()).unwrap();
    let broker = Broker::new(&redis);
    let expired = json!({"exc_type": "TaskRevokedError", "exc_message": ["expired"],
                         "exc_module": "celery.exceptions"});
    for kind in ["offset", "naive", "zulu"] {
        let [ours, theirs] = ["tandem", "py"].map(|queue| {
            let name = format!("{kind}/{queue}");
            let mut meta = printed["metas"][&name].clone();
            assert_eq!(meta["status"], "REVOKED", "{name}: {printed}");
            assert_eq!(
                printed["ends"][&name],
                json!(["REVOKED", "TaskRevokedError('expired')"]),
                "{name}: what Python's AsyncResult reads"
            );
            let id = printed["sent"][&name].as_str().unwrap().to_string();
            assert!(!broker.has(&format!("tandem:png:{id}")), "{name}: not run");
            let meta = meta.as_object_mut().unwrap();
            meta.remove("date_done");
            meta.remove("task_id");
            meta.clone()
        });
        assert_eq!(ours, theirs, "{kind}: tandem stores what Celery stores");
        assert_eq!(ours["result"], expired);
    }
    // Flower's view: task-revoked with expired, never received or started.
    let events = printed["events"].as_array().unwrap();
    for kind in ["offset", "naive", "zulu"] {
        let id = &printed["sent"][format!("{kind}/tandem")];
        let of_job: Vec<&Value> = events.iter().filter(|e| e["uuid"] == *id).collect();
        assert_eq!(of_job.len(), 1, "{kind}: {events:?}");
        assert_eq!(of_job[0]["type"], "task-revoked");
        assert_eq!(of_job[0]["expired"], true);
        assert!(
            of_job[0]["hostname"]
                .as_str()
                .unwrap()
                .starts_with("tandem-")
        );
    }
    assert_eq!(demo.requests_served(), 0, "no worker downloaded anything");
    broker.assert_drained(&["tandem", "py"]);
    let lines = worker_log_lines(&log);
    assert_eq!(lines.len(), 3, "{lines:?}");
    for line in &lines {
        assert_eq!(line["exc_type"], "TaskRevokedError", "{line}");
        assert_eq!(line["error"], "expired", "{line}");
    }
}

#[test]
fn a_job_taken_before_its_expires_runs_and_the_one_queued_behind_it_expires() {
    let Some(redis) =
        services("a_job_taken_before_its_expires_runs_and_the_one_queued_behind_it_expires")
    else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let logs = TempDir::new("expires-busy-log");
    let log = logs.join("tandem-worker.jsonl");
    let _worker = tandem_worker_logged(&redis.url(), &["--concurrency", "1"], &log);
    redis.wait_for_consumers(1);
    // 8 s to download: the first job outlives its 6 s expiry while it
    // runs (6 s leaves a loaded machine time to take it); the second
    // (Celery's own expires=1) waits behind it.
    let slow = demo.url("/image/png?w=40&h=30&seed=8&delay=8000");
    let quick = demo.url("/image/png?w=40&h=30&seed=9");
    let program = format!(
        r#"
import json, time
from datetime import datetime, timedelta, timezone
from tandem_tasks import app
redis = app.backend.client
# At -05:00: read as UTC, this future would be hours past.
ahead = (datetime.now(timezone.utc) + timedelta(seconds=6)).astimezone(timezone(timedelta(hours=-5)))
first = app.send_task("tandem.resize", args=["{slow}"], kwargs={{"width": 20, "height": 15}}, queue="tandem", expires=ahead)
deadline = time.monotonic() + 10
while redis.hlen("unacked") < 1 and time.monotonic() < deadline:
    time.sleep(0.02)
second = app.send_task("tandem.resize", args=["{quick}"], queue="tandem", expires=1)
value = first.get(timeout=60)
try:
    second.get(timeout=60)
    second_end = None
except Exception as err:
    second_end = [type(err).__name__, str(err)]
print(json.dumps({{"first": first.id, "value": value, "second": second.id,
    "second_end": second_end, "second_state": second.state}}))
"#
    );
    let printed: Value = serde_json::from_str(python(&redis.url(), &program).trim()).unwrap();
    assert_eq!(
        (
            printed["value"]["width"].as_u64(),
            printed["value"]["height"].as_u64()
        ),
        (Some(20), Some(15)),
        "the job past its expiry while running was not interrupted: {printed}"
    );
    assert_eq!(printed["second_state"], "REVOKED", "{printed}");
    assert_eq!(
        printed["second_end"],
        json!(["TaskRevokedError", "expired"])
    );
    let broker = Broker::new(&redis);
    let id = |name: &str| printed[name].as_str().unwrap().to_string();
    assert!(broker.has(&format!("tandem:png:{}", id("first"))));
    assert!(!broker.has(&format!("tandem:png:{}", id("second"))));
    assert_eq!(demo.requests_served(), 1, "only the first job downloaded");
    broker.assert_drained(&["tandem"]);
    wait_until("a line per job", || worker_log_lines(&log).len() == 2);
    let lines = worker_log_lines(&log);
    assert_eq!(lines[0]["ok"], true, "{lines:?}");
    assert_eq!(
        (lines[1]["exc_type"].as_str(), lines[1]["error"].as_str()),
        (Some("TaskRevokedError"), Some("expired"))
    );
}

#[test]
fn an_expires_that_is_not_a_date_is_acknowledged_with_a_failure() {
    let Some(redis) = services("an_expires_that_is_not_a_date_is_acknowledged_with_a_failure")
    else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let logs = TempDir::new("expires-bad-log");
    let log = logs.join("tandem-worker.jsonl");
    let _worker = tandem_worker_logged(&redis.url(), &[], &log);
    redis.wait_for_consumers(1);
    let image = demo.url("/image/png?w=40&h=30&seed=10");
    let broker = Broker::new(&redis);
    let ids: Vec<String> = [json!("next tuesday"), json!(10)]
        .into_iter()
        .map(|expires| broker.push_with_header(&image, "expires", expires))
        .collect();
    let program = format!(
        r#"
import json
from tandem_tasks import app
ends = []
for task_id in {ids:?}:
    job = app.AsyncResult(task_id)
    try:
        job.get(timeout=60)
        ends.append(None)
    except Exception as err:
        ends.append([job.state, type(err).__module__, type(err).__name__, str(err)])
print(json.dumps(ends))
"#
    );
    let printed: Value = serde_json::from_str(python(&redis.url(), &program).trim()).unwrap();
    let invalid = |why: &str| json!(["FAILURE", "celery.exceptions", "InvalidTaskError", why]);
    assert_eq!(
        printed,
        json!([
            invalid(
                "invalid expires value 'next tuesday': not an ISO 8601 date and time \
                 like 2026-12-03T07:00:00.000000+00:00"
            ),
            invalid("invalid expires value 10: not a string"),
        ])
    );
    for id in &ids {
        assert!(!broker.has(&format!("tandem:png:{id}")), "not run");
    }
    assert_eq!(demo.requests_served(), 0, "nothing downloaded");
    broker.assert_drained(&["tandem"]);
    wait_until("the worker's lines", || worker_log_lines(&log).len() == 2);
    for line in worker_log_lines(&log) {
        assert_eq!(line["exc_type"], "InvalidTaskError", "{line}");
    }
}
