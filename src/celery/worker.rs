//! `tandem worker`: serve a Celery queue from Redis, downloads on the loop,
//! resizes on the CPU pool, beside (or instead of) Python Celery workers.
//!
//! # Why
//!
//! When one machine's cores are not enough, the CPU pool's channel becomes
//! a queue in Redis: any number of workers on any number of machines take
//! jobs from it. Speaking Celery's protocol means a tandem worker and a
//! Python worker are interchangeable on that queue.
//!
//! # How
//!
//! ```text
//!  concurrency × consumer:                           sweeper (one):
//!    loop until stopped:                               at start, then every
//!      BRPOP queue lists (1 s) ─► Delivery               sweep_every:
//!      record in unacked / unacked_index                 unacked::sweep
//!      tandem.resize: download (loop), resize (pool),
//!                     SETEX tandem:png:<id>
//!      SETEX + PUBLISH celery-task-meta-<id>
//!      ack: remove from unacked / unacked_index
//! ```
//!
//! Beside them, one more future answers Celery's control commands
//! (`control/`): `celery inspect ping`, `active`, `stats`... list the worker
//! as `tandem-<pid>@<host>`, and a job revoked with `celery control revoke`
//! is acknowledged without running, its result `REVOKED`; so is a message
//! taken past its `expires` header (`expires.rs`), as Celery's workers do.
//!
//! Each consumer has at most one job, so at most `concurrency` jobs are in
//! flight, and a worker takes no message it cannot start (no prefetch to
//! strand if it dies). A message is acknowledged only after its result is
//! stored: if the worker dies first, the sweep of any worker puts it back
//! after the visibility timeout (`unacked.rs`).
//!
//! Stopping: [`serve_blocking`] turns the first SIGINT or SIGTERM into
//! "take no more messages, finish those in flight, return"; the second
//! exits the process at once, leaving the unfinished jobs to the sweep.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use futures_lite::{FutureExt, StreamExt};

use super::control::State;
use super::events::Events;
use super::expires::{self, Verdict};
use super::message::{self, Delivery};
use super::result::{self, Outcome};
use super::task::{self, Answer, Request};
use super::{Error, RemoteError, unacked};
use crate::redis::{self, Client, RedisUrl};
use crate::{CpuPool, http, resize};

/// How long one BRPOP waits before the consumer looks at the stop flag.
const POLL: Duration = Duration::from_secs(1);

/// The settings of `tandem worker`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Where Redis is.
    pub broker: RedisUrl,
    /// Its timeouts and limits.
    pub redis: redis::Settings,
    /// The queue served.
    pub queue: String,
    /// CPU pool threads.
    pub workers: usize,
    /// Jobs in flight at once.
    pub concurrency: usize,
    /// How long a taken message may stay unacknowledged before any worker
    /// puts it back (kombu's `visibility_timeout`).
    pub visibility_timeout: Duration,
    /// How often this worker sweeps.
    pub sweep_every: Duration,
    /// How long results and PNGs are kept (Celery's `result_expires`).
    pub result_expires: Duration,
    /// Resize limits (the size comes with each task).
    pub resize: resize::Settings,
    /// The HTTP client for downloads.
    pub http: http::Client,
    /// Send Celery's events (`--events`, Celery's `-E`) for Flower.
    pub events: bool,
}

impl WorkerConfig {
    /// Serves `queue` at `broker`: one CPU thread per core, 8 jobs in
    /// flight, kombu's visibility timeout (1 hour), Celery's result expiry
    /// (1 day).
    pub fn new(broker: RedisUrl, queue: &str) -> WorkerConfig {
        WorkerConfig {
            broker,
            redis: redis::Settings::default(),
            queue: queue.to_string(),
            workers: crate::pool::default_workers(),
            concurrency: 8,
            visibility_timeout: unacked::DEFAULT_VISIBILITY_TIMEOUT,
            sweep_every: sweep_interval(unacked::DEFAULT_VISIBILITY_TIMEOUT),
            result_expires: result::DEFAULT_EXPIRES,
            resize: resize::Settings::new(128, 128),
            http: http::Client::new(),
            events: false,
        }
    }
}

/// A quarter of the visibility timeout, between 100 ms and 10 s: late
/// messages come back at most a quarter late, and an idle fleet sweeps
/// rarely.
pub fn sweep_interval(visibility: Duration) -> Duration {
    (visibility / 4).clamp(Duration::from_millis(100), Duration::from_secs(10))
}

/// What a worker reports while it runs.
#[derive(Debug)]
pub enum WorkerEvent {
    /// Connected; serving `queue`.
    Ready,
    /// A job ended (and was acknowledged).
    Done(Job),
    /// A message that is not even an envelope was dropped.
    Dropped(RemoteError),
    /// Redis failed; the worker keeps trying.
    Broker(redis::Error),
    /// The sweep put `n` messages back on their lists.
    Restored(usize),
    /// A signal came: no more messages are taken.
    Stopping,
}

/// One job's outcome.
#[derive(Debug)]
pub struct Job {
    /// The task id, if the message had one.
    pub task_id: Option<String>,
    /// The URL, if the call was a valid `tandem.resize`.
    pub url: Option<String>,
    /// The answer, or the error also stored as its FAILURE (REVOKED if
    /// revoked or expired).
    pub result: Result<Answer, RemoteError>,
    /// From taking the message to acknowledging it.
    pub elapsed: Duration,
    /// Whether the message had been taken before (restored by a sweep).
    pub redelivered: bool,
}

/// Runs a worker until SIGINT or SIGTERM: starts the CPU pool and the
/// loop, installs the signal handlers, checks that Redis answers, serves.
pub fn serve_blocking(
    config: &WorkerConfig,
    on_event: impl FnMut(WorkerEvent),
) -> Result<(), Error> {
    use async_signal::{Signal, Signals};
    let mut signals = Signals::new([Signal::Term, Signal::Int]).map_err(Error::Signals)?;
    let pool = CpuPool::new(config.workers).map_err(Error::Pool)?;
    let stop = Rc::new(Cell::new(false));
    let flag = Rc::clone(&stop);
    crate::block_on(async move {
        let _signals = crate::spawn(async move {
            let _ = signals.next().await;
            flag.set(true);
            let _ = signals.next().await;
            std::process::exit(1);
        });
        serve(config, &pool, &stop, on_event).await
    })
}

/// Serves until `stop` is set, then finishes the jobs in flight. Fails
/// only if Redis does not answer at the start.
pub async fn serve(
    config: &WorkerConfig,
    pool: &CpuPool,
    stop: &Cell<bool>,
    on_event: impl FnMut(WorkerEvent),
) -> Result<(), Error> {
    let client = Client::new(config.broker.clone(), config.redis);
    client.ping().await?;
    let node = super::ids::node_name();
    let (concurrency, expires) = (config.concurrency.max(1), config.result_expires);
    let control = State::new(&node, concurrency, config.broker.clone(), expires);
    let events = config.events.then(|| {
        let client = Client::new(config.broker.clone(), config.redis);
        Events::new(client, config.broker.db, &node)
    });
    let worker = Worker {
        config,
        pool,
        client,
        events,
        control,
        stop,
        stopping_said: Cell::new(false),
        on_event: RefCell::new(on_event),
    };
    worker.emit(WorkerEvent::Ready);
    let consumers = crate::join_all((0..concurrency).map(|_| worker.consume()));
    let commands = async {
        super::control::answer_commands(&worker.client, &worker.control).await;
        Vec::new()
    };
    let heartbeats = async {
        match &worker.events {
            Some(events) => events.heartbeats().await,
            None => futures_lite::future::pending().await,
        }
        Vec::new()
    };
    consumers
        .or(worker.sweep_forever())
        .or(commands)
        .or(heartbeats)
        .await;
    if let Some(events) = &worker.events {
        events.worker("worker-offline").await;
    }
    Ok(())
}

/// A job's URL (if the call was valid) and outcome.
type Ran = (Option<String>, Result<Answer, RemoteError>);

/// What the consumers of one worker share.
struct Worker<'a, F> {
    config: &'a WorkerConfig,
    pool: &'a CpuPool,
    client: Client,
    events: Option<Events>,
    control: State,
    stop: &'a Cell<bool>,
    stopping_said: Cell<bool>,
    on_event: RefCell<F>,
}

impl<F: FnMut(WorkerEvent)> Worker<'_, F> {
    /// One consumer: a message at a time until stopped.
    async fn consume(&self) {
        let lists = message::queue_lists(&self.config.queue);
        while !self.stopped() {
            match self.client.brpop(&lists, POLL).await {
                Ok(None) => {}
                Ok(Some((_, bytes))) => self.handle(&bytes).await,
                Err(err) => {
                    self.emit(WorkerEvent::Broker(err));
                    async_io::Timer::after(POLL).await;
                }
            }
        }
    }

    /// Sweeps at start, then every `sweep_every`; never returns.
    async fn sweep_forever(&self) -> Vec<()> {
        loop {
            match unacked::sweep(&self.client, self.config.visibility_timeout).await {
                Ok(0) => {}
                Ok(restored) => self.emit(WorkerEvent::Restored(restored)),
                Err(err) => self.emit(WorkerEvent::Broker(err)),
            }
            async_io::Timer::after(self.config.sweep_every).await;
        }
    }

    /// Takes one message through: record, run, store, acknowledge.
    async fn handle(&self, bytes: &[u8]) {
        let started = Instant::now();
        // ANCHOR: handle
        let delivery = match message::decode(bytes) {
            Ok(delivery) => delivery,
            Err(err) => return self.emit(WorkerEvent::Dropped(err)),
        };
        if let Err(err) = unacked::record(&self.client, &delivery).await {
            self.emit(WorkerEvent::Broker(err));
        }
        // Celery's `Request.revoked()`, before anything runs.
        let verdict = expires::verdict(&delivery, &self.control, SystemTime::now());
        let (url, result) = match &verdict {
            Verdict::Run => match self.run(&delivery).await {
                Ok(ran) => ran,
                // Not acknowledged: the job will be done again.
                Err(err) => return self.emit(WorkerEvent::Broker(err)),
            },
            // Expired or revoked: not run, stored REVOKED, acked.
            Verdict::Discard { expired } => self.discard(delivery.id.as_deref(), *expired).await,
            // An `expires` that is not a date: not run, stored FAILURE, acked.
            Verdict::Invalid(err) => (None, Err(err.clone().into())),
        };
        if let Some(id) = &delivery.id {
            let discarded = matches!(verdict, Verdict::Discard { .. });
            let outcome = match &result {
                Ok(answer) => Outcome::Success(answer.to_json(url.as_deref().unwrap_or(""))),
                Err(err) if discarded => Outcome::Revoked(err.clone()),
                Err(err) => Outcome::Failure(err.clone()),
            };
            let expires = self.config.result_expires;
            if let Err(err) = result::store(&self.client, id, &outcome, expires).await {
                // Not acknowledged: the sweep gives it to a worker again.
                return self.emit(WorkerEvent::Broker(err));
            }
        }
        if let Err(err) = unacked::ack(&self.client, &delivery.delivery_tag).await {
            self.emit(WorkerEvent::Broker(err));
        }
        // ANCHOR_END: handle
        let redelivered = delivery.raw.pointer("/headers/redelivered") == Some(&true.into());
        self.emit(WorkerEvent::Done(Job {
            task_id: delivery.id,
            url,
            result,
            elapsed: started.elapsed(),
            redelivered,
        }));
    }

    /// The task the message asks for, if it is one this worker runs: the
    /// URL and the outcome; `Err` if Redis failed meanwhile.
    async fn run(&self, delivery: &Delivery) -> Result<Ran, redis::Error> {
        let call = match &delivery.call {
            Ok(call) => call,
            Err(err) => return Ok((None, Err(err.clone()))),
        };
        let request = match Request::checked(call, delivery.id.as_deref()) {
            Ok(request) => request,
            Err(err) => return Ok((None, Err(err))),
        };
        let id = delivery.id.as_deref().unwrap_or_default();
        let _running = self.control.start(id, call, delivery);
        let started = Instant::now();
        if let Some(events) = &self.events {
            let headers = delivery.raw.get("headers");
            events.task_started(id, task::NAME, headers).await;
        }
        let config = self.config;
        let answer = task::run(
            id,
            &request,
            &config.http,
            self.pool,
            &config.resize,
            &self.client,
            config.result_expires,
        )
        .await;
        if let Some(events) = &self.events {
            match &answer {
                Ok(ended) => {
                    let value = ended.as_ref().map(|answer| answer.to_json(&request.url));
                    events
                        .task_ended(id, value.as_ref().map_err(|err| *err), started.elapsed())
                        .await;
                }
                // Not ended: the job will be done again.
                Err(_) => events.active.set(events.active.get().saturating_sub(1)),
            }
        }
        Ok((Some(request.url), answer?))
    }

    /// A job not run, expired or revoked: `task-revoked` if events are on.
    async fn discard(&self, id: Option<&str>, expired: bool) -> Ran {
        if let (Some(events), Some(id)) = (&self.events, id) {
            events.task_revoked(id, expired).await;
        }
        let reason = if expired {
            RemoteError::expired()
        } else {
            RemoteError::revoked()
        };
        (None, Err(reason))
    }

    fn stopped(&self) -> bool {
        let stopped = self.stop.get();
        if stopped && !self.stopping_said.replace(true) {
            self.emit(WorkerEvent::Stopping);
        }
        stopped
    }

    fn emit(&self, event: WorkerEvent) {
        (self.on_event.borrow_mut())(event);
    }
}
