//! `--timeline FILE.svg`: when each stage of each input ran, drawn on one
//! time axis.
//!
//! # Why
//!
//! Totals say *how much* downloads and CPU work overlapped; a picture shows
//! *how*: whether workers sat idle waiting for downloads, whether downloads
//! stalled while the pool was saturated, which image was slow. SVG needs
//! no dependency and opens in any browser, with a tooltip on every bar.
//!
//! # How
//!
//! ```text
//!  downloads (loop)  ▇▇▇▇0▇▇▇  ▇▇▇2▇▇▇▇       one sub-lane per overlapping download
//!                      ▇▇▇▇1▇▇▇▇▇    ▇▇3▇▇
//!  worker 0                  ▒▒0▒░▓       ▒▒2▒░▓   decode, resize, encode
//!  worker 1                       ▒▒▒1▒░▓
//!  saves                            ▪0      ▪1 ▪2
//!                    0 ms     50 ms    100 ms
//! ```
//!
//! The [`Report`] gives every stage's [`Span`] as offsets from the start
//! of the run. Bars are grouped into rows: the loop's downloads, one row
//! per pool worker, and the file saves (on the blocking thread pool). Within
//! a row, [`pack`] stacks groups that overlap in time into sub-lanes, so no
//! bar hides another. The file is written to a temporary name and renamed,
//! so a reader never sees half a picture.

use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::time::Duration;

use tandem::pipeline::{Item, Report, Span, write_atomically};

/// Width of the row labels, left of the plot.
const LABEL_WIDTH: f64 = 130.0;
/// Width of the plot, in which the run's time is drawn.
const PLOT_WIDTH: f64 = 960.0;
/// Right margin.
const MARGIN: f64 = 30.0;
/// Height of the title and legend above the rows.
const HEADER_HEIGHT: f64 = 64.0;
/// Height of one lane (one bar high).
const LANE_HEIGHT: f64 = 18.0;
/// Space between two lanes of a row.
const LANE_GAP: f64 = 3.0;
/// Space above and below the lanes of a row.
const ROW_PADDING: f64 = 6.0;
/// Height of the time axis below the rows.
const AXIS_HEIGHT: f64 = 40.0;
/// A bar narrower than this is widened, so that it stays visible.
const MIN_BAR_WIDTH: f64 = 1.0;
/// Bars at least this wide end one pixel early (see `draw_bar`).
const BAR_GAP_FROM: f64 = 4.0;
/// The least width of a bar that gets its item number written in it.
const LABELLED_BAR_WIDTH: f64 = 16.0;
/// About how many ticks the time axis gets.
const TICKS: f64 = 10.0;

/// The stages of an input, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Download,
    Decode,
    Resize,
    Encode,
    Save,
}

impl Stage {
    const ALL: [Stage; 5] = [
        Stage::Download,
        Stage::Decode,
        Stage::Resize,
        Stage::Encode,
        Stage::Save,
    ];

    fn name(self) -> &'static str {
        match self {
            Stage::Download => "download",
            Stage::Decode => "decode",
            Stage::Resize => "resize",
            Stage::Encode => "encode",
            Stage::Save => "save",
        }
    }

    /// Colours of the Tableau 10 palette: distinct, and readable on white.
    fn colour(self) -> &'static str {
        match self {
            Stage::Download => "#4e79a7",
            Stage::Decode => "#f28e2b",
            Stage::Resize => "#edc948",
            Stage::Encode => "#b07aa1",
            Stage::Save => "#59a14f",
        }
    }

    /// The colour of text written on the stage's bars.
    fn text_colour(self) -> &'static str {
        match self {
            Stage::Download | Stage::Save => "white",
            Stage::Decode | Stage::Resize | Stage::Encode => "black",
        }
    }
}

/// One stage of one input.
#[derive(Debug, Clone, Copy)]
struct Bar<'a> {
    item: &'a Item,
    stage: Stage,
    span: Span,
}

/// Bars that must stay on one lane together (the three CPU stages of an
/// item), and the span they cover.
#[derive(Debug, Clone)]
struct Group<'a> {
    span: Span,
    bars: Vec<Bar<'a>>,
}

impl<'a> Group<'a> {
    fn single(item: &'a Item, stage: Stage, span: Span) -> Group<'a> {
        Group {
            span,
            bars: vec![Bar { item, stage, span }],
        }
    }
}

/// A labelled row of the picture, made of one or more lanes.
#[derive(Debug)]
struct Row<'a> {
    label: String,
    /// The `class` of the row's `<g>`: `downloads`, `worker` or `saves`.
    kind: &'static str,
    lanes: Vec<Vec<Group<'a>>>,
}

/// Writes the timeline of `report` to `path`, atomically (the pipeline's
/// own [`write_atomically`]: a temporary file next to it, then a rename).
pub fn write(report: &Report, path: &Path) -> io::Result<()> {
    write_atomically(path, svg(report).as_bytes())
}

/// The whole SVG document.
fn svg(report: &Report) -> String {
    let rows = rows(report);
    let end = report
        .items
        .iter()
        .flat_map(|item| bars(item).into_iter().map(|bar| bar.span.end))
        .fold(report.wall, Duration::max)
        .max(Duration::from_micros(1));
    let scale = Scale { end };

    let rows_height: f64 = rows.iter().map(Row::height).sum();
    let width = LABEL_WIDTH + PLOT_WIDTH + MARGIN;
    let height = HEADER_HEIGHT + rows_height + AXIS_HEIGHT;
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
    let tops: Vec<f64> = rows
        .iter()
        .scan(HEADER_HEIGHT, |top, row| {
            let this = *top;
            *top += row.height();
            Some(this)
        })
        .collect();
    for (number, (row, &top)) in rows.iter().zip(&tops).enumerate() {
        let band = if number % 2 == 0 {
            "#f2f2f2"
        } else {
            "#ffffff"
        };
        let _ = writeln!(
            svg,
            "<rect x=\"0\" y=\"{top}\" width=\"{}\" height=\"{}\" fill=\"{band}\"/>",
            LABEL_WIDTH + PLOT_WIDTH,
            row.height(),
        );
    }
    grid(&mut svg, &scale, HEADER_HEIGHT, HEADER_HEIGHT + rows_height);
    for (row, &top) in rows.iter().zip(&tops) {
        draw_row(&mut svg, row, top, &scale);
    }
    svg.push_str("</svg>\n");
    svg
}

/// The rows: downloads, one per worker, saves.
fn rows(report: &Report) -> Vec<Row<'_>> {
    let mut downloads = Vec::new();
    let mut saves = Vec::new();
    let workers = report
        .items
        .iter()
        .filter_map(|item| item.stages.cpu.map(|cpu| cpu.worker + 1))
        .fold(report.workers, usize::max);
    let mut per_worker: Vec<Vec<Group>> = vec![Vec::new(); workers];
    for item in &report.items {
        if let Some(span) = item.stages.download {
            downloads.push(Group::single(item, Stage::Download, span));
        }
        if let Some(cpu) = item.stages.cpu {
            per_worker[cpu.worker].push(Group {
                span: cpu.whole(),
                bars: bars(item)
                    .into_iter()
                    .filter(|bar| {
                        matches!(bar.stage, Stage::Decode | Stage::Resize | Stage::Encode)
                    })
                    .collect(),
            });
        }
        if let Some(span) = item.stages.save {
            saves.push(Group::single(item, Stage::Save, span));
        }
    }
    let mut rows = vec![Row {
        label: "downloads (loop)".to_string(),
        kind: "downloads",
        lanes: pack(downloads),
    }];
    for (worker, groups) in per_worker.into_iter().enumerate() {
        rows.push(Row {
            label: format!("worker {worker}"),
            kind: "worker",
            lanes: pack(groups),
        });
    }
    rows.push(Row {
        label: "saves".to_string(),
        kind: "saves",
        lanes: pack(saves),
    });
    rows
}

/// Every stage of `item` that ran, in stage order.
fn bars(item: &Item) -> Vec<Bar<'_>> {
    let stages = &item.stages;
    let cpu = stages.cpu;
    [
        (Stage::Download, stages.download),
        (Stage::Decode, cpu.map(|cpu| cpu.decode)),
        (Stage::Resize, cpu.map(|cpu| cpu.resize)),
        (Stage::Encode, cpu.map(|cpu| cpu.encode)),
        (Stage::Save, stages.save),
    ]
    .into_iter()
    .filter_map(|(stage, span)| span.map(|span| Bar { item, stage, span }))
    .collect()
}

/// Stacks groups into lanes, so that the groups of a lane do not overlap:
/// each group, by start time, goes to the first lane free by then (the
/// greedy interval-partitioning algorithm, which uses as few lanes as
/// possible). Always at least one lane, possibly empty.
fn pack(mut groups: Vec<Group<'_>>) -> Vec<Vec<Group<'_>>> {
    groups.sort_by_key(|group| (group.span.start, group.span.end));
    let mut lanes: Vec<Vec<Group>> = vec![Vec::new()];
    for group in groups {
        let free = lanes.iter().position(
            |lane| !matches!(lane.last(), Some(last) if last.span.end > group.span.start),
        );
        match free {
            Some(lane) => lanes[lane].push(group),
            None => lanes.push(vec![group]),
        }
    }
    lanes
}

impl Row<'_> {
    fn height(&self) -> f64 {
        let lanes = self.lanes.len() as f64;
        2.0 * ROW_PADDING + lanes * LANE_HEIGHT + (lanes - 1.0) * LANE_GAP
    }
}

/// From time to x coordinate.
struct Scale {
    /// The time at the right edge of the plot.
    end: Duration,
}

impl Scale {
    fn x(&self, time: Duration) -> f64 {
        LABEL_WIDTH + PLOT_WIDTH * time.as_secs_f64() / self.end.as_secs_f64()
    }
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
            stage.colour(),
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

/// Vertical grid lines and the time axis below the rows.
fn grid(svg: &mut String, scale: &Scale, top: f64, bottom: f64) {
    let end_ms = scale.end.as_secs_f64() * 1000.0;
    let step = tick_step(end_ms);
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let _ = writeln!(
        svg,
        "<line x1=\"{LABEL_WIDTH}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\" stroke=\"black\"/>",
        LABEL_WIDTH + PLOT_WIDTH
    );
    let mut tick = 0;
    loop {
        let ms = step * f64::from(tick);
        if ms > end_ms * 1.000_001 {
            break;
        }
        let x = LABEL_WIDTH + PLOT_WIDTH * ms / end_ms;
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.2}\" y1=\"{top}\" x2=\"{x:.2}\" y2=\"{bottom}\" stroke=\"#e0e0e0\"/>\
             <line x1=\"{x:.2}\" y1=\"{bottom}\" x2=\"{x:.2}\" y2=\"{}\" stroke=\"black\"/>\
             <text x=\"{x:.2}\" y=\"{}\" text-anchor=\"middle\">{ms:.decimals$}</text>",
            bottom + 5.0,
            bottom + 18.0,
        );
        tick += 1;
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#444444\">time since the start \
         of the run (ms)</text>",
        LABEL_WIDTH + PLOT_WIDTH / 2.0,
        bottom + 34.0
    );
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

/// One row: its label and its bars.
fn draw_row(svg: &mut String, row: &Row, top: f64, scale: &Scale) {
    let _ = writeln!(
        svg,
        "<g class=\"row {}\">\n<text x=\"10\" y=\"{}\">{}</text>",
        row.kind,
        top + row.height() / 2.0 + 4.0,
        xml_text(&row.label),
    );
    for (lane, groups) in row.lanes.iter().enumerate() {
        let y = top + ROW_PADDING + lane as f64 * (LANE_HEIGHT + LANE_GAP);
        for bar in groups.iter().flat_map(|group| &group.bars) {
            draw_bar(svg, bar, y, scale);
        }
    }
    svg.push_str("</g>\n");
}

/// One bar with its tooltip, and its item number when it fits.
fn draw_bar(svg: &mut String, bar: &Bar, y: f64, scale: &Scale) {
    let x = scale.x(bar.span.start);
    let width = (scale.x(bar.span.end) - x).max(MIN_BAR_WIDTH);
    // A hairline gap at the end of wide bars, so that back-to-back bars of
    // one lane stay apart.
    let width = if width >= BAR_GAP_FROM {
        width - 1.0
    } else {
        width
    };
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
        bar.stage.colour(),
        xml_text(&tooltip)
    );
    if width >= LABELLED_BAR_WIDTH {
        let _ = write!(
            svg,
            "<text x=\"{:.2}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{}\" \
             pointer-events=\"none\">{}</text>",
            x + width / 2.0,
            y + LANE_HEIGHT - 5.0,
            bar.stage.text_colour(),
            bar.item.index
        );
    }
    svg.push('\n');
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
    use super::*;
    use std::fs;
    use std::path::PathBuf;
    use tandem::pipeline::{CpuSpan, ItemError, Saved, Stages};

    fn span(start: u64, end: u64) -> Span {
        Span::from_millis(start, end)
    }

    /// An item downloaded over `download`, then (if `worker` is some) run on
    /// that worker right after and saved.
    fn item(index: usize, download: (u64, u64), worker: Option<usize>) -> Item {
        let (start, end) = download;
        let cpu = worker.map(|worker| CpuSpan {
            worker,
            decode: span(end, end + 6),
            resize: span(end + 6, end + 8),
            encode: span(end + 8, end + 10),
        });
        Item {
            index,
            url: format!("http://127.0.0.1:1/{index}?a=1&b=<2>"),
            result: match worker {
                Some(_) => Ok(Saved {
                    path: PathBuf::from(format!("out/resized_{index}.png")),
                    downloaded_bytes: 100,
                    source_size: (64, 48),
                    output_size: (128, 128),
                }),
                None => Err(ItemError::HttpStatus(404)),
            },
            stages: Stages {
                download: Some(span(start, end)),
                cpu,
                save: worker.map(|_| span(end + 10, end + 11)),
            },
        }
    }

    fn report() -> Report {
        Report {
            items: vec![
                item(0, (0, 20), Some(0)),
                item(1, (5, 25), Some(1)),
                item(2, (10, 15), None),
                item(3, (22, 40), Some(0)),
            ],
            wall: Duration::from_millis(51),
            workers: 3,
        }
    }

    #[test]
    fn overlapping_downloads_get_their_own_lanes() {
        let report = report();
        let rows = rows(&report);
        let labels: Vec<&str> = rows.iter().map(|row| row.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "downloads (loop)",
                "worker 0",
                "worker 1",
                "worker 2",
                "saves"
            ]
        );
        // 0-20, 5-25 and 10-15 overlap; 22-40 fits after 0-20.
        let lanes: Vec<Vec<usize>> = rows[0]
            .lanes
            .iter()
            .map(|lane| lane.iter().map(|group| group.bars[0].item.index).collect())
            .collect();
        assert_eq!(lanes, [vec![0, 3], vec![1], vec![2]]);
        // Worker 0 ran items 0 and 3 one after the other: one lane, three
        // bars each. The idle worker 2 still has its (empty) row.
        assert_eq!(rows[1].lanes.len(), 1);
        assert_eq!(rows[1].lanes[0].len(), 2);
        assert_eq!(rows[1].lanes[0][0].bars.len(), 3);
        assert!(rows[3].lanes[0].is_empty());
    }

    #[test]
    fn the_svg_has_every_row_bar_and_tooltip() {
        let svg = svg(&report());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<g class=\"row worker\">").count(), 3);
        assert_eq!(svg.matches("<g class=\"row downloads\">").count(), 1);
        // 4 downloads, 3 x 3 CPU stages, 3 saves.
        assert_eq!(svg.matches("<title>").count(), 4 + 9 + 3);
        assert!(svg.contains("<title>#1 resize: 2.00 ms (from 31.00 to 33.00 ms)\n"));
        assert!(svg.contains(
            "http://127.0.0.1:1/2?a=1&amp;b=&lt;2&gt;\nfailed: server answered HTTP 404</title>"
        ));
        for stage in Stage::ALL {
            assert!(svg.contains(stage.colour()));
        }
        // The axis reaches the 50 ms tick, in steps of 10 ms.
        assert!(svg.contains(">50</text>") && svg.contains(">10</text>"));
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(1000.0), 100.0);
        assert_eq!(tick_step(51.0), 10.0);
        assert_eq!(tick_step(40.0), 5.0);
        assert_eq!(tick_step(13.0), 2.0);
        assert!((tick_step(0.9) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(
            xml_text("a<b>&\"c'\u{1b}\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}\n"
        );
    }

    #[test]
    fn the_file_is_replaced_atomically() {
        let dir = std::env::temp_dir().join(format!("tandem-timeline-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.svg");
        fs::write(&path, "old").unwrap();
        write(&report(), &path).unwrap();
        assert!(fs::read_to_string(&path).unwrap().starts_with("<svg"));
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["run.svg"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
