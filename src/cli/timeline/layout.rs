//! Where everything of the timeline goes: which rows there are, which lane
//! of its row each bar takes, and where rows and lanes sit in pixels (the
//! time axis, left to right, is [`Scale`]'s). No SVG here: `svg.rs` writes
//! what this file places.
//!
//! # How
//!
//! The [`Report`] gives every stage's [`Span`] as offsets from the start
//! of the run. Bars are grouped into rows: the loop's downloads, one row
//! per pool worker, and the file saves (on the blocking thread pool). A
//! [`Group`] is what must stay on one lane: one download, one save, or the
//! three CPU stages of one input. Within a row, [`pack`] stacks groups that
//! overlap in time into lanes, so no bar hides another.
//!
//! ```text
//!   HEADER_HEIGHT: title and legend
//!   the download window's band (window.rs), when the report has one
//!  ┌──────────────┬──────────────────────────────┐
//!  │ row label    │ ROW_PADDING                  │
//!  │              │ lane 0  ▇▇▇▇  (LANE_HEIGHT)  │
//!  │              │ LANE_GAP                     │
//!  │              │ lane 1     ▇▇▇▇▇▇            │
//!  │              │ ROW_PADDING                  │
//!  ├──────────────┼──────────────────────────────┤
//!  │ next row ... │                              │
//!  └──────────────┴──────────────────────────────┘
//!   AXIS_HEIGHT: ticks and caption
//!   ◄ LABEL_WIDTH► ◄──────── PLOT_WIDTH ────────► + MARGIN
//! ```

use std::time::Duration;

use tandem::pipeline::{Item, Report, Span};

use super::scale::{LABEL_WIDTH, PLOT_WIDTH, Scale};
use super::window::BAND_HEIGHT as WINDOW_BAND;

/// Right margin.
const MARGIN: f64 = 30.0;
/// Height of the title and legend above the rows.
const HEADER_HEIGHT: f64 = 64.0;
/// Height of one lane (one bar high).
pub(super) const LANE_HEIGHT: f64 = 18.0;
/// Space between two lanes of a row.
const LANE_GAP: f64 = 3.0;
/// Space above and below the lanes of a row.
const ROW_PADDING: f64 = 6.0;
/// Height of the time axis below the rows.
const AXIS_HEIGHT: f64 = 40.0;

/// The stages of an input, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Download,
    Decode,
    Resize,
    Encode,
    Save,
}

impl Stage {
    pub(super) const ALL: [Stage; 5] = [
        Stage::Download,
        Stage::Decode,
        Stage::Resize,
        Stage::Encode,
        Stage::Save,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Stage::Download => "download",
            Stage::Decode => "decode",
            Stage::Resize => "resize",
            Stage::Encode => "encode",
            Stage::Save => "save",
        }
    }
}

/// One stage of one input.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bar<'a> {
    pub(super) item: &'a Item,
    pub(super) stage: Stage,
    pub(super) span: Span,
}

/// Bars that must stay on one lane together (the three CPU stages of an
/// item), and the span they cover.
#[derive(Debug, Clone)]
pub(super) struct Group<'a> {
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
pub(super) struct Row<'a> {
    pub(super) label: String,
    /// The `class` of the row's `<g>`: `downloads`, `worker` or `saves`.
    pub(super) kind: &'static str,
    /// The y of the row's top edge.
    pub(super) top: f64,
    lanes: Vec<Vec<Group<'a>>>,
}

impl<'a> Row<'a> {
    pub(super) fn height(&self) -> f64 {
        let lanes = self.lanes.len() as f64;
        2.0 * ROW_PADDING + lanes * LANE_HEIGHT + (lanes - 1.0) * LANE_GAP
    }

    /// Every bar of the row with the y of its lane's top, lane by lane.
    pub(super) fn bars(&self) -> impl Iterator<Item = (f64, &Bar<'a>)> {
        self.lanes
            .iter()
            .enumerate()
            .flat_map(move |(lane, groups)| {
                let y = self.top + ROW_PADDING + lane as f64 * (LANE_HEIGHT + LANE_GAP);
                groups
                    .iter()
                    .flat_map(|group| &group.bars)
                    .map(move |bar| (y, bar))
            })
    }
}

/// The whole picture, placed: the rows from top to bottom, the time scale
/// and the size of the drawing.
#[derive(Debug)]
pub(super) struct Layout<'a> {
    pub(super) rows: Vec<Row<'a>>,
    pub(super) scale: Scale,
    /// The y of the download window's band (`window.rs`), if drawn.
    pub(super) window_top: Option<f64>,
    /// The y of the first row's top edge.
    pub(super) rows_top: f64,
    /// The y of the last row's bottom edge: the time axis.
    pub(super) rows_bottom: f64,
    pub(super) width: f64,
    pub(super) height: f64,
}

impl<'a> Layout<'a> {
    pub(super) fn new(report: &'a Report) -> Layout<'a> {
        let mut rows = rows(report);
        // The window's band, between the header and the rows.
        let window_top = (!report.flow.window.is_empty()).then_some(HEADER_HEIGHT);
        let rows_top = HEADER_HEIGHT + window_top.map_or(0.0, |_| WINDOW_BAND);
        let mut bottom = rows_top;
        for row in &mut rows {
            row.top = bottom;
            bottom += row.height();
        }
        // The plot ends with the run or its last stage, whichever is later.
        let last = report
            .items
            .iter()
            .flat_map(|item| bars(item).into_iter().map(|bar| bar.span.end))
            .fold(report.wall, Duration::max);
        Layout {
            rows,
            scale: Scale::new(last),
            window_top,
            rows_top,
            rows_bottom: bottom,
            width: LABEL_WIDTH + PLOT_WIDTH + MARGIN,
            height: bottom + AXIS_HEIGHT,
        }
    }
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
    let row = |label: String, kind, groups| Row {
        label,
        kind,
        top: 0.0,
        lanes: pack(groups),
    };
    let mut rows = vec![row("downloads (loop)".to_string(), "downloads", downloads)];
    for (worker, groups) in per_worker.into_iter().enumerate() {
        rows.push(row(format!("worker {worker}"), "worker", groups));
    }
    rows.push(row("saves".to_string(), "saves", saves));
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

#[cfg(test)]
mod tests {
    use super::super::sample_report;
    use super::*;

    #[test]
    fn overlapping_downloads_get_their_own_lanes() {
        let report = sample_report();
        let rows = rows(&report);
        let labels: Vec<&str> = rows.iter().map(|row| row.label.as_str()).collect();
        let expected = "downloads (loop), worker 0, worker 1, worker 2, saves";
        assert_eq!(labels.join(", "), expected);
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
    fn rows_stack_below_the_header_and_lanes_inside_their_row() {
        let report = sample_report();
        let layout = Layout::new(&report);
        let mut top = layout.rows_top;
        for row in &layout.rows {
            assert_eq!(row.top, top);
            for (y, _) in row.bars() {
                assert!(y >= row.top + ROW_PADDING);
                assert!(y + LANE_HEIGHT <= row.top + row.height() - ROW_PADDING);
            }
            top += row.height();
        }
        assert_eq!(layout.rows_bottom, top);
        assert_eq!(layout.height, top + AXIS_HEIGHT);
        // The downloads' three lanes: bars on three different heights.
        let mut heights: Vec<f64> = layout.rows[0].bars().map(|(y, _)| y).collect();
        heights.dedup();
        assert_eq!(heights.len(), 3);
    }
}
