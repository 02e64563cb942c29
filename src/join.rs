//! Waiting for many things at once: `gather`, timeouts, bounded concurrency.
//!
//! # Why
//!
//! `asyncio.gather(*aws)` waits for many awaitables together and returns
//! their results in the order given; with `return_exceptions=True` a failure
//! is one more result instead of an exception that abandons the rest. In
//! tandem, results are values, so [`join_all`] over futures of `Result` *is*
//! `return_exceptions=True`; [`try_join_all`] is plain `gather`, which stops
//! at the first error. [`timeout`] is `asyncio.wait_for`, and [`Semaphore`]
//! is `asyncio.Semaphore`, the usual way to cap requests in flight.
//!
//! # How
//!
//! A naive join polls every future each time any one of them is woken: with
//! ten thousand futures that is a hundred million polls. Here each future
//! gets its own waker, which records the future's index in a shared *ready
//! list* before waking the joining task; a poll then visits only the futures
//! on that list.

use std::future::Future;
use std::ops::ControlFlow;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use std::{fmt, mem};

use event_listener::Event;
use futures_lite::future;

use crate::wait;

/// Waits for every future and returns their outputs in the order given:
/// `asyncio.gather(*futures)`.
///
/// With futures of `Result`, every failure is kept in its place, as with
/// `gather(..., return_exceptions=True)`.
///
/// ```
/// let doubled = tandem::block_on(tandem::join_all((1..=3).map(|i| async move { i * 2 })));
/// assert_eq!(doubled, vec![2, 4, 6]);
/// ```
pub async fn join_all<I>(futures: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    let futures: Vec<_> = futures.into_iter().collect();
    let mut outputs: Vec<Option<_>> = futures.iter().map(|_| None).collect();
    let _: Option<()> = drive(futures, |index, output| {
        outputs[index] = Some(output);
        ControlFlow::Continue(())
    })
    .await;
    outputs
        .into_iter()
        .map(|output| output.expect("drive returns only when every future is done"))
        .collect()
}

/// Waits for every future, or for the first error: plain `asyncio.gather`.
///
/// On the first `Err` the remaining futures are dropped (cancelled) and the
/// error is returned.
///
/// ```
/// let all = tandem::block_on(tandem::try_join_all((1..=2).map(|i| async move { Ok::<_, String>(i) })));
/// assert_eq!(all, Ok(vec![1, 2]));
/// let first_error = tandem::block_on(tandem::try_join_all(
///     (1..=3).map(|i| async move { if i == 2 { Err(format!("item {i}")) } else { Ok(i) } }),
/// ));
/// assert_eq!(first_error, Err("item 2".to_string()));
/// ```
pub async fn try_join_all<I, T, E>(futures: I) -> Result<Vec<T>, E>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let futures: Vec<_> = futures.into_iter().collect();
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    let first_error = drive(futures, |index, output| match output {
        Ok(value) => {
            outputs[index] = Some(value);
            ControlFlow::Continue(())
        }
        Err(error) => ControlFlow::Break(error),
    })
    .await;
    match first_error {
        Some(error) => Err(error),
        None => Ok(outputs.into_iter().flatten().collect()),
    }
}

/// Polls `futures` together, handing each output to `on_ready` with its
/// index as soon as it is ready. Stops early, returning the value, when
/// `on_ready` breaks; returns `None` when every future is done.
async fn drive<F, B>(
    futures: Vec<F>,
    mut on_ready: impl FnMut(usize, F::Output) -> ControlFlow<B>,
) -> Option<B>
where
    F: Future,
{
    let mut slots: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let ready = Arc::new(ReadyList {
        indices: Mutex::new((0..slots.len()).collect()),
        listed: (0..slots.len()).map(|_| AtomicBool::new(true)).collect(),
        parent: Mutex::new(None),
    });
    let wakers: Vec<Waker> = (0..slots.len())
        .map(|index| {
            Waker::from(Arc::new(SlotWaker {
                index,
                ready: Arc::clone(&ready),
            }))
        })
        .collect();
    let mut pending = slots.len();

    // ANCHOR: drive_round
    future::poll_fn(|cx| {
        *lock(&ready.parent) = Some(cx.waker().clone());
        // One round over the futures woken so far. A future woken again
        // meanwhile wakes this task through the parent waker, so the loop
        // gets a turn before the next round: no joined future can starve it.
        let woken = mem::take(&mut *lock(&ready.indices));
        for index in woken {
            // Off the list before the poll, so a wake during it lists it again.
            ready.listed[index].store(false, Ordering::Release);
            // A slot may be woken again after it finished: skip it.
            let Some(slot) = slots[index].as_mut() else {
                continue;
            };
            let mut slot_cx = Context::from_waker(&wakers[index]);
            if let Poll::Ready(output) = slot.as_mut().poll(&mut slot_cx) {
                slots[index] = None;
                pending -= 1;
                if let ControlFlow::Break(value) = on_ready(index, output) {
                    return Poll::Ready(Some(value));
                }
            }
        }
        if pending == 0 {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    })
    // ANCHOR_END: drive_round
    .await
}

/// The indices of the futures woken since the last poll, and the waker of
/// the task doing the joining.
// ANCHOR: ready_list
struct ReadyList {
    indices: Mutex<Vec<usize>>,
    /// Whether each index is on `indices` already: a future woken twice
    /// before the next poll is listed, and polled, once.
    listed: Vec<AtomicBool>,
    parent: Mutex<Option<Waker>>,
}

/// The waker one joined future sees: "future `index` is ready to poll".
struct SlotWaker {
    index: usize,
    ready: Arc<ReadyList>,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.ready.listed[self.index].swap(true, Ordering::AcqRel) {
            return; // listed already, and the joining task woken for it
        }
        lock(&self.ready.indices).push(self.index);
        if let Some(parent) = lock(&self.ready.parent).as_ref() {
            parent.wake_by_ref();
        }
    }
}
// ANCHOR_END: ready_list

/// Locks one of a [`ReadyList`]'s mutexes. They are held for one push,
/// take or store and never while a future runs, so a panic cannot leave
/// them half-updated: a poisoned lock is used as it is (and no formatted
/// `unwrap` message is compiled in).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The error of [`timeout`]: the time ran out first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut(pub Duration);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {:?}", self.0)
    }
}

impl std::error::Error for TimedOut {}

/// Runs `future` for at most `duration`: `asyncio.wait_for`.
///
/// When time runs out the future is dropped (cancelled) and
/// `Err(TimedOut)` is returned. The clock is async-io's `Timer`, served by
/// the reactor the loop sleeps in.
///
/// ```
/// use std::time::Duration;
/// let slow = futures_lite::future::pending::<()>();
/// let result = tandem::block_on(tandem::timeout(Duration::from_millis(10), slow));
/// assert!(result.is_err());
/// ```
// ANCHOR: timeout
pub async fn timeout<T>(
    duration: Duration,
    future: impl Future<Output = T>,
) -> Result<T, TimedOut> {
    let mut future = pin!(future);
    let mut timer = async_io::Timer::after(duration);
    // The future first, so an answer that is ready when time runs out wins.
    future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            Poll::Ready(Ok(output))
        } else if Pin::new(&mut timer).poll(cx).is_ready() {
            Poll::Ready(Err(TimedOut(duration)))
        } else {
            Poll::Pending
        }
    })
    .await
}
// ANCHOR_END: timeout

/// A counting semaphore: at most `permits` holders at once
/// (`asyncio.Semaphore`).
///
/// The free permits are a counter; a task that finds none waits on an
/// [`event_listener::Event`] that every released permit notifies. Waiting
/// costs O(1) however many tasks wait: a pipeline of 100,000 URLs behind a
/// semaphore of 8 has 99,992 waiters. (A bounded channel of permit tokens
/// reads nicely, but flume removes a dropped waiter by scanning all the
/// others: quadratic with that many.) Waiters are woken in the order they
/// started waiting, though a new `acquire` may take a permit released
/// meanwhile: fair in practice, not strictly first come, first served.
///
/// ```
/// let limit = tandem::Semaphore::new(2);
/// tandem::block_on(async {
///     let _a = limit.acquire().await;
///     let _b = limit.acquire().await;
///     assert!(limit.try_acquire().is_none());
/// });
/// ```
// ANCHOR: semaphore
pub struct Semaphore {
    free: AtomicUsize,
    released: Event,
}
// ANCHOR_END: semaphore

/// Proof of holding one permit of a [`Semaphore`]; dropping it releases it.
#[derive(Debug)]
pub struct Permit<'a> {
    semaphore: &'a Semaphore,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            free: AtomicUsize::new(permits),
            released: Event::new(),
        }
    }

    /// Waits for a permit.
    pub async fn acquire(&self) -> Permit<'_> {
        // Every released permit notifies `released` (see `Permit`'s drop).
        wait::until(&self.released, || self.try_acquire()).await
    }

    /// Takes a permit if one is free now.
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.free
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |free| {
                free.checked_sub(1)
            })
            .ok()
            .map(|_| Permit { semaphore: self })
    }

    /// How many permits are free now.
    pub fn available(&self) -> usize {
        self.free.load(Ordering::Acquire)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.semaphore.free.fetch_add(1, Ordering::AcqRel);
        // One more waiter may proceed: wake one that was not woken yet.
        self.semaphore.released.notify_additional(1);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available())
            .finish()
    }
}
