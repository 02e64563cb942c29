//! Writing the timeline as SVG: the document, the title and legend, the
//! grid and time axis, and the rows with their bars and tooltips.
//!
//! Every coordinate comes from the [`Layout`] (`layout.rs`, `scale.rs`); this file
//! decides only how things look: colours, text, and the order of drawing
//! (back to front: row bands, grid lines, bars). Text that comes from the
//! run (URLs, error messages) is escaped by [`xml_text`].

use std::fmt::Write as _;
use std::time::Duration;

use tandem::pipeline::Report;

use super::layout::{Bar, LANE_HEIGHT, Layout, Row, Stage};
use super::scale::{LABEL_WIDTH, PLOT_WIDTH};
use super::window;

/// The least width of a bar that gets its item number written in it.
const LABELLED_BAR_WIDTH: f64 = 16.0;

/// The whole SVG document.
pub(super) fn document(report: &Report) -> String {
    let layout = Layout::new(report);
    let (width, height) = (layout.width, layout.height);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        svg,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>"
    );
    header(&mut svg, report);
    // Back to front: the rows' bands, the grid lines, then the bars.
    for (number, row) in layout.rows.iter().enumerate() {
        let band = if number % 2 == 0 {
            "#f2f2f2"
        } else {
            "#ffffff"
        };
        let _ = writeln!(
            svg,
            "<rect x=\"0\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{band}\"/>",
            row.top,
            LABEL_WIDTH + PLOT_WIDTH,
            row.height(),
        );
    }
    if let Some(top) = layout.window_top {
        window::draw(
            &mut svg,
            &report.flow,
            &layout.scale,
            top,
            layout.scale.end(),
        );
    }
    grid(&mut svg, &layout);
    for row in &layout.rows {
        draw_row(&mut svg, row, &layout);
    }
    svg.push_str("</svg>\n");
    svg
}

/// Title, totals and legend.
fn header(svg: &mut String, report: &Report) {
    let wall_ms = report.wall.as_secs_f64() * 1000.0;
    let overlap_ms = report.overlap_time().as_secs_f64() * 1000.0;
    let percent = if wall_ms > 0.0 {
        100.0 * overlap_ms / wall_ms
    } else {
        0.0
    };
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">tandem timeline: \
         {} inputs ({} failed), {} workers, wall {wall_ms:.1} ms, downloads and CPU \
         overlapped {overlap_ms:.1} ms ({percent:.0}%)</text>",
        report.items.len(),
        report.failed(),
        report.workers,
    );
    let mut x = 10.0;
    for stage in Stage::ALL {
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"34\" width=\"14\" height=\"14\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"46\">{}</text>",
            colour(stage),
            x + 19.0,
            stage.name()
        );
        x += 90.0;
    }
    let _ = writeln!(
        svg,
        "<rect x=\"{x}\" y=\"34\" width=\"14\" height=\"14\" fill=\"#cccccc\" \
         stroke=\"#d62728\" stroke-width=\"2\"/><text x=\"{}\" y=\"46\">failed input</text>\
         <text x=\"{}\" y=\"46\" fill=\"#666666\">hover a bar for details</text>",
        x + 19.0,
        x + 130.0
    );
}

/// Vertical grid lines over the rows, and the time axis below them.
fn grid(svg: &mut String, layout: &Layout) {
    let (top, bottom) = (layout.rows_top, layout.rows_bottom);
    let _ = writeln!(
        svg,
        "<line x1=\"{LABEL_WIDTH}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\" stroke=\"black\"/>",
        LABEL_WIDTH + PLOT_WIDTH
    );
    for tick in layout.scale.ticks() {
        let x = tick.x;
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.2}\" y1=\"{top}\" x2=\"{x:.2}\" y2=\"{bottom}\" stroke=\"#e0e0e0\"/>\
             <line x1=\"{x:.2}\" y1=\"{bottom}\" x2=\"{x:.2}\" y2=\"{}\" stroke=\"black\"/>\
             <text x=\"{x:.2}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            bottom + 5.0,
            bottom + 18.0,
            tick.label,
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#444444\">time since the start \
         of the run (ms)</text>",
        LABEL_WIDTH + PLOT_WIDTH / 2.0,
        bottom + 34.0
    );
}

/// One row: its label and its bars.
fn draw_row(svg: &mut String, row: &Row, layout: &Layout) {
    let _ = writeln!(
        svg,
        "<g class=\"row {}\">\n<text x=\"10\" y=\"{}\">{}</text>",
        row.kind,
        row.top + row.height() / 2.0 + 4.0,
        xml_text(&row.label),
    );
    for (y, bar) in row.bars() {
        let (x, width) = layout.scale.bar(bar.span);
        draw_bar(svg, bar, x, y, width);
    }
    svg.push_str("</g>\n");
}

/// One bar with its tooltip, and its item number when it fits.
fn draw_bar(svg: &mut String, bar: &Bar, x: f64, y: f64, width: f64) {
    let failed = bar.item.result.is_err();
    let outline = if failed {
        " stroke=\"#d62728\" stroke-width=\"2\""
    } else {
        ""
    };
    let ms = |time: Duration| time.as_secs_f64() * 1000.0;
    let mut tooltip = format!(
        "#{} {}: {:.2} ms (from {:.2} to {:.2} ms)\n{}",
        bar.item.index,
        bar.stage.name(),
        ms(bar.span.duration()),
        ms(bar.span.start),
        ms(bar.span.end),
        bar.item.url
    );
    if let Err(err) = &bar.item.result {
        let _ = write!(tooltip, "\nfailed: {err}");
    }
    let _ = write!(
        svg,
        "<rect x=\"{x:.2}\" y=\"{y}\" width=\"{width:.2}\" height=\"{LANE_HEIGHT}\" fill=\"{}\"{outline}>\
         <title>{}</title></rect>",
        colour(bar.stage),
        xml_text(&tooltip)
    );
    if width >= LABELLED_BAR_WIDTH {
        let _ = write!(
            svg,
            "<text x=\"{:.2}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{}\" \
             pointer-events=\"none\">{}</text>",
            x + width / 2.0,
            y + LANE_HEIGHT - 5.0,
            text_colour(bar.stage),
            bar.item.index
        );
    }
    svg.push('\n');
}

/// The fill of a stage's bars: colours of the Tableau 10 palette,
/// distinct, and readable on white.
fn colour(stage: Stage) -> &'static str {
    match stage {
        Stage::Download => "#4e79a7",
        Stage::Decode => "#f28e2b",
        Stage::Resize => "#edc948",
        Stage::Encode => "#b07aa1",
        Stage::Save => "#59a14f",
    }
}

/// The colour of text written on a stage's bars.
fn text_colour(stage: Stage) -> &'static str {
    match stage {
        Stage::Download | Stage::Save => "white",
        Stage::Decode | Stage::Resize | Stage::Encode => "black",
    }
}

/// `text` escaped for XML character data and attribute values. Characters
/// XML cannot carry at all (most control characters) become U+FFFD.
fn xml_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\n' | '\t' => escaped.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::super::sample_report;
    use super::*;

    #[test]
    fn the_svg_has_every_row_bar_and_tooltip() {
        let svg = document(&sample_report());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<g class=\"row worker\">").count(), 3);
        assert_eq!(svg.matches("<g class=\"row downloads\">").count(), 1);
        assert_eq!(svg.matches("<g class=\"window\">").count(), 1);
        assert!(svg.contains("adaptive, at most 3"));
        // 4 downloads, 3 x 3 CPU stages, 3 saves, the window's line.
        assert_eq!(svg.matches("<title>").count(), 4 + 9 + 3 + 1);
        assert!(svg.contains("<title>#1 resize: 2.00 ms (from 31.00 to 33.00 ms)\n"));
        assert!(svg.contains(
            "http://127.0.0.1:1/2?a=1&amp;b=&lt;2&gt;\nfailed: server answered HTTP 404</title>"
        ));
        for stage in Stage::ALL {
            assert!(svg.contains(colour(stage)));
        }
        // The axis reaches the 50 ms tick, in steps of 10 ms.
        assert!(svg.contains(">50</text>") && svg.contains(">10</text>"));
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(
            xml_text("a<b>&\"c'\u{1b}\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}\n"
        );
    }
}
