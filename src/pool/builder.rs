//! Starting a pool: its settings, and the threads it starts.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;

use super::CpuPool;
use super::error::PoolError;
use super::worker::{self, Shared};

/// Settings for a [`CpuPool`]; start with [`CpuPool::builder`].
#[derive(Debug, Clone)]
pub struct CpuPoolBuilder {
    /// `None`: one per core, asked of the system only then (the question
    /// reads cgroup files, code a program that names its count never needs).
    workers: Option<usize>,
    queue: Option<usize>,
    name: String,
}

impl CpuPoolBuilder {
    /// The defaults: one worker per core, a queue of twice the workers,
    /// threads named `tandem-cpu-N`.
    pub(super) fn new() -> CpuPoolBuilder {
        CpuPoolBuilder {
            workers: None,
            queue: None,
            name: "tandem-cpu".to_string(),
        }
    }

    /// Number of worker threads (`max_workers`). Default: available cores.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Capacity of the job queue. Default: twice the workers. Zero is
    /// [`PoolError::ZeroQueue`].
    pub fn queue(mut self, capacity: usize) -> Self {
        self.queue = Some(capacity);
        self
    }

    /// Prefix of the worker threads' names (`<name>-0`, `<name>-1`, ...).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Starts the workers.
    pub fn build(self) -> Result<CpuPool, PoolError> {
        let workers = self.workers.unwrap_or_else(default_workers);
        if workers == 0 {
            return Err(PoolError::ZeroWorkers);
        }
        if self.queue == Some(0) {
            return Err(PoolError::ZeroQueue);
        }
        let (sender, receiver) = flume::bounded(self.queue.unwrap_or(2 * workers));
        let mut pool = CpuPool {
            sender: Some(sender),
            shared: Arc::new(Shared::default()),
            threads: Vec::with_capacity(workers),
        };
        let live_workers = &pool.shared.counters.live_workers;
        for index in 0..workers {
            let receiver = receiver.clone();
            let shared = Arc::clone(&pool.shared);
            live_workers.fetch_add(1, Ordering::SeqCst);
            let spawned = thread::Builder::new()
                .name(format!("{}-{index}", self.name))
                .spawn(move || worker::work(index, receiver, shared));
            match spawned {
                Ok(thread) => pool.threads.push(thread),
                Err(err) => {
                    live_workers.fetch_sub(1, Ordering::SeqCst);
                    // Dropping `pool` stops the workers already started.
                    return Err(PoolError::Spawn(err));
                }
            }
        }
        Ok(pool)
    }
}

/// The number of cores this process may use, at least one.
pub fn default_workers() -> usize {
    thread::available_parallelism().map_or(1, usize::from)
}
