//! Running the job: every input through download, resize and save, and one
//! [`Item`] per input at the end.
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
//! One future per input, all joined with [`join_all`] on the loop thread:
//!
//! ```text
//!  acquire download permit (Semaphore of `concurrency`)
//!    │ client.get(url) on the loop ........................ stages.download
//!    │ pool.submit(decode + resize + encode)  waits while the queue is full
//!  release permit: the body is in the pool's queue
//!    │ await the answer from a worker ...................... stages.cpu
//!    │ unblock(write .resized_<i>.png.tmp-<pid>, rename) ... stages.save
//!    ▼
//!  Item { index, url, result, stages }
//! ```
//!
//! Holding the permit until the job is *queued* (not merely downloaded) is
//! what bounds memory: at most `concurrency` bodies are downloading or
//! waiting for room in the queue, plus what the queue and the workers hold,
//! however many inputs there are. When the cores fall behind, the full queue
//! holds the permits and the downloads slow down to match (back-pressure).
//!
//! Every stage returns a `Result`, so an input that fails stops at its first
//! failing stage and the others carry on; a panicking job comes back from the
//! pool as a [`JobError`]. Nothing is lost: the join gives one result per
//! input, in input order.

use std::cell::RefCell;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Config, CpuSpan, Item, ItemError, Mode, Report, Saved, Span, Stages};
use crate::pool::{self, CpuPool, JobError, PoolError};
use crate::resize::{self, Processed, ResizeError};
use crate::{Semaphore, join_all};

/// Progress of a run, delivered on the loop thread as it happens: enough to
/// draw a progress line.
///
/// Each input gets `DownloadStarted`, then `Downloaded` and `Processed` if
/// those stages succeed, then exactly one `Finished`. (When the output
/// directory can't be created, each input gets only its `Finished`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Input `index` got a download permit and its request is being sent.
    DownloadStarted(usize),
    /// Input `index` was downloaded (a 2xx answer with `bytes` of body).
    Downloaded { index: usize, bytes: usize },
    /// Input `index` was decoded, resized and encoded by a pool worker.
    Processed(usize),
    /// Input `index` is done, saved (`ok`) or failed.
    Finished { index: usize, ok: bool },
}

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
    let run = Run {
        config,
        pool,
        started: Instant::now(),
        downloads: Semaphore::new(config.concurrency.max(1)),
        on_event: RefCell::new(on_event),
    };
    let out_dir = config.out_dir.clone();
    let items = match crate::unblock(move || fs::create_dir_all(out_dir)).await {
        Err(err) => run.all_failed(urls, &err),
        Ok(()) => match config.mode {
            Mode::Pipeline => run.pipeline(urls).await,
            Mode::Batch => run.batch(urls).await,
        },
    };
    Report {
        items,
        wall: run.now(),
        workers: pool.workers(),
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

/// The state of one run, shared by every input's future (all on the loop
/// thread, so the event callback needs a `RefCell`, not a lock).
struct Run<'a, F> {
    config: &'a Config,
    pool: &'a CpuPool,
    /// Time zero of every [`Span`].
    started: Instant,
    /// One permit per download in flight (or waiting for queue room).
    downloads: Semaphore,
    on_event: RefCell<F>,
}

/// What a worker sends back: the outcome of [`resize::process`], and when
/// and where it ran.
struct CpuRun {
    worker: usize,
    start: Duration,
    end: Duration,
    result: Result<Processed, ResizeError>,
}

impl<F: FnMut(Event)> Run<'_, F> {
    /// Every input at once, each through all its stages.
    async fn pipeline(&self, urls: Vec<String>) -> Vec<Item> {
        let items = urls.into_iter().enumerate().map(|(index, url)| async move {
            let mut stages = Stages::default();
            let result = self.pipeline_stages(index, &url, &mut stages).await;
            self.finish(index, url, result, stages)
        });
        join_all(items).await
    }

    /// One input's stages, back to back.
    async fn pipeline_stages(
        &self,
        index: usize,
        url: &str,
        stages: &mut Stages,
    ) -> Result<Saved, ItemError> {
        let permit = self.downloads.acquire().await;
        let body = self.download(index, url, stages).await?;
        let downloaded_bytes = body.len();
        let answer = self.pool.submit(self.cpu_job(body)).await;
        // The body is in the queue (or the pool is gone): let the next
        // download start.
        drop(permit);
        let processed = self.cpu_result(index, answer.await, stages)?;
        self.save(index, downloaded_bytes, processed, stages).await
    }

    /// The article's schedule: every download, then every resize, then every
    /// save, each stage gathered before the next starts.
    async fn batch(&self, urls: Vec<String>) -> Vec<Item> {
        let mut stages = vec![Stages::default(); urls.len()];

        let downloads = join_all(urls.iter().zip(&mut stages).enumerate().map(
            |(index, (url, stages))| async move {
                let _permit = self.downloads.acquire().await;
                self.download(index, url, stages).await
            },
        ))
        .await;

        let processed = join_all(downloads.into_iter().zip(&mut stages).enumerate().map(
            |(index, (download, stages))| async move {
                let body = download?;
                let downloaded_bytes = body.len();
                let answer = self.pool.run(self.cpu_job(body)).await;
                Ok((downloaded_bytes, self.cpu_result(index, answer, stages)?))
            },
        ))
        .await;

        let saved = join_all(processed.into_iter().zip(&mut stages).enumerate().map(
            |(index, (processed, stages))| async move {
                let (downloaded_bytes, processed) = processed?;
                self.save(index, downloaded_bytes, processed, stages).await
            },
        ))
        .await;

        let outcomes = urls.into_iter().zip(saved).zip(stages).enumerate();
        outcomes
            .map(|(index, ((url, result), stages))| self.finish(index, url, result, stages))
            .collect()
    }

    /// Fetches `url`; only a 2xx body counts.
    async fn download(
        &self,
        index: usize,
        url: &str,
        stages: &mut Stages,
    ) -> Result<Vec<u8>, ItemError> {
        self.emit(Event::DownloadStarted(index));
        let start = self.now();
        let response = self.config.client.get(url).await;
        stages.download = Some(Span {
            start,
            end: self.now(),
        });
        let response = response.map_err(ItemError::Download)?;
        if !response.is_success() {
            return Err(ItemError::HttpStatus(response.status()));
        }
        let body = response.into_body();
        self.emit(Event::Downloaded {
            index,
            bytes: body.len(),
        });
        Ok(body)
    }

    /// The job a pool worker runs: decode, resize, encode, timed on the
    /// run's clock.
    fn cpu_job(&self, body: Vec<u8>) -> impl FnOnce() -> CpuRun + Send + 'static {
        let settings = self.config.resize.clone();
        let started = self.started;
        move || {
            let start = started.elapsed();
            let result = resize::process(&body, &settings);
            CpuRun {
                worker: pool::current_worker().unwrap_or(0),
                start,
                end: started.elapsed(),
                result,
            }
        }
    }

    /// Records the CPU stage of a job's answer and unwraps its image.
    fn cpu_result(
        &self,
        index: usize,
        answer: Result<CpuRun, JobError>,
        stages: &mut Stages,
    ) -> Result<Processed, ItemError> {
        let cpu = answer.map_err(ItemError::Job)?;
        stages.cpu = Some(cpu.span());
        let processed = cpu.result.map_err(ItemError::Image)?;
        self.emit(Event::Processed(index));
        Ok(processed)
    }

    /// Writes the PNG as `resized_<index>.png`, off the loop.
    async fn save(
        &self,
        index: usize,
        downloaded_bytes: usize,
        processed: Processed,
        stages: &mut Stages,
    ) -> Result<Saved, ItemError> {
        let path = output_path(&self.config.out_dir, index);
        let (source_size, output_size) = (processed.source_size, processed.output_size);
        let start = self.now();
        let target = path.clone();
        let written = crate::unblock(move || write_atomically(&target, &processed.png)).await;
        stages.save = Some(Span {
            start,
            end: self.now(),
        });
        written.map_err(ItemError::Save)?;
        Ok(Saved {
            path,
            downloaded_bytes,
            source_size,
            output_size,
        })
    }

    /// Every input fails the same way: the output directory is unusable.
    fn all_failed(&self, urls: Vec<String>, err: &io::Error) -> Vec<Item> {
        let out_dir = self.config.out_dir.display();
        let outcomes = urls.into_iter().enumerate();
        outcomes
            .map(|(index, url)| {
                let why = io::Error::new(err.kind(), format!("creating {out_dir}: {err}"));
                self.finish(index, url, Err(ItemError::Save(why)), Stages::default())
            })
            .collect()
    }

    fn finish(
        &self,
        index: usize,
        url: String,
        result: Result<Saved, ItemError>,
        stages: Stages,
    ) -> Item {
        self.emit(Event::Finished {
            index,
            ok: result.is_ok(),
        });
        Item {
            index,
            url,
            result,
            stages,
        }
    }

    fn emit(&self, event: Event) {
        (self.on_event.borrow_mut())(event);
    }

    /// Time since the run started.
    fn now(&self) -> Duration {
        self.started.elapsed()
    }
}

impl CpuRun {
    /// The job's time split into its stages, using `process`'s own timings.
    /// A failed job counts as decoding from start to end: decoding is where
    /// bad input is found.
    fn span(&self) -> CpuSpan {
        let span = |start, end| Span { start, end };
        match &self.result {
            Ok(processed) => {
                let timings = processed.timings;
                let decoded = self.start + timings.decode;
                let resized = decoded + timings.resize;
                CpuSpan {
                    worker: self.worker,
                    decode: span(self.start, decoded),
                    resize: span(decoded, resized),
                    encode: span(resized, resized + timings.encode),
                }
            }
            Err(_) => CpuSpan {
                worker: self.worker,
                decode: span(self.start, self.end),
                resize: span(self.end, self.end),
                encode: span(self.end, self.end),
            },
        }
    }
}

/// `<out_dir>/resized_<index>.png`: the name comes from the index alone,
/// never from the URL or the server, so it can't point outside `out_dir`.
fn output_path(out_dir: &Path, index: usize) -> PathBuf {
    out_dir.join(format!("resized_{index}.png"))
}

/// Writes `bytes` to `.<name>.tmp-<pid>` next to `path`, then renames it to
/// `path`: a reader sees the old file or the whole new one, never half a
/// PNG. The temporary file is removed on any error.
///
/// It is created with `create_new` (`O_EXCL`), which refuses to follow a
/// symlink planted under its name; `rename` replaces whatever is at `path`,
/// a symlink included, without following it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().map_or_else(
        || "output".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    let temporary = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    // A leftover from an earlier run that died with this same pid.
    let _ = fs::remove_file(&temporary);
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_job_counts_as_decoding_time() {
        let failed = CpuRun {
            worker: 1,
            start: Duration::from_millis(10),
            end: Duration::from_millis(12),
            result: Err(ResizeError::UnsupportedFormat),
        };
        let span = failed.span();
        assert_eq!(span.worker, 1);
        assert_eq!(span.whole().duration(), Duration::from_millis(2));
        assert_eq!(span.resize.duration(), Duration::ZERO);
    }

    #[test]
    fn atomic_writes_replace_and_leave_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("tandem-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = output_path(&dir, 3);
        write_atomically(&path, b"old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        // Renaming onto a directory fails: the temporary file goes too.
        let blocked = output_path(&dir, 4);
        fs::create_dir(&blocked).unwrap();
        assert!(write_atomically(&blocked, b"png").is_err());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2);
        fs::remove_dir_all(&dir).unwrap();
    }
}
