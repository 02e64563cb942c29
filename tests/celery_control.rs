//! Celery's remote control against a `tandem worker`, through a real
//! redis-server, driven by Celery itself: Python's `app.control.inspect()`
//! and `app.control.revoke()`, and the `celery` command line. What an
//! operator of a mixed fleet types must see and steer tandem workers too.
//!
//! Without python3 + celery[redis] + pillow (or redis-server) these tests
//! say loudly that they were skipped; `TANDEM_REQUIRE_SERVICES=1` makes
//! that a failure instead.
#![cfg(feature = "celery")]

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::broker::Broker;
use support::cli_run::{TempDir, tandem, text};
use support::poll::wait_until;
use support::workers::services;
use support::workers::{contrib_dir, python, tandem_worker, tandem_worker_logged};

/// `celery -A tandem_tasks <args> --json`, its stdout as JSON.
fn celery_cli(broker: &str, args: &[&str]) -> Value {
    let output = Command::new("timeout")
        .args(["60", "python3", "-m", "celery", "-A", "tandem_tasks"])
        .args(args)
        .args(["--json", "--timeout", "2"])
        .current_dir(contrib_dir())
        .env("TANDEM_BROKER", broker)
        .output()
        .expect("python3 -m celery");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "celery {args:?}:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|err| panic!("{err}: {stdout}"))
}

/// The only node's reply in `{node: reply}`, checking the node is tandem's.
fn tandem_reply(replies: &Value) -> &Value {
    let replies = replies.as_object().expect("replies by node");
    assert_eq!(replies.len(), 1, "{replies:?}");
    let (node, reply) = replies.iter().next().unwrap();
    assert!(node.starts_with("tandem-"), "{node}");
    reply
}

#[test]
fn celery_inspect_sees_a_tandem_workers_running_job() {
    let Some(redis) = services("celery_inspect_sees_a_tandem_workers_running_job") else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let _worker = tandem_worker(&redis.url(), &["--concurrency", "2"]);
    redis.wait_for_consumers(2);
    // Slow enough to be seen running: the demo server answers after 5 s.
    let slow = demo.url("/image/png?w=40&h=30&seed=1&delay=5000");
    let program = format!(
        r#"
import json, time
from tandem_tasks import app
# One worker: each call returns at its reply rather than after the timeout.
inspect = app.control.inspect(timeout=2.0, limit=1)
def status(task_id):
    return json.loads(app.backend.client.get("celery-task-meta-" + task_id) or "{{}}").get("status")
job = app.send_task("tandem.resize", args=["{slow}"], kwargs={{"width": 16, "height": 12}}, queue="tandem")
active = {{}}
for _ in range(20):
    active = inspect.active() or {{}}
    if any(active.values()):
        break
    time.sleep(0.1)
safe = inspect.active(safe=True)
query = inspect.query_task(job.id)
registered = inspect.registered()
reserved = inspect.reserved()
revoke_reply = app.control.revoke(job.id, terminate=True, reply=True, timeout=5.0, limit=1)
revoked = inspect.revoked()
marked = status(job.id)
# Not interrupted: the job ends, and its SUCCESS replaces the REVOKED mark.
for _ in range(300):
    if status(job.id) == "SUCCESS":
        break
    time.sleep(0.1)
print(json.dumps({{"id": job.id, "active": active, "safe": safe, "query": query,
    "registered": registered, "reserved": reserved, "revoke": revoke_reply,
    "revoked": revoked, "marked": marked, "final": status(job.id),
    "stats": inspect.stats(), "idle": inspect.active()}}))
"#
    );
    let printed: Value = serde_json::from_str(python(&redis.url(), &program).trim()).unwrap();
    let id = printed["id"].as_str().unwrap();
    let active = tandem_reply(&printed["active"]).as_array().unwrap();
    assert_eq!(active.len(), 1, "{printed}");
    let job = &active[0];
    assert_eq!(job["id"], id);
    assert_eq!(job["name"], "tandem.resize");
    assert_eq!(job["args"], json!([slow]));
    assert_eq!(job["kwargs"]["width"], 16);
    assert!(job["hostname"].as_str().unwrap().starts_with("tandem-"));
    assert!(job["time_start"].as_f64().unwrap() > 1.0e9, "{job}");
    assert_eq!(job["acknowledged"], false, "acknowledged late");
    assert_eq!(job["delivery_info"]["routing_key"], "tandem");
    assert_eq!(job["delivery_info"]["redelivered"], false);
    assert!(job["worker_pid"].as_u64().unwrap() > 0);
    // safe=True: the sender's reprs instead of the values.
    assert!(
        tandem_reply(&printed["safe"])[0]["args"].is_string(),
        "{printed}"
    );
    assert_eq!(tandem_reply(&printed["query"])[id][0], "active");
    assert_eq!(
        tandem_reply(&printed["registered"]),
        &json!(["tandem.resize"])
    );
    assert_eq!(tandem_reply(&printed["reserved"]), &json!([]));
    // terminate=True is not done, and the reply says so.
    let said = printed["revoke"][0]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    let said = said["ok"].as_str().unwrap();
    assert!(said.starts_with(&format!(
        "tasks {{'{id}'}} flagged as revoked, but not terminated"
    )));
    assert_eq!(tandem_reply(&printed["revoked"]), &json!([id]));
    assert_eq!(
        printed["marked"], "REVOKED",
        "marked at once, as Celery 5.6.2+ does"
    );
    assert_eq!(
        printed["final"], "SUCCESS",
        "the running job was not interrupted"
    );
    let stats = tandem_reply(&printed["stats"]);
    assert_eq!(stats["total"], json!({"tandem.resize": 1}));
    assert_eq!(stats["pool"]["max-concurrency"], 2);
    assert_eq!(stats["broker"]["transport"], "redis");
    assert!(stats["pid"].as_u64().unwrap() > 0);
    assert_eq!(tandem_reply(&printed["idle"]), &json!([]));
    // The command line an operator types.
    let registered = celery_cli(&redis.url(), &["inspect", "registered"]);
    assert_eq!(tandem_reply(&registered), &json!(["tandem.resize"]));
    let stats = celery_cli(&redis.url(), &["inspect", "stats"]);
    assert_eq!(tandem_reply(&stats)["total"], json!({"tandem.resize": 1}));
}

#[test]
fn an_unknown_control_method_gets_celerys_error_reply_at_once() {
    let Some(redis) = services("an_unknown_control_method_gets_celerys_error_reply_at_once") else {
        return;
    };
    let _worker = tandem_worker(&redis.url(), &[]);
    redis.wait_for_consumers(1);
    let program = r#"
import json, time
from tandem_tasks import app
for _ in range(10):
    if app.control.ping(timeout=1.0):
        break
started = time.monotonic()
replies = app.control.broadcast("tandem_no_such_method", reply=True, timeout=10.0, limit=1)
print(json.dumps({"replies": replies, "seconds": time.monotonic() - started}))
"#;
    let printed: Value = serde_json::from_str(python(&redis.url(), program).trim()).unwrap();
    let reply = printed["replies"][0]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    // kombu's Node.dispatch: the handler lookup raises KeyError, replied as repr.
    assert_eq!(
        reply,
        &json!({"error": "KeyError('tandem_no_such_method')"})
    );
    let seconds = printed["seconds"].as_f64().unwrap();
    assert!(seconds < 5.0, "a reply, not the 10 s timeout: {seconds} s");
}

#[test]
fn a_revoked_job_is_not_run_and_tandem_broker_reports_it_failed() {
    let Some(redis) = services("a_revoked_job_is_not_run_and_tandem_broker_reports_it_failed")
    else {
        return;
    };
    let demo = tandem::demo::Server::start().unwrap();
    let logs = TempDir::new("revoke-log");
    let log = logs.join("tandem-worker.jsonl");
    // One job at a time, each 2 s: the last queued waits at least 2 s.
    let _worker = tandem_worker_logged(&redis.url(), &["--concurrency", "1"], &log);
    redis.wait_for_consumers(1);
    let urls: Vec<String> = (0..3)
        .map(|i| demo.url(&format!("/image/png?w=40&h=30&seed={i}&delay=2000")))
        .collect();
    let out = TempDir::new("revoke-out");
    let mut args = vec!["--broker".to_string(), redis.url(), "--json".into()];
    args.extend([
        "--out".into(),
        text(&out.0).into(),
        "--size".into(),
        "20x15".into(),
    ]);
    args.extend(urls.iter().cloned());
    let run =
        std::thread::spawn(move || tandem(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    // Python's own revoke, of the job queued last, while the worker is busy.
    let program = r#"
import base64, json, time
from tandem_tasks import app
redis = app.backend.client
target = None
deadline = time.monotonic() + 60
while target is None and time.monotonic() < deadline:
    if redis.hlen("unacked") >= 1 and redis.llen("tandem") >= 1:
        raw = redis.lindex("tandem", 0)
        if raw:
            target = json.loads(raw)
    time.sleep(0.02)
task_id = target["headers"]["id"]
url = json.loads(base64.b64decode(target["body"]))[0][0]
reply = app.control.revoke(task_id, reply=True, timeout=5.0, limit=1)
print(json.dumps({"id": task_id, "url": url, "reply": reply}))
"#;
    let printed: Value = serde_json::from_str(python(&redis.url(), program).trim()).unwrap();
    let id = printed["id"].as_str().unwrap().to_string();
    let reply = printed["reply"][0]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(reply["ok"], format!("tasks {{'{id}'}} flagged as revoked"));
    let revoked = urls.iter().position(|url| *url == printed["url"]).unwrap();

    let run = run.join().unwrap();
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let items: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        items.len(),
        urls.len() + 1,
        "an object per input, then the summary"
    );
    for (index, item) in items.iter().take(urls.len()).enumerate() {
        assert_eq!(item["index"], index);
        if index == revoked {
            assert_eq!(item["ok"], false, "{item}");
            let error = item["error"].as_str().unwrap();
            assert!(error.contains(&format!("task {id} was revoked")), "{error}");
            assert!(!out.join(&format!("resized_{index}.png")).exists());
        } else {
            assert_eq!(item["ok"], true, "{item}");
        }
    }
    assert_eq!(items[urls.len()]["failed"], 1);

    // The worker took the revoked message and discarded it: a line for it,
    // no image, the message acknowledged, the result still REVOKED.
    let lines = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_until("the worker to take all three", || {
        lines().lines().count() == 3
    });
    let line: Value = lines()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|line| line["task_id"] == id.as_str())
        .expect("a line for the revoked job");
    assert_eq!(
        (line["ok"].as_bool(), line["exc_type"].as_str()),
        (Some(false), Some("TaskRevokedError"))
    );
    let broker = Broker::new(&redis);
    assert_eq!(
        broker.get(&format!("tandem:png:{id}")),
        None,
        "never resized"
    );
    let meta = broker.get(&format!("celery-task-meta-{id}")).unwrap();
    let meta: Value = serde_json::from_slice(&meta).unwrap();
    assert_eq!(meta["status"], "REVOKED");
    assert_eq!(meta["result"]["exc_type"], "TaskRevokedError");
    assert_eq!(broker.count(&[b"LLEN", b"tandem"]), Some(0));
    assert_eq!(
        broker.count(&[b"HLEN", b"unacked"]),
        Some(0),
        "acknowledged"
    );
}
