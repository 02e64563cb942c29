//! Celery's remote control (`celery inspect ...`, `celery control ...`)
//! answered by a tandem worker, so that an operator of a mixed fleet sees
//! and steers tandem workers with the same commands as Python ones.
//!
//! # Why
//!
//! A control command is a broadcast: the caller waits `timeout` (1 s by
//! default) for replies, then shows what came. A worker that ignores a
//! method is missing from `inspect active` and `stats`, and a `revoke` it
//! ignores is a job it runs anyway. So every method gets an answer, even
//! the ones tandem does not implement: Celery's own reply to an unknown
//! method, an error, so nobody waits out a timeout for nothing.
//!
//! # How (checked against `kombu/pidbox.py`, `celery/worker/control.py`)
//!
//! ```text
//!  celery inspect active ─► fanout exchange "celery.pidbox"
//!     kombu on Redis: PUBLISH /<db>.celery.pidbox  <kombu envelope>
//!        body: {"method": "active", "arguments": {...},
//!               "destination": null | [names], "pattern", "matcher",
//!               "ticket": t, "reply_to": {"exchange": "reply.celery.pidbox",
//!                                         "routing_key": <the caller's oid>}}
//!  the worker (PSUBSCRIBEd) runs it if destination names it (or is empty),
//!  and if reply_to is there (casts like `app.control.revoke` have none)
//!  answers on the direct exchange reply_to.exchange:
//!     SMEMBERS _kombu.binding.reply.celery.pidbox ─► the caller's reply queue
//!     LPUSH <queue> <envelope: body {"<node name>": <reply>},
//!                                headers {"ticket": t, "clock": 1}>
//!  ping                   {"ok": "pong"}
//!  active, query_task     running jobs as Celery's Request.info()  (state.rs)
//!  reserved               []: a tandem worker takes no message it cannot start
//!  scheduled              the messages held until their eta        (eta.rs)
//!  registered, stats,     inspect.rs
//!  revoked
//!  revoke, terminate      flag ids, store REVOKED                  (revoke.rs)
//!  anything else          {"error": "KeyError('<method>')"}, as kombu's
//!                         Node.dispatch replies when a handler is missing
//! ```

mod inspect;
mod revoke;
mod state;

pub use state::State;

use std::time::Duration;

use serde_json::{Value, json};

use super::message::PRIORITY_SEPARATOR;
use super::{base64, ids};
use crate::redis::{self, Client, Value as Reply};

/// Answers control commands addressed to everyone or to `state.node` until
/// the future is dropped; reconnects when Redis goes away.
pub async fn answer_commands(client: &Client, state: &State) {
    loop {
        if answer_on_one_connection(client, state).await.is_err() {
            async_io::Timer::after(Duration::from_secs(1)).await;
        }
    }
}

async fn answer_on_one_connection(client: &Client, state: &State) -> Result<(), redis::Error> {
    let mut connection = client.connection().await?;
    let topic = format!("/{}.celery.pidbox", state.broker.db);
    let with_key = format!("{topic}/*");
    connection
        .send(&[b"PSUBSCRIBE", topic.as_bytes(), with_key.as_bytes()])
        .await?;
    loop {
        let reply = connection.next_reply(Duration::from_secs(3600)).await?;
        if let Some(request) = pattern_message(&reply).and_then(control_request) {
            if let Some((queue, answer)) = handle(client, state, &request).await? {
                client.lpush(&queue, answer.as_bytes()).await?;
            }
        }
    }
}

/// The data of a `["pmessage", pattern, channel, data]` push.
fn pattern_message(reply: &Reply) -> Option<&[u8]> {
    let Reply::Array(parts) = reply else {
        return None;
    };
    match parts.as_slice() {
        [kind, _, _, data] if kind.bytes() == Some(b"pmessage") => data.bytes(),
        _ => None,
    }
}

/// Runs a command meant for this worker; the reply queue and the reply
/// envelope, if the caller wants a reply.
async fn handle(
    client: &Client,
    state: &State,
    request: &Value,
) -> Result<Option<(String, String)>, redis::Error> {
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return Ok(None);
    };
    if !for_node(request, &state.node) {
        return Ok(None);
    }
    let arguments = request.get("arguments").unwrap_or(&Value::Null);
    let reply = dispatch(client, state, method, arguments).await;
    let reply_to = request.get("reply_to");
    let field = |name| reply_to.and_then(|r| r.get(name)).and_then(Value::as_str);
    let (Some(exchange), Some(routing_key)) = (field("exchange"), field("routing_key")) else {
        return Ok(None);
    };
    let Some(queue) = bound_queue(client, exchange, routing_key).await? else {
        return Ok(None);
    };
    let ticket = request.get("ticket").cloned().unwrap_or(Value::Null);
    let body = json!({ state.node.as_str(): reply }).to_string();
    let envelope = json!({
        "body": base64::encode(body.as_bytes()),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {"ticket": ticket, "clock": 1},
        "properties": {
            "delivery_mode": 1,
            "delivery_info": {"exchange": exchange, "routing_key": routing_key},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": ids::uuid4(),
        },
    });
    Ok(Some((queue, envelope.to_string())))
}

// ANCHOR: dispatch
/// The reply to `method`, Celery's shape for each.
async fn dispatch(client: &Client, state: &State, method: &str, arguments: &Value) -> Value {
    if let Some(reply) = inspect::answer(state, method, arguments) {
        return reply;
    }
    match method {
        "revoke" | "terminate" => revoke::revoke(client, state, arguments).await,
        // kombu's Node.dispatch: `handlers[method]` raises KeyError, and
        // the reply is {'error': repr(exc)}.
        _ => json!({"error": format!("KeyError({})", python_repr(method))}),
    }
}
// ANCHOR_END: dispatch

/// kombu's `Node.handle_message`: a non-empty `destination` must name the
/// node; otherwise a `pattern` with a `matcher` must match it (only `glob`
/// is understood); otherwise the command is for every node.
fn for_node(request: &Value, node: &str) -> bool {
    let text = |name| request.get(name).and_then(Value::as_str);
    match request.get("destination") {
        Some(Value::Array(names)) if !names.is_empty() => {
            return names.iter().any(|name| name.as_str() == Some(node));
        }
        // `hostname in destination`: for a string, a substring test.
        Some(Value::String(name)) if !name.is_empty() => return name.contains(node),
        _ => {}
    }
    match (text("pattern"), text("matcher")) {
        (Some(pattern), Some("glob")) => glob(pattern.as_bytes(), node.as_bytes()),
        (Some(_), Some(_)) => false,
        _ => true,
    }
}

/// `fnmatch` with `*` and `?`.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.split_first(), text.split_first()) {
        (None, _) => text.is_empty(),
        (Some((b'*', rest)), _) => (0..=text.len()).any(|skip| glob(rest, &text[skip..])),
        (Some((b'?', rest)), Some((_, text))) => glob(rest, text),
        (Some((want, rest)), Some((got, text))) => want == got && glob(rest, text),
        (Some(_), None) => false,
    }
}

/// Python's `repr` of a string, for the few replies Celery formats with it.
pub(crate) fn python_repr(text: &str) -> String {
    let text = text.replace('\\', "\\\\");
    if text.contains('\'') && !text.contains('"') {
        format!("\"{text}\"")
    } else {
        format!("'{}'", text.replace('\'', "\\'"))
    }
}

/// The body of a kombu envelope published on the pidbox channel.
fn control_request(data: &[u8]) -> Option<Value> {
    let envelope: Value = serde_json::from_slice(data).ok()?;
    let body = envelope.get("body")?.as_str()?;
    let bytes = match envelope
        .pointer("/properties/body_encoding")
        .and_then(Value::as_str)
    {
        Some("base64") => base64::decode(body)?,
        _ => body.as_bytes().to_vec(),
    };
    serde_json::from_slice(&bytes).ok()
}

/// kombu's direct-exchange lookup: the queue bound to `exchange` with
/// `routing_key`, from `_kombu.binding.<exchange>` (entries
/// `routing_key \x06\x16 pattern \x06\x16 queue`).
async fn bound_queue(
    client: &Client,
    exchange: &str,
    routing_key: &str,
) -> Result<Option<String>, redis::Error> {
    let table = format!("_kombu.binding.{exchange}");
    let members = client.command(&[b"SMEMBERS", table.as_bytes()]).await?;
    let Reply::Array(members) = members else {
        return Err(redis::unexpected("SMEMBERS", &members));
    };
    Ok(members.iter().filter_map(Reply::bytes).find_map(|entry| {
        let entry = String::from_utf8_lossy(entry);
        let mut parts = entry.split(PRIORITY_SEPARATOR);
        let key = parts.next()?;
        let queue = parts.nth(1)?;
        (key == routing_key).then(|| queue.to_string())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_body_is_read_from_its_envelope() {
        let body = json!({"method": "ping", "destination": null}).to_string();
        let envelope = json!({"body": base64::encode(body.as_bytes()),
                              "properties": {"body_encoding": "base64"}});
        let request = control_request(envelope.to_string().as_bytes()).unwrap();
        assert_eq!(request["method"], "ping");
        assert_eq!(control_request(b"not json"), None);
    }

    #[test]
    fn destinations_and_patterns_pick_nodes_as_kombu_does() {
        let node = "tandem-7@box";
        for (request, meant) in [
            (json!({}), true),
            (json!({"destination": null}), true),
            (json!({"destination": []}), true),
            (json!({"destination": ["tandem-7@box"]}), true),
            (json!({"destination": ["celery@box"]}), false),
            (json!({"pattern": "tandem-*@box", "matcher": "glob"}), true),
            (json!({"pattern": "tandem-?@b*", "matcher": "glob"}), true),
            (json!({"pattern": "celery@*", "matcher": "glob"}), false),
            (json!({"pattern": "tandem.*", "matcher": "pcre"}), false),
            (json!({"pattern": "celery@*", "matcher": null}), true),
        ] {
            assert_eq!(for_node(&request, node), meant, "{request}");
        }
    }

    #[test]
    fn unknown_methods_get_kombus_key_error() {
        let reply = python_repr("no_such");
        assert_eq!(reply, "'no_such'");
        assert_eq!(python_repr("it's"), r#""it's""#);
        assert_eq!(python_repr(r#"it's "x""#), r#"'it\'s "x"'"#);
    }
}
