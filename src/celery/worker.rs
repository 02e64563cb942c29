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
//!      a held message whose eta came? run it (eta.rs)    sweep_every:
//!      BRPOP queue lists (1 s) ─► Delivery               unacked::sweep
//!      record in unacked / unacked_index; eta ahead: hold it, next
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
//! Each consumer runs at most one job, so at most `concurrency` jobs are in
//! flight; a message held for its eta occupies no consumer (the only kind
//! taken before it can start). A message is acknowledged only after its
//! result is stored: if the worker dies first, the sweep of any worker
//! puts it back after the visibility timeout (`unacked.rs`).
//!
//! Stopping: [`serve_blocking`] turns the first SIGINT or SIGTERM into
//! "take no more messages, finish those in flight, give back those held
//! for their eta, return"; the second exits the process at once, leaving
//! the unfinished jobs to the sweep.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use futures_lite::{FutureExt, StreamExt};

use super::control::State;
use super::eta::{self, Wake};
use super::events::Events;
use super::expires::{self, Verdict};
use super::message::{self, Delivery};
use super::result::{self, Outcome};
use super::task::{self, Answer, Request};
use super::worker_io::{Job, WorkerConfig, WorkerEvent};
use super::{Error, RemoteError, unacked};
use crate::CpuPool;
use crate::redis::{self, Client};

/// How long one BRPOP waits before the consumer looks at the stop flag.
const POLL: Duration = Duration::from_secs(1);

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
    // Stopping: what waits for its eta goes back to the queue now.
    let held = worker.control.scheduled.borrow_mut().drain();
    for waiting in held {
        worker.give_back(waiting).await;
    }
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
    /// One consumer: a message at a time until stopped, a held message
    /// first when its eta comes (Celery's timer hands it to the pool).
    async fn consume(&self) {
        let lists = message::queue_lists(&self.config.queue);
        while !self.stopped() {
            let woken = self
                .control
                .scheduled
                .borrow_mut()
                .take_woken(Instant::now());
            match woken {
                Some(Wake::Run(waiting)) => {
                    self.run_held(waiting).await;
                    continue;
                }
                Some(Wake::GiveBack(waiting)) => {
                    self.give_back(waiting).await;
                    continue;
                }
                None => {}
            }
            // Awake in time for the next held message, BRPOP or not.
            let wait = self.control.scheduled.borrow().poll(POLL, Instant::now());
            match self.client.brpop(&lists, wait).await {
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

    /// Takes one message through: record, hold it if its eta is ahead,
    /// else run, store, acknowledge.
    async fn handle(&self, bytes: &[u8]) {
        let taken = Instant::now();
        // ANCHOR: take
        let delivery = match message::decode(bytes) {
            Ok(delivery) => delivery,
            Err(err) => return self.emit(WorkerEvent::Dropped(err)),
        };
        if let Err(err) = unacked::record(&self.client, &delivery).await {
            self.emit(WorkerEvent::Broker(err));
        }
        // ANCHOR_END: take
        // ANCHOR: handle_eta
        // Celery's `Request()` reads `eta` first: not a date, not run.
        let now = SystemTime::now();
        let wait = match eta::wait(&delivery, now) {
            Ok(wait) => wait,
            Err(err) => {
                let invalid = (None, Err(err.into()));
                return self.settle(delivery, taken, invalid, false).await;
            }
        };
        // Celery's `Request.revoked()`, before anything runs or waits.
        let verdict = expires::verdict(&delivery, &self.control, now);
        if let (Some(wait), Verdict::Run, Ok(call)) = (wait, &verdict, &delivery.call) {
            // Held, not run: this consumer goes on taking messages.
            return self.hold(taken, wait, call.clone(), delivery);
        }
        // ANCHOR_END: handle_eta
        self.conclude(delivery, taken, verdict).await;
    }

    /// Runs, discards or fails `delivery` as `verdict` says; then stores
    /// and acknowledges.
    async fn conclude(&self, delivery: Delivery, taken: Instant, verdict: Verdict) {
        // ANCHOR: handle
        let ran = match &verdict {
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
        let discarded = matches!(verdict, Verdict::Discard { .. });
        self.settle(delivery, taken, ran, discarded).await;
        // ANCHOR_END: handle
    }

    /// Stores the outcome, then acknowledges (not if the store failed).
    async fn settle(&self, delivery: Delivery, taken: Instant, ran: Ran, discarded: bool) {
        let (url, result) = ran;
        // ANCHOR: settle
        if let Some(id) = &delivery.id {
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
        // ANCHOR_END: settle
        let redelivered = delivery.raw.pointer("/headers/redelivered") == Some(&true.into());
        self.emit(WorkerEvent::Done(Job {
            task_id: delivery.id,
            url,
            result,
            elapsed: taken.elapsed(),
            redelivered,
        }));
    }

    /// Holds `delivery` until its eta, `wait` from now, or as long as the
    /// visibility timeout allows.
    fn hold(&self, taken: Instant, wait: Duration, call: message::Call, delivery: Delivery) {
        let id = delivery.id.clone();
        let info = (self.control).request_info(id.as_deref().unwrap_or_default(), &call, &delivery);
        let hold = eta::hold_limit(self.config.visibility_timeout);
        let waiting = eta::Waiting::new(delivery, info, taken, wait, hold);
        let eta = waiting.eta.clone();
        self.control.scheduled.borrow_mut().hold(waiting);
        self.emit(WorkerEvent::Scheduled { task_id: id, eta });
    }

    /// A held message whose eta came: still ours, then as if just taken.
    async fn run_held(&self, waiting: eta::Waiting) {
        let tag = &waiting.delivery.delivery_tag;
        match unacked::refresh(&self.client, tag).await {
            Ok(true) => {}
            // A sweep gave it back: another worker runs it.
            Ok(false) => return self.emit(WorkerEvent::GivenBack(waiting.delivery.id)),
            // Not acknowledged: the sweep gives it back.
            Err(err) => return self.emit(WorkerEvent::Broker(err)),
        }
        // Celery's `execute_using_pool` asks `revoked()` again.
        let verdict = expires::verdict(&waiting.delivery, &self.control, SystemTime::now());
        self.conclude(waiting.delivery, waiting.taken, verdict)
            .await;
    }

    /// Puts a held message back on its queue, unacknowledged.
    async fn give_back(&self, waiting: eta::Waiting) {
        match unacked::give_back(&self.client, &waiting.delivery.delivery_tag).await {
            Ok(_) => self.emit(WorkerEvent::GivenBack(waiting.delivery.id)),
            // Left in `unacked`: the sweep gives it back.
            Err(err) => self.emit(WorkerEvent::Broker(err)),
        }
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
