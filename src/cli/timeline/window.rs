//! The download window over the run, drawn as a step line in a band above
//! the download lanes: the reader sees the controller work.
//!
//! # Why
//!
//! The window (`tandem::pipeline`'s `window.rs`) grows while the workers
//! wait for bytes and shrinks while pictures wait for a worker. A number
//! at the end ("at most 48, mean 41") says that it moved; a line drawn on
//! the same time axis as the bars says *when*, and why: it climbs where
//! the worker rows below it have gaps, and flattens once they are full.
//!
//! # How
//!
//! The band is [`BAND_HEIGHT`] high. y = 0 at the band's bottom, the
//! window's largest size at its top; each [`WindowPoint`] holds until the
//! next one (a step), and the last until the end of the plot. `layout.rs`
//! reserves the band, `svg.rs` calls [`draw`].

use std::fmt::Write as _;
use std::time::Duration;

use tandem::pipeline::{Flow, WindowPoint};

use super::scale::{LABEL_WIDTH, PLOT_WIDTH, Scale};

/// Height of the window's band, padding included.
pub(super) const BAND_HEIGHT: f64 = 70.0;
/// Space above and below the line inside the band.
const PADDING: f64 = 10.0;

/// The step line's vertices, in pixels, for a band whose top is `top`.
fn vertices(window: &[WindowPoint], scale: &Scale, top: f64, end: Duration) -> Vec<(f64, f64)> {
    let largest = window
        .iter()
        .map(|point| point.size)
        .max()
        .unwrap_or(1)
        .max(1);
    let y = |size: usize| {
        let inner = BAND_HEIGHT - 2.0 * PADDING;
        top + PADDING + inner * (1.0 - size as f64 / largest as f64)
    };
    let mut vertices = Vec::with_capacity(2 * window.len() + 1);
    for point in window {
        let x = scale.x(point.at);
        if let Some(&(_, previous)) = vertices.last() {
            vertices.push((x, previous));
        }
        vertices.push((x, y(point.size)));
    }
    if let Some(&(_, last)) = vertices.last() {
        vertices.push((scale.x(end), last));
    }
    vertices
}

/// Draws the band: its label, the step line, and the largest size.
pub(super) fn draw(svg: &mut String, flow: &Flow, scale: &Scale, top: f64, end: Duration) {
    let kind = if flow.adaptive { "adaptive" } else { "fixed" };
    let _ = writeln!(
        svg,
        "<g class=\"window\"><rect x=\"0\" y=\"{top}\" width=\"{}\" height=\"{BAND_HEIGHT}\" \
         fill=\"#fbf7ee\"/><text x=\"8\" y=\"{}\">download window</text>\
         <text x=\"8\" y=\"{}\" fill=\"#666666\">{kind}, at most {}</text>",
        LABEL_WIDTH + PLOT_WIDTH,
        top + BAND_HEIGHT / 2.0 - 2.0,
        top + BAND_HEIGHT / 2.0 + 13.0,
        flow.window_max(),
    );
    let points: Vec<String> = vertices(&flow.window, scale, top, end)
        .iter()
        .map(|(x, y)| format!("{x:.2},{y:.2}"))
        .collect();
    let _ = writeln!(
        svg,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#b8860b\" stroke-width=\"2\">\
         <title>downloads allowed in flight</title></polyline></g>",
        points.join(" ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_steps_from_point_to_point_and_runs_to_the_end() {
        let point = |ms, size| WindowPoint {
            at: Duration::from_millis(ms),
            size,
        };
        let scale = Scale::new(Duration::from_millis(100));
        let window = [point(0, 2), point(50, 4)];
        let vertices = vertices(&window, &scale, 0.0, Duration::from_millis(100));
        let bottom_of_line = BAND_HEIGHT - PADDING;
        let half = PADDING + (BAND_HEIGHT - 2.0 * PADDING) / 2.0;
        assert_eq!(
            vertices,
            [
                (LABEL_WIDTH, half),
                (LABEL_WIDTH + PLOT_WIDTH / 2.0, half),
                (LABEL_WIDTH + PLOT_WIDTH / 2.0, PADDING),
                (LABEL_WIDTH + PLOT_WIDTH, PADDING),
            ]
        );
        assert!(vertices.iter().all(|&(_, y)| y <= bottom_of_line));
    }
}
