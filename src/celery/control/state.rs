//! What a worker's consumers share with its control mailbox: the jobs
//! running now, those waiting for their eta, how many jobs of each task
//! started, the revoked ids.
//!
//! # Why
//!
//! `inspect active` and `stats` ask what the worker is doing, `revoke` tells
//! it what not to do; the consumers know the first and must obey the second.
//! The mailbox and the consumers are futures on one loop thread, so a
//! `RefCell` each is all the sharing needs: no lock, no channel.
//!
//! # How
//!
//! A consumer calls [`State::start`] when a job starts and holds the
//! returned [`Running`] while it runs; dropping it (the job ended, or the
//! consumer's future was dropped) takes the job out of `active`. Each entry
//! is the job as Celery's `Request.info()` describes it
//! (`celery/worker/request.py`), built once at the start.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::revoke::Revoked;
use crate::celery::eta::Scheduled;
use crate::celery::ids;
use crate::celery::message::{Call, Delivery};
use crate::redis::RedisUrl;

/// One worker's state, as its control commands see it.
pub struct State {
    /// The node name, `tandem-<pid>@<host>`.
    pub node: String,
    /// Jobs in flight at once (Celery's pool `max-concurrency`).
    pub concurrency: usize,
    /// The broker, for `stats` (never its password).
    pub broker: RedisUrl,
    /// How long a `REVOKED` result is kept.
    pub result_expires: Duration,
    /// The ids not to run.
    pub revoked: RefCell<Revoked>,
    /// The messages held until their eta (`inspect scheduled`).
    pub scheduled: RefCell<Scheduled>,
    started: Instant,
    next_key: Cell<u64>,
    active: RefCell<BTreeMap<u64, Job>>,
    total: RefCell<BTreeMap<String, u64>>,
}

/// A running job: its `info()` with the arguments as values
/// (`safe=False`) and as the sender's reprs (`safe=True`).
struct Job {
    info: Value,
    reprs: (Value, Value),
}

impl State {
    /// The state of a fresh worker.
    pub fn new(node: &str, concurrency: usize, broker: RedisUrl, expires: Duration) -> State {
        State {
            node: node.to_string(),
            concurrency,
            broker,
            result_expires: expires,
            revoked: RefCell::new(Revoked::default()),
            scheduled: RefCell::new(Scheduled::default()),
            started: Instant::now(),
            next_key: Cell::new(0),
            active: RefCell::new(BTreeMap::new()),
            total: RefCell::new(BTreeMap::new()),
        }
    }

    /// Whether task `id` was revoked (and not yet forgotten).
    pub fn is_revoked(&self, id: &str) -> bool {
        self.revoked.borrow().contains(id)
    }

    /// Job `id` (the call of `delivery`) starts: it is active, and counted
    /// in `total`, until the returned value is dropped.
    pub fn start(&self, id: &str, call: &Call, delivery: &Delivery) -> Running<'_> {
        *self
            .total
            .borrow_mut()
            .entry(call.task.clone())
            .or_default() += 1;
        let mut info = self.request_info(id, call, delivery);
        info["time_start"] = json!(ids::unix_seconds());
        info["worker_pid"] = json!(std::process::id());
        let headers = delivery.raw.get("headers");
        let header = |name| headers.and_then(|h| h.get(name)).cloned();
        let reprs = (
            header("argsrepr").unwrap_or_else(|| json!("")),
            header("kwargsrepr").unwrap_or_else(|| json!("")),
        );
        let key = self.next_key.replace(self.next_key.get() + 1);
        self.active.borrow_mut().insert(key, Job { info, reprs });
        Running { state: self, key }
    }

    /// Job `id` as `Request.info()` describes it before it starts (no
    /// `time_start`, no `worker_pid`).
    pub fn request_info(&self, id: &str, call: &Call, delivery: &Delivery) -> Value {
        let redelivered = delivery
            .raw
            .pointer("/properties/delivery_info/redelivered");
        json!({
            "id": id,
            "name": call.task,
            "args": call.args,
            "kwargs": call.kwargs,
            "type": call.task,
            "hostname": self.node,
            "time_start": null,
            // Acknowledged late: when the result is stored.
            "acknowledged": false,
            "delivery_info": {
                "exchange": delivery.exchange,
                "routing_key": delivery.routing_key,
                "priority": delivery.raw.pointer("/properties/priority"),
                "redelivered": redelivered.cloned().unwrap_or(Value::Bool(false)),
            },
            "worker_pid": null,
        })
    }

    /// The running jobs, oldest first, as `inspect active` lists them.
    pub fn active(&self, safe: bool) -> Vec<Value> {
        let active = self.active.borrow();
        let info = |job: &Job| {
            let mut info = job.info.clone();
            if safe {
                info["args"] = job.reprs.0.clone();
                info["kwargs"] = job.reprs.1.clone();
            }
            info
        };
        active.values().map(info).collect()
    }

    /// How many jobs of each task started since the worker did.
    pub fn total(&self) -> Value {
        json!(*self.total.borrow())
    }

    /// Since the worker started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A job in `active`, until dropped.
pub struct Running<'a> {
    state: &'a State,
    key: u64,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.state.active.borrow_mut().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::celery::message;

    #[test]
    fn a_job_is_active_while_its_guard_lives_and_counted_once() {
        let url = RedisUrl::parse("redis://127.0.0.1:1/0").unwrap();
        let state = State::new("tandem-1@box", 2, url, Duration::from_secs(1));
        let bytes = message::encode(&message::Outgoing {
            id: "t1",
            task: "tandem.resize",
            args: json!(["http://x/a.png"]),
            kwargs: json!({"width": 8}),
            queue: "tandem",
            origin: "test",
        });
        let delivery = message::decode(&bytes).unwrap();
        let call = delivery.call.clone().unwrap();
        let running = state.start("t1", &call, &delivery);
        let active = state.active(false);
        assert_eq!(active.len(), 1);
        assert_eq!(active[0]["id"], "t1");
        assert_eq!(active[0]["args"], json!(["http://x/a.png"]));
        assert_eq!(active[0]["delivery_info"]["routing_key"], "tandem");
        assert_eq!(active[0]["delivery_info"]["redelivered"], false);
        assert!(state.active(true)[0]["args"].is_string());
        drop(running);
        assert!(state.active(false).is_empty());
        assert_eq!(state.total(), json!({"tandem.resize": 1}));
    }
}
