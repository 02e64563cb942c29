//! What a run printed at the end: a summary for people, or JSON lines for
//! programs (`--json`).
//!
//! # Why
//!
//! The point of tandem is that downloads and CPU work overlap; the summary
//! shows by how much, with the totals of [`Report`]: how long downloads
//! were in flight, how much CPU the pool spent, and for how long both
//! happened at once, and how the download window moved. Failures come first, one line each with its reason,
//! because they are what a reader must act on.
//!
//! # How
//!
//! Both forms are built as a `String` from a finished [`Report`], so they
//! can be tested without running anything. The JSON is written by hand
//! (tandem has no serde): one object per input in input order, then one
//! summary object, each on its own line ("JSON Lines"), strings escaped by
//! [`tandem::json::string`]. Durations are milliseconds with three decimals.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use tandem::json;
use tandem::pipeline::{Item, Report};

/// The human summary: failures, counts and the timing totals.
pub fn human(report: &Report, out_dir: &Path) -> String {
    let mut text = failures_and_counts(report, out_dir);
    let wall = report.wall;
    let overlap = report.overlap_time();
    let percent = if wall.is_zero() {
        0.0
    } else {
        100.0 * overlap.as_secs_f64() / wall.as_secs_f64()
    };
    let rows = [
        ("wall time", wall, String::new()),
        ("downloads in flight", report.io_time(), String::new()),
        (
            "CPU time in the pool",
            report.cpu_time(),
            format!("  (summed over {} workers)", report.workers),
        ),
        (
            "CPU busy (a worker working)",
            report.cpu_busy_time(),
            String::new(),
        ),
        (
            "downloads and CPU overlapped",
            overlap,
            format!("  ({percent:.1}% of the wall time)"),
        ),
    ];
    for (label, duration, note) in rows {
        let _ = writeln!(text, "  {label:<29}{:>12}{note}", seconds_or_ms(duration));
    }
    let flow = &report.flow;
    let window = if flow.adaptive { "adaptive" } else { "fixed" };
    let _ = writeln!(
        text,
        "  {:<29}{:>12}  (at most {}, mean {:.1}; bodies buffered at most {} of {})",
        "download window",
        window,
        flow.window_max(),
        flow.window_mean(wall),
        mebibytes(flow.buffered_peak),
        mebibytes(flow.max_buffered),
    );
    let _ = writeln!(
        text,
        "end to end {}; downloads and resizes overlapped {percent:.0}% of it",
        seconds_or_ms(wall)
    );
    text
}

/// The human summary of a `--broker` run. The downloads and the CPU work
/// happened on the workers, so the totals are the jobs' round trips (from
/// sending a task to its answer), which the report keeps as CPU spans.
pub fn human_through_broker(report: &Report, out_dir: &Path) -> String {
    let mut text = failures_and_counts(report, out_dir);
    let rows = [
        ("wall time", report.wall),
        ("jobs out, summed", report.cpu_time()),
        ("at least one job out", report.cpu_busy_time()),
    ];
    for (label, duration) in rows {
        let _ = writeln!(text, "  {label:<29}{:>12}", seconds_or_ms(duration));
    }
    text
}

/// The failures, one a line, then the counts.
fn failures_and_counts(report: &Report, out_dir: &Path) -> String {
    let mut text = String::new();
    for item in &report.items {
        if let Err(err) = &item.result {
            let _ = writeln!(
                text,
                "failed #{} {}: {}",
                item.index,
                printable(&item.url),
                printable(&err.to_string())
            );
        }
    }
    let _ = writeln!(
        text,
        "{} inputs: {} saved in {}, {} failed",
        report.items.len(),
        report.succeeded(),
        printable(&out_dir.display().to_string()),
        report.failed()
    );
    text
}

/// `12.3 MiB`.
fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// One JSON object per input, then the summary object; one per line.
pub fn json_lines(report: &Report) -> String {
    let mut text = String::new();
    for item in &report.items {
        text.push_str(&item_json(item));
        text.push('\n');
    }
    let _ = writeln!(
        text,
        "{{\"summary\":true,\"total\":{},\"succeeded\":{},\"failed\":{},\"workers\":{},\
         \"wall_ms\":{},\"io_ms\":{},\"cpu_ms\":{},\"cpu_busy_ms\":{},\"overlap_ms\":{},\
         \"window_adaptive\":{},\"window_max\":{},\"window_mean\":{:.3},\
         \"buffered_peak_bytes\":{},\"max_buffered_bytes\":{}}}",
        report.items.len(),
        report.succeeded(),
        report.failed(),
        report.workers,
        ms(report.wall),
        ms(report.io_time()),
        ms(report.cpu_time()),
        ms(report.cpu_busy_time()),
        ms(report.overlap_time()),
        report.flow.adaptive,
        report.flow.window_max(),
        report.flow.window_mean(report.wall),
        report.flow.buffered_peak,
        report.flow.max_buffered,
    );
    text
}

/// The JSON object of one input (without a newline).
fn item_json(item: &Item) -> String {
    let head = format!(
        "{{\"index\":{},\"url\":{}",
        item.index,
        json::string(&item.url)
    );
    let saved = match &item.result {
        Err(err) => {
            return format!(
                "{head},\"ok\":false,\"error\":{}}}",
                json::string(&err.to_string())
            );
        }
        Ok(saved) => saved,
    };
    let stages = &item.stages;
    // A stage that did not run (it always did, for a saved item) is null.
    let stage_ms = |span: Option<Duration>| span.map_or_else(|| "null".to_string(), ms);
    format!(
        "{head},\"ok\":true,\"path\":{},\"source_width\":{},\"source_height\":{},\
         \"width\":{},\"height\":{},\"bytes\":{},\"download_ms\":{},\"cpu_ms\":{},\"save_ms\":{}}}",
        json::string(&saved.path.to_string_lossy()),
        saved.source_size.0,
        saved.source_size.1,
        saved.output_size.0,
        saved.output_size.1,
        saved.downloaded_bytes,
        stage_ms(stages.download.map(|span| span.duration())),
        stage_ms(stages.cpu.map(|cpu| cpu.whole().duration())),
        stage_ms(stages.save.map(|span| span.duration())),
    )
}

/// Milliseconds with three decimals: a JSON number.
fn ms(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1000.0)
}

/// `812.3 ms` below a second, `1.234 s` from one second on.
fn seconds_or_ms(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
    } else {
        format!("{:.3} s", duration.as_secs_f64())
    }
}

/// `text` with control characters escaped, so that a URL or an error
/// message from the network cannot move the cursor or recolour the
/// terminal.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use tandem::pipeline::{CpuSpan, Flow, ItemError, Saved, Span, Stages, WindowPoint};

    fn span(start: u64, end: u64) -> Span {
        Span::from_millis(start, end)
    }

    /// Two inputs: the first saved (downloaded 0-10 ms, CPU 10-25 ms, saved
    /// 25-27 ms), the second a 404 (downloaded 0-20 ms).
    fn sample_report() -> Report {
        let saved = Item {
            index: 0,
            url: "http://127.0.0.1:1/a.png".to_string(),
            result: Ok(Saved {
                path: PathBuf::from("out/resized_0.png"),
                downloaded_bytes: 1234,
                source_size: (64, 48),
                output_size: (128, 128),
            }),
            stages: Stages {
                download: Some(span(0, 10)),
                cpu: Some(CpuSpan {
                    worker: 1,
                    decode: span(10, 20),
                    resize: span(20, 22),
                    encode: span(22, 25),
                }),
                save: Some(span(25, 27)),
            },
        };
        let missing = Item {
            index: 1,
            url: "http://127.0.0.1:1/\"missing\"\n".to_string(),
            result: Err(ItemError::HttpStatus(404)),
            stages: Stages {
                download: Some(span(0, 20)),
                ..Stages::default()
            },
        };
        Report {
            items: vec![saved, missing],
            wall: Duration::from_millis(40),
            workers: 2,
            flow: Flow {
                adaptive: true,
                window: vec![
                    WindowPoint {
                        at: Duration::ZERO,
                        size: 32,
                    },
                    WindowPoint {
                        at: Duration::from_millis(10),
                        size: 33,
                    },
                ],
                max_buffered: 64 << 20,
                buffered_peak: 1234,
            },
        }
    }

    #[test]
    fn json_lines_describe_every_input_then_the_totals() {
        let text = json_lines(&sample_report());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "{\"index\":0,\"url\":\"http://127.0.0.1:1/a.png\",\"ok\":true,\
             \"path\":\"out/resized_0.png\",\"source_width\":64,\"source_height\":48,\
             \"width\":128,\"height\":128,\"bytes\":1234,\"download_ms\":10.000,\
             \"cpu_ms\":15.000,\"save_ms\":2.000}"
        );
        assert_eq!(
            lines[1],
            "{\"index\":1,\"url\":\"http://127.0.0.1:1/\\\"missing\\\"\\n\",\"ok\":false,\
             \"error\":\"server answered HTTP 404\"}"
        );
        // I/O 0-20 ms, CPU 10-25 ms: 10 ms of overlap.
        assert_eq!(
            lines[2],
            "{\"summary\":true,\"total\":2,\"succeeded\":1,\"failed\":1,\"workers\":2,\
             \"wall_ms\":40.000,\"io_ms\":20.000,\"cpu_ms\":15.000,\"cpu_busy_ms\":15.000,\
             \"overlap_ms\":10.000,\"window_adaptive\":true,\"window_max\":33,\
             \"window_mean\":32.750,\"buffered_peak_bytes\":1234,\"max_buffered_bytes\":67108864}"
        );
    }

    #[test]
    fn the_human_summary_lists_failures_first() {
        let text = human(&sample_report(), Path::new("out"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "failed #1 http://127.0.0.1:1/\"missing\"\\n: server answered HTTP 404"
        );
        assert_eq!(lines[1], "2 inputs: 1 saved in out, 1 failed");
        assert!(lines[2].contains("wall time") && lines[2].ends_with("40.0 ms"));
        assert!(lines[6].contains("overlapped") && lines[6].ends_with("(25.0% of the wall time)"));
        assert!(lines[7].contains("download window") && lines[7].contains("adaptive"));
        assert!(
            lines[7]
                .ends_with("(at most 33, mean 32.8; bodies buffered at most 0.0 MiB of 64.0 MiB)")
        );
        assert_eq!(
            lines[8],
            "end to end 40.0 ms; downloads and resizes overlapped 25% of it"
        );
    }

    #[test]
    fn a_broker_run_reports_round_trips_not_local_downloads() {
        let text = human_through_broker(&sample_report(), Path::new("out"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "2 inputs: 1 saved in out, 1 failed");
        assert!(lines[3].contains("jobs out, summed"), "{text}");
        assert!(!text.contains("downloads"), "{text}");
    }

    #[test]
    fn control_characters_are_not_printed_raw() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
    }
}
