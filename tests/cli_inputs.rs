//! Command-line inputs that once crashed tandem or wasted its work: each is
//! now a usage error (exit status 2, one line of reason and the hint)
//! before any download.
//!
//! "Before any download" is proven with a listener on 127.0.0.1 that the
//! run is given as its input: after the run, nothing has connected to it.
//! The bounds themselves are src/cli/limits.rs and src/cli/out_dir.rs.

#![cfg(feature = "cli")]

mod support;

use std::fs;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;

use support::cli_run::{Run, TempDir, tandem, text};

/// A listener whose URL is given as the input; [`Untouched::assert`]
/// checks that no run connected to it.
struct Untouched {
    listener: TcpListener,
    url: String,
}

impl Untouched {
    fn new() -> Untouched {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/image.png", listener.local_addr().unwrap());
        Untouched { listener, url }
    }

    #[track_caller]
    fn assert(&self) {
        match self.listener.accept() {
            Err(error) if error.kind() == ErrorKind::WouldBlock => {}
            other => panic!("the run connected to the input: {other:?}"),
        }
    }
}

/// Runs tandem with `args` plus the untouched input; expects a usage error
/// whose first line contains `reason`, and no connection.
#[track_caller]
fn refused(args: &[&str], reason: &str) -> Run {
    let input = Untouched::new();
    let mut all = args.to_vec();
    all.push(&input.url);
    let run = tandem(&all);
    assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{args:?}: {}", run.stderr);
    assert!(lines[0].starts_with("tandem: "), "{}", lines[0]);
    assert!(lines[0].contains(reason), "{args:?}: {}", lines[0]);
    assert_eq!(lines[1], "try 'tandem --help'");
    assert_eq!(run.stdout, "");
    input.assert();
    run
}

#[test]
fn an_output_size_that_would_abort_the_process_is_refused() {
    // Once "memory allocation of 30000000000 bytes failed", exit 134.
    let dir = TempDir::new("huge-size");
    let out = dir.join("out");
    refused(
        &["--out", text(&out), "--size", "100000x100000"],
        "--max-output-side",
    );
    assert!(!out.exists(), "nothing is created for a refused run");
}

#[test]
fn an_output_size_over_the_pixel_bound_is_refused() {
    // Once 75 s of writing 400-megapixel PNGs without a word.
    let dir = TempDir::new("big-size");
    let out = dir.join("out");
    refused(
        &["--out", text(&out), "--size", "20000x20000"],
        "--max-output-side",
    );
    let args = ["--out", text(&out), "--size", "8000x8000"];
    refused(&args, "--max-output-pixels");
    let raised_side = ["--max-output-side", "20000", "--size", "20000x20000"];
    refused(&raised_side, "--max-output-pixels");
}

#[test]
fn the_bounds_themselves_are_bounded() {
    refused(
        &["--max-output-pixels", "1000000000000"],
        "at most 134217728",
    );
    refused(&["--workers", "100000"], "--workers is at most 1024");
    refused(
        &["--concurrency", "1000000"],
        "--concurrency is at most 10000",
    );
    refused(&["--max-output-side", "0"], "--max-output-side");
}

#[test]
fn an_endless_url_list_is_refused() {
    if Path::new("/dev/zero").exists() {
        refused(&["--urls", "/dev/zero"], "larger than 67108864 bytes");
    }
}

#[test]
fn an_out_that_is_a_file_is_refused_before_any_download() {
    let dir = TempDir::new("out-file");
    let file = dir.join("not-a-dir");
    fs::write(&file, b"keep me").unwrap();
    refused(&["--out", text(&file)], "exists and is not a directory");
    assert_eq!(fs::read(&file).unwrap(), b"keep me");
    let below_a_file = file.join("sub");
    refused(
        &["--out", text(&below_a_file)],
        "cannot create the directory",
    );
}

#[test]
fn an_out_that_cannot_be_written_is_refused_before_any_download() {
    // A directory no one can create files in, root included.
    let unwritable = Path::new("/proc/self");
    if unwritable.is_dir() {
        refused(
            &["--out", text(unwritable)],
            "cannot write a file in the directory",
        );
    }
}

#[test]
fn a_writable_out_is_left_as_it_was() {
    // The probe file is removed: a run that fails its one input leaves an
    // empty, created directory.
    let dir = TempDir::new("probe");
    let out = dir.join("created");
    let input = Untouched::new();
    drop(input.listener);
    let run = tandem(&["--out", text(&out), &input.url]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
}
