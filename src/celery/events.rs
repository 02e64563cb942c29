//! Celery's events from a tandem worker (`tandem worker --events`, Celery's
//! `-E`), so that Flower and `celery events` show its jobs live.
//!
//! # How (checked against `celery/events/dispatcher.py` and `event.py`)
//!
//! An event is a JSON object with `type`, `hostname`, `utcoffset`, `pid`,
//! `clock`, `timestamp` and the type's own fields, sent as a kombu message
//! to the `celeryev` exchange with routing key `type` dotted
//! (`task-succeeded` → `task.succeeded`). On Redis that exchange is a fanout,
//! which kombu turns into a PUBLISH:
//!
//! ```text
//!  PUBLISH /<db>.celeryev/task.succeeded  {"body": base64(event), ...}
//! ```
//!
//! The worker sends `worker-online`, a `worker-heartbeat` every 2 s,
//! `worker-offline`; and per job `task-received`, `task-started`, then
//! `task-succeeded` or `task-failed` (or only `task-revoked` for a revoked
//! or expired job). Events are best effort, as Celery's
//! are: one that cannot be published is dropped.

use std::cell::Cell;
use std::time::Duration;

use serde_json::{Value, json};

use super::{base64, ids};
use crate::redis::Client;

/// How often `worker-heartbeat` is sent (Celery's default).
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// Sends one worker's events.
pub struct Events {
    client: Client,
    db: u32,
    node: String,
    /// Celery's logical clock, forwarded at each event.
    clock: Cell<u64>,
    /// Jobs started, for the heartbeat's `processed`.
    pub processed: Cell<u64>,
    /// Jobs in flight, for the heartbeat's `active`.
    pub active: Cell<u64>,
}

impl Events {
    /// Events of worker `node` through `client` (on database `db`).
    pub fn new(client: Client, db: u32, node: &str) -> Events {
        Events {
            client,
            db,
            node: node.to_string(),
            clock: Cell::new(0),
            processed: Cell::new(0),
            active: Cell::new(0),
        }
    }

    /// Publishes event `kind` with `fields` (an object); errors are dropped.
    pub async fn send(&self, kind: &str, fields: Value) {
        self.clock.set(self.clock.get() + 1);
        let mut event = json!({
            "type": kind,
            "hostname": self.node,
            "utcoffset": 0,
            "pid": std::process::id(),
            "clock": self.clock.get(),
            "timestamp": ids::unix_seconds(),
        });
        if let (Some(event), Value::Object(fields)) = (event.as_object_mut(), fields) {
            event.extend(fields);
        }
        let routing_key = kind.replace('-', ".");
        let envelope = json!({
            "body": base64::encode(event.to_string().as_bytes()),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {"hostname": self.node},
            "properties": {
                "delivery_mode": 1,
                "delivery_info": {"exchange": "celeryev", "routing_key": routing_key},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": ids::uuid4(),
            },
        })
        .to_string();
        let channel = format!("/{}.celeryev/{routing_key}", self.db);
        let _ = self
            .client
            .command(&[b"PUBLISH", channel.as_bytes(), envelope.as_bytes()])
            .await;
    }

    /// A worker event (`worker-online`, `-heartbeat`, `-offline`) with the
    /// fields Celery's heartbeat sends.
    pub async fn worker(&self, kind: &str) {
        let fields = json!({
            "freq": HEARTBEAT.as_secs_f64(),
            "active": self.active.get(),
            "processed": self.processed.get(),
            "loadavg": load_average(),
            "sw_ident": "tandem",
            "sw_ver": env!("CARGO_PKG_VERSION"),
            "sw_sys": std::env::consts::OS,
        });
        self.send(kind, fields).await;
    }

    /// The task events of one job: `task-received` and `task-started` now,
    /// from the message's headers.
    pub async fn task_started(&self, id: &str, name: &str, headers: Option<&Value>) {
        let header = |field: &str| {
            headers
                .and_then(|h| h.get(field))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let received = json!({
            "uuid": id, "name": name,
            "args": header("argsrepr"), "kwargs": header("kwargsrepr"),
            "root_id": header("root_id"), "parent_id": header("parent_id"),
            "retries": header("retries"), "eta": header("eta"), "expires": header("expires"),
        });
        self.send("task-received", received).await;
        self.active.set(self.active.get() + 1);
        self.send("task-started", json!({"uuid": id})).await;
    }

    /// `task-succeeded` (with the result) or `task-failed` (with the
    /// exception), after `runtime`.
    pub async fn task_ended(
        &self,
        id: &str,
        outcome: Result<&Value, &super::RemoteError>,
        runtime: Duration,
    ) {
        self.active.set(self.active.get().saturating_sub(1));
        self.processed.set(self.processed.get() + 1);
        let runtime = runtime.as_secs_f64();
        match outcome {
            Ok(result) => {
                let fields = json!({"uuid": id, "result": result.to_string(), "runtime": runtime});
                self.send("task-succeeded", fields).await;
            }
            Err(error) => {
                let exception = format!("{}({:?})", error.exc_type, error.message);
                let fields =
                    json!({"uuid": id, "exception": exception, "traceback": error.to_string()});
                self.send("task-failed", fields).await;
            }
        }
    }

    /// `task-revoked` for a job discarded unrun (revoked, or `expired`),
    /// with the fields Celery's `Request._announce_revoked` sends.
    pub async fn task_revoked(&self, id: &str, expired: bool) {
        let fields = json!({"uuid": id, "terminated": false, "signum": null, "expired": expired});
        self.send("task-revoked", fields).await;
    }

    /// `worker-online`, then a heartbeat every [`HEARTBEAT`]; never returns.
    pub async fn heartbeats(&self) {
        self.worker("worker-online").await;
        loop {
            async_io::Timer::after(HEARTBEAT).await;
            self.worker("worker-heartbeat").await;
        }
    }
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`), or zeros.
fn load_average() -> Value {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let numbers: Vec<f64> = text
        .split_whitespace()
        .take(3)
        .filter_map(|number| number.parse().ok())
        .collect();
    if numbers.len() == 3 {
        json!(numbers)
    } else {
        json!([0.0, 0.0, 0.0])
    }
}
