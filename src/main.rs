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
//!  args ──► Options { inputs, pipeline Config, --json, --timeline }
//!              │
//!            URLs (arguments, --urls file; or the demo server's, painted
//!                  ahead and answered --demo-delay late)
//!              │
//!            pipeline::run_blocking ──events──► progress line (stderr, tty only)
//!              │
//!            Report ──► summary (stdout: human or --json)
//!                   └─► timeline (--timeline FILE.svg)
//! ```
//!
//! Exit status: 0 when every input was saved, 1 when any failed (or the run
//! could not start), 2 for a command line tandem does not understand.

mod cli;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use cli::args::{self, Command, Options, UsageError};
use cli::progress::Progress;
#[cfg(feature = "celery")]
use cli::worker_args::{self, BROKER_VARIABLE, WorkerCommand, WorkerOptions};
#[cfg(feature = "celery")]
use cli::worker_lines;
use cli::{cacert, out_dir};
use cli::{summary, timeline};
#[cfg(feature = "celery")]
use tandem::celery;
use tandem::{PoolError, pipeline};

fn main() -> ExitCode {
    let outcome = match args::parse(std::env::args_os().skip(1)) {
        Ok(Command::Help) => {
            print_stdout(args::USAGE);
            Ok(ExitCode::SUCCESS)
        }
        Ok(Command::Version) => {
            print_stdout(&format!("tandem {}\n", env!("CARGO_PKG_VERSION")));
            Ok(ExitCode::SUCCESS)
        }
        Ok(Command::Run(options)) => run(&options),
        #[cfg(feature = "celery")]
        Ok(Command::Worker(WorkerCommand::Help)) => {
            print_stdout(worker_args::WORKER_USAGE);
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "celery")]
        Ok(Command::Worker(WorkerCommand::Serve(options))) => worker(&options),
        Err(err) => Err(Failure::Usage(err)),
    };
    outcome.unwrap_or_else(Failure::explain)
}

/// Processes the inputs, prints the outcome, draws the timeline. The exit
/// status says whether every input was saved.
fn run(options: &Options) -> Result<ExitCode, Failure> {
    let mut urls = options.inputs()?;
    #[cfg(feature = "celery")]
    let broker = options.broker.config(broker_variable().as_deref())?;
    #[cfg(not(feature = "celery"))]
    let broker: Option<std::convert::Infallible> = None;
    let mut config = options.config.clone();
    if let Some(path) = &options.cacert {
        config.client = cacert::client(path)?;
    }
    // Refused now rather than at every image's save.
    out_dir::probe(&config.out_dir)?;
    // With no input named, the demo server provides them. It stops when
    // `demo` is dropped, after the run.
    let demo = if options.wants_demo() {
        let server = tandem::demo::Server::start().map_err(Failure::DemoServer)?;
        let count = options.demo_images;
        let delay = match options.demo_delay {
            Some((min, max)) => format!(", each answered {min}-{max} ms late as over a network"),
            None => String::new(),
        };
        eprintln!(
            "tandem: no URL given: processing {count} images from the built-in demo \
             server at http://{}{delay}",
            server.addr()
        );
        // Painting is the server's work, not the run's: done before the
        // clock starts, so the timeline shows the client alone.
        server.paint_ahead(count).map_err(Failure::DemoServer)?;
        urls = server.delayed_image_urls(count, options.demo_delay);
        Some(server)
    } else {
        None
    };

    let mut progress = Progress::on_stderr(urls.len());
    let on_event = |event| progress.on_event(event);
    let report = match &broker {
        None => pipeline::run_blocking(urls, &config, on_event).map_err(Failure::CpuPool),
        #[cfg(feature = "celery")]
        Some(broker) => celery::run_through_broker_blocking(urls, &config, broker, on_event)
            .map_err(Failure::Broker),
        #[cfg(not(feature = "celery"))]
        Some(never) => match *never {},
    };
    progress.finish();
    drop(demo);
    let report = report?;

    if options.json {
        print_stdout(&summary::json_lines(&report));
    } else if broker.is_some() {
        print_stdout(&summary::human_through_broker(&report, &config.out_dir));
    } else {
        print_stdout(&summary::human(&report, &config.out_dir));
    }
    if let Some(path) = &options.timeline {
        timeline::write(&report, path).map_err(|err| Failure::Timeline(path.clone(), err))?;
    }
    Ok(if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(feature = "celery")]
/// `tandem worker`: serves the queue until a signal; exit status 0 after
/// a graceful stop, 1 if Redis can't be reached at the start.
fn worker(options: &WorkerOptions) -> Result<ExitCode, Failure> {
    let config = options.config(broker_variable().as_deref())?;
    eprintln!(
        "tandem worker: serving queue '{}' at {} with {} CPU thread(s), {} job(s) at once",
        config.queue, config.broker, config.workers, config.concurrency
    );
    let json = options.json;
    celery::serve_blocking(&config, |event| {
        let (line, to_stdout) = worker_lines::line(&event, json);
        if to_stdout {
            print_stdout(&format!("{line}\n"));
        } else {
            eprintln!("{line}");
        }
    })
    .map_err(Failure::Broker)?;
    Ok(ExitCode::SUCCESS)
}

/// `$TANDEM_BROKER`, if set.
#[cfg(feature = "celery")]
fn broker_variable() -> Option<String> {
    std::env::var(BROKER_VARIABLE).ok()
}

/// Why the command stopped short: a command line it does not understand
/// (exit status 2), or a run that could not start or finish (1).
enum Failure {
    /// Bad arguments, an unreadable `--urls` or `--cacert` file, an `--out`
    /// that cannot be written.
    Usage(UsageError),
    /// The demo server could not start.
    DemoServer(io::Error),
    /// The CPU pool's threads could not start.
    CpuPool(PoolError),
    /// The broker (`--broker`, `tandem worker`) could not be used.
    #[cfg(feature = "celery")]
    Broker(celery::Error),
    /// The outcome is printed, but the `--timeline` file is not written.
    Timeline(PathBuf, io::Error),
}

impl From<UsageError> for Failure {
    fn from(err: UsageError) -> Failure {
        Failure::Usage(err)
    }
}

impl Failure {
    /// Says why on stderr; returns the exit status.
    fn explain(self) -> ExitCode {
        let message = match self {
            Failure::Usage(err) => {
                eprintln!("tandem: {}", summary::printable(&err.0));
                eprintln!("{}", args::HINT);
                return ExitCode::from(2);
            }
            Failure::DemoServer(err) => format!("could not start the demo server: {err}"),
            Failure::CpuPool(err) => format!("could not start the CPU pool: {err}"),
            #[cfg(feature = "celery")]
            Failure::Broker(err) => summary::printable(&err.to_string()).into_owned(),
            Failure::Timeline(path, err) => {
                let path = summary::printable(&path.display().to_string()).into_owned();
                format!("could not write the timeline {path}: {err}")
            }
        };
        eprintln!("tandem: {message}");
        ExitCode::FAILURE
    }
}

/// Writes to stdout without panicking when it is closed early (as in
/// `tandem --json | head -1`): then the rest is simply not wanted.
fn print_stdout(text: &str) {
    let mut stdout = io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

#[cfg(test)]
mod tests {
    use super::*;
    use cli::args::DEFAULT_OUT_DIR;
    use cli::limits::{DEFAULT_MAX_OUTPUT_SIDE, MAX_CONCURRENCY, MAX_OUTPUT_PIXELS, MAX_WORKERS};
    use tandem::pipeline::Config;

    #[test]
    fn the_help_states_how_many_demo_images_are_processed() {
        let images = args::DEMO_IMAGES;
        assert!(args::USAGE.contains(&format!("processes {images} of its images")));
    }

    #[test]
    fn the_help_states_the_real_defaults_and_bounds() {
        let config = Config::new(DEFAULT_OUT_DIR);
        let limits = &config.resize.limits;
        for stated in [
            format!("writable before any download [default: {DEFAULT_OUT_DIR}]"),
            format!(
                "--size WxH           output size in pixels [default: {}x{}]",
                config.resize.width, config.resize.height
            ),
            format!("fixed, at most {MAX_CONCURRENCY}"),
            format!(
                "[default: adaptive, from {}, growing while the CPU",
                tandem::pipeline::WINDOW_START
            ),
            format!("pool starves, up to {}]", tandem::pipeline::WINDOW_MAX),
            format!(
                "like 512K or 64M [default: {}M]",
                tandem::pipeline::DEFAULT_MAX_BUFFERED >> 20
            ),
            format!("how many demo images [default: {}]", args::DEMO_IMAGES),
            format!(
                "MIN-MAX or MS, 0 for none [default: {}-{}]",
                args::DEMO_DELAY_MS.0,
                args::DEMO_DELAY_MS.1
            ),
            format!(
                "decoding them [default: {}]",
                limits.max_image_width.unwrap()
            ),
            format!("[default: {DEFAULT_MAX_OUTPUT_SIDE}]"),
            format!(
                "[default: {}, at most {MAX_OUTPUT_PIXELS}]",
                config.resize.max_output_pixels
            ),
            format!("threads, at most {MAX_WORKERS}"),
        ] {
            assert!(args::USAGE.contains(&stated), "{stated}");
        }
        assert_eq!(limits.max_image_width, limits.max_image_height);
    }
}
