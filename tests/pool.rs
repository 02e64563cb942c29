//! The CPU pool: results, panics, back-pressure, cancellation, shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_lite::future;

#[test]
fn zero_workers_is_an_error_not_a_hang() {
    assert!(matches!(
        tandem::CpuPool::new(0),
        Err(tandem::PoolError::ZeroWorkers)
    ));
    assert!(matches!(
        tandem::CpuPool::builder().workers(0).queue(4).build(),
        Err(tandem::PoolError::ZeroWorkers)
    ));
}

#[test]
fn the_seed_program_runs_cpu_work_off_the_loop() {
    let pool = tandem::CpuPool::new(2).unwrap();
    let loop_thread = std::thread::current().id();
    let (result, job_thread) = tandem::block_on(async {
        pool.run(move || {
            let sum: u64 = (0..1_000_000u64).map(|i| i * i).sum();
            (sum + 42, std::thread::current().id())
        })
        .await
        .unwrap()
    });
    assert_eq!(result, 333_332_833_333_500_042);
    assert_ne!(
        job_thread, loop_thread,
        "CPU work must never run on the loop thread"
    );
}

#[test]
fn a_panic_becomes_job_error_and_the_next_thousand_jobs_succeed() {
    let pool = tandem::CpuPool::new(2).unwrap();
    tandem::block_on(async {
        let failed = pool.run(|| -> u32 { panic!("bad input {}", 7) }).await;
        assert_eq!(
            failed,
            Err(tandem::JobError::Panicked("bad input 7".to_string()))
        );

        let jobs = (0..1_000u32).map(|i| pool.run(move || i * 2));
        let results = tandem::join_all(jobs).await;
        for (i, result) in results.into_iter().enumerate() {
            assert_eq!(result, Ok(i as u32 * 2));
        }
    });
    let stats = pool.stats();
    assert_eq!(stats.panicked, 1);
    assert_eq!(stats.completed, 1_000);
    assert_eq!(stats.live_workers, 2, "the pool never loses a thread");
}

#[test]
fn ten_thousand_jobs_through_a_queue_of_four_each_get_their_own_result() {
    let pool = tandem::CpuPool::builder()
        .workers(2)
        .queue(4)
        .build()
        .unwrap();
    assert_eq!(pool.queue_capacity(), 4);
    let results = tandem::block_on(tandem::join_all(
        (0..10_000u64).map(|i| pool.run(move || i * i + 1)),
    ));
    assert_eq!(results.len(), 10_000);
    for (i, result) in results.into_iter().enumerate() {
        let i = i as u64;
        assert_eq!(result, Ok(i * i + 1));
    }
}

#[test]
fn back_pressure_bounds_the_queue() {
    // One worker held busy by a gate; the queue holds two jobs; the rest of
    // the submitters must wait, not pile up.
    let pool = tandem::CpuPool::builder()
        .workers(1)
        .queue(2)
        .build()
        .unwrap();
    let (open_gate, gate) = flume::bounded::<()>(0);
    let started = Arc::new(AtomicUsize::new(0));
    tandem::block_on(async {
        let blocker = tandem::spawn(pool.run(move || gate.recv().unwrap()));
        let submitters: Vec<_> = (0..10)
            .map(|_| {
                let started = Arc::clone(&started);
                tandem::spawn(pool.run(move || started.fetch_add(1, Ordering::SeqCst)))
            })
            .collect();
        // Give every submitter a chance to enqueue what it can.
        async_io::Timer::after(Duration::from_millis(50)).await;
        assert_eq!(
            started.load(Ordering::SeqCst),
            0,
            "the worker is held by the gate"
        );
        open_gate.send_async(()).await.unwrap();
        blocker.await.unwrap();
        let results = tandem::join_all(submitters).await;
        assert!(results.iter().all(Result::is_ok));
    });
    assert_eq!(started.load(Ordering::SeqCst), 10);
}

#[test]
fn submit_returns_once_queued_and_waits_while_the_queue_is_full() {
    let pool = tandem::CpuPool::builder()
        .workers(1)
        .queue(1)
        .build()
        .unwrap();
    let (open_gate, gate) = flume::bounded::<()>(0);
    tandem::block_on(async {
        // Queued (and soon running), held by the gate: not answered yet.
        let blocker = pool.submit(move || gate.recv().unwrap()).await;
        // The one queue slot.
        let queued = pool.submit(|| 2).await;
        // No room left: submitting waits.
        let no_room = tandem::timeout(Duration::from_millis(50), pool.submit(|| 3)).await;
        assert!(no_room.is_err(), "the queue is full");
        open_gate.send_async(()).await.unwrap();
        blocker.await.unwrap();
        assert_eq!(queued.await, Ok(2));
        assert_eq!(pool.submit(|| 4).await.await, Ok(4));
    });
}

#[test]
fn dropping_a_job_future_before_it_starts_cancels_the_job() {
    let pool = tandem::CpuPool::builder()
        .workers(1)
        .queue(8)
        .build()
        .unwrap();
    let (open_gate, gate) = flume::bounded::<()>(0);
    let ran = Arc::new(AtomicUsize::new(0));
    tandem::block_on(async {
        let blocker = tandem::spawn(pool.run(move || gate.recv().unwrap()));
        let doomed = {
            let ran = Arc::clone(&ran);
            tandem::spawn(pool.run(move || ran.fetch_add(1, Ordering::SeqCst)))
        };
        // Let both jobs reach the queue, then drop the second one's task.
        async_io::Timer::after(Duration::from_millis(20)).await;
        // Dropping a task handle cancels it at the loop's next turn, which
        // drops the job's future and with it the result receiver.
        drop(doomed);
        future::yield_now().await;
        open_gate.send_async(()).await.unwrap();
        blocker.await.unwrap();
        // A job behind it proves the worker went past the cancelled one.
        pool.run(|| ()).await.unwrap();
    });
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(pool.stats().cancelled, 1);
}

#[test]
fn dropping_the_pool_with_queued_jobs_reports_every_job_and_joins_every_thread() {
    let pool = tandem::CpuPool::builder()
        .workers(2)
        .queue(64)
        .build()
        .unwrap();
    let live = Arc::new(AtomicUsize::new(0));
    let outcomes = tandem::block_on(async {
        // Enqueue 40 slow-ish jobs: each future is polled once so its job is queued.
        let mut jobs: Vec<_> = (0..40u32)
            .map(|i| {
                Box::pin(pool.run(move || {
                    std::thread::sleep(Duration::from_millis(1));
                    i
                }))
            })
            .collect();
        for job in &mut jobs {
            assert!(future::poll_once(job.as_mut()).await.is_none());
        }
        // A job submitted after shutdown is refused.
        let late = pool.run(|| 1000u32);
        let stats = {
            let pool = pool;
            live.store(pool.stats().live_workers, Ordering::SeqCst);
            pool.shutdown()
        };
        assert_eq!(stats.live_workers, 0, "every worker thread was joined");
        assert_eq!(
            stats.completed, 40,
            "queued jobs finish before shutdown returns"
        );
        let mut outcomes = tandem::join_all(jobs).await;
        outcomes.push(late.await);
        outcomes
    });
    assert_eq!(live.load(Ordering::SeqCst), 2);
    for (i, outcome) in outcomes[..40].iter().enumerate() {
        assert_eq!(*outcome, Ok(i as u32));
    }
    assert_eq!(outcomes[40], Err(tandem::JobError::ShutDown));
}

#[test]
fn workers_are_named() {
    let pool = tandem::CpuPool::builder()
        .workers(3)
        .name("resize")
        .build()
        .unwrap();
    let names =
        tandem::block_on(tandem::join_all((0..30).map(|_| {
            pool.run(|| std::thread::current().name().unwrap().to_string())
        })));
    for name in names {
        let name = name.unwrap();
        assert!(
            ["resize-0", "resize-1", "resize-2"].contains(&name.as_str()),
            "{name}"
        );
    }
}

#[test]
fn semaphore_caps_concurrency() {
    let limit = tandem::Semaphore::new(3);
    let in_flight = std::cell::Cell::new(0usize);
    let peak = std::cell::Cell::new(0usize);
    tandem::block_on(tandem::join_all((0..20).map(|_| async {
        let _permit = limit.acquire().await;
        in_flight.set(in_flight.get() + 1);
        peak.set(peak.get().max(in_flight.get()));
        async_io::Timer::after(Duration::from_millis(2)).await;
        in_flight.set(in_flight.get() - 1);
    })));
    assert_eq!(peak.get(), 3);
    assert_eq!(limit.available(), 3);
}

#[test]
fn try_join_all_stops_at_the_first_error() {
    let result: Result<Vec<u32>, String> =
        tandem::block_on(tandem::try_join_all((0..5u32).map(|i| async move {
            if i == 2 {
                Err(format!("item {i} failed"))
            } else {
                Ok(i)
            }
        })));
    assert_eq!(result, Err("item 2 failed".to_string()));
}

#[test]
fn starting_and_dropping_pools_never_hangs() {
    // Shutdown races with workers going idle; every drop must still join.
    let (done, finished) = flume::bounded(1);
    std::thread::spawn(move || {
        for round in 0..200 {
            let pool = tandem::CpuPool::new(1 + round % 3).unwrap();
            if round % 2 == 0 {
                tandem::block_on(pool.run(|| ())).unwrap();
            }
            drop(pool);
        }
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(Duration::from_secs(30))
        .expect("200 pools started and dropped within 30 s");
}

#[test]
fn a_queue_of_zero_is_an_error_not_a_hang() {
    assert!(matches!(
        tandem::CpuPool::builder().workers(1).queue(0).build(),
        Err(tandem::PoolError::ZeroQueue)
    ));
}

#[test]
fn join_all_polls_a_future_woken_twice_only_once_more() {
    // Woken twice during its first poll, then never again: it must be
    // polled exactly once more, not once per wake.
    let polls = std::cell::Cell::new(0u32);
    let woken_twice = futures_lite::future::poll_fn(|cx| {
        polls.set(polls.get() + 1);
        if polls.get() == 1 {
            cx.waker().wake_by_ref();
            cx.waker().wake_by_ref();
        }
        std::task::Poll::<()>::Pending
    });
    let joined = tandem::join_all([woken_twice]);
    let result = tandem::block_on(tandem::timeout(Duration::from_millis(30), joined));
    assert!(result.is_err(), "the future never finishes");
    assert_eq!(polls.get(), 2);
}
