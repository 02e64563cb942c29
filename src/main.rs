//! `tandem`: download images and resize them, network I/O and CPU work in
//! tandem. The Python article's program, as a command.
//!
//! # Why
//!
//! The library does the work (`tandem::pipeline`); the command makes it
//! usable from a shell: it takes URLs from the arguments or a file, shows
//! progress while it runs, and says at the end what failed and how much the
//! downloads and the CPU work overlapped. Without any URL it runs against
//! the built-in demo server, so `cargo run --release` shows something real
//! on a machine without network.
//!
//! # How
//!
//! ```text
//!  args ──► Options ──► inputs (URLs, --urls file; or the demo server's)
//!                          │
//!            pipeline::run_blocking ──events──► progress line (stderr, tty only)
//!                          │
//!                        Report ──► summary (stdout: human or --json)
//!                               └─► timeline (--timeline FILE.svg)
//! ```
//!
//! Exit status: 0 when every input was saved, 1 when any failed (or the run
//! could not start), 2 for a command line tandem does not understand.

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use cli::args::{self, Command, Options, UsageError};
use cli::progress::Progress;
use cli::{summary, timeline};
use tandem::pipeline::{self, Config};

/// How many demo images a run without URLs processes.
const DEMO_IMAGES: usize = 12;

fn main() -> ExitCode {
    match args::parse(std::env::args_os().skip(1)) {
        Ok(Command::Help) => {
            print_stdout(args::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            print_stdout(&format!("tandem {}\n", env!("CARGO_PKG_VERSION")));
            ExitCode::SUCCESS
        }
        Ok(Command::Run(options)) => run(&options),
        Err(err) => usage_error(&err),
    }
}

/// Processes the inputs, prints the outcome, draws the timeline.
fn run(options: &Options) -> ExitCode {
    let mut urls = match options.inputs() {
        Ok(urls) => urls,
        Err(err) => return usage_error(&err),
    };
    // Kept alive until the run is over; dropping it stops the server.
    let mut demo = None;
    if options.wants_demo() {
        let server = match tandem::demo::Server::start() {
            Ok(server) => server,
            Err(err) => return failure(&format!("could not start the demo server: {err}")),
        };
        eprintln!(
            "tandem: no URL given: processing {DEMO_IMAGES} images from the built-in demo \
             server at http://{}",
            server.addr()
        );
        urls = server.image_urls(DEMO_IMAGES);
        demo = Some(server);
    }

    let mut config = Config::new(options.out_dir.clone());
    config.resize = options.resize.clone();
    config.workers = options.workers;
    config.concurrency = options.concurrency;
    config.mode = options.mode;

    let mut progress = Progress::on_stderr(urls.len());
    let report = pipeline::run_blocking(urls, &config, |event| progress.on_event(event));
    progress.finish();
    drop(demo);
    let report = match report {
        Ok(report) => report,
        Err(err) => return failure(&format!("could not start the CPU pool: {err}")),
    };

    if options.json {
        print_stdout(&summary::json_lines(&report));
    } else {
        print_stdout(&summary::human(&report, &options.out_dir));
    }
    let mut status = if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if let Some(path) = &options.timeline {
        if let Err(err) = timeline::write(&report, path) {
            let path = summary::printable(&path.display().to_string()).into_owned();
            status = failure(&format!("could not write the timeline {path}: {err}"));
        }
    }
    status
}

/// Prints a usage error and its hint; exit status 2.
fn usage_error(err: &UsageError) -> ExitCode {
    eprintln!("tandem: {}", summary::printable(&err.0));
    eprintln!("{}", args::HINT);
    ExitCode::from(2)
}

/// Prints why the run failed; exit status 1.
fn failure(message: &str) -> ExitCode {
    eprintln!("tandem: {message}");
    ExitCode::FAILURE
}

/// Writes to stdout without panicking when it is closed early (as in
/// `tandem --json | head -1`): then the rest is simply not wanted.
fn print_stdout(text: &str) {
    let mut stdout = io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}
