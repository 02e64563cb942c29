//! Where idle workers wait: one *leader* spins on the job queue, the
//! *followers* sleep until it is their turn to lead.
//!
//! # Why
//!
//! Waking a parked thread costs microseconds (a futex wake), often more
//! than a small job. If every idle worker waited on the queue, the channel
//! would hand a new job to a *parked* worker, which takes many microseconds
//! to wake up, while a spinning one could take it at once. So only one idle
//! worker, the leader, waits on the queue: it spins for [`WORKER_SPIN`],
//! then parks in the queue's `recv`. The other idle workers wait in the
//! [`Lobby`] for the leadership. In a stream of jobs the next job usually
//! arrives while the leader spins (docs/performance.md).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use crate::spin::spin_for;

/// How long an idle worker polls the queue before it parks.
///
/// Short enough that an idle pool costs no CPU; long enough to cover the
/// gap between two jobs submitted by a busy loop.
pub const WORKER_SPIN: Duration = Duration::from_micros(50);

/// A worker's place among the idle workers once it is done with a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// It leads: it waits on the queue itself.
    Leader,
    /// Another worker leads: it waits in the lobby for its turn.
    Follower,
}

/// Where idle workers wait for their turn to lead.
#[derive(Default)]
pub(super) struct Lobby {
    /// Whether some worker is the leader, waiting on the queue.
    has_leader: AtomicBool,
    /// Guards the sleep of the followers, so that no wake-up is lost between
    /// checking `has_leader` and waiting. It guards no data, so a poisoned
    /// lock is used as it is.
    followers: Mutex<()>,
    turn: Condvar,
}

impl Lobby {
    /// Blocks until this worker is the leader.
    pub(super) fn become_leader(&self) {
        let mut guard = self
            .followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while self.has_leader.swap(true, Ordering::SeqCst) {
            guard = self
                .turn
                .wait(guard)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Gives up the leadership; wakes a follower when jobs are waiting.
    pub(super) fn resign(&self, jobs_waiting: bool) {
        self.has_leader.store(false, Ordering::SeqCst);
        if jobs_waiting {
            self.wake_follower();
        }
    }

    /// Takes the lead if nobody has it.
    pub(super) fn try_lead(&self) -> Role {
        if self.has_leader.swap(true, Ordering::SeqCst) {
            Role::Follower
        } else {
            Role::Leader
        }
    }

    /// Called by a submitter after queueing a job: if no worker leads (all
    /// are busy or asleep), wake a follower to take it.
    pub(super) fn job_queued(&self) {
        if !self.has_leader.load(Ordering::SeqCst) {
            self.wake_follower();
        }
    }

    fn wake_follower(&self) {
        let _guard = self
            .followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.turn.notify_one();
    }
}

/// The leader's wait: spin on the queue for [`WORKER_SPIN`], then park.
/// `None` when every sender is gone (cannot happen while the pool lives).
// ANCHOR: wait_for_message
pub(super) fn wait_for_message<M>(queue: &flume::Receiver<M>) -> Option<M> {
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
// ANCHOR_END: wait_for_message
