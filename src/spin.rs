//! Spinning before sleeping: how a CPU job's answer reaches the loop in
//! microseconds.
//!
//! # Why
//!
//! When the loop has nothing to run, `async_io::block_on` puts the thread to
//! sleep in `epoll_wait`. A worker thread that then finishes a job must wake
//! it: its waker writes to the reactor's eventfd, the kernel wakes the loop
//! thread, and the scheduler puts it back on a core. On the machines we
//! measured that path costs several microseconds, more than the job itself
//! when jobs are small (docs/performance.md).
//!
//! If the loop *knows* an answer is due shortly, it is cheaper to wait
//! awake for a moment: the worker's wake then only flips a flag, and no
//! syscall happens on either side.
//!
//! # How
//!
//! * A future that awaits another thread's quick answer (a [`CpuPool`] job)
//!   holds an `AnswerDueSoon` guard while it waits; the executor hands it
//!   out, because the guard raises the `ExpectedWakeupCount` of the loop
//!   running on its thread. This file only reads that count: it imports
//!   nothing from the rest of the crate.
//! * `SpinBeforeSleep` wraps the loop's future. It polls it with a waker
//!   that records "woken" before passing the wake on. When the poll ends
//!   pending, nothing woke it meanwhile, and a guard is held, it spins for
//!   up to [`LOOP_SPIN`] watching that record before it lets the thread go
//!   to sleep.
//! * Either way it then returns to `async_io::block_on`, which, having been
//!   woken, checks the reactor without blocking and polls again. The spin
//!   therefore never keeps sockets and timers waiting for more than
//!   [`LOOP_SPIN`], and a loop with no guard held never spins at all: an idle
//!   loop costs no CPU.
//!
//! [`CpuPool`]: crate::CpuPool

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// How long the loop waits awake for an expected wakeup before it sleeps.
pub const LOOP_SPIN: Duration = Duration::from_micros(50);

/// How many answers the loop is waiting for that another thread usually
/// sends within microseconds. Clones share one count: the loop reads it,
/// the futures waiting for such answers raise and lower it.
#[derive(Clone, Default)]
pub(crate) struct ExpectedWakeupCount(Arc<AtomicUsize>);

impl ExpectedWakeupCount {
    /// One more answer is due soon.
    pub(crate) fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// An answer came, or its waiter gave up.
    pub(crate) fn decrement(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }

    fn any(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 0
    }
}

/// The loop's future, polled so that it spins briefly before sleeping when
/// a wakeup is expected.
pub(crate) struct SpinBeforeSleep<F> {
    future: Pin<Box<F>>,
    expected: ExpectedWakeupCount,
    /// The waker handed to `future`; rebuilt if the outer waker changes.
    waker: Option<(Arc<RecordingWaker>, Waker)>,
}

impl<F: Future> SpinBeforeSleep<F> {
    pub(crate) fn new(future: F, expected: ExpectedWakeupCount) -> Self {
        SpinBeforeSleep {
            future: Box::pin(future),
            expected,
            waker: None,
        }
    }
}

impl<F: Future> Future for SpinBeforeSleep<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let current =
            matches!(&this.waker, Some((record, _)) if record.outer.will_wake(cx.waker()));
        if !current {
            let record = Arc::new(RecordingWaker {
                woken: AtomicBool::new(false),
                outer: cx.waker().clone(),
            });
            this.waker = Some((Arc::clone(&record), Waker::from(record)));
        }
        let (record, waker) = this.waker.as_ref().expect("set just above");
        // ANCHOR: spin_before_sleep
        record.woken.store(false, Ordering::SeqCst);
        let poll = this.future.as_mut().poll(&mut Context::from_waker(waker));
        if poll.is_pending() && this.expected.any() && !record.woken.load(Ordering::SeqCst) {
            spin_for(LOOP_SPIN, || {
                record.woken.load(Ordering::Acquire).then_some(())
            });
        }
        poll
        // ANCHOR_END: spin_before_sleep
    }
}

/// Calls `attempt` until it gives a value or `limit` has passed.
///
/// Between attempts it mostly executes the CPU's spin-wait hint; every few
/// rounds it yields the core instead, because on a busy machine the thread
/// we wait for may be waiting for a core, and spinning would only keep it
/// out.
pub(crate) fn spin_for<T>(limit: Duration, mut attempt: impl FnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    for round in 1u32.. {
        if let Some(value) = attempt() {
            return Some(value);
        }
        if started.elapsed() >= limit {
            break;
        }
        if round % 16 == 0 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
    None
}

/// Notes that a wake happened, then passes it on to the outer waker
/// (`async_io::block_on`'s, which unparks the thread or interrupts epoll).
struct RecordingWaker {
    woken: AtomicBool,
    outer: Waker,
}

impl Wake for RecordingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.outer.wake_by_ref();
    }
}
