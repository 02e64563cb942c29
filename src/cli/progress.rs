//! The live progress line on stderr: how many inputs are done, failed, and
//! at which stage the others are.
//!
//! # Why
//!
//! The interesting moment of a run is its middle: several downloads in
//! flight *while* the pool resizes what already arrived. The line shows
//! both counts side by side. It is for a person watching, so it is drawn
//! only when stderr is a terminal; piped or redirected, tandem stays
//! silent there, and stdout carries only the summary.
//!
//! # How
//!
//! The pipeline calls back with an [`Event`] on the loop thread each time
//! an input changes stage. [`Progress`] keeps each input's [`Stage`],
//! and redraws the line over itself with `\r`, at most every
//! [`REDRAW_INTERVAL`]: events can come by thousands a second, and a
//! terminal that is written to that often slows the loop down. A callback
//! must return quickly; formatting one short line does.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use tandem::pipeline::Event;

/// The least time between two redraws: ten a second at most.
pub const REDRAW_INTERVAL: Duration = Duration::from_millis(100);

/// Where an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not started: waiting for a download slot.
    Waiting,
    Downloading,
    /// Downloaded; its CPU job is queued or running in the pool.
    Cpu,
    /// Resized; its file is being written.
    Saving,
    Saved,
    Failed,
}

/// The progress line and what it counts.
pub struct Progress<W: Write> {
    stages: Vec<Stage>,
    /// `None`: do not draw (stderr is not a terminal).
    out: Option<W>,
    last_drawn: Option<Instant>,
    /// Length of the line last drawn, to blank what a shorter one leaves.
    drawn_len: usize,
}

impl Progress<io::Stderr> {
    /// A progress line on stderr if it is a terminal; otherwise it counts
    /// but never draws.
    pub fn on_stderr(total: usize) -> Progress<io::Stderr> {
        let stderr = io::stderr();
        let out = stderr.is_terminal().then_some(stderr);
        Progress::new(total, out)
    }
}

impl<W: Write> Progress<W> {
    /// Progress of `total` inputs, drawn on `out` if any.
    pub fn new(total: usize, out: Option<W>) -> Progress<W> {
        Progress {
            stages: vec![Stage::Waiting; total],
            out,
            last_drawn: None,
            drawn_len: 0,
        }
    }

    /// Records `event` and redraws if the last redraw is old enough.
    pub fn on_event(&mut self, event: Event) {
        self.record(event);
        self.redraw(Instant::now());
    }

    fn record(&mut self, event: Event) {
        let (index, stage) = match event {
            Event::DownloadStarted(index) => (index, Stage::Downloading),
            Event::Downloaded { index, .. } => (index, Stage::Cpu),
            Event::Processed(index) => (index, Stage::Saving),
            Event::Finished { index, ok: true } => (index, Stage::Saved),
            Event::Finished { index, ok: false } => (index, Stage::Failed),
        };
        // An index out of range would be a pipeline bug: not worth a panic
        // in a progress display.
        if let Some(slot) = self.stages.get_mut(index) {
            *slot = stage;
        }
    }

    /// The line as it would be drawn now.
    pub fn line(&self) -> String {
        let count = |stage| self.stages.iter().filter(|&&s| s == stage).count();
        let (saved, failed) = (count(Stage::Saved), count(Stage::Failed));
        format!(
            "[{}/{}] saved {saved}, failed {failed} | downloading {} | CPU jobs {} | saving {}",
            saved + failed,
            self.stages.len(),
            count(Stage::Downloading),
            count(Stage::Cpu),
            count(Stage::Saving),
        )
    }

    /// Draws the line over the previous one, unless one was drawn less
    /// than [`REDRAW_INTERVAL`] before `now`.
    fn redraw(&mut self, now: Instant) {
        let recent = self
            .last_drawn
            .is_some_and(|last| now.saturating_duration_since(last) < REDRAW_INTERVAL);
        if recent || self.out.is_none() {
            return;
        }
        self.last_drawn = Some(now);
        let line = self.line();
        self.draw(&line);
    }

    /// Draws `text` from the start of the line, blanking the rest of the
    /// previous line. Write errors are ignored: progress is a nicety.
    fn draw(&mut self, text: &str) {
        let Some(out) = self.out.as_mut() else {
            return;
        };
        let blank = self.drawn_len.saturating_sub(text.chars().count());
        let _ = write!(out, "\r{text}{:blank$}", "");
        let _ = out.flush();
        self.drawn_len = text.chars().count();
    }

    /// Erases the line, so that what is printed next starts clean.
    pub fn finish(&mut self) {
        if self.drawn_len > 0 {
            self.draw("");
            let _ = self.out.as_mut().map(|out| out.write_all(b"\r"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_inputs_by_stage() {
        let mut progress = Progress::<Vec<u8>>::new(5, None);
        for event in [
            Event::DownloadStarted(0),
            Event::DownloadStarted(1),
            Event::DownloadStarted(2),
            Event::DownloadStarted(3),
            Event::Downloaded {
                index: 0,
                bytes: 10,
            },
            Event::Downloaded {
                index: 1,
                bytes: 10,
            },
            Event::Processed(0),
            Event::Finished {
                index: 2,
                ok: false,
            },
            Event::Processed(1),
            Event::Finished { index: 1, ok: true },
            // Out of range: ignored.
            Event::Finished { index: 9, ok: true },
        ] {
            progress.on_event(event);
        }
        assert_eq!(
            progress.line(),
            "[2/5] saved 1, failed 1 | downloading 1 | CPU jobs 0 | saving 1"
        );
    }

    #[test]
    fn redraws_are_throttled_and_overwrite_the_line() {
        let mut progress = Progress::new(2, Some(Vec::new()));
        let start = Instant::now();
        progress.record(Event::DownloadStarted(0));
        progress.redraw(start);
        progress.record(Event::DownloadStarted(1));
        progress.redraw(start + Duration::from_millis(50));
        progress.record(Event::Finished { index: 0, ok: true });
        progress.redraw(start + Duration::from_millis(150));
        progress.finish();
        let drawn = String::from_utf8(progress.out.take().unwrap()).unwrap();
        let frames: Vec<&str> = drawn.split('\r').skip(1).collect();
        assert_eq!(
            frames,
            [
                "[0/2] saved 0, failed 0 | downloading 1 | CPU jobs 0 | saving 0",
                "[1/2] saved 1, failed 0 | downloading 1 | CPU jobs 0 | saving 0",
                &" ".repeat(frames[1].len()),
                "",
            ]
        );
    }

    #[test]
    fn nothing_is_drawn_without_a_terminal() {
        let mut progress = Progress::<Vec<u8>>::new(1, None);
        progress.on_event(Event::DownloadStarted(0));
        progress.finish();
        assert!(progress.out.is_none());
    }
}
