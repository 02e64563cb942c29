//! `tandem --broker`: the main job with the resize done by whatever serves
//! the queue, tandem workers or Python ones.
//!
//! # Why
//!
//! The command stays the same: URLs in, `<out>/resized_<i>.png` out, the
//! same progress, summary, `--json` and `--timeline`. Only the middle
//! changes: instead of downloading and handing the bytes to a local pool,
//! it hands the *URL* to the fleet, and gets a PNG back. The report is the
//! pipeline's own ([`Report`]), built by the pipeline's own
//! [`Work`](crate::pipeline) (clock, progress, atomic save).
//!
//! # How
//!
//! ```text
//!  per input (at most `concurrency` at once):
//!    LPUSH queue  tandem.resize(url, width, height, fit)  id = uuid4
//!    SUBSCRIBE celery-task-meta-<id>, then GET it once    (the result may
//!    wait for a "message" on the channel, up to the deadline  be there first)
//!      no result: LPUSH the same task once more, wait again, then fail
//!    SUCCESS ─► GET tandem:png:<id> ─► save resized_<i>.png, with the
//!               answer's downloaded_bytes as the input's download
//!    FAILURE ─► ItemError::Remote(RemoteError)
//!    REVOKED ─► ItemError::Remote(Error::Revoked)   (celery control revoke, or expires)
//! ```
//!
//! A task sent twice may run twice; both runs write the same result and the
//! same PNG, and the file is written once, so the output is the same.

use std::time::Duration;

use super::result::{self, Outcome};
use super::task::{self, Answer, Request};
use super::{Error, message};
use crate::pipeline::{
    Config, CpuSpan, Event, Flow, Item, ItemError, Report, Saved, Span, Stages, WINDOW_START, Work,
};
use crate::redis::{self, Client, Connection, RedisUrl};
use crate::resize::Processed;
use crate::{Semaphore, join_all};

/// Where the tasks go and how long to wait for them.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Where Redis is.
    pub broker: RedisUrl,
    /// Its timeouts and limits.
    pub redis: redis::Settings,
    /// The queue the tasks are sent to.
    pub queue: String,
    /// How long one attempt waits for its result. Default 5 minutes.
    pub result_timeout: Duration,
}

impl BrokerConfig {
    /// Sends to `queue` at `broker`, waiting up to 5 minutes per attempt.
    pub fn new(broker: RedisUrl, queue: &str) -> BrokerConfig {
        BrokerConfig {
            broker,
            redis: redis::Settings::default(),
            queue: queue.to_string(),
            result_timeout: Duration::from_secs(300),
        }
    }
}

/// [`run`] on its own loop.
pub fn run_blocking(
    urls: Vec<String>,
    config: &Config,
    broker: &BrokerConfig,
    on_event: impl FnMut(Event),
) -> Result<Report, Error> {
    crate::block_on(run(urls, config, broker, on_event))
}

/// Sends one `tandem.resize` per URL and saves the answers as the
/// pipeline would. Fails only if Redis does not answer at the start;
/// after that, each input has its own outcome in the report.
pub async fn run(
    mut urls: Vec<String>,
    config: &Config,
    broker: &BrokerConfig,
    on_event: impl FnMut(Event),
) -> Result<Report, Error> {
    let client = Client::new(broker.broker.clone(), broker.redis);
    client.ping().await?;
    let sender = Sender {
        work: Work::new(config, on_event),
        client,
        broker,
        permits: Semaphore::new(outstanding(config)),
        origin: super::ids::node_name(),
    };
    let items = match sender.work.create_out_dir(&mut urls).await {
        Err(items) => items,
        Ok(()) => {
            let inputs = urls.into_iter().enumerate();
            join_all(inputs.map(|(index, url)| sender.one(index, url))).await
        }
    };
    Ok(Report {
        items,
        wall: sender.work.now(),
        workers: outstanding(config),
        flow: Flow::default(),
    })
}

/// How many tasks may be outstanding: `--concurrency`, or else the
/// pipeline's starting window (the queue, not the downloads, sets the pace
/// here, so nothing adapts).
fn outstanding(config: &Config) -> usize {
    config.concurrency.unwrap_or(WINDOW_START).max(1)
}

/// What every input of one run shares.
struct Sender<'a, F> {
    work: Work<'a, F>,
    client: Client,
    broker: &'a BrokerConfig,
    permits: Semaphore,
    origin: String,
}

impl<F: FnMut(Event)> Sender<'_, F> {
    async fn one(&self, index: usize, url: String) -> Item {
        let mut stages = Stages::default();
        let result = self.stages(index, &url, &mut stages).await;
        self.work.finish(index, url, result, stages)
    }

    async fn stages(
        &self,
        index: usize,
        url: &str,
        stages: &mut Stages,
    ) -> Result<Saved, ItemError> {
        let _permit = self.permits.acquire().await;
        let work = &self.work;
        work.emit(Event::DownloadStarted(index));
        let start = work.now();
        let outcome = self.remote(url).await;
        let end = work.now();
        let lane = index % outstanding(work.config);
        let span = |start, end| Span { start, end };
        stages.cpu = Some(CpuSpan {
            worker: lane,
            decode: span(start, end),
            resize: span(end, end),
            encode: span(end, end),
        });
        let (answer, png) = outcome.map_err(ItemError::Remote)?;
        // What the worker downloaded, as a local run reports its own
        // download. A worker older than `downloaded_bytes` does not say:
        // its PNG is as good, so the input is saved and reports 0 bytes
        // downloaded (as every input did before workers said).
        let downloaded_bytes = answer.downloaded_bytes.unwrap_or(0);
        work.emit(Event::Downloaded {
            index,
            bytes: downloaded_bytes,
        });
        work.emit(Event::Processed(index));
        let processed = Processed {
            png,
            source_size: answer.source.unwrap_or((0, 0)),
            output_size: (answer.width, answer.height),
            timings: Default::default(),
        };
        work.save(index, downloaded_bytes, processed, stages).await
    }

    /// Sends the task (twice at most) and fetches its PNG.
    async fn remote(
        &self,
        url: &str,
    ) -> Result<(Answer, Vec<u8>), Box<dyn std::error::Error + Send + Sync>> {
        let resize = &self.work.config.resize;
        let request = Request {
            url: url.to_string(),
            width: resize.width,
            height: resize.height,
            fit: resize.fit != crate::resize::Fit::Exact,
        };
        let id = super::uuid4();
        // ANCHOR: send_twice
        let mut outcome = None;
        for _attempt in 0..2 {
            self.send(&id, &request).await?;
            if let Some(ended) = self.await_result(&id).await? {
                outcome = Some(ended);
                break;
            }
        }
        // ANCHOR_END: send_twice
        let value = match outcome {
            Some(Outcome::Success(value)) => value,
            Some(Outcome::Failure(err)) => return Err(Box::new(err)),
            // Final: sending it again would be discarded again.
            Some(Outcome::Revoked(reason)) => {
                return Err(Box::new(Error::Revoked {
                    task_id: id,
                    reason,
                }));
            }
            Some(Outcome::Other(_)) | None => {
                let waited = self.broker.result_timeout;
                return Err(Box::new(Error::NoResult {
                    task_id: id,
                    waited,
                }));
            }
        };
        let bad = |why: &str| Box::new(Error::BadResult(why.to_string()));
        let answer = Answer::from_json(&value).ok_or_else(|| bad("not a tandem.resize answer"))?;
        if answer.key != task::png_key(&id) {
            return Err(bad("the answer names another task's image"));
        }
        let png = self
            .client
            .get(&answer.key)
            .await?
            .ok_or_else(|| bad("the image expired"))?;
        if png.len() != answer.bytes {
            return Err(bad("the image's length differs from the answer's"));
        }
        Ok((answer, png))
    }

    async fn send(&self, id: &str, request: &Request) -> Result<(), redis::Error> {
        let (args, kwargs) = request.to_call();
        let bytes = message::encode(&message::Outgoing {
            id,
            task: task::NAME,
            args,
            kwargs,
            queue: &self.broker.queue,
            origin: &self.origin,
        });
        self.client.lpush(&self.broker.queue, &bytes).await
    }

    /// Waits for task `id` to end: subscribes to its channel, reads its key
    /// once (it may have ended already), then waits for a message. `None`
    /// when the deadline passes first.
    async fn await_result(
        &self,
        id: &str,
    ) -> Result<Option<Outcome>, Box<dyn std::error::Error + Send + Sync>> {
        let deadline = self.broker.result_timeout;
        let waited = crate::timeout(deadline, async {
            // A connection dropped mid-wait (Redis restarting) is replaced,
            // within the deadline.
            loop {
                match self.subscribe_and_wait(id).await {
                    Ok(outcome) => return Ok(outcome),
                    Err(err) if err.is_transient() => {
                        async_io::Timer::after(Duration::from_millis(200)).await;
                    }
                    Err(err) => return Err(err),
                }
            }
        })
        .await;
        match waited {
            Ok(Ok(outcome)) => Ok(Some(outcome)),
            Ok(Err(err)) => Err(Box::new(err)),
            Err(_) => Ok(None),
        }
    }

    async fn subscribe_and_wait(&self, id: &str) -> Result<Outcome, redis::Error> {
        let key = result::key(id);
        let mut connection = self.client.connection().await?;
        connection.send(&[b"SUBSCRIBE", key.as_bytes()]).await?;
        expect_push(
            &mut connection,
            "subscribe",
            &key,
            self.client.settings().read_timeout,
        )
        .await?;
        let mut outcome = match self.client.get(&key).await? {
            Some(bytes) => ended(id, &bytes),
            None => None,
        };
        while outcome.is_none() {
            // The deadline is the caller's; wait here as long as it allows.
            let reply = connection.next_reply(Duration::from_secs(3600)).await?;
            if let Some(data) = channel_message(&reply, &key) {
                outcome = ended(id, data);
            }
        }
        connection.send(&[b"UNSUBSCRIBE", key.as_bytes()]).await?;
        // Messages published before the unsubscription took effect may come
        // first; the confirmation with no channels left makes it a plain
        // connection again.
        if expect_push(
            &mut connection,
            "unsubscribe",
            &key,
            self.client.settings().read_timeout,
        )
        .await
        .is_ok()
        {
            self.client.put_back(connection);
        }
        Ok(outcome.unwrap_or(Outcome::Other("PENDING".into())))
    }
}

/// A result that ends the task, read strictly as task `id`'s; anything else
/// (another task's, a state that is not an end, not JSON) is ignored.
fn ended(id: &str, bytes: &[u8]) -> Option<Outcome> {
    match result::parse(id, bytes) {
        Ok(Outcome::Other(_)) | Err(_) => None,
        Ok(outcome) => Some(outcome),
    }
}

/// The data of a `["message", channel, data]` push on `channel`.
fn channel_message<'a>(reply: &'a redis::Value, channel: &str) -> Option<&'a [u8]> {
    let redis::Value::Array(parts) = reply else {
        return None;
    };
    match parts.as_slice() {
        [kind, name, data]
            if kind.bytes() == Some(b"message") && name.bytes() == Some(channel.as_bytes()) =>
        {
            data.bytes()
        }
        _ => None,
    }
}

/// Reads pushes until `[kind, channel, count]`, skipping messages.
async fn expect_push(
    connection: &mut Connection,
    kind: &str,
    channel: &str,
    limit: Duration,
) -> Result<(), redis::Error> {
    for _ in 0..1024 {
        let reply = connection.next_reply(limit).await?;
        if let redis::Value::Array(parts) = &reply {
            if let [got, name, _] = parts.as_slice() {
                if got.bytes() == Some(kind.as_bytes()) && name.bytes() == Some(channel.as_bytes())
                {
                    return Ok(());
                }
                if got.bytes() == Some(b"message") {
                    continue;
                }
            }
        }
        return Err(redis::unexpected("SUBSCRIBE", &reply));
    }
    Err(redis::Error::Protocol(format!("no {kind} confirmation")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn only_the_tasks_own_ending_counts() {
        let done = result::meta("a", &Outcome::Success(Value::Null));
        assert!(ended("a", done.as_bytes()).is_some());
        assert!(
            ended("b", done.as_bytes()).is_none(),
            "another task's result"
        );
        let started = result::meta("a", &Outcome::Other("STARTED".into()));
        assert!(ended("a", started.as_bytes()).is_none());
        let revoked = result::meta(
            "a",
            &Outcome::Revoked(crate::celery::RemoteError::revoked()),
        );
        assert!(matches!(
            ended("a", revoked.as_bytes()),
            Some(Outcome::Revoked(_))
        ));
        let push = redis::Value::Array(vec![
            redis::Value::Bulk(b"message".to_vec()),
            redis::Value::Bulk(b"ch".to_vec()),
            redis::Value::Bulk(b"data".to_vec()),
        ]);
        assert_eq!(channel_message(&push, "ch"), Some(&b"data"[..]));
        assert_eq!(channel_message(&push, "other"), None);
    }
}
