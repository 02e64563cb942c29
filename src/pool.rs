//! The CPU pool: `std::thread` workers fed by a bounded flume channel.
//!
//! # Why
//!
//! The event loop must never run CPU-heavy work: while it computes, no socket
//! is read and no timer fires. Python hands such work to a
//! `ProcessPoolExecutor` with `await loop.run_in_executor(pool, f, x)`.
//! tandem hands it to a `CpuPool` with `pool.run(move || f(x)).await`.
//! Rust threads share memory safely, so threads do what Python needs
//! processes for.
//!
//! # How
//!
//! ```text
//!  loop thread                         worker threads "tandem-cpu-N"
//!  pool.run(job) ──try_send────► [ bounded job queue ] ──recv──► run job
//!       ▲                                                          │
//!       └──────recv_async────── one-shot result channel ◄──send────┘
//! ```
//!
//! * The job queue is **bounded**: when workers fall behind, `run(..).await`
//!   waits for a free slot (listening on the pool's `room` event, which a
//!   worker notifies each time it takes a job), so a flood of submissions
//!   slows the submitter down instead of growing memory (back-pressure).
//! * Each job carries its own one-slot result channel. The submitting future
//!   awaits its receiver with `recv_async`; the worker's `send` wakes it.
//!   [`CpuPool::submit`] splits the two waits (room in the queue, then the
//!   answer), for callers that free a resource once the job is queued.
//! * A panicking job is caught on the worker and comes back as
//!   [`JobError::Panicked`]; the worker thread lives on.
//! * Dropping the future of a job that has not started yet cancels it: the
//!   worker sees that nobody waits for the result and skips the job.
//! * Shutting down (by [`CpuPool::shutdown`] or by dropping the pool) stops
//!   accepting jobs, lets every job already queued run to completion, then
//!   joins every worker thread.
//!
//! Every submitted job ends in exactly one outcome: `Ok(value)`,
//! `Err(JobError::Panicked(..))`, or `Err(JobError::ShutDown)` when it was
//! submitted too late to run; a job whose future was dropped is counted as
//! cancelled in [`PoolStats`].
//!
//! Waking a sleeping thread costs microseconds (a futex wake, or an eventfd
//! write when the loop sleeps in epoll). So one idle worker, the *leader*,
//! spins for [`WORKER_SPIN`] before it parks, while the other idle workers
//! wait their turn (see `worker` below): in a stream of jobs the next one is
//! usually there by then. docs/performance.md has the measurements.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use event_listener::Event;

use crate::spin::{ExpectedWakeup, spin_for};

/// How long an idle worker polls the queue before it parks.
///
/// Short enough that an idle pool costs no CPU; long enough to cover the
/// gap between two jobs submitted by a busy loop.
pub const WORKER_SPIN: Duration = Duration::from_micros(50);

/// Why a job did not produce its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The job panicked; the string is the panic message.
    Panicked(String),
    /// The pool was shut down before the job could run.
    ShutDown,
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Panicked(message) => write!(f, "job panicked: {message}"),
            JobError::ShutDown => write!(f, "the CPU pool was shut down before the job ran"),
        }
    }
}

impl std::error::Error for JobError {}

/// Why a pool could not be built.
#[derive(Debug)]
pub enum PoolError {
    /// `workers(0)`: a pool without workers would never run a job.
    ZeroWorkers,
    /// `queue(0)`: a job must be able to wait in the queue, if only for an
    /// instant, because idle workers take jobs from it by polling.
    ZeroQueue,
    /// The operating system refused to start a worker thread.
    Spawn(std::io::Error),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::ZeroWorkers => write!(f, "a CPU pool needs at least one worker"),
            PoolError::ZeroQueue => write!(f, "a CPU pool's queue needs room for at least one job"),
            PoolError::Spawn(err) => write!(f, "could not start a worker thread: {err}"),
        }
    }
}

impl std::error::Error for PoolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PoolError::Spawn(err) => Some(err),
            PoolError::ZeroWorkers | PoolError::ZeroQueue => None,
        }
    }
}

/// Counts of what the pool's workers did, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Jobs that ran and returned a value.
    pub completed: u64,
    /// Jobs that ran and panicked.
    pub panicked: u64,
    /// Jobs skipped because their future was dropped before they started.
    pub cancelled: u64,
    /// Worker threads currently alive.
    pub live_workers: usize,
}

/// A pool of CPU worker threads: tandem's `ProcessPoolExecutor`.
///
/// # Examples
///
/// ```
/// let pool = tandem::CpuPool::new(2).unwrap();
/// let sum = tandem::block_on(pool.run(|| (1..=10u64).map(|i| i * i).sum::<u64>()));
/// assert_eq!(sum, Ok(385));
/// ```
pub struct CpuPool {
    /// `None` once shut down.
    sender: Option<flume::Sender<Message>>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

/// Settings for a [`CpuPool`]; start with [`CpuPool::builder`].
#[derive(Debug, Clone)]
pub struct CpuPoolBuilder {
    workers: usize,
    queue: Option<usize>,
    name: String,
}

/// A job as the worker sees it: run it (or skip it) and report.
///
/// It returns whether the worker took the lead of the idle workers again.
type Job = Box<dyn FnOnce(&Shared) -> bool + Send>;

enum Message {
    Run(Job),
    /// Sent once per worker at shutdown, behind every queued job.
    Stop,
}

/// State shared by the pool handle, its workers and its job futures.
#[derive(Default)]
struct Shared {
    closed: AtomicBool,
    lobby: Lobby,
    /// Notified each time a worker takes a message: room in the queue.
    room: Event,
    completed: AtomicU64,
    panicked: AtomicU64,
    cancelled: AtomicU64,
    live_workers: AtomicUsize,
}

impl CpuPool {
    /// Starts a pool of `workers` threads with the default queue capacity
    /// (twice the workers). `workers == 0` is [`PoolError::ZeroWorkers`].
    ///
    /// This is `ProcessPoolExecutor(max_workers=workers)`.
    pub fn new(workers: usize) -> Result<CpuPool, PoolError> {
        CpuPool::builder().workers(workers).build()
    }

    /// Settings beyond the worker count: queue capacity, thread names.
    ///
    /// ```
    /// let pool = tandem::CpuPool::builder().workers(2).queue(4).build().unwrap();
    /// assert_eq!(pool.workers(), 2);
    /// assert_eq!(pool.queue_capacity(), 4);
    /// ```
    pub fn builder() -> CpuPoolBuilder {
        CpuPoolBuilder {
            workers: default_workers(),
            queue: None,
            name: "tandem-cpu".to_string(),
        }
    }

    /// Submits `job` and returns a future of its result.
    ///
    /// The job is queued when the future is first polled; if the queue is
    /// full the future waits for room (back-pressure). The future is
    /// `'static`: it can be spawned, and it does not keep the pool alive.
    ///
    /// This is `loop.run_in_executor(pool, job)`; it is
    /// [`submit`](CpuPool::submit) and then the wait for the answer.
    pub fn run<T, F>(&self, job: F) -> impl Future<Output = Result<T, JobError>> + 'static
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let submitted = self.submit(job);
        async move { submitted.await.await }
    }

    /// Queues `job` and returns, once it is in the queue, the future of its
    /// result: Python's `executor.submit(job)`, which hands back a future.
    ///
    /// Awaiting `submit` is the back-pressure step alone: it waits while the
    /// queue is full. A caller that holds a resource until its work is
    /// handed over (a download permit, a buffer) releases it between the two
    /// awaits. Dropping the returned future before the job starts cancels
    /// the job, as with [`run`](CpuPool::run).
    ///
    /// ```
    /// let pool = tandem::CpuPool::new(1).unwrap();
    /// let answer = tandem::block_on(async {
    ///     let answer = pool.submit(|| 6 * 7).await; // queued
    ///     answer.await // ran
    /// });
    /// assert_eq!(answer, Ok(42));
    /// ```
    // Yielding a future is the point: the outer await is "queued", the
    // inner one "answered".
    #[allow(clippy::async_yields_async)]
    pub fn submit<T, F>(
        &self,
        job: F,
    ) -> impl Future<Output = impl Future<Output = Result<T, JobError>> + 'static> + 'static
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // A weak sender: a job future that is never polled must not keep the
        // queue open after shutdown.
        let queue = self.sender.as_ref().map(flume::Sender::downgrade);
        let shared = Arc::clone(&self.shared);
        async move {
            let (result_sender, result) = flume::bounded(1);
            let job: Job = Box::new(move |shared: &Shared| run_job(job, result_sender, shared));
            let queued = match queue.as_ref().and_then(flume::WeakSender::upgrade) {
                Some(sender) if !shared.closed.load(Ordering::Acquire) => {
                    // Keep no sender afterwards: the queue's lifetime is the pool's.
                    queue_job(&sender, &shared.room, Message::Run(job)).await
                }
                _ => false,
            };
            if queued {
                shared.lobby.job_queued();
            }
            async move {
                if !queued {
                    return Err(JobError::ShutDown);
                }
                // The answer is usually microseconds away: let the loop wait awake.
                let _expected = ExpectedWakeup::new();
                // An error here means the job was dropped without running: it
                // was queued behind the shutdown and the workers are gone.
                result.recv_async().await.unwrap_or(Err(JobError::ShutDown))
            }
        }
    }

    /// The number of worker threads the pool was started with.
    pub fn workers(&self) -> usize {
        self.threads.len()
    }

    /// How many jobs the queue holds before `run` waits for room.
    pub fn queue_capacity(&self) -> usize {
        self.sender
            .as_ref()
            .and_then(flume::Sender::capacity)
            .unwrap_or(0)
    }

    /// What the workers have done so far.
    pub fn stats(&self) -> PoolStats {
        self.shared.stats()
    }

    /// Stops accepting jobs, lets the queued ones finish, joins every worker
    /// and returns the final counts. Dropping the pool does the same.
    pub fn shutdown(mut self) -> PoolStats {
        self.stop_and_join();
        self.shared.stats()
    }

    fn stop_and_join(&mut self) {
        let Some(sender) = self.sender.take() else {
            return;
        };
        self.shared.closed.store(true, Ordering::Release);
        // One Stop per worker, queued behind every job already submitted, so
        // those jobs still run. `send` blocks while the queue is full, but
        // the workers are draining it, so it returns.
        for _ in &self.threads {
            let _ = sender.send(Message::Stop);
            // Like any message: make sure some worker will take it.
            self.shared.lobby.job_queued();
        }
        drop(sender);
        for thread in self.threads.drain(..) {
            // Jobs run under catch_unwind, so a worker never panics.
            let _ = thread.join();
        }
        // Submitters still waiting for room find the queue closed.
        self.shared.room.notify(usize::MAX);
    }
}

impl Drop for CpuPool {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl fmt::Debug for CpuPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CpuPool")
            .field("workers", &self.workers())
            .field("queue_capacity", &self.queue_capacity())
            .field("stats", &self.stats())
            .finish()
    }
}

impl CpuPoolBuilder {
    /// Number of worker threads (`max_workers`). Default: available cores.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Capacity of the job queue. Default: twice the workers. Zero is
    /// [`PoolError::ZeroQueue`].
    pub fn queue(mut self, capacity: usize) -> Self {
        self.queue = Some(capacity);
        self
    }

    /// Prefix of the worker threads' names (`<name>-0`, `<name>-1`, ...).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Starts the workers.
    pub fn build(self) -> Result<CpuPool, PoolError> {
        if self.workers == 0 {
            return Err(PoolError::ZeroWorkers);
        }
        if self.queue == Some(0) {
            return Err(PoolError::ZeroQueue);
        }
        let (sender, receiver) = flume::bounded(self.queue.unwrap_or(2 * self.workers));
        let mut pool = CpuPool {
            sender: Some(sender),
            shared: Arc::new(Shared::default()),
            threads: Vec::with_capacity(self.workers),
        };
        for index in 0..self.workers {
            let receiver = receiver.clone();
            let shared = Arc::clone(&pool.shared);
            shared.live_workers.fetch_add(1, Ordering::SeqCst);
            let spawned = thread::Builder::new()
                .name(format!("{}-{index}", self.name))
                .spawn(move || worker(index, receiver, shared));
            match spawned {
                Ok(thread) => pool.threads.push(thread),
                Err(err) => {
                    pool.shared.live_workers.fetch_sub(1, Ordering::SeqCst);
                    // Dropping `pool` stops the workers already started.
                    return Err(PoolError::Spawn(err));
                }
            }
        }
        Ok(pool)
    }
}

/// The number of cores this process may use, at least one.
pub fn default_workers() -> usize {
    thread::available_parallelism().map_or(1, usize::from)
}

thread_local! {
    /// The index of the pool worker running on this thread, if it is one.
    static WORKER_INDEX: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The index (0, 1, ...) of the pool worker running the calling code, or
/// `None` outside a pool's worker threads. Reports use it to draw one row
/// per worker.
///
/// ```
/// let pool = tandem::CpuPool::new(1).unwrap();
/// assert_eq!(tandem::pool::current_worker(), None);
/// assert_eq!(tandem::block_on(pool.run(tandem::pool::current_worker)), Ok(Some(0)));
/// ```
pub fn current_worker() -> Option<usize> {
    WORKER_INDEX.with(std::cell::Cell::get)
}

/// Puts `message` in the queue, waiting while it is full; `false` if the
/// workers are gone.
///
/// Why not flume's own `send_async`? It waits in a list that a finished or
/// dropped sender leaves by scanning every other waiter: with 100,000 jobs
/// submitted at once into a queue of four, that is quadratic (minutes). Here
/// a waiter listens on the pool's `room` event, which workers notify each
/// time they take a message, at O(1) per waiter.
async fn queue_job(queue: &flume::Sender<Message>, room: &Event, mut message: Message) -> bool {
    let mut listener = None;
    loop {
        match queue.try_send(message) {
            Ok(()) => return true,
            Err(flume::TrySendError::Disconnected(_)) => return false,
            Err(flume::TrySendError::Full(returned)) => message = returned,
        }
        match listener.take() {
            // Listen, then try again: room made in between is not missed.
            None => listener = Some(room.listen()),
            Some(listener) => listener.await,
        }
    }
}

/// A worker thread's life: take messages until a `Stop`.
///
/// Idle workers follow a *leader/followers* pattern. Only one idle worker,
/// the leader, waits on the job queue: it spins for [`WORKER_SPIN`], then
/// parks in the queue's `recv`. The other idle workers wait in the lobby
/// for the leadership. Why not let every idle worker wait on the queue? The
/// channel would hand a new job to a *parked* worker, which takes many
/// microseconds to wake up, while a spinning one could take it at once.
fn worker(index: usize, queue: flume::Receiver<Message>, shared: Arc<Shared>) {
    WORKER_INDEX.with(|cell| cell.set(Some(index)));
    let mut leading = false;
    loop {
        if !leading {
            shared.lobby.become_leader();
        }
        let message = wait_for_message(&queue);
        // One slot of the queue is free again: let one waiting submitter in.
        shared.room.notify_additional(1);
        // Hand the queue over before running the job, so that jobs queued
        // behind this one are taken by another worker meanwhile.
        shared.lobby.resign(!queue.is_empty());
        match message {
            // The job tries to take the lead again before it answers (see
            // `run_job`): `leading` says whether it did.
            Some(Message::Run(job)) => leading = job(&shared),
            Some(Message::Stop) | None => break,
        }
    }
    shared.live_workers.fetch_sub(1, Ordering::SeqCst);
}

/// The leader's wait: spin on the queue for [`WORKER_SPIN`], then park.
/// `None` when every sender is gone (cannot happen while the pool lives).
fn wait_for_message(queue: &flume::Receiver<Message>) -> Option<Message> {
    let spun = spin_for(WORKER_SPIN, || match queue.try_recv() {
        Ok(message) => Some(Some(message)),
        Err(flume::TryRecvError::Disconnected) => Some(None),
        Err(flume::TryRecvError::Empty) => None,
    });
    match spun {
        Some(message) => message,
        None => queue.recv().ok(),
    }
}

/// Where idle workers wait for their turn to lead.
#[derive(Default)]
struct Lobby {
    /// Whether some worker is the leader, waiting on the queue.
    has_leader: AtomicBool,
    /// Guards the sleep of the followers, so that no wake-up is lost between
    /// checking `has_leader` and waiting.
    followers: Mutex<()>,
    turn: Condvar,
}

impl Lobby {
    /// Blocks until this worker is the leader.
    fn become_leader(&self) {
        let mut guard = self.followers.lock().unwrap();
        while self.has_leader.swap(true, Ordering::SeqCst) {
            guard = self.turn.wait(guard).unwrap();
        }
    }

    /// Gives up the leadership; wakes a follower when jobs are waiting.
    fn resign(&self, jobs_waiting: bool) {
        self.has_leader.store(false, Ordering::SeqCst);
        if jobs_waiting {
            self.wake_follower();
        }
    }

    /// Takes the lead if nobody has it; says whether it did.
    fn try_lead(&self) -> bool {
        !self.has_leader.swap(true, Ordering::SeqCst)
    }

    /// Called by a submitter after queueing a job: if no worker leads (all
    /// are busy or asleep), wake a follower to take it.
    fn job_queued(&self) {
        if !self.has_leader.load(Ordering::SeqCst) {
            self.wake_follower();
        }
    }

    fn wake_follower(&self) {
        let _guard = self.followers.lock().unwrap();
        self.turn.notify_one();
    }
}

/// Runs one job on a worker and sends its outcome back; returns whether the
/// worker took the lead of the idle workers again.
fn run_job<T, F>(job: F, result: flume::Sender<Result<T, JobError>>, shared: &Shared) -> bool
where
    F: FnOnce() -> T,
{
    if result.is_disconnected() {
        // The submitter dropped its future before the job started.
        shared.cancelled.fetch_add(1, Ordering::Relaxed);
        return false;
    }
    let outcome = panic::catch_unwind(AssertUnwindSafe(job)).map_err(|payload| {
        shared.panicked.fetch_add(1, Ordering::Relaxed);
        JobError::Panicked(panic_message(payload.as_ref()))
    });
    if outcome.is_ok() {
        shared.completed.fetch_add(1, Ordering::Relaxed);
    }
    // Lead again *before* answering: the loop often submits its next job
    // the moment the answer arrives, and should find a spinning leader
    // rather than have to wake a sleeping follower.
    let leading = shared.lobby.try_lead();
    // If the submitter went away meanwhile, the value is simply dropped.
    let _ = result.send(outcome);
    leading
}

/// The text of a panic: `panic!("...")` carries a `&str` or a `String`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

impl Shared {
    fn stats(&self) -> PoolStats {
        PoolStats {
            completed: self.completed.load(Ordering::Relaxed),
            panicked: self.panicked.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
            live_workers: self.live_workers.load(Ordering::SeqCst),
        }
    }
}
