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
//!  pool.run(job) ──try_send────► [ bounded job queue ] ──recv──► execute job
//!       ▲                                                             │
//!       └──────recv_async────── one-shot result channel ◄──send───────┘
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
//! wait their turn (`lobby.rs`): in a stream of jobs the next one is
//! usually there by then. docs/performance.md has the measurements.
//!
//! # Files
//!
//! This file is the pool as its users see it: [`CpuPool`], [`run`] and
//! [`submit`], shutdown. Beside it: `builder.rs` (settings, starting the
//! threads), `worker.rs` (a worker's loop and how it executes one job),
//! `lobby.rs` (leader and followers, the spin), `stats.rs` and `error.rs`.
//!
//! [`run`]: CpuPool::run
//! [`submit`]: CpuPool::submit

mod builder;
mod error;
mod lobby;
mod stats;
mod worker;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

use crate::executor::AnswerDueSoon;
use crate::wait;

pub use builder::{CpuPoolBuilder, default_workers};
pub use error::{JobError, PoolError};
pub use lobby::WORKER_SPIN;
pub use stats::PoolStats;
pub use worker::current_worker;

use worker::{Job, Message, Shared};

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
        CpuPoolBuilder::new()
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
        // ANCHOR: submit
        let shared = Arc::clone(&self.shared);
        async move {
            let (result_sender, result) = flume::bounded(1);
            let job: Job =
                Box::new(move |shared: &Shared| worker::execute(job, result_sender, shared));
            let queued = match queue.as_ref().and_then(flume::WeakSender::upgrade) {
                Some(sender) if !shared.closed.load(Ordering::Acquire) => {
                    // Keep no sender afterwards: the queue's lifetime is the pool's.
                    queue_job(&sender, &shared, Message::Job(job)).await
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
                let _due = AnswerDueSoon::new();
                // An error here means the job was dropped without running: it
                // was queued behind the shutdown and the workers are gone.
                result.recv_async().await.unwrap_or(Err(JobError::ShutDown))
            }
        }
        // ANCHOR_END: submit
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

    /// How many jobs are in the queue now, waiting for a worker. The
    /// pipeline's download window reads it: fewer than [`workers`] means
    /// the workers are about to run dry.
    ///
    /// [`workers`]: CpuPool::workers
    pub fn queued(&self) -> usize {
        self.sender.as_ref().map_or(0, flume::Sender::len)
    }

    /// What the workers have done so far.
    pub fn stats(&self) -> PoolStats {
        self.shared.counters.snapshot()
    }

    /// Stops accepting jobs, lets the queued ones finish, joins every worker
    /// and returns the final counts. Dropping the pool does the same.
    pub fn shutdown(mut self) -> PoolStats {
        self.stop_and_join();
        self.stats()
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

/// Puts `message` in the queue, waiting while it is full; `false` if the
/// workers are gone.
///
/// Why not flume's own `send_async`? It waits in a list that a finished or
/// dropped sender leaves by scanning every other waiter: with 100,000 jobs
/// submitted at once into a queue of four, that is quadratic (minutes). Here
/// a waiter listens on the pool's `room` event, which workers notify each
/// time they take a message, at O(1) per waiter.
// ANCHOR: queue_job
async fn queue_job(queue: &flume::Sender<Message>, shared: &Shared, message: Message) -> bool {
    let mut message = Some(message);
    wait::until(&shared.room, || {
        let unsent = message.take().expect("put back after each full attempt");
        match queue.try_send(unsent) {
            Ok(()) => Some(true),
            Err(flume::TrySendError::Disconnected(_)) => Some(false),
            Err(flume::TrySendError::Full(returned)) => {
                message = Some(returned);
                None
            }
        }
    })
    .await
}
// ANCHOR_END: queue_job
