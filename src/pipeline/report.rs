//! What a pipeline run reports: [`Event`]s while it runs, then one [`Item`]
//! per input, in input order, with the time span of every stage, and totals
//! computed from those spans.
//!
//! Times are offsets from the start of the run, so a report can be drawn on
//! one time axis (the CLI's `--timeline`) and summed without clocks.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::JobError;
use crate::http;
use crate::resize::ResizeError;

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
    Downloaded {
        /// The input's position, from 0.
        index: usize,
        /// The body's length.
        bytes: usize,
    },
    /// Input `index` was decoded, resized and encoded by a pool worker.
    Processed(usize),
    /// Input `index` is done, saved (`ok`) or failed.
    Finished {
        /// The input's position, from 0.
        index: usize,
        /// Whether the input was saved.
        ok: bool,
    },
}

/// A stretch of time, as offsets from the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// When it began, after the run's start.
    pub start: Duration,
    /// When it ended, after the run's start.
    pub end: Duration,
}

impl Span {
    /// A span from `start` to `end` milliseconds after the run's start.
    pub fn from_millis(start: u64, end: u64) -> Span {
        Span {
            start: Duration::from_millis(start),
            end: Duration::from_millis(end),
        }
    }

    /// How long it lasted (zero if `end` is before `start`).
    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

/// The CPU stage of one item, as run by one pool worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSpan {
    /// Which worker ran it ([`crate::pool::current_worker`]).
    pub worker: usize,
    /// Decoding the downloaded bytes.
    pub decode: Span,
    /// Resizing the pixels.
    pub resize: Span,
    /// Encoding the PNG.
    pub encode: Span,
}

impl CpuSpan {
    /// From the start of decoding to the end of encoding.
    pub fn whole(&self) -> Span {
        Span {
            start: self.decode.start,
            end: self.encode.end,
        }
    }
}

/// When each stage of an item ran; a stage that never ran is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stages {
    /// On the loop: from sending the request to the last body byte.
    pub download: Option<Span>,
    /// On a pool worker: decode, resize, encode.
    pub cpu: Option<CpuSpan>,
    /// Off the loop (`unblock`): writing the temporary file and renaming it.
    pub save: Option<Span>,
}

/// A successfully processed input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// `<out>/resized_<index>.png`.
    pub path: PathBuf,
    /// The length of the downloaded body.
    pub downloaded_bytes: usize,
    /// The downloaded image's width and height.
    pub source_size: (u32, u32),
    /// The saved image's width and height.
    pub output_size: (u32, u32),
}

/// Why an input failed. Each input fails at most once, at its first failing
/// stage; the other inputs carry on.
#[derive(Debug)]
pub enum ItemError {
    /// The download failed (bad URL, refused, timeout, malformed response...).
    Download(http::Error),
    /// The server answered, but not with 2xx.
    HttpStatus(u16),
    /// The bytes are not an image tandem can decode, or too large.
    Image(ResizeError),
    /// The CPU job panicked or the pool shut down.
    Job(JobError),
    /// Writing the output file failed.
    Save(io::Error),
    /// The job was sent to a broker and failed there, or no answer came
    /// (`tandem --broker`); the error is `celery::RemoteError` or
    /// `celery::Error`, to downcast.
    Remote(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemError::Download(err) => write!(f, "download failed: {err}"),
            ItemError::HttpStatus(status) => write!(f, "server answered HTTP {status}"),
            ItemError::Image(err) => write!(f, "image: {err}"),
            ItemError::Job(err) => write!(f, "CPU job: {err}"),
            ItemError::Save(err) => write!(f, "saving failed: {err}"),
            ItemError::Remote(err) => write!(f, "remote job: {err}"),
        }
    }
}

impl std::error::Error for ItemError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ItemError::Download(err) => Some(err),
            ItemError::Image(err) => Some(err),
            ItemError::Job(err) => Some(err),
            ItemError::Save(err) => Some(err),
            ItemError::Remote(err) => Some(err.as_ref()),
            ItemError::HttpStatus(_) => None,
        }
    }
}

/// The outcome of one input.
#[derive(Debug)]
pub struct Item {
    /// The input's position, from 0; also the `i` of `resized_<i>.png`.
    pub index: usize,
    /// The input URL, as given.
    pub url: String,
    /// Saved, or the first failing stage's error.
    pub result: Result<Saved, ItemError>,
    /// When each stage ran.
    pub stages: Stages,
}

/// The download window's size from `at` on (until the next point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPoint {
    /// Offset from the start of the run.
    pub at: Duration,
    /// Downloads allowed in flight.
    pub size: usize,
}

/// How a run paced its downloads: the window over time and the memory
/// budget (`window.rs`, `budget.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flow {
    /// Whether the window adapted (no fixed [`Config::concurrency`]).
    ///
    /// [`Config::concurrency`]: super::Config::concurrency
    pub adaptive: bool,
    /// The window's first size at time zero, then each change.
    pub window: Vec<WindowPoint>,
    /// The budget: most bytes of bodies in flight or waiting for a worker.
    pub max_buffered: u64,
    /// The most such bytes at once during the run.
    pub buffered_peak: u64,
}

impl Flow {
    /// The largest the window was.
    pub fn window_max(&self) -> usize {
        self.window
            .iter()
            .map(|point| point.size)
            .max()
            .unwrap_or(0)
    }

    /// The window's size averaged over time, from 0 to `wall`.
    pub fn window_mean(&self, wall: Duration) -> f64 {
        if wall.is_zero() {
            return self.window.first().map_or(0.0, |point| point.size as f64);
        }
        let ends = self.window.iter().skip(1).map(|point| point.at);
        let weighted: f64 = self
            .window
            .iter()
            .zip(ends.chain([wall]))
            .map(|(point, end)| {
                let span = end.min(wall).saturating_sub(point.at.min(wall));
                point.size as f64 * span.as_secs_f64()
            })
            .sum();
        weighted / wall.as_secs_f64()
    }
}

/// The outcome of a whole run.
#[derive(Debug)]
pub struct Report {
    /// One per input, in input order.
    pub items: Vec<Item>,
    /// From the start of the run to the last item's end.
    pub wall: Duration,
    /// Number of pool workers.
    pub workers: usize,
    /// The download window over time, and the memory budget.
    pub flow: Flow,
}

impl Report {
    /// How many inputs were saved.
    pub fn succeeded(&self) -> usize {
        self.items.iter().filter(|item| item.result.is_ok()).count()
    }

    /// How many inputs failed.
    pub fn failed(&self) -> usize {
        self.items.len() - self.succeeded()
    }

    /// Time during which at least one download was in flight.
    pub fn io_time(&self) -> Duration {
        union_length(self.items.iter().filter_map(|item| item.stages.download))
    }

    /// Time pool workers spent on jobs, summed over workers. Each job is
    /// timed by the wall clock on its worker, so on a machine with more
    /// busy threads than cores it includes time the job waited for a core.
    pub fn cpu_time(&self) -> Duration {
        self.cpu_spans().map(|span| span.duration()).sum()
    }

    /// Time during which at least one worker was busy.
    pub fn cpu_busy_time(&self) -> Duration {
        union_length(self.cpu_spans())
    }

    /// Time during which a download was in flight *and* a worker was busy:
    /// how much I/O and CPU work overlapped.
    pub fn overlap_time(&self) -> Duration {
        let io = union(self.items.iter().filter_map(|item| item.stages.download));
        let cpu = union(self.cpu_spans());
        intersection_length(&io, &cpu)
    }

    fn cpu_spans(&self) -> impl Iterator<Item = Span> + '_ {
        self.items
            .iter()
            .filter_map(|item| item.stages.cpu.map(|cpu| cpu.whole()))
    }
}

/// Merges spans into sorted, disjoint spans.
fn union(spans: impl Iterator<Item = Span>) -> Vec<Span> {
    let mut spans: Vec<Span> = spans.collect();
    spans.sort_by_key(|span| span.start);
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

fn union_length(spans: impl Iterator<Item = Span>) -> Duration {
    union(spans).iter().map(Span::duration).sum()
}

/// Total length of the intersection of two sorted, disjoint span lists.
fn intersection_length(a: &[Span], b: &[Span]) -> Duration {
    let (mut i, mut j, mut total) = (0, 0, Duration::ZERO);
    while i < a.len() && j < b.len() {
        let start = a[i].start.max(b[j].start);
        let end = a[i].end.min(b[j].end);
        total += end.saturating_sub(start);
        if a[i].end < b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: u64, end: u64) -> Span {
        Span::from_millis(start, end)
    }

    #[test]
    fn union_merges_overlapping_spans() {
        let merged = union([span(5, 8), span(0, 2), span(1, 3), span(8, 9)].into_iter());
        assert_eq!(merged, vec![span(0, 3), span(5, 9)]);
    }

    #[test]
    fn the_window_mean_is_weighted_by_time() {
        let point = |at, size| WindowPoint {
            at: Duration::from_millis(at),
            size,
        };
        let flow = Flow {
            window: vec![point(0, 10), point(10, 20), point(40, 30)],
            ..Flow::default()
        };
        assert_eq!(flow.window_max(), 30);
        // 10 for 10 ms, 20 for 30 ms; the change at 40 ms is past the end.
        let mean = flow.window_mean(Duration::from_millis(40));
        assert!((mean - 17.5).abs() < 1e-9, "{mean}");
    }

    #[test]
    fn intersection_counts_only_shared_time() {
        let io = vec![span(0, 10), span(20, 30)];
        let cpu = vec![span(5, 25)];
        assert_eq!(intersection_length(&io, &cpu), Duration::from_millis(10));
    }
}
