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
//!  download window      ┌──────┐____          the window's size over time
//!                    ───┘
//!  downloads (loop)  ▇▇▇▇0▇▇▇  ▇▇▇2▇▇▇▇       one sub-lane per overlapping download
//!                      ▇▇▇▇1▇▇▇▇▇    ▇▇3▇▇
//!  worker 0                  ▒▒0▒░▓       ▒▒2▒░▓   decode, resize, encode
//!  worker 1                       ▒▒▒1▒░▓
//!  saves                            ▪0      ▪1 ▪2
//!                    0 ms     50 ms    100 ms
//! ```
//!
//! In two steps:
//!
//! * `layout.rs` places everything: the rows (the loop's downloads, one per
//!   pool worker, the saves) and the lanes within a row, so that no bar
//!   hides another; `scale.rs` turns times into x coordinates (bars, ticks).
//! * `svg.rs` writes what is placed: colours, labels, tooltips, the axis;
//!   `window.rs` draws the download window's line in its band.
//!
//! [`write`] then saves the document with the pipeline's own
//! [`write_atomically`], so a reader never sees half a picture.

mod layout;
mod scale;
mod svg;
mod window;

use std::io;
use std::path::Path;

use tandem::pipeline::{Report, write_atomically};

/// Writes the timeline of `report` to `path`, atomically (a temporary file
/// next to it, then a rename).
pub fn write(report: &Report, path: &Path) -> io::Result<()> {
    write_atomically(path, svg::document(report).as_bytes())
}

/// Four inputs on three workers: 0 and 3 run on worker 0, 1 on worker 1,
/// 2 fails its download; worker 2 stays idle.
#[cfg(test)]
fn sample_report() -> Report {
    use std::path::PathBuf;
    use std::time::Duration;
    use tandem::pipeline::{CpuSpan, Item, ItemError, Saved, Span, Stages};

    // Downloaded over `download`, then (if `worker` is some) run on that
    // worker right after and saved.
    let item = |index: usize, (start, end): (u64, u64), worker: Option<usize>| {
        let cpu = worker.map(|worker| CpuSpan {
            worker,
            decode: Span::from_millis(end, end + 6),
            resize: Span::from_millis(end + 6, end + 8),
            encode: Span::from_millis(end + 8, end + 10),
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
                download: Some(Span::from_millis(start, end)),
                cpu,
                save: worker.map(|_| Span::from_millis(end + 10, end + 11)),
            },
        }
    };
    Report {
        items: vec![
            item(0, (0, 20), Some(0)),
            item(1, (5, 25), Some(1)),
            item(2, (10, 15), None),
            item(3, (22, 40), Some(0)),
        ],
        wall: Duration::from_millis(51),
        workers: 3,
        flow: tandem::pipeline::Flow {
            adaptive: true,
            window: [(0, 2), (20, 3), (30, 2)]
                .map(|(at, size)| tandem::pipeline::WindowPoint {
                    at: Duration::from_millis(at),
                    size,
                })
                .to_vec(),
            max_buffered: 1000,
            buffered_peak: 300,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn the_file_is_replaced_atomically() {
        let dir = std::env::temp_dir().join(format!("tandem-timeline-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.svg");
        fs::write(&path, "old").unwrap();
        write(&sample_report(), &path).unwrap();
        assert!(fs::read_to_string(&path).unwrap().starts_with("<svg"));
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["run.svg"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
