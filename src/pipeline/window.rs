//! How many downloads are in flight: a window that adapts to the CPU pool,
//! unless the user fixed it with `--concurrency`.
//!
//! # Why a fixed concurrency is a guess
//!
//! A download that waits 100 ms for the network keeps no core busy. To keep
//! `w` workers fed, enough downloads must be in flight that one arrives
//! every time a worker finishes a picture: about `w × latency / CPU time per
//! picture` of them. Latency, picture sizes and cores all enter, and none is
//! known before the run: 8 in flight is too few over a slow network (the
//! workers idle) and more than needed on loopback (bodies wait in memory).
//! So the window is measured, not guessed, the way TCP sizes its congestion
//! window from what the network tells it.
//!
//! # The rule
//!
//! The signal is the pool's queue, read each time a download completes
//! (its body is in hand, about to be queued):
//!
//! ```text
//!  queued < workers          the pool starves: a worker will soon have
//!                            nothing to do  ─►  window + 1, if full
//!  queued = queue capacity   backlog: pictures wait for a worker; after a
//!                            window's worth of such completions ─► window − 1
//!  in between                just right: no change
//! ```
//!
//! Completions are the only signal once pictures arrive, but before the
//! first one arrives there is none, and over a network that first wait is
//! a round trip that no rule based on completions can shorten. So the
//! window also listens to silence: every [`TICK`] in which no response
//! head arrived and no download completed, while the workers starve and
//! every slot is taken, adds [`SILENCE_STEP`] slots. On loopback heads
//! arrive within a millisecond and the window stays small; 30 ms of
//! silence grows it from 8 to 32: linear in the latency, as the number of
//! downloads needed is.
//!
//! Growing by one per completion while starving doubles the window every
//! round trip (each completion frees one slot and adds one: TCP's slow
//! start), so a slow network is caught up with in a few round trips. It
//! grows only while every slot is taken: a window with free slots (the
//! last inputs of a run) is not what holds the downloads back, and TCP
//! too grows its window only when the window is the limit.
//! Shrinking is slow on purpose: a window too small costs time, every
//! worker idle; one too large costs only memory, and the memory budget
//! (`budget.rs`) caps that anyway. The window starts at [`START`], what
//! loopback needs, and stays within `1..=`[`MAX`].
//!
//! A window is a count of slots: a download takes one before it starts and
//! gives it back once its picture is in the pool's queue (so a picture
//! waiting for room in the queue still holds its slot: back-pressure).
//! Only the loop thread touches it, so its state is a `RefCell`.

use std::cell::RefCell;
use std::time::Duration;

use event_listener::Event;

use crate::wait;

use super::WindowPoint;

/// The adaptive window's size before the first signal.
pub const START: usize = 8;

/// How often the window checks for silence (see [`Window::on_tick`]).
pub(super) const TICK: Duration = Duration::from_millis(5);

/// How many slots a silent [`TICK`] adds: 0.8 per millisecond of silence,
/// what two workers need over a network of ~30 ms with pictures of a few
/// milliseconds of CPU each.
const SILENCE_STEP: usize = 4;

/// The largest the adaptive window grows.
pub const MAX: usize = 128;

/// The download window of one run.
pub(super) struct Window {
    state: RefCell<State>,
    /// Notified when a slot comes free or the window grows.
    room: Event,
    /// `false` when `--concurrency` fixed the size.
    adaptive: bool,
}

struct State {
    size: usize,
    in_flight: usize,
    /// Response heads and completed downloads since the last tick.
    progress: usize,
    /// Completions that met a full queue since the last change.
    backlog: usize,
    /// The size over time, from the start of the run.
    history: Vec<WindowPoint>,
}

/// One download's place in the window; dropping it frees the place.
pub(super) struct Slot<'a> {
    window: &'a Window,
}

/// What the pool's queue looked like when a download completed.
#[derive(Debug, Clone, Copy)]
pub(super) struct QueueReading {
    pub(super) queued: usize,
    pub(super) workers: usize,
    pub(super) capacity: usize,
}

impl Window {
    /// A window fixed at `size` (at least 1), or adaptive from [`START`].
    pub(super) fn new(fixed: Option<usize>) -> Window {
        let size = fixed.map_or(START, |size| size.max(1));
        Window {
            state: RefCell::new(State {
                size,
                in_flight: 0,
                progress: 0,
                backlog: 0,
                history: vec![WindowPoint {
                    at: Duration::ZERO,
                    size,
                }],
            }),
            room: Event::new(),
            adaptive: fixed.is_none(),
        }
    }

    /// Waits for a free slot.
    pub(super) async fn acquire(&self) -> Slot<'_> {
        wait::until(&self.room, || {
            let mut state = self.state.borrow_mut();
            (state.in_flight < state.size).then(|| {
                state.in_flight += 1;
                Slot { window: self }
            })
        })
        .await
    }

    // ANCHOR: control_rule
    /// Applies the control rule to one completed download; `now` dates the
    /// change in the history.
    pub(super) fn on_downloaded(&self, queue: QueueReading, now: Duration) {
        if !self.adaptive {
            return;
        }
        let mut state = self.state.borrow_mut();
        state.progress += 1;
        let size = state.size;
        if queue.queued < queue.workers {
            // The pool starves: one more download in flight, if the
            // window is what holds them back (every slot taken).
            state.backlog = 0;
            if state.in_flight >= size && state.resize(size + 1, now) {
                drop(state);
                // A waiting download may start in the new slot.
                self.room.notify_additional(1);
            }
        } else if queue.queued >= queue.capacity {
            // Backlog: after a window's worth of it, one fewer.
            state.backlog += 1;
            if state.backlog >= size {
                state.backlog = 0;
                state.resize(size - 1, now);
            }
        }
    }

    /// Called every [`TICK`]: a tick in which no response head arrived and
    /// no download completed, while the pool starves and every slot is
    /// taken, is silence: the network's latency, not its bandwidth, holds
    /// the pictures back, and more requests in flight are the only cure.
    /// The window grows by [`SILENCE_STEP`].
    pub(super) fn on_tick(&self, queue: QueueReading, now: Duration) {
        let mut state = self.state.borrow_mut();
        let silent = std::mem::take(&mut state.progress) == 0;
        let size = state.size;
        let starving = queue.queued < queue.workers && state.in_flight >= size;
        if self.adaptive && silent && starving && state.resize(size + SILENCE_STEP, now) {
            drop(state);
            self.room.notify_additional(SILENCE_STEP);
        }
    }
    // ANCHOR_END: control_rule

    /// A response head arrived: the network is answering.
    pub(super) fn on_head(&self) {
        self.state.borrow_mut().progress += 1;
    }

    /// Whether the window adapts (no `--concurrency`).
    pub(super) fn is_adaptive(&self) -> bool {
        self.adaptive
    }

    /// The window's size over the run: its first size at time zero, then
    /// every change.
    pub(super) fn history(&self) -> Vec<WindowPoint> {
        self.state.borrow().history.clone()
    }
}

impl State {
    /// Sets the size within `1..=MAX` and records a change; whether it
    /// changed.
    fn resize(&mut self, size: usize, now: Duration) -> bool {
        let size = size.clamp(1, MAX);
        let changed = size != self.size;
        if changed {
            self.size = size;
            self.history.push(WindowPoint { at: now, size });
        }
        changed
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.window.state.borrow_mut().in_flight -= 1;
        self.window.room.notify_additional(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STARVING: QueueReading = QueueReading {
        queued: 0,
        workers: 2,
        capacity: 4,
    };
    const FULL: QueueReading = QueueReading {
        queued: 4,
        workers: 2,
        capacity: 4,
    };
    const JUST_RIGHT: QueueReading = QueueReading {
        queued: 3,
        workers: 2,
        capacity: 4,
    };

    fn size(window: &Window) -> usize {
        window.state.borrow().size
    }

    /// Takes every slot of `window`, as a run with more inputs does.
    fn fill(window: &Window) {
        let mut state = window.state.borrow_mut();
        state.in_flight = state.size;
    }

    #[test]
    fn grows_by_one_per_starving_completion_up_to_the_maximum() {
        let window = Window::new(None);
        for _ in 0..3 {
            fill(&window);
            window.on_downloaded(STARVING, Duration::ZERO);
        }
        assert_eq!(size(&window), START + 3);
        for _ in 0..1000 {
            fill(&window);
            window.on_downloaded(STARVING, Duration::ZERO);
        }
        assert_eq!(size(&window), MAX);
    }

    #[test]
    fn silence_grows_the_window_and_progress_stops_it() {
        let window = Window::new(None);
        fill(&window);
        window.on_tick(STARVING, Duration::from_millis(10));
        assert_eq!(size(&window), START + SILENCE_STEP);
        fill(&window);
        window.on_head();
        window.on_tick(STARVING, Duration::from_millis(20));
        assert_eq!(size(&window), START + SILENCE_STEP, "a head arrived");
        window.on_tick(JUST_RIGHT, Duration::from_millis(30));
        assert_eq!(size(&window), START + SILENCE_STEP, "the pool is fed");
    }

    #[test]
    fn a_window_with_free_slots_does_not_grow() {
        let window = Window::new(None);
        window.state.borrow_mut().in_flight = START - 1;
        window.on_downloaded(STARVING, Duration::ZERO);
        assert_eq!(size(&window), START);
    }

    #[test]
    fn shrinks_by_one_per_window_of_backlog_down_to_one() {
        let window = Window::new(None);
        for _ in 0..START - 1 {
            window.on_downloaded(FULL, Duration::ZERO);
        }
        assert_eq!(size(&window), START);
        window.on_downloaded(FULL, Duration::from_millis(5));
        assert_eq!(size(&window), START - 1);
        for _ in 0..10_000 {
            window.on_downloaded(FULL, Duration::ZERO);
        }
        assert_eq!(size(&window), 1);
        let history = window.history();
        assert_eq!(history[0].size, START);
        assert_eq!(history[1].at, Duration::from_millis(5));
    }

    #[test]
    fn a_queue_just_right_changes_nothing_and_a_fixed_window_never_moves() {
        let window = Window::new(None);
        for _ in 0..100 {
            window.on_downloaded(JUST_RIGHT, Duration::ZERO);
        }
        assert_eq!(size(&window), START);
        let fixed = Window::new(Some(4));
        for _ in 0..100 {
            fill(&fixed);
            fixed.on_downloaded(STARVING, Duration::ZERO);
        }
        assert_eq!((size(&fixed), fixed.history().len()), (4, 1));
        assert!(!fixed.is_adaptive());
    }

    #[test]
    fn slots_are_limited_by_the_size() {
        let window = Window::new(Some(2));
        let first = futures_lite::future::block_on(window.acquire());
        let _second = futures_lite::future::block_on(window.acquire());
        let third = futures_lite::future::block_on(futures_lite::future::poll_once(
            std::pin::pin!(window.acquire()),
        ));
        assert!(third.is_none(), "a third slot waits");
        drop(first);
        let third = futures_lite::future::block_on(futures_lite::future::poll_once(
            std::pin::pin!(window.acquire()),
        ));
        assert!(third.is_some(), "a freed slot is taken");
    }
}
