//! The `celery inspect` methods a tandem worker answers, each in the shape
//! of the Celery worker's own reply (`celery/worker/control.py`).
//!
//! # Why only these, and only these fields
//!
//! A reply is read by tools that compare workers (`celery inspect`, Flower),
//! so a field tandem cannot know is left out rather than made up: `stats`
//! has no `rusage`, `clock` or `prefetch_count`, and `conf` or `report` (a
//! Python app's settings) are unknown methods here.
//!
//! ```text
//!  ping        {"ok": "pong"}
//!  active      [Request.info(), ...]       the jobs running now (state.rs)
//!  query_task  {id: ["active", info]}      for the ids running here
//!  reserved    []                          a tandem worker takes a message
//!                                          only when it can start it
//!  scheduled   [{"eta", "priority": 6,     the messages held until their
//!               "request": info}, ...]     eta (eta.rs), soonest first
//!  registered  ["tandem.resize"]
//!  revoked     [id, ...]                   oldest first
//!  stats       {"total": {name: n}, "pid", "uptime",
//!               "pool": {"implementation": "tandem", "max-concurrency": n},
//!               "broker": {"transport": "redis", "hostname", "port",
//!                          "virtual_host": "<db>", "userid"}}
//! ```

use serde_json::{Value, json};

use super::State;
use crate::celery::task;

/// The reply to inspect `method`, or `None` if it is not one answered here.
pub fn answer(state: &State, method: &str, arguments: &Value) -> Option<Value> {
    let argument = |name| arguments.get(name).unwrap_or(&Value::Null);
    Some(match method {
        "ping" => json!({"ok": "pong"}),
        "active" | "dump_active" => json!(state.active(argument("safe") == &Value::Bool(true))),
        "query_task" => query_task(state, argument("ids")),
        "reserved" | "dump_reserved" => json!([]),
        "scheduled" | "dump_schedule" => json!(state.scheduled.borrow().listing()),
        "registered" | "dump_tasks" => json!([task::NAME]),
        "revoked" | "dump_revoked" => json!(state.revoked.borrow().ids()),
        "stats" => stats(state),
        _ => return None,
    })
}

/// `{id: ["active", info]}` for the asked ids that run here.
fn query_task(state: &State, ids: &Value) -> Value {
    let wanted = |id: &Value| match ids {
        Value::Array(ids) => ids.contains(id),
        Value::String(_) => ids == id,
        _ => false,
    };
    let found = state
        .active(false)
        .into_iter()
        .filter(|info| wanted(&info["id"]))
        .filter_map(|info| Some((info["id"].as_str()?.to_string(), json!(["active", info]))));
    Value::Object(found.collect())
}

/// The subset of Celery's `WorkController.stats()` that tandem knows.
fn stats(state: &State) -> Value {
    let broker = &state.broker;
    json!({
        "total": state.total(),
        "pid": std::process::id(),
        "uptime": state.uptime().as_secs(),
        "pool": {"implementation": "tandem", "max-concurrency": state.concurrency},
        "broker": {
            "transport": "redis",
            "hostname": broker.host,
            "port": broker.port,
            "virtual_host": broker.db.to_string(),
            "userid": broker.user,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::RedisUrl;
    use std::time::Duration;

    #[test]
    fn stats_say_what_tandem_knows_and_no_password() {
        let url = RedisUrl::parse("redis://me:secret@10.0.0.1:6390/2").unwrap();
        let state = State::new("tandem-1@box", 4, url, Duration::from_secs(1));
        let stats = answer(&state, "stats", &Value::Null).unwrap();
        assert_eq!(stats["pool"]["max-concurrency"], 4);
        assert_eq!(stats["broker"]["transport"], "redis");
        assert_eq!(stats["broker"]["virtual_host"], "2");
        assert_eq!(stats["pid"], std::process::id());
        assert!(!stats.to_string().contains("secret"));
        assert_eq!(stats["total"], json!({}));
        let registered = answer(&state, "registered", &json!({"taskinfoitems": []}));
        assert_eq!(registered, Some(json!(["tandem.resize"])));
        assert_eq!(
            answer(&state, "active", &json!({"safe": null})),
            Some(json!([]))
        );
        assert_eq!(answer(&state, "no_such", &Value::Null), None);
    }
}
