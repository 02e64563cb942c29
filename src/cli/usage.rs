//! What a user is told about the command line: the text of `tandem
//! --help`, the [`UsageError`] when a command line is wrong, and the hint
//! under it.
//!
//! Kept apart from the parser (`args.rs`) and the bounds (`limits.rs`), which
//! both speak in these terms: this is what a user is told, they are how it
//! is checked. A test in `main.rs` keeps every `[default: ...]` here equal to
//! the value the program really uses.

use std::fmt;

/// The text of `tandem --help`.
pub const USAGE: &str = "\
tandem: download images and resize them, network I/O and CPU work in tandem

Usage: tandem [OPTIONS] [URL ...]
       tandem worker --broker URL [OPTIONS]   (see tandem worker --help)

With no URL (and no --urls), tandem starts its built-in demo server on
127.0.0.1, paints its pictures before the clock starts, and
processes 12 of its images, each answered 30 to 150 ms late as over a
network. The i-th input (from 0) is saved as <out>/resized_<i>.png;
nothing is written outside the output directory.

Options:
  --urls FILE          read URLs from FILE (at most 64 MiB), one a line;
                       blank lines and lines starting with '#' are ignored
                       (after any URL arguments)
  --out DIR            output directory, created if missing; checked to be
                       writable before any download [default: resized]
  --size WxH           output size in pixels [default: 128x128]
  --fit                keep the aspect ratio: fit inside WxH instead of
                       stretching to it
  --max-output-side N  refuse a --size wider or higher than N pixels
                       [default: 8192]
  --max-output-pixels N
                       refuse a --size of more than N pixels, W x H
                       [default: 16777216, at most 134217728]
  --workers N          CPU pool threads, at most 1024
                       [default: available cores]
  --concurrency N      downloads in flight at once, fixed, at most 10000
                       [default: adaptive, from 8, growing while the CPU
                       pool starves, up to 128]
  --max-buffered BYTES memory budget for downloaded bodies not yet resized,
                       like 512K or 64M [default: 64M]
  --mode MODE          'pipeline' (resize each image as soon as it arrives)
                       or 'batch' (download all, then resize all)
                       [default: pipeline]
  --max-side N         refuse images wider or higher than N pixels, before
                       decoding them [default: 16384]
  --cacert FILE        trust the certificate authorities in FILE (PEM, one
                       or more certificates) for https, instead of the
                       built-in roots, as curl --cacert does
  --timeline FILE.svg  draw when each stage of each image ran, as SVG
  --broker URL         send each image to a Celery queue on this Redis
                       server (redis://[user:password@]host[:port][/db]),
                       served by `tandem worker` or Python Celery workers
                       [default: $TANDEM_BROKER, else resize here]
  --queue NAME         the queue for --broker [default: tandem]
  --result-timeout S   with --broker: wait S seconds for a result, send the
                       job once more, wait again, then fail it [default: 300]
  --json               print one JSON object per input and a summary object,
                       one a line, instead of the human summary
  --demo-images N      with no URL: how many demo images [default: 12]
  --demo-delay MS      with no URL: each demo image's simulated network delay,
                       MIN-MAX or MS, 0 for none [default: 30-150]
  -h, --help           print this help and exit
  -V, --version        print the version and exit

Exit status: 0 if every input was saved, 1 if any failed, 2 for usage errors
(reported before any download).
";

/// The hint printed under every usage error.
pub const HINT: &str = "try 'tandem --help'";

/// A command line tandem does not understand: the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
