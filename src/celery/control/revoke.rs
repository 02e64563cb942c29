//! `celery control revoke <id>`: a job not to run, remembered in memory,
//! as a Celery worker remembers it.
//!
//! # Why
//!
//! An operator revokes a job that should not run (sent by mistake, no
//! longer wanted). The message may still be in the queue, to be taken by
//! any worker of the fleet; each worker gets the broadcast and must
//! discard the job if it takes it. A worker that ignored the broadcast
//! would run it anyway.
//!
//! # How (checked against `celery/worker/control.py` `revoke`/`_revoke`,
//! `request.py` `revoked`/`_announce_revoked`, `state.py`, and
//! `celery/utils/collections.py` `LimitedSet`)
//!
//! ```text
//!  {"method": "revoke", "arguments": {"task_id": id | [ids],
//!                                     "terminate": false, "signal": "SIGTERM"}}
//!    ─► each id into the revoked set (at most 50,000; when full, ids
//!       older than 3 h go first, then the oldest)
//!    ─► each id's result stored REVOKED now (Celery ≥ 5.6.2 does this too),
//!       unless a SUCCESS is stored already
//!    ─► reply {"ok": "tasks {'<id>'} flagged as revoked"}
//!  a consumer taking a message whose id is revoked: no download, no
//!  resize; the result stored REVOKED; the message acknowledged.
//!  REVOKED result: {"exc_type": "TaskRevokedError", "exc_message": ["revoked"],
//!                   "exc_module": "celery.exceptions"}
//! ```
//!
//! A job already running is not interrupted: tandem's jobs are futures
//! and pool jobs, not processes to signal. With `terminate` the reply says
//! so instead of claiming a termination (`terminate` as a command is the
//! same as `revoke` with `terminate`).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::State;
use super::python_repr;
use crate::celery::RemoteError;
use crate::celery::result::{self, Outcome};
use crate::redis::Client;

/// Celery's `REVOKES_MAX`: the most revoked ids kept.
pub const REVOKES_MAX: usize = 50_000;

/// Celery's `REVOKE_EXPIRES`: how long an id is kept once the set is full.
pub const REVOKE_EXPIRES: Duration = Duration::from_secs(3 * 3600);

/// Revoked ids, bounded like Celery's `LimitedSet(maxlen, expires)`: adding
/// to a full set first drops the ids older than `expires`, then the oldest.
#[derive(Debug)]
pub struct Revoked {
    maxlen: usize,
    expires: Duration,
    /// Oldest first; an id added again moves to the back.
    order: VecDeque<(Instant, String)>,
    added: HashMap<String, Instant>,
}

impl Default for Revoked {
    fn default() -> Revoked {
        Revoked::new(REVOKES_MAX, REVOKE_EXPIRES)
    }
}

impl Revoked {
    /// An empty set of at most `maxlen` ids.
    pub fn new(maxlen: usize, expires: Duration) -> Revoked {
        Revoked {
            maxlen: maxlen.max(1),
            expires,
            order: VecDeque::new(),
            added: HashMap::new(),
        }
    }

    /// Adds `id` (again), at `now`.
    pub fn add(&mut self, id: &str, now: Instant) {
        if self.added.remove(id).is_some() {
            self.order.retain(|(_, old)| old != id);
        }
        self.added.insert(id.to_string(), now);
        self.order.push_back((now, id.to_string()));
        if self.added.len() >= self.maxlen {
            self.purge(now);
        }
    }

    /// `LimitedSet.purge`: down to `maxlen`, then out with the expired.
    fn purge(&mut self, now: Instant) {
        while let Some((added, _)) = self.order.front() {
            let expired = now.saturating_duration_since(*added) >= self.expires;
            if self.order.len() <= self.maxlen && !expired {
                break;
            }
            if let Some((_, id)) = self.order.pop_front() {
                self.added.remove(&id);
            }
        }
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: &str) -> bool {
        self.added.contains_key(id)
    }

    /// The ids, oldest first (`inspect revoked`).
    pub fn ids(&self) -> Vec<String> {
        self.order.iter().map(|(_, id)| id.clone()).collect()
    }
}

// ANCHOR: revoke
/// `revoke` (and `terminate`): flags the ids, stores their REVOKED
/// results, and says what was done.
pub async fn revoke(client: &Client, state: &State, arguments: &Value) -> Value {
    let ids = task_ids(arguments.get("task_id"));
    let now = Instant::now();
    for id in &ids {
        state.revoked.borrow_mut().add(id, now);
    }
    for id in &ids {
        let revoked = Outcome::Revoked(RemoteError::revoked());
        // As Celery's `_revoke`: a result that cannot be stored does not
        // undo the revocation (the consumer stores it when it takes the job).
        let _ = result::store(client, id, &revoked, state.result_expires).await;
    }
    let flagged = python_set(&ids);
    let terminate = arguments.get("terminate").is_some_and(truthy);
    if terminate {
        json!({"ok": format!(
            "tasks {flagged} flagged as revoked, but not terminated: \
             a tandem worker does not interrupt a running job"
        )})
    } else {
        json!({"ok": format!("tasks {flagged} flagged as revoked")})
    }
}
// ANCHOR_END: revoke

/// Celery's `maybe_list(task_id)`: one id or a list of them, each once.
fn task_ids(task_id: Option<&Value>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let items = match task_id {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item) => vec![item],
        None => Vec::new(),
    };
    for id in items.into_iter().filter_map(Value::as_str) {
        if !ids.iter().any(|seen| seen == id) {
            ids.push(id.to_string());
        }
    }
    ids
}

/// Python's `str()` of a set of strings: `{'a', 'b'}`, `set()` if empty.
fn python_set(ids: &[String]) -> String {
    if ids.is_empty() {
        return "set()".into();
    }
    let items: Vec<String> = ids.iter().map(|id| python_repr(id)).collect();
    format!("{{{}}}", items.join(", "))
}

/// Python's truth of a JSON value (`terminate` may come as `1` or `"yes"`
/// from hand-written callers).
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64() != Some(0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(fields) => !fields.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_bounded_like_celerys_limited_set() {
        let start = Instant::now();
        let mut set = Revoked::new(3, Duration::from_secs(10));
        for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
            set.add(id, start + Duration::from_secs(i as u64));
        }
        assert_eq!(set.ids(), ["b", "c", "d"], "the oldest went first");
        set.add("b", start + Duration::from_secs(5));
        assert_eq!(set.ids(), ["c", "d", "b"], "added again: newest");
        // Full again at 20 s: c (2 s), d (3 s) and b (5 s) are past 10 s.
        set.add("e", start + Duration::from_secs(20));
        assert_eq!(set.ids(), ["e"]);
        assert!(set.contains("e") && !set.contains("c"));
    }

    #[test]
    fn ids_and_replies_read_as_celery_writes_them() {
        assert_eq!(task_ids(Some(&json!("x"))), ["x"]);
        assert_eq!(task_ids(Some(&json!(["x", "y", "x"]))), ["x", "y"]);
        assert!(task_ids(None).is_empty());
        assert_eq!(python_set(&["x".into()]), "{'x'}");
        assert_eq!(python_set(&["x".into(), "y".into()]), "{'x', 'y'}");
        assert_eq!(python_set(&[]), "set()");
        assert!(truthy(&json!(true)) && !truthy(&json!(false)) && !truthy(&Value::Null));
        let error = RemoteError::revoked().to_json();
        assert_eq!(
            error,
            json!({"exc_type": "TaskRevokedError", "exc_message": ["revoked"],
                   "exc_module": "celery.exceptions"})
        );
    }
}
