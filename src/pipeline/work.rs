//! What each stage of one input does: the download on the loop, the CPU
//! job on a pool worker, the save off the loop; each timed on the run's
//! clock into the input's [`Stages`].
//!
//! # Why apart from the schedule
//!
//! Both schedules (`schedule.rs`: [`Mode::Pipeline`](super::Mode) and
//! [`Mode::Batch`](super::Mode)) run the same stages and differ only in
//! *when*. Each stage is a method of [`Work`] that returns a `Result`, so a
//! schedule chains them with `?` and an input stops at its first failing
//! stage. This file knows nothing of permits or of the order of inputs.
//!
//! # How
//!
//! ```text
//!  download    client.get(url) on the loop; only a 2xx body counts; with
//!              a budget, its bytes reserved between head and body
//!  cpu_job     the closure a worker runs: resize::process, timed; it
//!              answers a CpuAnswer (outcome, worker, start, end)
//!  cpu_result  the answer's spans into stages.cpu; its image, or the error
//!  save        write_atomically on `unblock`, as <out_dir>/resized_<i>.png
//! ```

use std::cell::RefCell;
use std::fs;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};

use super::budget::{Budget, Reservation};
use super::window::Window;
use super::{Config, CpuSpan, Event, Item, ItemError, Saved, Span, Stages, write_atomically};
use crate::pool::{self, JobError};
use crate::resize::{self, Processed, ResizeError};

/// What every stage of one run needs: the settings, the clock that every
/// span is measured on, and where progress goes. Every input's future
/// shares it on the loop thread, so the callback needs a `RefCell`, not a
/// lock.
pub(crate) struct Work<'a, F> {
    pub(crate) config: &'a Config,
    /// Time zero of every [`Span`].
    started: Instant,
    on_event: RefCell<F>,
}

/// What a worker sends back: the outcome of [`resize::process`], and when
/// and where it ran.
pub(super) struct CpuAnswer {
    worker: usize,
    start: Duration,
    end: Duration,
    result: Result<Processed, ResizeError>,
}

impl<'a, F: FnMut(Event)> Work<'a, F> {
    /// Starts the run's clock.
    pub(crate) fn new(config: &'a Config, on_event: F) -> Work<'a, F> {
        Work {
            config,
            started: Instant::now(),
            on_event: RefCell::new(on_event),
        }
    }

    /// Fetches `url`; only a 2xx body counts. With an `admission` (the
    /// budget, and the window that hears of each head), the body is
    /// reserved for from its head's `Content-Length` before it is read (or
    /// counted once it has arrived, when no length was announced), and
    /// the reservation comes back with the body.
    pub(super) async fn download<'b>(
        &self,
        index: usize,
        url: &str,
        stages: &mut Stages,
        admission: Option<(&'b Budget, &'b Window)>,
    ) -> Result<(Vec<u8>, Option<Reservation<'b>>), ItemError> {
        self.emit(Event::DownloadStarted(index));
        let start = self.now();
        let held = RefCell::new(None);
        let budget = admission.map(|(budget, _)| budget);
        let response = match admission {
            None => self.config.client.get(url).await,
            Some((budget, window)) => {
                let mut admit = reserve_announced(budget, window, &held);
                let response = self.config.client.get_admitted(url, &mut admit).await;
                drop(admit);
                response
            }
        };
        stages.download = Some(Span {
            start,
            end: self.now(),
        });
        let response = response.map_err(ItemError::Download)?;
        if !response.is_success() {
            return Err(ItemError::HttpStatus(response.status()));
        }
        let body = response.into_body();
        let reservation = match (held.into_inner(), budget) {
            (Some(reservation), _) => Some(reservation),
            (None, Some(budget)) => Some(budget.count_arrived(body.len() as u64)),
            (None, None) => None,
        };
        self.emit(Event::Downloaded {
            index,
            bytes: body.len(),
        });
        Ok((body, reservation))
    }

    /// The job a pool worker runs: decode, resize, encode, timed on the
    /// run's clock.
    pub(super) fn cpu_job(&self, body: Vec<u8>) -> impl FnOnce() -> CpuAnswer + Send + 'static {
        let settings = self.config.resize.clone();
        let started = self.started;
        move || {
            let start = started.elapsed();
            let result = resize::process(&body, &settings);
            CpuAnswer {
                worker: pool::current_worker().unwrap_or(0),
                start,
                end: started.elapsed(),
                result,
            }
        }
    }

    /// Records the CPU stage of a job's answer and unwraps its image.
    pub(super) fn cpu_result(
        &self,
        index: usize,
        answer: Result<CpuAnswer, JobError>,
        stages: &mut Stages,
    ) -> Result<Processed, ItemError> {
        let cpu = answer.map_err(ItemError::Job)?;
        stages.cpu = Some(cpu.span());
        let processed = cpu.result.map_err(ItemError::Image)?;
        self.emit(Event::Processed(index));
        Ok(processed)
    }

    /// Writes the PNG as `resized_<index>.png`, off the loop.
    pub(crate) async fn save(
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

    /// The input's [`Item`], and its `Finished` event.
    pub(crate) fn finish(
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

    /// Creates the output directory; if that fails, every input fails the
    /// same way, and here are their items.
    pub(crate) async fn create_out_dir(&self, urls: &mut Vec<String>) -> Result<(), Vec<Item>> {
        let out_dir = self.config.out_dir.clone();
        let Err(err) = crate::unblock(move || fs::create_dir_all(out_dir)).await else {
            return Ok(());
        };
        let out_dir = self.config.out_dir.display();
        let outcomes = std::mem::take(urls).into_iter().enumerate();
        Err(outcomes
            .map(|(index, url)| {
                let why = io::Error::new(err.kind(), format!("creating {out_dir}: {err}"));
                self.finish(index, url, Err(ItemError::Save(why)), Stages::default())
            })
            .collect())
    }

    /// Hands `event` to the run's callback.
    pub(crate) fn emit(&self, event: Event) {
        (self.on_event.borrow_mut())(event);
    }

    /// Time since the run started.
    pub(crate) fn now(&self) -> Duration {
        self.started.elapsed()
    }
}

impl CpuAnswer {
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

// ANCHOR: reserve_announced
/// The admission of [`Work::download`]: tell the window a head arrived;
/// once a 2xx head announces its body's length, wait in the budget's line
/// for that many bytes, and keep the reservation in `held`. (A redirect's
/// head reserves nothing.)
fn reserve_announced<'a, 'b: 'a>(
    budget: &'b Budget,
    window: &'b Window,
    held: &'a RefCell<Option<Reservation<'b>>>,
) -> impl FnMut(u16, Option<u64>) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
    move |status, announced| {
        window.on_head();
        Box::pin(async move {
            held.borrow_mut().take();
            if let (200..=299, Some(bytes)) = (status, announced) {
                let reservation = budget.reserve(bytes).await;
                *held.borrow_mut() = Some(reservation);
            }
        })
    }
}
// ANCHOR_END: reserve_announced

/// `<out_dir>/resized_<index>.png`: the name comes from the index alone,
/// never from the URL or the server, so it can't point outside `out_dir`.
fn output_path(out_dir: &Path, index: usize) -> PathBuf {
    out_dir.join(format!("resized_{index}.png"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_job_counts_as_decoding_time() {
        let failed = CpuAnswer {
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
}
