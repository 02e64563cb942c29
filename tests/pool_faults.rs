//! The CPU pool and the executor under faults: panics, floods, cancellation
//! and shutdown at awkward moments.
//!
//! # Why
//!
//! tests/pool.rs shows the pool working; this file tries to break its
//! promises (src/pool/mod.rs): every job ends in exactly one outcome, a panic
//! never costs a worker, the queue never holds more than its capacity,
//! dropping a future cancels its job, and shutting down never hangs. Each
//! test counts outcomes with atomics and checks them against `stats()`.
//!
//! Every wait is bounded: futures that could hang are raced against
//! [`tandem::timeout`], and every loop has a fixed number of rounds.

mod support;

use std::panic;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

use async_io::Timer;
use support::rng::Rng;
use tandem::{CpuPool, JobError};

/// Marks the panics these tests cause on purpose.
const DELIBERATE: &str = "deliberate";

/// Silences the panic hook for deliberate panics, so that a thousand of
/// them do not flood the output; any other panic is printed as usual.
fn quiet_deliberate_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let text = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or_default();
            if !text.contains(DELIBERATE) {
                previous(info);
            }
        }));
    });
}

/// A door that jobs wait at until it opens: holds workers busy on cue.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<(Mutex<bool>, std::sync::Condvar)>,
    waiting: Arc<AtomicUsize>,
}

impl Gate {
    /// Blocks (on a worker) until the gate opens; at most five seconds.
    fn wait(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let (lock, opened) = &*self.open;
        let guard = lock.lock().unwrap();
        let _ = opened
            .wait_timeout_while(guard, Duration::from_secs(5), |open| !*open)
            .unwrap();
    }

    fn open(&self) {
        let (lock, opened) = &*self.open;
        *lock.lock().unwrap() = true;
        opened.notify_all();
    }

    /// Waits (on the loop) until `count` jobs wait at the gate.
    async fn until_waiting(&self, count: usize) {
        for _ in 0..5_000 {
            if self.waiting.load(Ordering::SeqCst) >= count {
                return;
            }
            Timer::after(Duration::from_millis(1)).await;
        }
        panic!("workers never reached the gate");
    }
}

/// Counts itself in a shared counter while it lives: tells when a
/// cancelled task's future has really been dropped.
struct Alive(Arc<AtomicUsize>);

impl Alive {
    fn new(counter: &Arc<AtomicUsize>) -> Alive {
        counter.fetch_add(1, Ordering::SeqCst);
        Alive(Arc::clone(counter))
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn one_percent_of_100_000_jobs_panic_and_every_job_is_accounted_for() {
    quiet_deliberate_panics();
    const JOBS: u64 = 100_000;
    let pool = CpuPool::new(2).unwrap();
    let results = tandem::block_on(tandem::join_all((0..JOBS).map(|i| {
        pool.run(move || {
            if i % 100 == 0 {
                panic!("{DELIBERATE} panic in job {i}");
            }
            i
        })
    })));
    let mut ok = 0;
    let mut panicked = 0;
    for (i, result) in (0..JOBS).zip(results) {
        match result {
            Ok(value) => {
                assert_eq!(value, i);
                ok += 1;
            }
            Err(JobError::Panicked(message)) => {
                assert_eq!(message, format!("{DELIBERATE} panic in job {i}"));
                panicked += 1;
            }
            Err(JobError::ShutDown) => panic!("job {i} shut down"),
        }
    }
    assert_eq!((ok, panicked), (99_000, 1_000));
    let stats = pool.stats();
    assert_eq!(
        (stats.completed, stats.panicked, stats.cancelled),
        (ok, panicked, 0)
    );
    assert_eq!(stats.live_workers, 2, "a panic cost a worker");
    assert_eq!(pool.shutdown().live_workers, 0);
}

#[test]
fn the_queue_never_holds_more_than_its_capacity() {
    // One worker held at a gate, a queue of four (or none), a flood of `n` job
    // futures. Then every future is dropped and the gate opened: the jobs
    // that had made it into the queue are exactly the ones the worker then
    // finds cancelled. The rest waited in their futures (back-pressure):
    // they never reached the queue, so their memory was the submitter's.
    let runs = [0, 1, 3, 4, 5, 64, 1_000]
        .map(|flood| (4, flood))
        .into_iter()
        .chain([(1, 0), (1, 1), (1, 64)]);
    for (capacity, flood) in runs {
        let pool = CpuPool::builder()
            .workers(1)
            .queue(capacity)
            .build()
            .unwrap();
        let gate = Gate::default();
        let ran = Arc::new(AtomicUsize::new(0));
        tandem::block_on(async {
            let held = gate.clone();
            let holder = tandem::spawn(pool.run(move || held.wait()));
            gate.until_waiting(1).await;
            let alive = Arc::new(AtomicUsize::new(0));
            let floods: Vec<_> = (0..flood)
                .map(|_| {
                    let ran = Arc::clone(&ran);
                    let job = pool.run(move || ran.fetch_add(1, Ordering::SeqCst));
                    let alive = Alive::new(&alive);
                    tandem::spawn(async move {
                        let _alive = alive;
                        job.await
                    })
                })
                .collect();
            // Let every flood task run until it waits for room or a result.
            Timer::after(Duration::from_millis(20)).await;
            // Dropping a task handle cancels the task; its future (and the
            // job's result receiver with it) is dropped at a later turn of
            // the loop: wait for that before opening the gate.
            drop(floods);
            for _ in 0..5_000 {
                if alive.load(Ordering::SeqCst) == 0 {
                    break;
                }
                Timer::after(Duration::from_millis(1)).await;
            }
            assert_eq!(alive.load(Ordering::SeqCst), 0);
            gate.open();
            assert_eq!(holder.await, Ok(()));
        });
        let stats = pool.shutdown();
        let context = format!("flood of {flood} into a queue of {capacity}");
        assert_eq!(ran.load(Ordering::SeqCst), 0, "{context}");
        assert_eq!(stats.completed, 1, "{context}");
        assert_eq!(stats.cancelled, flood.min(capacity as u64), "{context}");
    }
}

#[test]
fn a_flood_through_a_small_queue_completes() {
    // Submitting far faster than two workers drain a queue of four.
    let pool = CpuPool::builder().workers(2).queue(4).build().unwrap();
    let results = tandem::block_on(tandem::join_all(
        (0..20_000u64).map(|i| pool.run(move || i * 2)),
    ));
    assert!(
        results
            .iter()
            .enumerate()
            .all(|(i, r)| *r == Ok(i as u64 * 2))
    );
    assert_eq!(pool.stats().completed, 20_000);
}

#[test]
fn dropped_job_futures_are_cancelled_and_the_others_complete() {
    const JOBS: usize = 4_000;
    const ROUNDS: usize = 8;
    let pool = CpuPool::builder().workers(2).queue(4).build().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    // Seeded: which jobs to drop, and when.
    let mut rng = Rng::new(0xD20B_5EED);
    // For each job: the round at which its future is dropped, or none.
    let drop_at: Vec<Option<usize>> = (0..JOBS)
        .map(|_| (rng.below(2) == 0).then(|| rng.below(ROUNDS)))
        .collect();
    let dropped = drop_at.iter().filter(|d| d.is_some()).count();
    tandem::block_on(async {
        let mut tasks: Vec<_> = (0..JOBS)
            .map(|i| {
                let ran = Arc::clone(&ran);
                Some(tandem::spawn(pool.run(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                    // A little work, so that the queue fills up.
                    (0..200u64).fold(i as u64, |acc, x| acc.wrapping_mul(31) ^ x)
                })))
            })
            .collect();
        for round in 0..ROUNDS {
            for (task, when) in tasks.iter_mut().zip(&drop_at) {
                if *when == Some(round) {
                    *task = None;
                }
            }
            Timer::after(Duration::from_micros(500)).await;
        }
        for (i, task) in tasks.into_iter().enumerate() {
            if let Some(task) = task {
                let result = tandem::timeout(Duration::from_secs(10), task).await;
                assert!(matches!(result, Ok(Ok(_))), "kept job {i}: {result:?}");
            }
        }
    });
    let stats = pool.shutdown();
    let ran = ran.load(Ordering::SeqCst) as u64;
    let (kept, dropped) = ((JOBS - dropped) as u64, dropped as u64);
    // Each dropped job ran anyway, was skipped (cancelled), or never
    // reached the queue; each kept job ran.
    assert_eq!(stats.completed, ran);
    assert!(ran >= kept, "{ran} ran, {kept} kept");
    assert!(
        (ran - kept) + stats.cancelled <= dropped,
        "{stats:?}, {dropped} dropped"
    );
    assert_eq!(stats.panicked, 0);
}

#[test]
fn shutting_down_with_jobs_queued_never_hangs() {
    // The loop thread shuts the pool down while job futures wait for room
    // and others were never polled: each ends Ok or ShutDown.
    const JOBS: usize = 40;
    let pool = CpuPool::builder().workers(1).queue(4).build().unwrap();
    let started = Instant::now();
    let (ok, shut_down, stats) = tandem::block_on(async {
        let tasks: Vec<_> = (0..JOBS)
            .map(|i| {
                tandem::spawn(pool.run(move || {
                    thread::sleep(Duration::from_millis(1));
                    i
                }))
            })
            .collect();
        Timer::after(Duration::from_millis(5)).await;
        let stats = pool.shutdown();
        let mut outcomes = (0, 0);
        for task in tasks {
            match tandem::timeout(Duration::from_secs(5), task).await {
                Ok(Ok(_)) => outcomes.0 += 1,
                Ok(Err(JobError::ShutDown)) => outcomes.1 += 1,
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        (outcomes.0, outcomes.1, stats)
    });
    assert_eq!(ok + shut_down, JOBS);
    assert_eq!(stats.completed, ok as u64);
    assert_eq!(stats.live_workers, 0);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn shutting_down_from_another_thread_mid_flood_never_hangs() {
    // The pool is shut down by another thread while the loop submits: a job
    // may be queued behind the workers' stop messages. Its future must
    // still end (ShutDown), not wait forever for a worker.
    for round in 0..20 {
        let pool = Arc::new(Mutex::new(Some(
            CpuPool::builder().workers(2).queue(2).build().unwrap(),
        )));
        let stopper = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                thread::sleep(Duration::from_micros(200 * round));
                let taken = pool.lock().unwrap().take();
                taken.map(CpuPool::shutdown)
            })
        };
        let (mut ok, mut shut_down) = (0, 0);
        tandem::block_on(async {
            for i in 0..2_000u64 {
                let job = pool
                    .lock()
                    .unwrap()
                    .as_ref()
                    .map(|pool| pool.run(move || i));
                let Some(job) = job else {
                    break;
                };
                match tandem::timeout(Duration::from_secs(5), job).await {
                    Ok(Ok(value)) => {
                        assert_eq!(value, i);
                        ok += 1;
                    }
                    Ok(Err(JobError::ShutDown)) => shut_down += 1,
                    other => panic!("round {round}, job {i}: {other:?}"),
                }
            }
        });
        let stats = stopper
            .join()
            .unwrap()
            .expect("the stopper shut the pool down");
        assert_eq!(stats.completed, ok, "round {round}, {shut_down} shut down");
        assert_eq!(stats.live_workers, 0);
    }
}

#[test]
fn a_panicking_task_does_not_stop_the_others() {
    quiet_deliberate_panics();
    let pool = CpuPool::new(2).unwrap();
    let finished = Arc::new(AtomicUsize::new(0));
    let panicked_task_ran = Arc::new(AtomicBool::new(false));
    tandem::block_on(async {
        let tasks: Vec<_> = (0..50u64)
            .map(|t| {
                let jobs: Vec<_> = (0..10u64).map(|j| pool.run(move || t * 100 + j)).collect();
                let finished = Arc::clone(&finished);
                let panicked_task_ran = Arc::clone(&panicked_task_ran);
                tandem::spawn(async move {
                    for (j, job) in jobs.into_iter().enumerate() {
                        if t == 25 && j == 5 {
                            panicked_task_ran.store(true, Ordering::SeqCst);
                            panic!("{DELIBERATE} panic in task {t}");
                        }
                        assert_eq!(job.await, Ok(t * 100 + j as u64));
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for (t, task) in tasks.into_iter().enumerate() {
            if t == 25 {
                // Awaiting it would resume its panic here: let it go.
                task.detach();
            } else {
                tandem::timeout(Duration::from_secs(10), task)
                    .await
                    .unwrap();
            }
        }
    });
    assert!(panicked_task_ran.load(Ordering::SeqCst));
    assert_eq!(finished.load(Ordering::SeqCst), 49);
    assert_eq!(pool.stats().live_workers, 2);
}
