//! The broker as a test sees it: Redis keys and counts read with tandem's
//! own client, and messages pushed by hand when no Celery client would
//! send them (a header that is not a date).

use serde_json::{Value, json};
use tandem::celery::message::{self, Outgoing};
use tandem::redis::{Client, RedisUrl, Settings};

use super::poll::wait_until;
use super::redis_server::RedisServer;

/// A client of the test's own redis-server.
pub struct Broker(Client);

impl Broker {
    pub fn new(redis: &RedisServer) -> Broker {
        let url = RedisUrl::parse(&redis.url()).unwrap();
        Broker(Client::new(url, Settings::default()))
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        tandem::block_on(self.0.get(key)).unwrap()
    }

    /// Whether `key` exists.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// `command`'s integer reply.
    pub fn count(&self, command: &[&[u8]]) -> Option<i64> {
        tandem::block_on(self.0.command(command)).unwrap().integer()
    }

    /// Nothing queued, nothing taken and unacknowledged.
    pub fn assert_drained(&self, queues: &[&str]) {
        for queue in queues {
            assert_eq!(self.count(&[b"LLEN", queue.as_bytes()]), Some(0), "{queue}");
        }
        wait_until("every message acknowledged", || {
            self.count(&[b"HLEN", b"unacked"]) == Some(0)
        });
    }

    /// Pushes a `tandem.resize` of `url` onto the queue `tandem`, as
    /// protocol 2 writes it but with `headers[header]` set to `value`
    /// (Celery's clients check `eta` and `expires` before sending, so a bad
    /// one must be made here); its task id.
    pub fn push_with_header(&self, url: &str, header: &str, value: Value) -> String {
        let id = tandem::celery::uuid4();
        let bytes = message::encode(&Outgoing {
            id: &id,
            task: "tandem.resize",
            args: json!([url]),
            kwargs: json!({}),
            queue: "tandem",
            origin: "test@here",
        });
        let mut raw: Value = serde_json::from_slice(&bytes).unwrap();
        raw["headers"][header] = value;
        self.count(&[b"LPUSH", b"tandem", raw.to_string().as_bytes()]);
        id
    }
}
