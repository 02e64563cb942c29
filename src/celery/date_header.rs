//! A message header that holds an instant: `eta` and `expires`.
//!
//! # Why one file for both
//!
//! Celery writes both the same way (`datetime.isoformat()` of an aware
//! datetime, or nothing), its worker reads both the same way, and refuses
//! a bad one with the same exception in the same words: `InvalidTaskError:
//! invalid ETA value '...'` or `invalid expires value '...'`. So one reader
//! and one error serve both; `eta.rs` and `expires.rs` decide what the
//! instant means.

use std::fmt;

use serde_json::Value;

use super::RemoteError;
use super::iso8601::{self, DateError};
use super::message::Delivery;

/// A date header that is not a date: the message is not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidDate {
    /// How Celery names the header in its message: `ETA`, `expires`.
    pub label: &'static str,
    /// The header as sent (JSON).
    pub value: Value,
    /// What is wrong with it.
    pub why: DateError,
}

impl fmt::Display for InvalidDate {
    /// Celery's words: `invalid <label> value '...': <why>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let InvalidDate { label, value, why } = self;
        match value {
            // Python's repr of the string, as Celery's message has it.
            Value::String(text) => {
                write!(f, "invalid {label} value '{}': {why}", text.escape_debug())
            }
            other => write!(f, "invalid {label} value {other}: {why}"),
        }
    }
}

impl std::error::Error for InvalidDate {}

impl From<InvalidDate> for RemoteError {
    /// Celery's `InvalidTaskError`, which Python can import and raise.
    fn from(err: InvalidDate) -> RemoteError {
        RemoteError {
            exc_type: "InvalidTaskError".to_string(),
            exc_module: Some("celery.exceptions".to_string()),
            message: err.to_string(),
        }
    }
}

/// `headers[name]` of `delivery` in microseconds since the epoch; `None`
/// when absent or null; `label` names it in the error.
pub fn read(
    delivery: &Delivery,
    name: &str,
    label: &'static str,
) -> Result<Option<i64>, InvalidDate> {
    let header = delivery
        .raw
        .get("headers")
        .and_then(|headers| headers.get(name));
    let invalid = |why| InvalidDate {
        label,
        value: header.cloned().unwrap_or(Value::Null),
        why,
    };
    match header {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => iso8601::parse(text).map(Some).map_err(invalid),
        Some(_) => Err(invalid(DateError::NotAString)),
    }
}
