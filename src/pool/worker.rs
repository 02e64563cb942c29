//! A worker thread's life, and what it does with one job.
//!
//! A worker takes messages from the job queue until it finds a `Stop`. It
//! runs each job under `catch_unwind`, so a panicking job becomes
//! [`JobError::Panicked`] and the thread lives on, and it skips a job whose
//! submitter dropped the future before the job started. Between jobs it
//! waits as the leader or as a follower ([`super::lobby`]).

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;

use super::error::JobError;
use super::lobby::{Lobby, Role, wait_for_message};
use super::stats::Counters;

/// State shared by the pool handle, its workers and its job futures.
#[derive(Default)]
pub(super) struct Shared {
    /// Set by shutdown: no new job is accepted.
    pub(super) closed: AtomicBool,
    pub(super) lobby: Lobby,
    /// Notified each time a worker takes a message: room in the queue.
    pub(super) room: Event,
    pub(super) counters: Counters,
}

/// A job as the worker sees it: execute it (or skip it) and report. It
/// returns the worker's role among the idle workers afterwards.
pub(super) type Job = Box<dyn FnOnce(&Shared) -> Role + Send>;

/// What travels through the job queue.
pub(super) enum Message {
    Job(Job),
    /// Sent once per worker at shutdown, behind every queued job.
    Stop,
}

thread_local! {
    /// The index of the pool worker running on this thread, if it is one.
    static WORKER_INDEX: Cell<Option<usize>> = const { Cell::new(None) };
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
    WORKER_INDEX.with(Cell::get)
}

/// A worker thread's life: take messages until a `Stop`.
///
/// It waits for each message as the leader of the idle workers, after
/// waiting in the lobby for that role if another worker holds it.
pub(super) fn work(index: usize, queue: flume::Receiver<Message>, shared: Arc<Shared>) {
    WORKER_INDEX.with(|cell| cell.set(Some(index)));
    let mut role = Role::Follower;
    // ANCHOR: worker_loop
    loop {
        if role == Role::Follower {
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
            // `execute`), and says whether it did.
            Some(Message::Job(job)) => role = job(&shared),
            Some(Message::Stop) | None => break,
        }
    }
    // ANCHOR_END: worker_loop
    shared.counters.live_workers.fetch_sub(1, Ordering::SeqCst);
}

/// Executes one job on a worker and sends its outcome back; returns the
/// worker's role among the idle workers afterwards.
pub(super) fn execute<T, F>(
    job: F,
    result: flume::Sender<Result<T, JobError>>,
    shared: &Shared,
) -> Role
where
    F: FnOnce() -> T,
{
    let counters = &shared.counters;
    if result.is_disconnected() {
        // The submitter dropped its future before the job started.
        counters.cancelled.fetch_add(1, Ordering::Relaxed);
        return Role::Follower;
    }
    // ANCHOR: execute
    let outcome = panic::catch_unwind(AssertUnwindSafe(job)).map_err(|payload| {
        counters.panicked.fetch_add(1, Ordering::Relaxed);
        JobError::Panicked(panic_message(payload.as_ref()))
    });
    if outcome.is_ok() {
        counters.completed.fetch_add(1, Ordering::Relaxed);
    }
    // Lead again *before* answering: the loop often submits its next job
    // the moment the answer arrives, and should find a spinning leader
    // rather than have to wake a sleeping follower.
    let role = shared.lobby.try_lead();
    // If the submitter went away meanwhile, the value is simply dropped.
    let _ = result.send(outcome);
    // ANCHOR_END: execute
    role
}

/// The text of a panic: `panic!("...")` carries a `&str` or a `String`.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}
