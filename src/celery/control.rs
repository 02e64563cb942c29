//! `celery inspect ping` answered by a tandem worker, so that Celery's own
//! tools see tandem workers in a fleet.
//!
//! # How (checked against `kombu/pidbox.py` and `kombu/transport/redis.py`)
//!
//! ```text
//!  celery inspect ping ─► fanout exchange "celery.pidbox"
//!     kombu on Redis: PUBLISH /<db>.celery.pidbox  <kombu envelope>
//!        body: {"method": "ping", "arguments": {}, "destination": null | [names],
//!               "ticket": t, "reply_to": {"exchange": "reply.celery.pidbox",
//!                                         "routing_key": <the caller's oid>}}
//!  the worker (PSUBSCRIBEd) answers on the direct exchange reply_to.exchange:
//!     SMEMBERS _kombu.binding.reply.celery.pidbox ─► the caller's reply queue
//!     LPUSH <queue> <envelope: body {"<node name>": {"ok": "pong"}},
//!                                headers {"ticket": t, "clock": 1}>
//! ```
//!
//! Only `ping` is answered; every other control method is ignored, so
//! `celery inspect active` lists only Python workers.

use std::time::Duration;

use serde_json::{Value, json};

use super::message::PRIORITY_SEPARATOR;
use super::{base64, ids};
use crate::redis::{self, Client, RedisUrl, Value as Reply};

/// Answers `ping`s addressed to everyone or to `node` until the future is
/// dropped; reconnects when Redis goes away.
pub async fn answer_pings(client: &Client, url: &RedisUrl, node: &str) {
    loop {
        if answer_on_one_connection(client, url, node).await.is_err() {
            async_io::Timer::after(Duration::from_secs(1)).await;
        }
    }
}

async fn answer_on_one_connection(
    client: &Client,
    url: &RedisUrl,
    node: &str,
) -> Result<(), redis::Error> {
    let mut connection = client.connection().await?;
    let topic = format!("/{}.celery.pidbox", url.db);
    let with_key = format!("{topic}/*");
    connection
        .send(&[b"PSUBSCRIBE", topic.as_bytes(), with_key.as_bytes()])
        .await?;
    loop {
        let reply = connection.next_reply(Duration::from_secs(3600)).await?;
        if let Some(data) = pattern_message(&reply) {
            if let Some((queue, answer)) = answer(client, data, node).await? {
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

/// The reply queue and the reply to a control message, if it is a `ping`
/// for `node` that wants one.
async fn answer(
    client: &Client,
    data: &[u8],
    node: &str,
) -> Result<Option<(String, String)>, redis::Error> {
    let Some(request) = control_request(data) else {
        return Ok(None);
    };
    let for_us = match request.get("destination") {
        None | Some(Value::Null) => true,
        Some(Value::Array(names)) => names.iter().any(|name| name.as_str() == Some(node)),
        Some(_) => false,
    };
    let reply_to = request.get("reply_to");
    let field = |name| reply_to.and_then(|r| r.get(name)).and_then(Value::as_str);
    let (Some(exchange), Some(routing_key)) = (field("exchange"), field("routing_key")) else {
        return Ok(None);
    };
    if !for_us || request.get("method").and_then(Value::as_str) != Some("ping") {
        return Ok(None);
    }
    let Some(queue) = bound_queue(client, exchange, routing_key).await? else {
        return Ok(None);
    };
    let ticket = request.get("ticket").cloned().unwrap_or(Value::Null);
    let body = json!({ node: {"ok": "pong"} }).to_string();
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
}
