//! The time axis of the timeline: where a moment of the run goes on x,
//! how wide a bar is, and where the ticks go.
//!
//! The plot runs from [`LABEL_WIDTH`] (the start of the run) to
//! `LABEL_WIDTH + PLOT_WIDTH` (the end of its last stage). Tick steps are
//! round numbers of milliseconds (1, 2 or 5 times a power of ten), so that
//! the axis reads like a ruler whatever the run's length.

use std::time::Duration;

use tandem::pipeline::Span;

/// Width of the row labels, left of the plot.
pub(super) const LABEL_WIDTH: f64 = 130.0;
/// Width of the plot, in which the run's time is drawn.
pub(super) const PLOT_WIDTH: f64 = 960.0;
/// A bar narrower than this is widened, so that it stays visible.
const MIN_BAR_WIDTH: f64 = 1.0;
/// Bars at least this wide end one pixel early (see [`Scale::bar`]).
const BAR_GAP_FROM: f64 = 4.0;
/// About how many ticks the time axis gets.
const TICKS: f64 = 10.0;

/// From time to x coordinate: the run's start at [`LABEL_WIDTH`], `end`
/// at the right edge of the plot.
#[derive(Debug)]
pub(super) struct Scale {
    /// The time at the right edge of the plot.
    end: Duration,
}

/// A mark on the time axis.
#[derive(Debug, PartialEq)]
pub(super) struct Tick {
    pub(super) x: f64,
    /// Milliseconds since the start of the run, as few decimals as the
    /// step needs.
    pub(super) label: String,
}

impl Scale {
    /// A plot whose right edge is `last`; at least a microsecond, since a
    /// plot of no time would put every bar at infinity.
    pub(super) fn new(last: Duration) -> Scale {
        Scale {
            end: last.max(Duration::from_micros(1)),
        }
    }

    /// The right edge of the plot, in time.
    pub(super) fn end(&self) -> Duration {
        self.end
    }

    /// The x of `time`.
    pub(super) fn x(&self, time: Duration) -> f64 {
        LABEL_WIDTH + PLOT_WIDTH * time.as_secs_f64() / self.end.as_secs_f64()
    }

    /// Where the bar of `span` goes: its left edge and its width. Every
    /// bar stays visible, and wide bars end one pixel early, so that
    /// back-to-back bars of one lane stay apart.
    pub(super) fn bar(&self, span: Span) -> (f64, f64) {
        let x = self.x(span.start);
        let width = (self.x(span.end) - x).max(MIN_BAR_WIDTH);
        if width >= BAR_GAP_FROM {
            (x, width - 1.0)
        } else {
            (x, width)
        }
    }

    /// The ticks of the time axis, from 0 to the end of the plot, a round
    /// [`tick_step`] apart.
    pub(super) fn ticks(&self) -> Vec<Tick> {
        let end_ms = self.end.as_secs_f64() * 1000.0;
        let step = tick_step(end_ms);
        let decimals = if step >= 1.0 {
            0
        } else {
            (-step.log10().floor()) as usize
        };
        (0..)
            .map(|tick| step * f64::from(tick))
            .take_while(|ms| *ms <= end_ms * 1.000_001)
            .map(|ms| Tick {
                x: LABEL_WIDTH + PLOT_WIDTH * ms / end_ms,
                label: format!("{ms:.decimals$}"),
            })
            .collect()
    }
}

/// The distance between ticks: 1, 2 or 5 times a power of ten, giving
/// about [`TICKS`] ticks over `end_ms`.
fn tick_step(end_ms: f64) -> f64 {
    let rough = end_ms / TICKS;
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|factor| factor * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_span_the_plot_and_stay_visible() {
        let scale = Scale::new(Duration::from_millis(100));
        // The whole run: the whole plot, less the one-pixel gap.
        assert_eq!(
            scale.bar(Span::from_millis(0, 100)),
            (LABEL_WIDTH, PLOT_WIDTH - 1.0)
        );
        // An instant: still one pixel wide.
        assert_eq!(scale.bar(Span::from_millis(50, 50)).1, MIN_BAR_WIDTH);
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(1000.0), 100.0);
        assert_eq!(tick_step(51.0), 10.0);
        assert_eq!(tick_step(40.0), 5.0);
        assert_eq!(tick_step(13.0), 2.0);
        assert!((tick_step(0.9) - 0.1).abs() < 1e-12);
        let scale = Scale::new(Duration::from_micros(900));
        let labels: Vec<String> = scale.ticks().into_iter().map(|tick| tick.label).collect();
        assert_eq!(labels.join(" "), "0.0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9");
    }
}
