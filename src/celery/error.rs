//! What can go wrong beyond one machine, as types.
//!
//! Two kinds of failure meet here. [`RemoteError`] is a task that *ran*
//! and failed somewhere in the fleet (a tandem worker or a Python one): it
//! travels through Redis as Celery's `{"exc_type", "exc_message",
//! "exc_module"}`, so that Python's `AsyncResult.get()` raises an exception
//! of that name and tandem shows the same three things. [`Error`] is this
//! process failing to use the broker at all.

use std::fmt;

use crate::redis;

/// A task's failure, as Celery's result backend stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteError {
    /// The exception's class name: `DownloadError`, `UnidentifiedImageError`...
    pub exc_type: String,
    /// Its module: `tandem` for tandem workers' own, `PIL` for Pillow's...
    /// When Python cannot import it, Celery makes a class of that name.
    pub exc_module: Option<String>,
    /// The exception's message (its first argument).
    pub message: String,
}

impl RemoteError {
    /// A failure of tandem's own, in module `tandem`.
    pub fn tandem(exc_type: &str, message: impl Into<String>) -> RemoteError {
        RemoteError {
            exc_type: exc_type.to_string(),
            exc_module: Some("tandem".to_string()),
            message: message.into(),
        }
    }

    /// What a revoked task's result carries, as Celery's
    /// `mark_as_revoked(id, reason="revoked")` stores it.
    pub fn revoked() -> RemoteError {
        RemoteError::revoked_because("revoked")
    }

    /// What an expired task's result carries: Celery's worker revokes a
    /// task taken past its `expires` with `reason="expired"`.
    pub fn expired() -> RemoteError {
        RemoteError::revoked_because("expired")
    }

    /// `TaskRevokedError(reason)`, Celery's exception for both.
    fn revoked_because(reason: &str) -> RemoteError {
        RemoteError {
            exc_type: "TaskRevokedError".to_string(),
            exc_module: Some("celery.exceptions".to_string()),
            message: reason.to_string(),
        }
    }

    /// Celery's form: `exc_message` is the exception's `args`, a list.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "exc_type": self.exc_type,
            "exc_message": [self.message],
            "exc_module": self.exc_module,
        })
    }

    /// Reads Celery's form; `exc_message` may be a list (its items joined)
    /// or a single value. `None` without an `exc_type`.
    pub fn from_json(value: &serde_json::Value) -> Option<RemoteError> {
        let exc_type = value.get("exc_type")?.as_str()?.to_string();
        let exc_module = value
            .get("exc_module")
            .and_then(|module| module.as_str())
            .map(str::to_string);
        let text = |value: &serde_json::Value| match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let message = match value.get("exc_message") {
            Some(serde_json::Value::Array(items)) => {
                items.iter().map(text).collect::<Vec<_>>().join(", ")
            }
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => text(other),
        };
        Some(RemoteError {
            exc_type,
            exc_module,
            message,
        })
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.exc_module {
            Some(module) => write!(f, "{module}.{}: {}", self.exc_type, self.message),
            None => write!(f, "{}: {}", self.exc_type, self.message),
        }
    }
}

impl std::error::Error for RemoteError {}

/// Why this process could not use the broker.
#[derive(Debug)]
pub enum Error {
    /// Redis could not be reached, or refused.
    Redis(redis::Error),
    /// The CPU pool's threads could not start.
    Pool(crate::PoolError),
    /// The signal handlers could not be installed.
    Signals(std::io::Error),
    /// No result came for a task, even after it was sent a second time.
    NoResult {
        /// The task id of the last attempt.
        task_id: String,
        /// How long each attempt waited.
        waited: std::time::Duration,
    },
    /// A result or stored image that is not what the task returns.
    BadResult(String),
    /// The task was revoked (`celery control revoke`) or expired (taken
    /// past its `expires`): its result is `REVOKED`, and it did not run
    /// (or its result was not kept).
    Revoked {
        /// The task id.
        task_id: String,
        /// The exception stored with the result (`TaskRevokedError`,
        /// its message `revoked` or `expired`).
        reason: RemoteError,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Redis(err) => write!(f, "broker: {err}"),
            Error::Pool(err) => write!(f, "could not start the CPU pool: {err}"),
            Error::Signals(err) => write!(f, "could not install signal handlers: {err}"),
            Error::NoResult { task_id, waited } => write!(
                f,
                "no result for task {task_id} within {waited:?}, sent twice: is a worker serving the queue?"
            ),
            Error::BadResult(reason) => write!(f, "unexpected result: {reason}"),
            // The stored reason tells an expiry from a revoke.
            Error::Revoked { task_id, reason } if *reason == RemoteError::expired() => {
                write!(
                    f,
                    "task {task_id} expired before a worker ran it ({reason})"
                )
            }
            Error::Revoked { task_id, reason } => {
                write!(f, "task {task_id} was revoked ({reason})")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Redis(err) => Some(err),
            Error::Pool(err) => Some(err),
            Error::Signals(err) => Some(err),
            Error::Revoked { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

impl From<redis::Error> for Error {
    fn from(err: redis::Error) -> Error {
        Error::Redis(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_task_is_told_from_a_revoked_one() {
        let revoked = Error::Revoked {
            task_id: "r".into(),
            reason: RemoteError::revoked(),
        };
        assert_eq!(
            revoked.to_string(),
            "task r was revoked (celery.exceptions.TaskRevokedError: revoked)"
        );
        // As a Python worker stores it: exc_message is a list.
        let stored = serde_json::json!({"exc_type": "TaskRevokedError",
            "exc_message": ["expired"], "exc_module": "celery.exceptions"});
        let expired = Error::Revoked {
            task_id: "e".into(),
            reason: RemoteError::from_json(&stored).unwrap(),
        };
        assert_eq!(
            expired.to_string(),
            "task e expired before a worker ran it (celery.exceptions.TaskRevokedError: expired)"
        );
    }
}
