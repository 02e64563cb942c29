//! A complete executor in about 40 lines: the recipe tandem's loop grows from.
//!
//! A run queue per thread, `spawn` through async-task, a schedule function
//! that puts a woken task back in the queue, and a loop that runs what is
//! queued and parks the thread when nothing is. It follows async-task's own
//! `spawn-local` example; docs/02-first-executor.md reads it line by line,
//! and docs/03-the-loop.md shows what `src/executor.rs` adds.
//!
//! Run with: `cargo run --example 00_first_executor`

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::thread;

use async_task::{Runnable, Task};

// ANCHOR: queue
thread_local! {
    /// This thread's run queue: a woken task waits here until the loop runs it.
    static QUEUE: (flume::Sender<Runnable>, flume::Receiver<Runnable>) = flume::unbounded();
}
// ANCHOR_END: queue

// ANCHOR: spawn
/// Starts `future` as a task on this thread's loop.
fn spawn<T: 'static>(future: impl Future<Output = T> + 'static) -> Task<T> {
    let sender = QUEUE.with(|(sender, _)| sender.clone());
    let loop_thread = thread::current();
    // What the task's waker calls, from whichever thread wakes it.
    let schedule = move |runnable: Runnable| {
        let _ = sender.send(runnable);
        loop_thread.unpark();
    };
    let (runnable, task) = async_task::spawn_local(future, schedule);
    runnable.schedule();
    task
}
// ANCHOR_END: spawn

// ANCHOR: block_on
/// Runs `future` and the tasks it spawns until `future` is done.
fn block_on<T: 'static>(future: impl Future<Output = T> + 'static) -> T {
    let mut main = spawn(future);
    loop {
        while let Ok(runnable) = QUEUE.with(|(_, queue)| queue.try_recv()) {
            runnable.run();
        }
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(output) = Pin::new(&mut main).poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}
// ANCHOR_END: block_on

// ANCHOR: main
fn main() {
    let answer = block_on(async {
        let (sender, receiver) = flume::bounded(1);
        thread::spawn(move || sender.send((1..=20u64).product::<u64>()));
        let greeting = spawn(async { "a spawned task ran on the loop thread" });
        println!("{}", greeting.await);
        receiver.recv_async().await.expect("the thread sends once")
    });
    println!("20! = {answer}");
}
// ANCHOR_END: main
