//! Late acknowledgement the way kombu's Redis transport does it, so that a
//! fleet of tandem workers, Python workers or both recover each other's
//! unfinished jobs.
//!
//! # Why
//!
//! BRPOP removes a message from its list: if the worker that took it dies,
//! the message is gone. kombu emulates acknowledgements by keeping every
//! message taken, until it is acknowledged, in two keys:
//!
//! ```text
//!  unacked        hash  delivery_tag ─► JSON [envelope, exchange, routing_key]
//!  unacked_index  zset  delivery_tag, scored by the time it was taken
//! ```
//!
//! and by *restoring* (pushing back onto its list) every message taken
//! longer ago than the visibility timeout (one hour by default). Any
//! worker may restore, so a sweep takes kombu's lock `unacked_mutex` first
//! (`SET NX PX`, released only by its holder), and restores each message in
//! a transaction that WATCHes `unacked`, as kombu's `restore_by_tag` does:
//!
//! ```text
//!  SET unacked_mutex <token> NX PX 300000        (held: someone else sweeps)
//!  ZREVRANGEBYSCORE unacked_index <now - visibility> 0
//!  for each tag:  WATCH unacked; HGET unacked tag
//!                 MULTI; ZREM unacked_index tag; HDEL unacked tag
//!                        RPUSH <its list> <envelope, redelivered>; EXEC
//!  release unacked_mutex if still ours
//! ```
//!
//! A restored message goes to the end BRPOP takes from (RPUSH), so it is
//! the next one served. This gives *at least once*: a job can run twice (a
//! worker slower than the visibility timeout, or killed after storing its
//! result but before acknowledging), which is why outputs are idempotent.

use std::time::Duration;

use serde_json::{Value, json};

use super::ids;
use super::message::{self, Delivery};
use crate::redis::{self, Client, Value as Reply};

/// kombu's `unacked_key`.
pub const UNACKED: &str = "unacked";
/// kombu's `unacked_index_key`.
pub const UNACKED_INDEX: &str = "unacked_index";
/// kombu's `unacked_mutex_key`.
pub const UNACKED_MUTEX: &str = "unacked_mutex";
/// kombu's `unacked_mutex_expire`: 5 minutes.
const MUTEX_EXPIRE: Duration = Duration::from_secs(300);
/// kombu's default `visibility_timeout`: one hour.
pub const DEFAULT_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(3600);
/// How many times a restore is tried when `unacked` changes under it.
const RESTORE_ATTEMPTS: usize = 3;

/// Records a message as taken and not yet acknowledged (kombu's
/// `QoS.append`).
pub async fn record(client: &Client, delivery: &Delivery) -> Result<(), redis::Error> {
    let entry = json!([delivery.raw, delivery.exchange, delivery.routing_key]).to_string();
    let score = ids::unix_seconds().to_string();
    let tag = delivery.delivery_tag.as_bytes();
    let replies = client
        .pipeline(&[
            vec![b"ZADD", UNACKED_INDEX.as_bytes(), score.as_bytes(), tag],
            vec![b"HSET", UNACKED.as_bytes(), tag, entry.as_bytes()],
        ])
        .await?;
    server_error(&replies)
}

/// Acknowledges a message: forgets it (kombu's `QoS.ack`).
pub async fn ack(client: &Client, delivery_tag: &str) -> Result<(), redis::Error> {
    let tag = delivery_tag.as_bytes();
    let replies = client
        .pipeline(&[
            vec![b"ZREM", UNACKED_INDEX.as_bytes(), tag],
            vec![b"HDEL", UNACKED.as_bytes(), tag],
        ])
        .await?;
    server_error(&replies)
}

/// Gives back a message this worker holds and will not run now (its eta
/// is far, or the worker stops): restored as the sweep would, at once.
/// Whether it was still ours to give.
pub async fn give_back(client: &Client, delivery_tag: &str) -> Result<bool, redis::Error> {
    restore(client, delivery_tag.as_bytes()).await
}

/// Scores a held message as taken now (its eta came and it runs), so the
/// sweep counts the visibility timeout from here. `false` if it is no
/// longer in `unacked_index`: a sweep gave it back, so it is not ours.
pub async fn refresh(client: &Client, delivery_tag: &str) -> Result<bool, redis::Error> {
    let score = ids::unix_seconds().to_string();
    let tag = delivery_tag.as_bytes();
    let index = UNACKED_INDEX.as_bytes();
    let changed = client
        .command(&[b"ZADD", index, b"XX", b"CH", score.as_bytes(), tag])
        .await?;
    match changed {
        Reply::Integer(changed) => Ok(changed > 0),
        other => Err(redis::unexpected("ZADD", &other)),
    }
}

/// Puts back on their lists the messages taken more than `visibility` ago
/// (kombu's `restore_visible`); returns how many. Does nothing, and
/// returns 0, while another worker holds the lock.
pub async fn sweep(client: &Client, visibility: Duration) -> Result<usize, redis::Error> {
    let token = ids::uuid4();
    let expire = MUTEX_EXPIRE.as_millis().to_string();
    let locked = client
        .command(&[
            b"SET",
            UNACKED_MUTEX.as_bytes(),
            token.as_bytes(),
            b"NX",
            b"PX",
            expire.as_bytes(),
        ])
        .await?;
    // ANCHOR: sweep
    if locked == Reply::Nil {
        return Ok(0);
    }
    let restored = restore_older_than(client, visibility).await;
    // Release only our own lock (redis-py's Lock.release does the same).
    let release = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
    let released = client
        .command(&[
            b"EVAL",
            release.as_bytes(),
            b"1",
            UNACKED_MUTEX.as_bytes(),
            token.as_bytes(),
        ])
        .await;
    let restored = restored?;
    released?;
    Ok(restored)
    // ANCHOR_END: sweep
}

async fn restore_older_than(client: &Client, visibility: Duration) -> Result<usize, redis::Error> {
    let ceiling = (ids::unix_seconds() - visibility.as_secs_f64()).to_string();
    let due = client
        .command(&[
            b"ZREVRANGEBYSCORE",
            UNACKED_INDEX.as_bytes(),
            ceiling.as_bytes(),
            b"0",
        ])
        .await?;
    let Reply::Array(tags) = due else {
        return Err(redis::unexpected("ZREVRANGEBYSCORE", &due));
    };
    let mut restored = 0;
    for tag in tags.iter().filter_map(Reply::bytes) {
        if restore(client, tag).await? {
            restored += 1;
        }
    }
    Ok(restored)
}

/// kombu's `restore_by_tag`, in a WATCH/MULTI/EXEC transaction on one
/// connection; whether a message was pushed back.
async fn restore(client: &Client, tag: &[u8]) -> Result<bool, redis::Error> {
    for _ in 0..RESTORE_ATTEMPTS {
        let mut connection = client.connection().await?;
        connection.command(&[b"WATCH", UNACKED.as_bytes()]).await?;
        let entry = connection
            .command(&[b"HGET", UNACKED.as_bytes(), tag])
            .await?;
        let push = entry.bytes().and_then(restored_push);
        let mut commands: Vec<Vec<&[u8]>> = vec![
            vec![b"MULTI"],
            vec![b"ZREM", UNACKED_INDEX.as_bytes(), tag],
            vec![b"HDEL", UNACKED.as_bytes(), tag],
        ];
        if let Some((list, payload)) = &push {
            commands.push(vec![b"RPUSH", list.as_bytes(), payload.as_bytes()]);
        }
        commands.push(vec![b"EXEC"]);
        let replies = connection.pipeline(&commands).await?;
        client.put_back(connection);
        match replies.last() {
            // EXEC's nil: `unacked` changed since WATCH (acknowledged or
            // restored by someone else meanwhile); look again.
            Some(Reply::Nil) => continue,
            Some(Reply::Array(_)) => return Ok(push.is_some()),
            Some(other) => return Err(redis::unexpected("EXEC", other)),
            None => return Ok(false),
        }
    }
    Ok(false)
}

/// The list to push a stored `[envelope, exchange, routing_key]` back on,
/// and the envelope flagged redelivered. `None` if the entry is not that
/// (kombu logs and drops such an entry too).
fn restored_push(entry: &[u8]) -> Option<(String, String)> {
    let Value::Array(mut parts) = serde_json::from_slice(entry).ok()? else {
        return None;
    };
    if parts.len() != 3 {
        return None;
    }
    let routing_key = parts.pop()?.as_str()?.to_string();
    let exchange = parts.pop()?.as_str().unwrap_or("").to_string();
    let envelope = message::redelivered(parts.pop()?);
    // kombu looks the exchange's bindings up. For the default exchange
    // (tandem's messages) and for Celery's automatic queues (exchange,
    // queue and routing key share one name) the queue is the routing key;
    // tandem assumes that binding for every exchange.
    let _ = exchange;
    let queue = routing_key;
    let list = message::list_for_priority(&queue, message::priority(&envelope));
    Some((list, envelope.to_string()))
}

fn server_error(replies: &[Reply]) -> Result<(), redis::Error> {
    match replies
        .iter()
        .find(|reply| matches!(reply, Reply::Error(_)))
    {
        Some(Reply::Error(message)) => Err(redis::Error::Server(message.clone())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_entry_goes_back_to_its_priority_list_flagged() {
        let envelope = json!({"headers": {}, "properties": {"priority": 6, "delivery_info": {}}});
        let entry = json!([envelope, "", "thumbs"]).to_string();
        let (list, payload) = restored_push(entry.as_bytes()).unwrap();
        assert_eq!(list, "thumbs\x06\x166");
        let payload: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(payload["headers"]["redelivered"], true);
        assert_eq!(restored_push(b"[1, 2]"), None);
        assert_eq!(restored_push(b"not json"), None);
    }
}
