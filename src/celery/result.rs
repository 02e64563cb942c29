//! Task results as Celery's Redis result backend stores them, so that
//! Python's `AsyncResult.get()` reads what a tandem worker writes, and
//! `tandem --broker` reads what a Python worker writes.
//!
//! # How (checked against `celery/backends/redis.py` and `base.py`)
//!
//! ```text
//!  key      celery-task-meta-<task id>
//!  value    {"status": "SUCCESS" | "FAILURE" | "REVOKED", "result": ...,
//!           "traceback": ...,
//!           "children": [], "date_done": "2026-...+00:00", "task_id": id}
//!  written  SETEX key <expires> value; PUBLISH key value   (one pipeline)
//!  failure  "result": {"exc_type", "exc_message": [message], "exc_module"}
//!  revoked  "status": "REVOKED", "result": {"exc_type": "TaskRevokedError",
//!           "exc_message": ["revoked"], "exc_module": "celery.exceptions"}
//! ```
//!
//! Like Celery's `_store_result`, a result is not written over a SUCCESS
//! already stored: when a task is done twice (at-least-once delivery), the
//! first success stands.
//!
//! A result read back is checked to be *for the task asked about*
//! (`task_id`): a reader holds only what it asked for, never a stale or
//! stray value.

use std::time::Duration;

use serde_json::{Value, json};

use super::{RemoteError, ids};
use crate::redis::{self, Client};

/// Celery's `task_keyprefix`.
pub const KEY_PREFIX: &str = "celery-task-meta-";

/// Celery's default `result_expires`: one day.
pub const DEFAULT_EXPIRES: Duration = Duration::from_secs(86_400);

/// The key (and the channel) of task `id`'s result.
pub fn key(id: &str) -> String {
    format!("{KEY_PREFIX}{id}")
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `SUCCESS`, with the task's return value.
    Success(Value),
    /// `FAILURE`, with the exception.
    Failure(RemoteError),
    /// `REVOKED` (`celery control revoke`), with the exception Celery
    /// stores for it (`TaskRevokedError`). An end, like the two above.
    Revoked(RemoteError),
    /// Any other state (`PENDING`, `STARTED`, `RETRY`): not an end.
    Other(String),
}

/// The JSON stored for task `id` ending as `outcome`.
pub fn meta(id: &str, outcome: &Outcome) -> String {
    let (status, result, traceback) = match outcome {
        Outcome::Success(value) => ("SUCCESS", value.clone(), Value::Null),
        Outcome::Failure(error) => ("FAILURE", error.to_json(), json!(format!("{error}\n"))),
        // `mark_as_revoked` stores no traceback.
        Outcome::Revoked(error) => ("REVOKED", error.to_json(), Value::Null),
        Outcome::Other(state) => (state.as_str(), Value::Null, Value::Null),
    };
    json!({
        "status": status,
        "result": result,
        "traceback": traceback,
        "children": [],
        "date_done": ids::iso_now(),
        "task_id": id,
    })
    .to_string()
}

/// Reads a stored result, which must be task `id`'s.
pub fn parse(id: &str, bytes: &[u8]) -> Result<Outcome, String> {
    let meta: Value = serde_json::from_slice(bytes).map_err(|err| format!("not JSON: {err}"))?;
    let stored_for = meta.get("task_id").and_then(Value::as_str);
    if stored_for != Some(id) {
        return Err(format!("a result for task {stored_for:?}, not {id}"));
    }
    let result = meta.get("result").cloned().unwrap_or(Value::Null);
    match meta.get("status").and_then(Value::as_str) {
        Some("SUCCESS") => Ok(Outcome::Success(result)),
        Some("FAILURE") => RemoteError::from_json(&result)
            .map(Outcome::Failure)
            .ok_or_else(|| "a FAILURE without exc_type".to_string()),
        Some("REVOKED") => Ok(Outcome::Revoked(
            RemoteError::from_json(&result).unwrap_or_else(RemoteError::revoked),
        )),
        Some(state) => Ok(Outcome::Other(state.to_string())),
        None => Err("no status".into()),
    }
}

/// Stores and publishes task `id`'s outcome, unless a success is already
/// stored; keeps it for `expires`.
pub async fn store(
    client: &Client,
    id: &str,
    outcome: &Outcome,
    expires: Duration,
) -> Result<(), redis::Error> {
    let key = key(id);
    if let Some(stored) = client.get(&key).await? {
        if let Ok(Outcome::Success(_)) = parse(id, &stored) {
            return Ok(());
        }
    }
    let value = meta(id, outcome);
    let seconds = expires.as_secs().max(1).to_string();
    let replies = client
        .pipeline(&[
            vec![
                b"SETEX",
                key.as_bytes(),
                seconds.as_bytes(),
                value.as_bytes(),
            ],
            vec![b"PUBLISH", key.as_bytes(), value.as_bytes()],
        ])
        .await?;
    match replies
        .iter()
        .find(|reply| matches!(reply, redis::Value::Error(_)))
    {
        Some(redis::Value::Error(message)) => Err(redis::Error::Server(message.clone())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_round_trip_and_belong_to_their_task() {
        let done = Outcome::Success(json!({"key": "tandem:png:a"}));
        let stored = meta("a", &done);
        assert_eq!(parse("a", stored.as_bytes()).unwrap(), done);
        assert!(parse("b", stored.as_bytes()).unwrap_err().contains("not b"));
        let value: Value = serde_json::from_str(&stored).unwrap();
        for field in [
            "status",
            "result",
            "traceback",
            "children",
            "date_done",
            "task_id",
        ] {
            assert!(value.get(field).is_some(), "{field}");
        }
    }

    #[test]
    fn a_revoked_result_is_stored_as_celerys_mark_as_revoked() {
        let revoked = Outcome::Revoked(RemoteError::revoked());
        let value: Value = serde_json::from_str(&meta("r", &revoked)).unwrap();
        assert_eq!(value["status"], "REVOKED");
        assert_eq!(value["result"]["exc_type"], "TaskRevokedError");
        assert_eq!(value["result"]["exc_module"], "celery.exceptions");
        assert_eq!(value["traceback"], Value::Null);
        assert_eq!(parse("r", meta("r", &revoked).as_bytes()).unwrap(), revoked);
    }

    #[test]
    fn failures_carry_celerys_three_fields() {
        let failed = Outcome::Failure(RemoteError::tandem("DownloadError", "refused"));
        let value: Value = serde_json::from_str(&meta("a", &failed)).unwrap();
        assert_eq!(value["status"], "FAILURE");
        assert_eq!(
            value["result"],
            json!({"exc_type": "DownloadError", "exc_message": ["refused"], "exc_module": "tandem"})
        );
        assert_eq!(parse("a", meta("a", &failed).as_bytes()).unwrap(), failed);
        // Python's form: several args, an exception from another module.
        let python = br#"{"status": "FAILURE", "task_id": "p", "result":
            {"exc_type": "UnidentifiedImageError", "exc_message": ["cannot identify"], "exc_module": "PIL"}}"#;
        match parse("p", python).unwrap() {
            Outcome::Failure(error) => assert_eq!(
                error.to_string(),
                "PIL.UnidentifiedImageError: cannot identify"
            ),
            other => panic!("{other:?}"),
        }
    }
}
