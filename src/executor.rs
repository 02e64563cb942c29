//! The event loop: a single-threaded executor parked on the async-io reactor.
//!
//! # Why
//!
//! Python's `asyncio.run(main())` starts one thread's event loop: it runs
//! coroutines until they wait, and while every coroutine waits it sleeps in
//! the operating system's I/O poller (epoll, kqueue) until a socket, a timer
//! or another thread has something for it. [`block_on`] is that loop.
//!
//! It is small on purpose, so that it can be read in one sitting. The heavy
//! lifting is done by three crates, each doing one job (two of them,
//! async-task and async-io, are smol's building blocks):
//!
//! * [`async_task`] allocates a task: the future, its output slot and its
//!   reference count, in one allocation. Waking a task produces a
//!   [`Runnable`]; running it polls the future once.
//! * a [`flume`] channel is the **run queue**. A task's waker sends its
//!   `Runnable` into it, from any thread: the loop thread itself, a CPU pool
//!   worker, a `blocking` thread, or the async-io reactor.
//! * [`async_io::block_on`] drives the loop future. When the loop has nothing
//!   to run it parks the thread *inside the reactor* (epoll_wait), so a
//!   readable socket, an expired timer, or a runnable sent from another
//!   thread wakes it up.
//!
//! # How
//!
//! ```text
//!            waker.wake() (any thread)
//!   task ───────────────► flume run queue ──► loop thread: runnable.run()
//!    ▲                                              │
//!    └────────────── future polled once ◄───────────┘
//!   when the queue is empty: async_io::block_on sleeps in epoll_wait
//! ```
//!
//! Fairness: the loop runs at most [`BATCH`] runnables, then yields to
//! `async_io::block_on`, which checks the reactor for ready sockets and
//! timers before polling again. A task that wakes itself forever therefore
//! cannot starve I/O or the other tasks.
//!
//! Everything here runs on one thread, so spawned futures need not be `Send`.
//! CPU-heavy work must not run here: hand it to a [`CpuPool`](crate::CpuPool).
//!
//! # Where the design comes from
//!
//! * [`spawn`] is the recipe of async-task's `examples/spawn-local.rs`:
//!   `spawn_local` with a schedule closure that pushes the runnable into a
//!   queue, and a loop that takes runnables out and runs them.
//! * The loop's shape follows smol-rs/async-executor: run a batch of tasks,
//!   then yield so the reactor is polled (its `run` and `tick`), and keep the
//!   live tasks so that ending the loop cancels them.
//! * A pool job's future holds an `AnswerDueSoon` guard, so that the loop
//!   waits awake for its answer (see [`crate::spin`]).

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::Waker;

use async_task::{Builder, Runnable};
use futures_lite::future::{self, FutureExt};

pub use async_task::Task;

use crate::spin::{ExpectedWakeupCount, SpinBeforeSleep};

/// How many runnables the loop runs before it lets the reactor look for I/O.
///
/// Small enough that sockets and timers are served within a few hundred task
/// polls, large enough that the reactor's syscall is amortised over many.
pub const BATCH: usize = 128;

thread_local! {
    /// The loop currently running on this thread, if any: `spawn` pushes
    /// new tasks into its run queue.
    static CURRENT: RefCell<Option<LoopHandle>> = const { RefCell::new(None) };
}

/// What code running on the loop may reach: the run queue, the loop's
/// unfinished tasks, and the count of wakeups expected from other threads
/// (see [`crate::spin`]).
#[derive(Clone)]
struct LoopHandle {
    /// The sending end of the run queue: what a task's waker pushes into.
    run_queue: flume::Sender<Runnable>,
    tasks: Rc<RefCell<LiveTasks>>,
    expected_wakeups: ExpectedWakeupCount,
}

/// Runs `future` and every task spawned inside it on the current thread,
/// until `future` completes; returns its output.
///
/// This is `asyncio.run(main())`. Tasks still unfinished when `future`
/// completes are cancelled before `block_on` returns: their futures are
/// dropped here, on the loop's thread, whatever they were waiting for.
///
/// # Examples
///
/// ```
/// let answer = tandem::block_on(async {
///     let task = tandem::spawn(async { 6 * 7 });
///     task.await
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    let (run_queue_sender, run_queue) = flume::unbounded();
    let tasks = Rc::new(RefCell::new(LiveTasks::default()));
    let expected_wakeups = ExpectedWakeupCount::default();
    // ANCHOR: nested
    // Install this loop for `spawn`, restoring any outer loop afterwards (a
    // nested `block_on` gets its own queue).
    let handle = LoopHandle {
        run_queue: run_queue_sender,
        tasks: Rc::clone(&tasks),
        expected_wakeups: expected_wakeups.clone(),
    };
    let outer = CURRENT.with(|current| current.replace(Some(handle)));
    let _restore = RestoreOnDrop(outer);
    // ANCHOR_END: nested
    let unfinished = CancelUnfinishedOnDrop { run_queue, tasks };
    async_io::block_on(SpinBeforeSleep::new(
        run(&unfinished.run_queue, future),
        expected_wakeups,
    ))
}

/// Spawns a task onto the loop running on this thread and returns its handle.
///
/// The task starts running at the loop's next turn. Awaiting the [`Task`]
/// gives its output; dropping the `Task` cancels it; [`Task::detach`] lets it
/// run on unobserved. A panic inside the task is caught: the loop and its
/// other tasks keep running, the panic message is printed by the panic hook,
/// and awaiting the task resumes the panic in the awaiting task.
///
/// # Panics
///
/// Panics when called outside [`block_on`] (for example on a CPU pool worker).
///
/// # Examples
///
/// ```
/// tandem::block_on(async {
///     let tasks: Vec<_> = (0..10).map(|i| tandem::spawn(async move { i * i })).collect();
///     let squares = tandem::join_all(tasks).await;
///     assert_eq!(squares[9], 81);
/// });
/// ```
pub fn spawn<T: 'static>(future: impl Future<Output = T> + 'static) -> Task<T> {
    let (sender, tasks) = CURRENT.with(|current| {
        let current = current.borrow();
        let handle = current
            .as_ref()
            .expect("tandem::spawn must be called inside tandem::block_on");
        (handle.run_queue.clone(), Rc::clone(&handle.tasks))
    });
    // The first time the task waits, it is listed among the loop's
    // unfinished tasks, with its waker, until its future is dropped:
    // finished, cancelled or panicked. A task that finishes on its first
    // poll never touches the list.
    let future = async move {
        let mut listed: Option<Listed> = None;
        let mut future = pin!(future);
        future::poll_fn(|cx| {
            let poll = future.as_mut().poll(cx);
            if poll.is_pending() && listed.is_none() {
                listed = Some(Listed::new(Rc::clone(&tasks), cx.waker()));
            }
            poll
        })
        .await
    };
    // async-task's spawn-local recipe. The schedule function is what a
    // waker calls: push the runnable into the run queue. The loop cancels
    // every unfinished task before it drops the queue, and waking a
    // cancelled task schedules nothing, so the send fails only in one race:
    // another thread (a pool worker, async-io's timer thread) woke the task
    // just before the loop ended, and its send arrives after the queue is
    // gone. Dropping that runnable here would drop the task's future on a
    // thread that did not spawn it, which async-task turns into a panic
    // (an abort, inside a waker); so it is leaked instead.
    // ANCHOR: spawn_recipe
    let schedule = move |runnable: Runnable| {
        if let Err(flume::SendError(runnable)) = sender.send(runnable) {
            std::mem::forget(runnable);
        }
    };
    let (runnable, task) = Builder::new()
        .propagate_panic(true)
        .spawn_local(move |()| future, schedule);
    runnable.schedule();
    // ANCHOR_END: spawn_recipe
    task
}

/// The loop itself: poll `future`; between its polls, run queued tasks, a
/// batch at a time (async-executor's `run`, whose `tick` is one runnable).
// ANCHOR: run
async fn run<T>(run_queue: &flume::Receiver<Runnable>, future: impl Future<Output = T>) -> T {
    let run_tasks = async {
        loop {
            for _ in 0..BATCH {
                let runnable = match run_queue.try_recv() {
                    Ok(runnable) => runnable,
                    // Empty: register the loop's waker with the channel; the
                    // whole loop sleeps in the reactor until a task is woken.
                    Err(_) => run_queue
                        .recv_async()
                        .await
                        .expect("the loop holds a sender in CURRENT"),
                };
                runnable.run();
            }
            // Let async_io::block_on poll the reactor before the next batch.
            future::yield_now().await;
        }
    };
    // `or` polls `future` first, so the main future is served every turn.
    future.or(run_tasks).await
}
// ANCHOR_END: run

/// The loop's unfinished tasks, as wakers: all the loop needs to cancel
/// them when it ends (async-executor's `active` slab of wakers, drained when
/// the executor is dropped). A slot is reused once its task is gone.
#[derive(Default)]
struct LiveTasks {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

/// Keeps a task listed in [`LiveTasks`] while its future exists.
struct Listed {
    tasks: Rc<RefCell<LiveTasks>>,
    index: usize,
}

impl Listed {
    fn new(tasks: Rc<RefCell<LiveTasks>>, waker: &Waker) -> Listed {
        let index = {
            let mut live = tasks.borrow_mut();
            let waker = Some(waker.clone());
            match live.free.pop() {
                Some(index) => {
                    live.wakers[index] = waker;
                    index
                }
                None => {
                    live.wakers.push(waker);
                    live.wakers.len() - 1
                }
            }
        };
        Listed { tasks, index }
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        let mut live = self.tasks.borrow_mut();
        // While the loop ends, the list has been emptied already.
        if let Some(slot) = live.wakers.get_mut(self.index) {
            *slot = None;
            live.free.push(self.index);
        }
    }
}

/// Cancels every unfinished task when `block_on` returns or unwinds.
///
/// Each task is woken, which puts its runnable in the queue, and every
/// queued runnable is then dropped, which cancels its task and drops its
/// future, here on the loop's thread. Without this, a task waiting for a
/// CPU job would be dropped by whichever thread woke it later, and
/// async-task forbids dropping a local task's future on another thread.
/// It also breaks a cycle: a queued runnable owns its task, whose schedule
/// function owns a sender of this very queue.
struct CancelUnfinishedOnDrop {
    run_queue: flume::Receiver<Runnable>,
    tasks: Rc<RefCell<LiveTasks>>,
}

// ANCHOR: cancel
impl Drop for CancelUnfinishedOnDrop {
    fn drop(&mut self) {
        let wakers = std::mem::take(&mut self.tasks.borrow_mut().wakers);
        for waker in wakers.into_iter().flatten() {
            waker.wake();
        }
        // Dropping a task may wake another one, which lands here too.
        while let Ok(runnable) = self.run_queue.try_recv() {
            drop(runnable);
        }
    }
}
// ANCHOR_END: cancel

/// Held by a future, on the loop's thread, while it awaits an answer that
/// another thread usually sends within microseconds (a [`CpuPool`] job's):
/// while any such guard is held, the loop spins briefly before it sleeps
/// (see [`crate::spin`]).
///
/// [`CpuPool`]: crate::CpuPool
pub(crate) struct AnswerDueSoon(Option<ExpectedWakeupCount>);

impl AnswerDueSoon {
    /// Counts one expected wakeup for the loop running on this thread, if
    /// any (outside a tandem loop the guard does nothing).
    pub(crate) fn new() -> AnswerDueSoon {
        let count = CURRENT.with(|current| {
            let current = current.borrow();
            current
                .as_ref()
                .map(|handle| handle.expected_wakeups.clone())
        });
        if let Some(count) = &count {
            count.increment();
        }
        AnswerDueSoon(count)
    }
}

impl Drop for AnswerDueSoon {
    fn drop(&mut self) {
        if let Some(count) = &self.0 {
            count.decrement();
        }
    }
}

/// Puts back the outer loop (or none) when `block_on` returns or unwinds.
struct RestoreOnDrop(Option<LoopHandle>);

impl Drop for RestoreOnDrop {
    fn drop(&mut self) {
        let outer = self.0.take();
        CURRENT.with(|current| *current.borrow_mut() = outer);
    }
}
