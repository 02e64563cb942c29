//! The event loop: spawning, waking from other threads, fairness, panics.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::future::{self, FutureExt};

#[test]
fn one_hundred_thousand_tasks_complete() {
    let done = Rc::new(Cell::new(0u32));
    let total = tandem::block_on({
        let done = Rc::clone(&done);
        async move {
            let tasks: Vec<_> = (0..100_000u64)
                .map(|i| {
                    let done = Rc::clone(&done);
                    tandem::spawn(async move {
                        future::yield_now().await;
                        done.set(done.get() + 1);
                        i
                    })
                })
                .collect();
            let mut total = 0u64;
            for task in tasks {
                total += task.await;
            }
            total
        }
    });
    assert_eq!(done.get(), 100_000);
    assert_eq!(total, (0..100_000u64).sum::<u64>());
}

#[test]
fn a_task_woken_from_a_pool_thread_resumes() {
    let pool = tandem::CpuPool::new(2).unwrap();
    let (thread_name, value) = tandem::block_on(async {
        let job = pool.run(|| {
            std::thread::sleep(Duration::from_millis(20));
            (std::thread::current().name().map(str::to_owned), 7)
        });
        // The task parks on the job's result channel; a worker wakes it.
        tandem::spawn(job).await.unwrap()
    });
    assert_eq!(value, 7);
    assert!(thread_name.unwrap().starts_with("tandem-cpu-"));
}

#[test]
fn a_task_woken_from_a_plain_thread_resumes() {
    let (sender, receiver) = flume::bounded::<u32>(1);
    let got = tandem::block_on(async move {
        let waiter = tandem::spawn(async move { receiver.recv_async().await.unwrap() });
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            sender.send(99).unwrap();
        });
        waiter.await
    });
    assert_eq!(got, 99);
}

#[test]
fn timeout_fires_on_a_pending_future() {
    let started = Instant::now();
    let result = tandem::block_on(tandem::timeout(
        Duration::from_millis(30),
        future::pending::<()>(),
    ));
    assert_eq!(result, Err(tandem::TimedOut(Duration::from_millis(30))));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(30),
        "fired early: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "fired late: {elapsed:?}");
}

#[test]
fn timeout_passes_a_fast_future_through() {
    let result = tandem::block_on(tandem::timeout(Duration::from_secs(5), async { 5 }));
    assert_eq!(result, Ok(5));
}

#[test]
fn a_self_waking_task_does_not_starve_timers_or_other_tasks() {
    // One task yields forever; a timer and another task must still get through.
    let finished = tandem::block_on(async {
        let spinner = tandem::spawn(async {
            loop {
                future::yield_now().await;
            }
        });
        let other = tandem::spawn(async { 1 });
        let timer = tandem::timeout(Duration::from_millis(20), future::pending::<()>());
        let fired = timer.await.is_err();
        let other = other.await;
        drop(spinner); // cancels it
        fired && other == 1
    });
    assert!(finished);
}

#[test]
fn a_panicking_task_resumes_its_panic_in_the_awaiter_and_the_loop_survives() {
    let (survivor, caught) = tandem::block_on(async {
        let survivor = tandem::spawn(async {
            for _ in 0..10 {
                future::yield_now().await;
            }
            "still here"
        });
        let doomed = tandem::spawn(async {
            future::yield_now().await;
            panic!("boom in a task");
        });
        let caught = std::panic::AssertUnwindSafe(doomed).catch_unwind().await;
        (survivor.await, caught)
    });
    assert_eq!(survivor, "still here");
    let payload = caught.expect_err("awaiting the task resumes its panic");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in a task"));
}

#[test]
fn a_detached_panicking_task_does_not_stop_the_loop() {
    let value = tandem::block_on(async {
        tandem::spawn(async { panic!("detached boom") }).detach();
        for _ in 0..5 {
            future::yield_now().await;
        }
        tandem::spawn(async { 3 }).await
    });
    assert_eq!(value, 3);
}

#[test]
fn dropping_a_task_cancels_it() {
    let ran = Rc::new(Cell::new(false));
    tandem::block_on({
        let ran = Rc::clone(&ran);
        async move {
            let task = tandem::spawn(async move {
                async_io::Timer::after(Duration::from_millis(50)).await;
                ran.set(true);
            });
            future::yield_now().await;
            drop(task);
            async_io::Timer::after(Duration::from_millis(100)).await;
        }
    });
    assert!(!ran.get());
}

#[test]
fn detached_tasks_run_on() {
    let ran = Rc::new(Cell::new(false));
    tandem::block_on({
        let ran = Rc::clone(&ran);
        async move {
            tandem::spawn(async move { ran.set(true) }).detach();
            async_io::Timer::after(Duration::from_millis(10)).await;
        }
    });
    assert!(ran.get());
}

#[test]
fn nested_block_on_has_its_own_queue_and_restores_the_outer_one() {
    let result = tandem::block_on(async {
        let inner = tandem::block_on(async { tandem::spawn(async { 2 }).await });
        // `spawn` still reaches the outer loop after the inner one returned.
        tandem::spawn(async move { inner * 21 }).await
    });
    assert_eq!(result, 42);
}

#[test]
#[should_panic(expected = "tandem::spawn must be called inside tandem::block_on")]
fn spawn_outside_block_on_panics_clearly() {
    drop(tandem::spawn(async {}));
}

/// Sets its flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn unfinished_tasks_are_cancelled_before_block_on_returns() {
    let dropped = Rc::new(Cell::new(false));
    tandem::block_on({
        let flag = DropFlag(Rc::clone(&dropped));
        async move {
            tandem::spawn(async move {
                let _flag = flag;
                future::pending::<()>().await;
            })
            .detach();
            future::yield_now().await;
        }
    });
    assert!(
        dropped.get(),
        "the pending task's future was dropped on the loop thread"
    );
}

#[test]
fn a_task_left_waiting_for_a_cpu_job_does_not_hurt_the_worker_that_answers_later() {
    // The loop ends while a detached task awaits a job. The task must be
    // cancelled here: if the worker's answer woke it later, the task's
    // future would be dropped on the worker thread, which panics.
    let pool = tandem::CpuPool::new(1).unwrap();
    let (release, gate) = flume::bounded::<()>(1);
    tandem::block_on(async {
        let job = pool.run(move || gate.recv_timeout(Duration::from_secs(5)).is_ok());
        tandem::spawn(job).detach();
        // Let the job reach the worker.
        async_io::Timer::after(Duration::from_millis(20)).await;
    });
    release.send(()).unwrap();
    // The worker finishes the job and lives on to serve the next one.
    let next = tandem::block_on(tandem::timeout(Duration::from_secs(5), pool.run(|| 5)));
    assert_eq!(next, Ok(Ok(5)), "the worker survived");
    let stats = pool.shutdown();
    assert_eq!(stats.completed, 2);
}

#[test]
fn a_wake_racing_the_end_of_the_loop_neither_panics_nor_aborts() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Poll, Waker};

    // A plain thread wakes a waiting task at the moment its loop ends. Now
    // and then the wake marks the task scheduled just before the loop
    // cancels it and sends the runnable just after the queue is gone: that
    // runnable must not be dropped (with the task's future) on the waking
    // thread. Bounded: 2,000 rounds of a few microseconds each.
    for _ in 0..2_000 {
        let ending = Arc::new(AtomicBool::new(false));
        let (waker_sender, waker_receiver) = std::sync::mpsc::channel::<Waker>();
        let waking_thread = {
            let ending = Arc::clone(&ending);
            std::thread::spawn(move || {
                let Ok(waker) = waker_receiver.recv() else {
                    return;
                };
                let deadline = Instant::now() + Duration::from_secs(5);
                while !ending.load(Ordering::Acquire) && Instant::now() < deadline {
                    std::hint::spin_loop();
                }
                waker.wake();
            })
        };
        tandem::block_on(async move {
            let mut waker_sender = Some(waker_sender);
            tandem::spawn(future::poll_fn(move |cx| {
                if let Some(sender) = waker_sender.take() {
                    sender
                        .send(cx.waker().clone())
                        .expect("the waking thread waits for it");
                }
                Poll::<()>::Pending
            }))
            .detach();
            future::yield_now().await;
            ending.store(true, Ordering::Release);
        });
        waking_thread
            .join()
            .expect("the waking thread must not panic when the loop has ended");
    }
}
