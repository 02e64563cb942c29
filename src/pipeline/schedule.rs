//! When each stage of each input runs: every input through download,
//! resize and save, and one [`Item`] per input at the end.
//!
//! # Why
//!
//! The article's program waits for *every* download before the first resize
//! starts, and for every resize before the first save: while the network
//! works the cores idle, then the other way round, and every image sits in
//! memory at once. Here each input moves on the moment its previous stage is
//! done, so downloads and resizes overlap ([`Mode::Pipeline`]); the
//! article's schedule is kept as [`Mode::Batch`] to compare against.
//!
//! # How
//!
//! One future per input, all joined with [`join_all`] on the loop thread.
//! This file decides *when* each stage runs; `work.rs` holds *what* each
//! stage does (the download, the CPU job, the save) and times it:
//!
//! ```text
//!  acquire a window slot (window.rs: adaptive, or fixed `concurrency`)
//!    │ client.get_admitted(url) on the loop ............... stages.download
//!    │   head read: reserve Content-Length bytes (budget.rs), then the body
//!    │ window.on_downloaded(the pool's queue): grow, shrink or stay
//!    │ pool.submit(decode + resize + encode)  waits while the queue is full
//!  release the slot: the body is in the pool's queue
//!    │ await the answer from a worker ...................... stages.cpu
//!  release the reservation: the body is gone
//!    │ unblock(write .resized_<i>.png.tmp-<pid>, rename) ... stages.save
//!    ▼
//!  Item { index, url, result, stages }
//! ```
//!
//! Holding the slot until the job is *queued* (not merely downloaded) is
//! what bounds the count: at most the window's size of bodies are
//! downloading or waiting for room in the queue, plus what the queue and the
//! workers hold, however many inputs there are. When the cores fall behind,
//! the full queue holds the slots and the downloads slow down to match
//! (back-pressure). The budget bounds the bytes of the same bodies.
//!
//! Every stage returns a `Result`, so an input that fails stops at its first
//! failing stage and the others carry on; a panicking job comes back from the
//! pool as a [`JobError`](crate::JobError). Nothing is lost: the join gives
//! one result per input, in input order.

use super::budget::Budget;
use futures_lite::future;

use super::window::{QueueReading, TICK, Window};
use super::work::Work;
use super::{Config, Event, Flow, Item, ItemError, Mode, Report, Saved, Stages};
use crate::join_all;
use crate::pool::{CpuPool, PoolError};

/// Downloads every URL, resizes each image on `pool`, and saves it as
/// `<out_dir>/resized_<i>.png`; returns one [`Item`] per URL, in order.
///
/// The stages are scheduled as `config.mode` says; `config.workers` is not
/// used (the pool is given). `on_event` hears about progress. Failures are
/// per input, in the report: a run itself never fails.
///
/// ```
/// use tandem::pipeline::{run, Config, ItemError};
///
/// let server = tandem::demo::Server::start()?;
/// let out = std::env::temp_dir().join(format!("tandem-doc-run-{}", std::process::id()));
/// let pool = tandem::CpuPool::new(2)?;
/// let urls = vec![server.url("/image/png?w=64&h=48"), server.url("/status/404")];
///
/// let report = tandem::block_on(run(urls, &Config::new(&out), &pool, |_event| {}));
///
/// assert_eq!(report.succeeded(), 1);
/// assert!(out.join("resized_0.png").exists());
/// assert!(matches!(report.items[1].result, Err(ItemError::HttpStatus(404))));
/// std::fs::remove_dir_all(&out)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn run(
    urls: Vec<String>,
    config: &Config,
    pool: &CpuPool,
    on_event: impl FnMut(Event),
) -> Report {
    // Batch downloads everything before the first resize: nothing would
    // report on the pool, and no body could leave the budget.
    let fixed = match config.mode {
        Mode::Pipeline => config.concurrency,
        Mode::Batch => Some(config.concurrency.unwrap_or(super::WINDOW_START)),
    };
    let scheduler = Scheduler {
        work: Work::new(config, on_event),
        pool,
        window: Window::new(fixed),
        budget: Budget::new(config.max_buffered),
    };
    let mut urls = urls;
    let items = match scheduler.work.create_out_dir(&mut urls).await {
        Err(items) => items,
        Ok(()) => match config.mode {
            Mode::Pipeline => scheduler.pipeline(urls).await,
            Mode::Batch => scheduler.batch(urls).await,
        },
    };
    Report {
        items,
        wall: scheduler.work.now(),
        workers: pool.workers(),
        flow: Flow {
            adaptive: scheduler.window.is_adaptive(),
            window: scheduler.window.history(),
            max_buffered: scheduler.budget.limit(),
            buffered_peak: scheduler.budget.peak(),
        },
    }
}

/// [`run`] with its own loop and pool: starts a [`CpuPool`] of
/// `config.workers` threads, runs on [`block_on`](crate::block_on), and
/// shuts the pool down. Fails only if the pool can't be started.
///
/// ```
/// use tandem::pipeline::{run_blocking, Config, Event};
///
/// let server = tandem::demo::Server::start()?;
/// let out = std::env::temp_dir().join(format!("tandem-doc-blocking-{}", std::process::id()));
/// let mut finished = 0;
/// let report = run_blocking(server.image_urls(2), &Config::new(&out), |event| {
///     if let Event::Finished { .. } = event {
///         finished += 1;
///     }
/// })?;
/// assert_eq!((report.succeeded(), finished), (2, 2));
/// std::fs::remove_dir_all(&out)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_blocking(
    urls: Vec<String>,
    config: &Config,
    on_event: impl FnMut(Event),
) -> Result<Report, PoolError> {
    let pool = CpuPool::new(config.workers)?;
    Ok(crate::block_on(run(urls, config, &pool, on_event)))
}

/// What every input's future of one run shares: the stages' [`Work`]
/// (settings, clock, progress), the pool that runs the CPU jobs, the
/// download window and the memory budget.
struct Scheduler<'a, F> {
    work: Work<'a, F>,
    pool: &'a CpuPool,
    /// One slot per download in flight (or waiting for queue room).
    window: Window,
    /// Bytes of bodies in flight or not yet processed.
    budget: Budget,
}

impl<F: FnMut(Event)> Scheduler<'_, F> {
    /// Every input at once, each through all its stages.
    async fn pipeline(&self, urls: Vec<String>) -> Vec<Item> {
        let items = urls.into_iter().enumerate().map(|(index, url)| async move {
            let mut stages = Stages::default();
            let result = self.pipeline_stages(index, &url, &mut stages).await;
            self.work.finish(index, url, result, stages)
        });
        // The window's clock ticks until every input is done.
        let ticks = async {
            loop {
                async_io::Timer::after(TICK).await;
                self.window.on_tick(self.queue_reading(), self.work.now());
            }
        };
        future::or(join_all(items), ticks).await
    }

    /// One input's stages, back to back.
    async fn pipeline_stages(
        &self,
        index: usize,
        url: &str,
        stages: &mut Stages,
    ) -> Result<Saved, ItemError> {
        let work = &self.work;
        // ANCHOR: pipeline_stages
        let slot = self.window.acquire().await;
        let admission = (&self.budget, &self.window);
        let (body, reservation) = work.download(index, url, stages, Some(admission)).await?;
        let downloaded_bytes = body.len();
        self.window.on_downloaded(self.queue_reading(), work.now());
        let answer = self.pool.submit(work.cpu_job(body)).await;
        // The body is in the queue (or the pool is gone): let the next
        // download start.
        drop(slot);
        let processed = work.cpu_result(index, answer.await, stages);
        // The job is done with the body: its bytes leave the budget.
        drop(reservation);
        work.save(index, downloaded_bytes, processed?, stages).await
        // ANCHOR_END: pipeline_stages
    }

    /// The pool's queue now, for the window's rule.
    fn queue_reading(&self) -> QueueReading {
        QueueReading {
            queued: self.pool.queued(),
            workers: self.pool.workers(),
            capacity: self.pool.queue_capacity(),
        }
    }

    /// The article's schedule: every download, then every resize, then every
    /// save, each stage gathered before the next starts.
    async fn batch(&self, urls: Vec<String>) -> Vec<Item> {
        let work = &self.work;
        let mut stages = vec![Stages::default(); urls.len()];

        let downloads = join_all(urls.iter().zip(&mut stages).enumerate().map(
            |(index, (url, stages))| async move {
                let _slot = self.window.acquire().await;
                let (body, _unbudgeted) = work.download(index, url, stages, None).await?;
                Ok(body)
            },
        ))
        .await;

        let processed = join_all(downloads.into_iter().zip(&mut stages).enumerate().map(
            |(index, (download, stages))| async move {
                let body = download?;
                let downloaded_bytes = body.len();
                let answer = self.pool.run(work.cpu_job(body)).await;
                let processed = work.cpu_result(index, answer, stages)?;
                Ok((downloaded_bytes, processed))
            },
        ))
        .await;

        let saved = join_all(processed.into_iter().zip(&mut stages).enumerate().map(
            |(index, (processed, stages))| async move {
                let (downloaded_bytes, processed) = processed?;
                work.save(index, downloaded_bytes, processed, stages).await
            },
        ))
        .await;

        let outcomes = urls.into_iter().zip(saved).zip(stages).enumerate();
        outcomes
            .map(|(index, ((url, result), stages))| self.work.finish(index, url, result, stages))
            .collect()
    }
}
