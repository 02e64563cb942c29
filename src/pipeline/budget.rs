//! The memory budget: bytes downloaded but not yet processed, plus bytes of
//! downloads in flight, kept under a limit.
//!
//! # Why
//!
//! The download window (`window.rs`) counts downloads, not bytes: 32
//! thumbnails are nothing, 32 panoramas of 20 MB each are 640 MB. What
//! costs memory is bodies, from their first byte read until the CPU job
//! that decodes them is done; so those are what the budget counts.
//!
//! # How
//!
//! A download reserves its body's size once the response head says it
//! (`Content-Length`, through [`Client::get_admitted`]), *before* reading a
//! byte of it, and keeps the reservation until its CPU job has finished
//! with the body:
//!
//! ```text
//!  head: Content-Length n ─► reserve(n): wait while used + n > limit
//!  read the body
//!  queue the CPU job, await it
//!  drop the reservation ─► used − n; the next waiter may fit
//! ```
//!
//! Waiters are served first come, first served, so a large picture is not
//! passed over forever by a stream of small ones. A picture larger than the
//! whole budget proceeds alone: it is admitted once nothing else is
//! reserved (else it would wait forever). Nothing that holds a reservation
//! waits for one, so the budget cannot deadlock: reservations are released
//! by CPU jobs, which never wait for downloads.
//!
//! A body of unknown length (chunked, or until the server closes) is
//! counted once it has arrived, without waiting: the budget can be
//! overshot by such bodies, never by bodies whose length was announced.
//!
//! [`Client::get_admitted`]: crate::http::Client::get_admitted

use std::cell::RefCell;
use std::collections::VecDeque;

use event_listener::Event;

use crate::wait;

/// The default budget: 64 MiB of bodies in flight or waiting for a worker.
pub const DEFAULT_MAX_BUFFERED: u64 = 64 * 1024 * 1024;

/// The memory budget of one run. Loop thread only.
pub(super) struct Budget {
    limit: u64,
    state: RefCell<State>,
    /// Notified when bytes are released or the head of the line leaves.
    room: Event,
}

struct State {
    /// Bytes reserved now.
    used: u64,
    /// The most bytes ever reserved at once.
    peak: u64,
    /// Waiting reservations, by ticket, first come first served.
    line: VecDeque<u64>,
    next_ticket: u64,
}

/// Bytes held against the budget until dropped.
pub(super) struct Reservation<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Budget {
    /// A budget of `limit` bytes (zero counts as one).
    pub(super) fn new(limit: u64) -> Budget {
        Budget {
            limit: limit.max(1),
            state: RefCell::new(State {
                used: 0,
                peak: 0,
                line: VecDeque::new(),
                next_ticket: 0,
            }),
            room: Event::new(),
        }
    }

    /// Reserves `bytes`, waiting in line until they fit (or, for more
    /// than the whole budget, until nothing else is reserved).
    pub(super) async fn reserve(&self, bytes: u64) -> Reservation<'_> {
        let ticket = {
            let mut state = self.state.borrow_mut();
            let ticket = state.next_ticket;
            state.next_ticket += 1;
            state.line.push_back(ticket);
            ticket
        };
        // Leaves the line however the wait ends (a timeout drops it).
        let place = Place {
            budget: self,
            ticket,
        };
        wait::until(&self.room, || {
            let mut state = self.state.borrow_mut();
            let first = state.line.front() == Some(&ticket);
            let fits = state.used + bytes <= self.limit || state.used == 0;
            (first && fits).then(|| state.take(bytes))
        })
        .await;
        drop(place);
        Reservation {
            budget: self,
            bytes,
        }
    }

    /// Counts `bytes` that are already in memory (a body whose length was
    /// not announced), without waiting.
    pub(super) fn count_arrived(&self, bytes: u64) -> Reservation<'_> {
        self.state.borrow_mut().take(bytes);
        Reservation {
            budget: self,
            bytes,
        }
    }

    /// The limit, in bytes.
    pub(super) fn limit(&self) -> u64 {
        self.limit
    }

    /// The most bytes reserved at once so far.
    pub(super) fn peak(&self) -> u64 {
        self.state.borrow().peak
    }
}

impl State {
    fn take(&mut self, bytes: u64) {
        self.used += bytes;
        self.peak = self.peak.max(self.used);
    }
}

/// A ticket in the line; leaving (admitted or cancelled) lets the next
/// one try.
struct Place<'a> {
    budget: &'a Budget,
    ticket: u64,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let mut state = self.budget.state.borrow_mut();
        state.line.retain(|&ticket| ticket != self.ticket);
        drop(state);
        self.budget.room.notify(usize::MAX);
    }
}

impl Reservation<'_> {
    /// The bytes held.
    #[cfg(test)]
    fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.budget.state.borrow_mut().used -= self.bytes;
        self.budget.room.notify(usize::MAX);
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;

    use futures_lite::future::{block_on, poll_once};

    use super::*;

    #[test]
    fn waits_while_the_bytes_do_not_fit_and_records_the_peak() {
        let budget = Budget::new(100);
        let first = block_on(budget.reserve(60));
        let mut second = pin!(budget.reserve(60));
        assert!(block_on(poll_once(second.as_mut())).is_none());
        drop(first);
        let second = block_on(second);
        assert_eq!((second.bytes(), budget.peak()), (60, 60));
    }

    #[test]
    fn a_picture_larger_than_the_budget_proceeds_alone() {
        let budget = Budget::new(100);
        let small = block_on(budget.reserve(10));
        let mut large = pin!(budget.reserve(500));
        assert!(block_on(poll_once(large.as_mut())).is_none());
        // First come, first served: a small one does not pass the large one.
        let mut later = pin!(budget.reserve(10));
        assert!(block_on(poll_once(later.as_mut())).is_none());
        drop(small);
        let large = block_on(large);
        assert!(block_on(poll_once(later.as_mut())).is_none());
        drop(large);
        assert_eq!(block_on(later).bytes(), 10);
        assert_eq!(budget.peak(), 500);
    }

    #[test]
    fn a_cancelled_waiter_leaves_the_line() {
        let budget = Budget::new(100);
        let held = block_on(budget.reserve(100));
        {
            let mut cancelled = pin!(budget.reserve(50));
            assert!(block_on(poll_once(cancelled.as_mut())).is_none());
        }
        drop(held);
        assert_eq!(block_on(budget.reserve(50)).bytes(), 50);
    }
}
