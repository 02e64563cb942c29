//! Celery's `eta` (and `countdown`): a message is not run before its time,
//! by a tandem worker as by a Python one.
//!
//! # Why
//!
//! `apply_async(countdown=10)` or `eta=datetime` asks that the job not run
//! before then. A Python Celery worker takes such a message at once but
//! keeps it in its timer until the eta; a tandem worker that ran it at
//! once would make the same message run at different times depending on
//! which worker of the fleet took it. So a tandem worker holds it too, and
//! the waiting must cost no consumer: at most `concurrency` jobs *run* at
//! once, and any number *wait*.
//!
//! # How (checked against `celery/worker/strategy.py`
//! `task_message_handler`, `celery/worker/consumer/consumer.py`
//! `apply_eta_task`, `celery/worker/request.py` `__init__`,
//! `execute_using_pool`, `celery/worker/control.py` `scheduled`,
//! `celery/app/amqp.py` `as_task_v2`)
//!
//! ```text
//!  headers.eta     absent or null: run now; an ISO 8601 string
//!                  (`eta.isoformat()`, countdown = now + seconds, aware);
//!                  anything else: InvalidTaskError("invalid ETA value
//!                  '...': ..."), checked before `expires` as Request() does
//!  when taken      recorded in unacked as always; expires and revoke are
//!                  decided first (Request.revoked()); then, eta ahead:
//!                  held here (Celery: timer.call_at(eta, apply_eta_task))
//!  at the eta      a free consumer takes it (the pool's bound); refreshes
//!                  its unacked_index score; expires and revoke decided
//!                  again (execute_using_pool calls revoked()); runs
//!  inspect scheduled  [{"eta", "priority": 6, "request": info()}, ...]
//! ```
//!
//! The visibility timeout: on Redis a held message stays in `unacked`, and
//! Celery's own docs warn that an eta beyond the timeout makes the sweep
//! give it to another worker, again and again, and the job runs more than
//! once. A tandem worker does not hold a message past half the timeout:
//! then it gives it back itself (`unacked::give_back`, kombu's
//! `restore_by_tag`), so the sweep never finds it overdue, and whichever
//! worker takes it next holds it again. A far eta thus travels through the
//! queue every half timeout and runs once. The other half is the margin
//! for a busy worker and for clocks that disagree. A worker that stops
//! gives back every message it holds; one that dies leaves them to the
//! sweep. A call that is not valid (`message.rs`) is not held: it fails now.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use super::date_header::{self, InvalidDate};
use super::iso8601;
use super::message::Delivery;

/// The `priority` Celery's `scheduled` reports: `call_at(..., priority=6)`.
const TIMER_PRIORITY: u8 = 6;

/// How long until `delivery`'s eta, seen at `now`; `None` if it has none
/// or it has come.
pub fn wait(delivery: &Delivery, now: SystemTime) -> Result<Option<Duration>, InvalidDate> {
    let Some(eta) = date_header::read(delivery, "eta", "ETA")? else {
        return Ok(None);
    };
    let ahead = eta.saturating_sub(iso8601::unix_micros(now));
    Ok((ahead > 0).then(|| Duration::from_micros(ahead.unsigned_abs())))
}

/// The longest a worker holds a message taken at once: half the
/// visibility timeout.
pub fn hold_limit(visibility: Duration) -> Duration {
    visibility / 2
}

/// A message held until its eta.
#[derive(Debug)]
pub struct Waiting {
    /// The message, recorded in `unacked`.
    pub delivery: Delivery,
    /// When it was taken.
    pub taken: Instant,
    /// Its eta on this machine's monotonic clock.
    pub run_at: Instant,
    /// When it is given back if its eta has not come.
    pub give_back_at: Instant,
    /// The eta as sent, for `inspect scheduled`.
    pub eta: String,
    /// `Request.info()`, for `inspect scheduled`.
    pub info: Value,
}

impl Waiting {
    /// `delivery` (whose `info()` is `info`), taken at `taken`, its eta
    /// `wait` from now, held at most `hold`.
    pub fn new(
        delivery: Delivery,
        info: Value,
        taken: Instant,
        wait: Duration,
        hold: Duration,
    ) -> Waiting {
        let eta = delivery.raw.pointer("/headers/eta").and_then(Value::as_str);
        Waiting {
            eta: eta.unwrap_or_default().to_string(),
            delivery,
            taken,
            run_at: Instant::now() + wait,
            give_back_at: taken + hold,
            info,
        }
    }
}

/// What a held message needs now.
#[derive(Debug)]
pub enum Wake {
    /// Its eta came: run it.
    Run(Waiting),
    /// It was held as long as the visibility timeout allows: give it back.
    GiveBack(Waiting),
}

/// The messages a worker holds (Celery's timer, for eta tasks only).
#[derive(Debug, Default)]
pub struct Scheduled {
    waiting: Vec<Waiting>,
}

impl Scheduled {
    /// Holds `waiting` until it wakes.
    pub fn hold(&mut self, waiting: Waiting) {
        self.waiting.push(waiting);
    }

    /// The held message that woke first by `now`, if any.
    pub fn take_woken(&mut self, now: Instant) -> Option<Wake> {
        let (index, _) = self
            .waiting
            .iter()
            .enumerate()
            .map(|(index, waiting)| (index, wakes_at(waiting)))
            .filter(|(_, at)| *at <= now)
            .min_by_key(|(_, at)| *at)?;
        let waiting = self.waiting.swap_remove(index);
        Some(if waiting.run_at <= waiting.give_back_at {
            Wake::Run(waiting)
        } else {
            Wake::GiveBack(waiting)
        })
    }

    /// How long a consumer may block in BRPOP, at most `poll`, and still
    /// be awake when the next held message wakes (5 ms at least: BRPOP's
    /// 0 would block for ever).
    pub fn poll(&self, poll: Duration, now: Instant) -> Duration {
        let next = self.waiting.iter().map(wakes_at).min();
        next.map_or(poll, |at| {
            (at.saturating_duration_since(now)).clamp(Duration::from_millis(5), poll)
        })
    }

    /// Every held message, to give back (the worker stops).
    pub fn drain(&mut self) -> Vec<Waiting> {
        std::mem::take(&mut self.waiting)
    }

    /// `inspect scheduled`: Celery's shape, soonest first.
    pub fn listing(&self) -> Vec<Value> {
        let mut waiting: Vec<&Waiting> = self.waiting.iter().collect();
        waiting.sort_by_key(|waiting| waiting.run_at);
        let entry = |waiting: &&Waiting| json!({"eta": waiting.eta, "priority": TIMER_PRIORITY, "request": waiting.info});
        waiting.iter().map(entry).collect()
    }
}

fn wakes_at(waiting: &Waiting) -> Instant {
    waiting.run_at.min(waiting.give_back_at)
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::celery::RemoteError;
    use crate::celery::iso8601::DateError;
    use crate::celery::message;

    fn delivery(eta: Value) -> Delivery {
        let bytes = json!({"headers": {"id": "e", "task": "tandem.resize", "eta": eta},
                           "properties": {"delivery_tag": "t"}})
        .to_string();
        message::decode(bytes.as_bytes()).unwrap()
    }

    /// 2026-12-03T07:00:00Z.
    fn seven() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_796_281_200)
    }

    #[test]
    fn the_wait_is_until_the_eta_and_none_once_it_came() {
        let at = |eta: Value| wait(&delivery(eta), seven());
        let soon = at(json!("2026-12-03T07:00:02.5+00:00"));
        assert_eq!(soon, Ok(Some(Duration::from_millis(2500))));
        assert_eq!(
            at(json!("2026-12-03T12:30:01+05:30")),
            Ok(Some(Duration::from_secs(1)))
        );
        assert_eq!(at(json!("2026-12-03T07:00:00Z")), Ok(None));
        assert_eq!(at(json!("2026-12-03T06:59:00")), Ok(None));
        assert_eq!(at(Value::Null), Ok(None));
    }

    #[test]
    fn an_eta_that_is_not_a_date_is_celerys_invalid_task_error() {
        let got = wait(&delivery(json!("later")), seven()).unwrap_err();
        let error = RemoteError::from(got);
        assert_eq!(error.exc_type, "InvalidTaskError");
        assert!(
            error
                .message
                .starts_with("invalid ETA value 'later': not an ISO 8601"),
            "{error}"
        );
        let number = wait(&delivery(json!(10)), seven()).unwrap_err();
        assert_eq!(number.why, DateError::NotAString);
    }

    fn waiting(run_in: u64, give_back_in: u64, now: Instant) -> Waiting {
        Waiting {
            delivery: delivery(Value::Null),
            taken: now,
            run_at: now + Duration::from_secs(run_in),
            give_back_at: now + Duration::from_secs(give_back_in),
            eta: format!("in {run_in} s"),
            info: json!({"id": run_in}),
        }
    }

    #[test]
    fn held_messages_wake_soonest_first_to_run_or_to_be_given_back() {
        let now = Instant::now();
        let mut scheduled = Scheduled::default();
        scheduled.hold(waiting(5, 30, now));
        scheduled.hold(waiting(100, 30, now));
        scheduled.hold(waiting(2, 30, now));
        let second = Duration::from_secs(1);
        assert_eq!(scheduled.poll(second, now), second);
        let soon = now + Duration::from_millis(1500);
        assert_eq!(scheduled.poll(second, soon), Duration::from_millis(500));
        let late = now + Duration::from_secs(3);
        assert_eq!(scheduled.poll(second, late), Duration::from_millis(5));
        let listed: Vec<_> = scheduled
            .listing()
            .iter()
            .map(|e| e["eta"].clone())
            .collect();
        assert_eq!(
            listed,
            [json!("in 2 s"), json!("in 5 s"), json!("in 100 s")]
        );
        assert_eq!(scheduled.listing()[0]["priority"], 6);
        assert!(scheduled.take_woken(now).is_none());
        let later = now + Duration::from_secs(6);
        let first = scheduled.take_woken(later);
        assert!(matches!(first, Some(Wake::Run(w)) if w.eta == "in 2 s"));
        assert!(matches!(scheduled.take_woken(later), Some(Wake::Run(w)) if w.eta == "in 5 s"));
        assert!(scheduled.take_woken(later).is_none());
        let late = now + Duration::from_secs(31);
        let last = scheduled.take_woken(late);
        assert!(matches!(last, Some(Wake::GiveBack(w)) if w.eta == "in 100 s"));
        assert!(scheduled.drain().is_empty());
        assert_eq!(
            hold_limit(Duration::from_secs(3600)),
            Duration::from_secs(1800)
        );
    }
}
