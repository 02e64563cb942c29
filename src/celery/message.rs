//! Celery's task message (protocol 2) as kombu's Redis transport stores it
//! in a list: what a producer LPUSHes and a consumer BRPOPs.
//!
//! # Why exactly this
//!
//! A Python worker must run what tandem sends and tandem must run what
//! Python sends, so every field below is the one Celery and kombu write
//! (`celery/app/amqp.py` `as_task_v2`, `kombu/transport/virtual/base.py`
//! `prepare_message` and `_inplace_augment_message`), checked against
//! their source, not against memory.
//!
//! ```text
//!  {"body": base64(JSON [args, kwargs, {"callbacks": null, "errbacks": null,
//!                                       "chain": null, "chord": null}]),
//!   "content-encoding": "utf-8", "content-type": "application/json",
//!   "headers": {"lang", "task", "id", "root_id", "parent_id", "group",
//!               "retries", "eta", "expires", "timelimit", "argsrepr",
//!               "kwargsrepr", "origin", ...},
//!   "properties": {"correlation_id": id, "reply_to", "delivery_mode": 2,
//!                  "delivery_info": {"exchange": "", "routing_key": queue},
//!                  "priority": 0, "body_encoding": "base64",
//!                  "delivery_tag": uuid}}
//! ```
//!
//! Priorities: kombu keeps one list per priority step (0, 3, 6, 9), named
//! `queue` for 0 and `queue\x06\x16<step>` for the others, and BRPOPs
//! them in that order.
//!
//! [`decode`] is strict about what the task needs (a JSON object with a
//! delivery tag; a base64 JSON body of three items) and lenient about the
//! rest, so a message from a newer Celery with extra fields still runs.

use serde_json::{Map, Value, json};

use super::RemoteError;
use super::{base64, ids};

/// kombu's separator between a queue's name and its priority step.
pub const PRIORITY_SEPARATOR: &str = "\x06\x16";

/// kombu's priority steps: messages of priority 0–2 go to step 0, 3–5 to
/// 3, and so on.
const PRIORITY_STEPS: [i64; 4] = [0, 3, 6, 9];

/// The lists a consumer of `queue` BRPOPs, highest priority first.
pub fn queue_lists(queue: &str) -> Vec<String> {
    PRIORITY_STEPS
        .iter()
        .map(|&step| list_for_priority(queue, step))
        .collect()
}

/// kombu's `_q_for_pri`: the list holding `queue`'s messages of `priority`.
pub fn list_for_priority(queue: &str, priority: i64) -> String {
    let priority = priority.clamp(0, 9);
    let step = PRIORITY_STEPS
        .iter()
        .rev()
        .find(|&&step| step <= priority)
        .copied()
        .unwrap_or(0);
    if step == 0 {
        queue.to_string()
    } else {
        format!("{queue}{PRIORITY_SEPARATOR}{step}")
    }
}

/// A task to send: its id, name, arguments and queue.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// The task id (a UUID), also the result's key.
    pub id: &'a str,
    /// The task's registered name, like `tandem.resize`.
    pub task: &'a str,
    /// Positional arguments.
    pub args: Value,
    /// Keyword arguments (an object).
    pub kwargs: Value,
    /// The queue (and routing key).
    pub queue: &'a str,
    /// Who sent it (`headers.origin`), like `tandem@host`.
    pub origin: &'a str,
}

/// A message as taken from a list: enough to acknowledge it, restore it,
/// and answer it, plus the call it asks for, if it is a valid one.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The envelope as received, kept to be restored as it was.
    pub raw: Value,
    /// `properties.delivery_tag`: the key in the `unacked` hash.
    pub delivery_tag: String,
    /// `properties.delivery_info.exchange`.
    pub exchange: String,
    /// `properties.delivery_info.routing_key`.
    pub routing_key: String,
    /// `headers.id`, if the message has one: where the result goes.
    pub id: Option<String>,
    /// The call, or why the message is not a valid task.
    pub call: Result<Call, RemoteError>,
}

/// A task call: the name and arguments of a valid message.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `headers.task`.
    pub task: String,
    /// The body's first item.
    pub args: Vec<Value>,
    /// The body's second item.
    pub kwargs: Map<String, Value>,
}

/// The message for `task`, as the bytes to LPUSH.
pub fn encode(task: &Outgoing<'_>) -> Vec<u8> {
    let body = json!([
        task.args,
        task.kwargs,
        {"callbacks": null, "errbacks": null, "chain": null, "chord": null}
    ]);
    let envelope = json!({
        "body": base64::encode(body.to_string().as_bytes()),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py",
            "task": task.task,
            "id": task.id,
            "shadow": null,
            "eta": null,
            "expires": null,
            "group": null,
            "group_index": null,
            "retries": 0,
            "timelimit": [null, null],
            "root_id": task.id,
            "parent_id": null,
            "argsrepr": python_repr(&task.args),
            "kwargsrepr": python_repr(&task.kwargs),
            "origin": task.origin,
            "ignore_result": false,
            "replaced_task_nesting": 0,
            "stamped_headers": null,
            "stamps": {},
        },
        "properties": {
            "correlation_id": task.id,
            "reply_to": "",
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": task.queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": ids::uuid4(),
        },
    });
    envelope.to_string().into_bytes()
}

/// Reads a message taken from a list. `Err` only when it is not even an
/// envelope with a delivery tag (then it can be neither acknowledged nor
/// answered: it is dropped); a bad task inside a good envelope is
/// `Ok` with `call: Err`.
pub fn decode(bytes: &[u8]) -> Result<Delivery, RemoteError> {
    let bad = |why: &str| RemoteError::tandem("BadMessage", why);
    let raw: Value =
        serde_json::from_slice(bytes).map_err(|err| bad(&format!("not JSON: {err}")))?;
    let properties = raw.get("properties").ok_or_else(|| bad("no properties"))?;
    let delivery_tag = match properties.get("delivery_tag") {
        Some(Value::String(tag)) => tag.clone(),
        Some(Value::Number(tag)) => tag.to_string(),
        _ => return Err(bad("no delivery_tag")),
    };
    let info = properties.get("delivery_info");
    let field = |name| {
        let value = info.and_then(|info| info.get(name)).and_then(Value::as_str);
        value.unwrap_or("").to_string()
    };
    let headers = raw.get("headers");
    let header = |name| headers.and_then(|h| h.get(name)).and_then(Value::as_str);
    let id = header("id").map(str::to_string);
    let call = match header("task") {
        None => Err(bad(
            "no task name in the headers (protocol 1 is not supported)",
        )),
        Some(task) => body(&raw).map(|(args, kwargs)| Call {
            task: task.to_string(),
            args,
            kwargs,
        }),
    };
    Ok(Delivery {
        delivery_tag,
        exchange: field("exchange"),
        routing_key: field("routing_key"),
        id,
        call,
        raw,
    })
}

/// The body's `[args, kwargs, embed]`.
fn body(raw: &Value) -> Result<(Vec<Value>, Map<String, Value>), RemoteError> {
    let bad = |why: String| RemoteError::tandem("BadMessage", why);
    let content_type = raw.get("content-type").and_then(Value::as_str);
    if content_type != Some("application/json") {
        return Err(bad(format!(
            "content-type {content_type:?}: only application/json is supported"
        )));
    }
    let text = raw
        .get("body")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no body".into()))?;
    let encoding = raw
        .pointer("/properties/body_encoding")
        .and_then(Value::as_str);
    let bytes = match encoding {
        Some("base64") => {
            base64::decode(text).ok_or_else(|| bad("the body is not base64".into()))?
        }
        _ => text.as_bytes().to_vec(),
    };
    let body: Value = serde_json::from_slice(&bytes)
        .map_err(|err| bad(format!("the body is not JSON: {err}")))?;
    match body {
        Value::Array(mut items) if items.len() == 3 => {
            items.pop();
            let kwargs = items.pop();
            let args = items.pop();
            match (args, kwargs) {
                (Some(Value::Array(args)), Some(Value::Object(kwargs))) => Ok((args, kwargs)),
                _ => Err(bad(
                    "the body's args are not a list or its kwargs not an object".into(),
                )),
            }
        }
        _ => Err(bad("the body is not [args, kwargs, embed]".into())),
    }
}

/// The envelope as kombu restores it: flagged `redelivered` in the headers
/// and the delivery info (`_do_restore_message`).
pub fn redelivered(mut raw: Value) -> Value {
    if let Some(headers) = raw.get_mut("headers").and_then(Value::as_object_mut) {
        headers.insert("redelivered".into(), Value::Bool(true));
    }
    if let Some(info) = raw
        .pointer_mut("/properties/delivery_info")
        .and_then(Value::as_object_mut)
    {
        info.insert("redelivered".into(), Value::Bool(true));
    }
    raw
}

/// The message's priority (`properties.priority`, 0 when absent or odd).
pub fn priority(raw: &Value) -> i64 {
    raw.pointer("/properties/priority")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Something like Python's `repr` for `argsrepr`/`kwargsrepr`, which are
/// only shown to people (Flower, logs): JSON's form, close enough.
fn python_repr(value: &Value) -> String {
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_map_to_kombus_lists() {
        assert_eq!(list_for_priority("q", 0), "q");
        assert_eq!(list_for_priority("q", 2), "q");
        assert_eq!(list_for_priority("q", 3), "q\x06\x163");
        assert_eq!(list_for_priority("q", 8), "q\x06\x166");
        assert_eq!(list_for_priority("q", 42), "q\x06\x169");
        assert_eq!(
            queue_lists("q"),
            ["q", "q\x06\x163", "q\x06\x166", "q\x06\x169"]
        );
    }

    #[test]
    fn an_encoded_task_decodes_to_its_call() {
        let bytes = encode(&Outgoing {
            id: "id-1",
            task: "tandem.resize",
            args: json!(["http://x/a.png"]),
            kwargs: json!({"width": 64}),
            queue: "thumbs",
            origin: "tandem@here",
        });
        let delivery = decode(&bytes).unwrap();
        assert_eq!(delivery.id.as_deref(), Some("id-1"));
        assert_eq!(
            (delivery.exchange.as_str(), delivery.routing_key.as_str()),
            ("", "thumbs")
        );
        let call = delivery.call.unwrap();
        assert_eq!(call.task, "tandem.resize");
        assert_eq!(call.args, [json!("http://x/a.png")]);
        assert_eq!(call.kwargs.get("width"), Some(&json!(64)));
        let raw = &delivery.raw;
        assert_eq!(raw["headers"]["root_id"], "id-1");
        assert_eq!(raw["properties"]["correlation_id"], "id-1");
        assert_eq!(raw["properties"]["body_encoding"], "base64");
        assert_eq!(
            raw["properties"]["delivery_tag"].as_str().unwrap().len(),
            36
        );
    }

    #[test]
    fn poison_messages_say_what_is_wrong() {
        assert!(decode(b"not json").is_err());
        assert!(decode(br#"{"properties": {}}"#).is_err());
        let envelope = |body: &str, task: &str| {
            json!({"body": base64::encode(body.as_bytes()), "content-type": "application/json",
                   "headers": {"id": "x", "task": task},
                   "properties": {"delivery_tag": "t", "body_encoding": "base64"}})
            .to_string()
        };
        for (body, why) in [
            ("[1, 2]", "not [args, kwargs, embed]"),
            ("[[], [], {}]", "kwargs not an object"),
            ("{", "not JSON"),
        ] {
            let delivery = decode(envelope(body, "t").as_bytes()).unwrap();
            assert_eq!(delivery.id.as_deref(), Some("x"));
            let error = delivery.call.unwrap_err();
            assert!(error.message.contains(why), "{body}: {error}");
        }
    }

    #[test]
    fn restored_messages_are_flagged_redelivered() {
        let raw = json!({"headers": {}, "properties": {"delivery_info": {}}});
        let raw = redelivered(raw);
        assert_eq!(raw["headers"]["redelivered"], true);
        assert_eq!(raw["properties"]["delivery_info"]["redelivered"], true);
    }
}
