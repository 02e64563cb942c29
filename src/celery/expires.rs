//! Celery's `expires`: a message taken after its expiry is not run, by a
//! tandem worker as by a Python one.
//!
//! # Why
//!
//! A client sends `send_task(..., expires=10)` because the job is useless
//! later (a thumbnail for a page already served). A Python Celery worker
//! that takes such a message too late does not run it; a tandem worker
//! that ran it anyway would make the same message end differently
//! depending on which worker of the fleet took it. So a tandem worker
//! decides, when it takes a message, what Celery's `Request.revoked()`
//! decides, and ends it the same way.
//!
//! # How (checked against `celery/worker/request.py` `__init__`,
//! `maybe_expire`, `revoked`, `_announce_revoked`; `celery/app/amqp.py`
//! `as_task_v2`; `celery/utils/time.py` `maybe_iso8601`,
//! `maybe_make_aware`; `celery/backends/base.py` `mark_as_revoked`)
//!
//! ```text
//!  headers.expires   absent or null: never expires
//!                    an ISO 8601 string: `expires.isoformat()` of an aware
//!                    datetime, e.g. 2026-12-03T07:00:10.123456+00:00
//!                    (expires=<seconds> is app.now() + seconds, in the
//!                    app's timezone, UTC by default)
//!                    anything else: InvalidTaskError("invalid expires
//!                    value '...': ..."), the message not run
//!  a naive datetime  (no offset) is UTC: maybe_make_aware(dt, tz) with
//!                    naive_as_utc=True makes it UTC first, whatever the
//!                    worker's timezone
//!  expired           now > expires (strictly), checked when the message
//!                    is taken, before anything runs; a job running past
//!                    its expiry is not interrupted
//!  an expired job    its id added to the revoked set (maybe_expire does);
//!                    task-revoked {expired: true}; stored REVOKED with
//!                    TaskRevokedError("expired"); acknowledged
//!  order             invalid expires, then expired, then revoked by id
//! ```
//!
//! Celery reads the string with dateutil's `isoparse`; tandem with
//! `iso8601.rs`, which reads what Celery writes and the common variants
//! `isoparse` reads too.
//!
//! `send_task` also sets `properties.expiration` (a TTL in seconds, 0 when
//! already past), which kombu's Redis transport does not enforce: on
//! Redis, the worker's check is the only one. `send_task` parses a string
//! `expires` before sending, so an invalid one comes from a message made
//! by other means.
//!
//! Celery itself rejects a message whose `expires` is invalid without
//! storing a result; tandem ends it as it ends every malformed message
//! with an id: a `FAILURE` result (here `InvalidTaskError`, Celery's own
//! exception), so that a client waiting on it learns why at once.

use std::time::SystemTime;

use super::control::State;
use super::date_header::{self, InvalidDate};
use super::iso8601::unix_micros;
use super::message::Delivery;

/// What a consumer does with a message it has just taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Runs it.
    Run,
    /// Does not run it: `REVOKED`, acknowledged; `expired` says why
    /// (Celery's reason `expired` rather than `revoked`).
    Discard {
        /// Past its `expires` (else revoked by id).
        expired: bool,
    },
    /// Does not run it: its `expires` is not a date.
    Invalid(InvalidDate),
}

// ANCHOR: verdict
/// Celery's `Request.revoked()` for `delivery` taken at `now`: invalid,
/// expired (then its id joins the revoked set, as in `maybe_expire`),
/// revoked by id, or to run.
pub fn verdict(delivery: &Delivery, state: &State, now: SystemTime) -> Verdict {
    let expires = match date_header::read(delivery, "expires", "expires") {
        Ok(expires) => expires,
        Err(err) => return Verdict::Invalid(err),
    };
    let id = delivery.id.as_deref();
    let expired = expires.is_some_and(|expires| unix_micros(now) > expires);
    if expired {
        if let Some(id) = id {
            state
                .revoked
                .borrow_mut()
                .add(id, std::time::Instant::now());
        }
        return Verdict::Discard { expired: true };
    }
    match id {
        Some(id) if state.is_revoked(id) => Verdict::Discard { expired: false },
        _ => Verdict::Run,
    }
}
// ANCHOR_END: verdict

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::{Value, json};

    use super::*;
    use crate::celery::RemoteError;
    use crate::celery::iso8601::DateError;
    use crate::redis::RedisUrl;

    fn state() -> State {
        let broker = RedisUrl::parse("redis://127.0.0.1:1/0").unwrap();
        State::new("test@here", 1, broker, Duration::from_secs(60))
    }

    /// A message with `headers.expires` set to `expires`.
    fn delivery(id: &str, expires: Value) -> Delivery {
        let bytes = json!({"headers": {"id": id, "task": "tandem.resize", "expires": expires},
                           "properties": {"delivery_tag": "t"}})
        .to_string();
        super::super::message::decode(bytes.as_bytes()).unwrap()
    }

    /// 2026-12-03T07:00:00Z.
    fn seven() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_796_281_200)
    }

    #[test]
    fn expired_means_strictly_after_and_joins_the_revoked_set() {
        let state = state();
        let at = |expires: &str| verdict(&delivery("a", json!(expires)), &state, seven());
        assert_eq!(at("2026-12-03T07:00:00.000001+00:00"), Verdict::Run);
        // Celery's `now > expires`: not yet expired at the very instant.
        assert_eq!(at("2026-12-03T07:00:00+00:00"), Verdict::Run);
        assert!(!state.is_revoked("a"));
        assert_eq!(
            at("2026-12-03T12:29:59.999999+05:30"),
            Verdict::Discard { expired: true }
        );
        // As `maybe_expire` does: a later message with this id is revoked.
        assert!(state.is_revoked("a"));
        let again = verdict(&delivery("a", Value::Null), &state, seven());
        assert_eq!(again, Verdict::Discard { expired: false });
    }

    #[test]
    fn no_expires_runs_and_expired_wins_over_revoked() {
        let state = state();
        assert_eq!(
            verdict(&delivery("b", Value::Null), &state, seven()),
            Verdict::Run
        );
        let absent =
            br#"{"headers": {"id": "b", "task": "t"}, "properties": {"delivery_tag": "t"}}"#;
        let absent = super::super::message::decode(absent).unwrap();
        assert_eq!(verdict(&absent, &state, seven()), Verdict::Run);
        state
            .revoked
            .borrow_mut()
            .add("b", std::time::Instant::now());
        let past = delivery("b", json!("2026-12-03T06:00:00Z"));
        // `revoked()` names the reason `expired` when both hold.
        assert_eq!(
            verdict(&past, &state, seven()),
            Verdict::Discard { expired: true }
        );
    }

    #[test]
    fn an_expires_that_is_not_a_date_is_celerys_invalid_task_error() {
        let state = state();
        for (value, why) in [
            (json!("soon"), DateError::Malformed),
            (json!(""), DateError::Malformed),
            (json!(10), DateError::NotAString),
            (json!("2026-02-30T00:00:00Z"), DateError::OutOfRange("day")),
        ] {
            let got = verdict(&delivery("c", value.clone()), &state, seven());
            let label = "expires";
            assert_eq!(got, Verdict::Invalid(InvalidDate { label, value, why }));
        }
        let error = RemoteError::from(InvalidDate {
            label: "expires",
            value: json!("soon"),
            why: DateError::Malformed,
        });
        assert_eq!(
            (error.exc_type.as_str(), error.exc_module.as_deref()),
            ("InvalidTaskError", Some("celery.exceptions"))
        );
        assert!(
            error
                .message
                .starts_with("invalid expires value 'soon': not an ISO 8601"),
            "{error}"
        );
        assert!(!state.is_revoked("c"), "an invalid message is not revoked");
    }

    #[test]
    fn the_clock_is_read_in_microseconds() {
        assert_eq!(unix_micros(UNIX_EPOCH), 0);
        assert_eq!(unix_micros(seven()), 1_796_281_200_000_000);
        assert_eq!(unix_micros(UNIX_EPOCH - Duration::from_micros(5)), -5);
    }
}
