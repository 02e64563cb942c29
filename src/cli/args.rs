//! The command line: from `std::env::args_os()` to [`Options`].
//!
//! # Why by hand
//!
//! tandem has no argument-parsing dependency, and its command line is
//! small: a dozen options, each with at most one value. A hand-written
//! parser is short, and its error messages say exactly what was wrong.
//! The walk over the arguments is shared with `tandem worker`
//! (`command_line.rs`), so that both commands read an option the same way
//! and word the same mistake alike.
//!
//! # How
//!
//! [`parse`] takes the arguments from that walker, in order. An option
//! takes its value from the next argument (`--out DIR`) or after `=`
//! (`--out=DIR`); `--` ends the options. Every value is checked here, so
//! that the rest of the program only sees valid settings: a zero size or
//! worker count, or a number past its bound (`limits.rs`), is a
//! [`UsageError`], which `main` reports with exit status 2. The input list
//! itself is read later by [`Options::inputs`], which also reads `--urls`.
//! The help text is `usage.rs`.
//!
//! The options that shape the run go straight into a pipeline [`Config`]
//! (its defaults are the command's defaults); [`Options`] adds only what
//! the command itself uses: the inputs, `--json` and `--timeline`. A new
//! pipeline setting is a `Config` field plus one line in [`parse`].

use std::ffi::OsString;
use std::path::PathBuf;

use super::command_line::{Argument, Arguments, no_value};
use super::limits::{self, DEFAULT_MAX_OUTPUT_SIDE, MAX_CONCURRENCY, MAX_OUTPUT_PIXELS};
use super::limits::{MAX_URLS_FILE_BYTES, MAX_WORKERS};
pub use super::usage::{HINT, USAGE, UsageError};
use super::values::{bytes, delay_range, mode, non_empty, positive, size, url_lines};
#[cfg(feature = "celery")]
use super::worker_args::{self, Broker, WorkerCommand};
use tandem::pipeline::Config;
use tandem::resize::Fit;

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Process images. (Boxed: the other variants are empty.)
    Run(Box<Options>),
    /// `--help`.
    Help,
    /// `--version`.
    Version,
    /// `tandem worker ...`.
    #[cfg(feature = "celery")]
    Worker(WorkerCommand),
}

/// The settings of a run, all validated.
#[derive(Debug)]
pub struct Options {
    /// URLs given as arguments, in order.
    pub urls: Vec<String>,
    /// `--urls FILE`.
    pub urls_file: Option<PathBuf>,
    /// What the pipeline does: `--out`, `--size`, `--fit`, `--max-side`,
    /// `--workers`, `--concurrency`, `--max-buffered`, `--mode`.
    pub config: Config,
    /// `--timeline FILE.svg`.
    pub timeline: Option<PathBuf>,
    /// `--json`: JSON lines instead of the human summary.
    pub json: bool,
    /// `--max-output-side`: the largest `--size` side accepted.
    pub max_output_side: u32,
    /// `--cacert FILE`: the roots https trusts instead of the built-in ones.
    pub cacert: Option<PathBuf>,
    /// `--demo-images N`: how many demo images a run without URLs takes.
    pub demo_images: usize,
    /// `--demo-delay MIN-MAX`: each demo image's delay, in milliseconds,
    /// somewhere in this range; `None` for none.
    pub demo_delay: Option<(u64, u64)>,
    /// `--broker`, `--queue`, `--result-timeout`: send the work to a queue.
    #[cfg(feature = "celery")]
    pub broker: Broker,
}

/// How many of the demo server's images a run without any URL processes.
pub const DEMO_IMAGES: usize = 12;

/// The simulated network delay of the demo images, in milliseconds.
pub const DEMO_DELAY_MS: (u64, u64) = (30, 150);

/// Where the images go without `--out`.
pub const DEFAULT_OUT_DIR: &str = "resized";

impl Default for Options {
    /// No input, and the pipeline's own defaults writing into
    /// [`DEFAULT_OUT_DIR`].
    fn default() -> Options {
        Options {
            urls: Vec::new(),
            urls_file: None,
            config: Config::new(DEFAULT_OUT_DIR),
            timeline: None,
            json: false,
            max_output_side: DEFAULT_MAX_OUTPUT_SIDE,
            cacert: None,
            demo_images: DEMO_IMAGES,
            demo_delay: Some(DEMO_DELAY_MS),
            #[cfg(feature = "celery")]
            broker: Broker::default(),
        }
    }
}

impl Options {
    /// Every input, in order: the URL arguments, then the lines of
    /// `--urls`. An unreadable `--urls` file, or one over
    /// [`MAX_URLS_FILE_BYTES`], is a usage error.
    pub fn inputs(&self) -> Result<Vec<String>, UsageError> {
        let mut inputs = self.urls.clone();
        if let Some(file) = &self.urls_file {
            let text = limits::read_file("--urls", file, MAX_URLS_FILE_BYTES)?;
            inputs.extend(url_lines(&String::from_utf8_lossy(&text)));
        }
        Ok(inputs)
    }

    /// Whether no input was named at all: then the demo server is used.
    pub fn wants_demo(&self) -> bool {
        self.urls.is_empty() && self.urls_file.is_none()
    }
}

/// The broker's commands and options exist only with the `celery` feature
/// (in the default set); a build without it says so rather than "unknown".
#[cfg(not(feature = "celery"))]
fn without_celery(what: &str) -> UsageError {
    UsageError(format!(
        "'{what}' needs the broker, and this tandem was built without the `celery` feature"
    ))
}

/// Parses the arguments that follow the program name.
pub fn parse(arguments: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut arguments = arguments.into_iter().peekable();
    if arguments.peek().is_some_and(|first| first == "worker") {
        arguments.next();
        #[cfg(feature = "celery")]
        return worker_args::parse(arguments).map(Command::Worker);
        #[cfg(not(feature = "celery"))]
        return Err(without_celery("worker"));
    }
    let mut options = Options::default();
    let config = &mut options.config;
    let mut arguments = Arguments::new(arguments);
    while let Some(argument) = arguments.next_argument() {
        let (name, inline) = match argument? {
            Argument::Positional(url) => {
                options.urls.push(url);
                continue;
            }
            Argument::Option(name, inline) => (name, inline),
        };
        let name = name.as_str();
        // This option's value, for the options that take one.
        let mut value = || arguments.value(name, inline.clone());
        match name {
            "-h" | "--help" => return no_value(name, inline).map(|()| Command::Help),
            "-V" | "--version" => return no_value(name, inline).map(|()| Command::Version),
            "--urls" => options.urls_file = Some(PathBuf::from(value()?)),
            "--out" => config.out_dir = PathBuf::from(non_empty(name, value()?)?),
            "--size" => (config.resize.width, config.resize.height) = size(&value()?)?,
            "--fit" => {
                no_value(name, inline)?;
                config.resize.fit = Fit::Contain;
            }
            "--max-side" => {
                let side = Some(positive(name, &value()?)?);
                let limits = &mut config.resize.limits;
                (limits.max_image_width, limits.max_image_height) = (side, side);
            }
            "--max-output-side" => options.max_output_side = positive(name, &value()?)?,
            "--max-output-pixels" => {
                let pixels = positive(name, &value()?)?;
                config.resize.max_output_pixels = limits::at_most(name, pixels, MAX_OUTPUT_PIXELS)?;
            }
            "--workers" => {
                config.workers = limits::at_most(name, positive(name, &value()?)?, MAX_WORKERS)?;
            }
            "--concurrency" => {
                let concurrency = positive(name, &value()?)?;
                config.concurrency = Some(limits::at_most(name, concurrency, MAX_CONCURRENCY)?);
            }
            "--max-buffered" => config.max_buffered = bytes(name, &value()?)?,
            "--demo-images" => {
                let count = positive(name, &value()?)?;
                options.demo_images = limits::at_most(name, count, MAX_CONCURRENCY)?;
            }
            "--demo-delay" => options.demo_delay = delay_range(name, &value()?)?,
            "--cacert" => options.cacert = Some(PathBuf::from(non_empty(name, value()?)?)),
            "--mode" => config.mode = mode(&value()?)?,
            "--timeline" => options.timeline = Some(PathBuf::from(non_empty(name, value()?)?)),
            "--json" => {
                no_value(name, inline)?;
                options.json = true;
            }
            // `Broker::option` reads each of these.
            #[cfg(feature = "celery")]
            "--broker" | "--queue" | "--result-timeout" => {
                options.broker.option(name, &value()?)?;
            }
            #[cfg(not(feature = "celery"))]
            "--broker" | "--queue" | "--result-timeout" => return Err(without_celery(name)),
            _ => return Err(UsageError(format!("unknown option '{name}'"))),
        }
    }
    let size = (config.resize.width, config.resize.height);
    let max_pixels = config.resize.max_output_pixels;
    limits::check_output_size(size, options.max_output_side, max_pixels)?;
    Ok(Command::Run(Box::new(options)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem::pipeline::{DEFAULT_MAX_BUFFERED, Mode};

    fn run(arguments: &[&str]) -> Result<Options, UsageError> {
        match parse(arguments.iter().map(OsString::from))? {
            Command::Run(options) => Ok(*options),
            other => panic!("expected a run, got {other:?}"),
        }
    }

    fn error(arguments: &[&str]) -> String {
        run(arguments).expect_err("a usage error").0
    }

    #[test]
    fn defaults_are_the_pipelines() {
        let options = run(&[]).unwrap();
        let (config, pipeline) = (&options.config, Config::new(DEFAULT_OUT_DIR));
        assert_eq!(config.out_dir, PathBuf::from("resized"));
        assert_eq!(config.resize, pipeline.resize);
        assert_eq!((config.resize.width, config.resize.height), (128, 128));
        assert_eq!(config.resize.fit, Fit::Exact);
        assert_eq!(config.concurrency, None);
        assert_eq!(config.max_buffered, DEFAULT_MAX_BUFFERED);
        assert_eq!(options.demo_delay, Some(DEMO_DELAY_MS));
        assert_eq!(config.workers, pipeline.workers);
        assert_eq!(config.mode, Mode::Pipeline);
        assert!(options.wants_demo());
        assert!(!options.json);
    }

    #[test]
    fn every_option_is_read() {
        let options = run(&[
            "http://a/1",
            "--out",
            "thumbs",
            "--size=64x32",
            "--fit",
            "--workers",
            "3",
            "--concurrency=2",
            "--max-buffered",
            "8M",
            "--demo-images=5",
            "--demo-delay",
            "0",
            "--mode",
            "batch",
            "--max-side",
            "1000",
            "--max-output-side=100",
            "--max-output-pixels",
            "5000",
            "--cacert",
            "roots.pem",
            "--timeline",
            "t.svg",
            "--json",
            "--urls",
            "list.txt",
            "--",
            "--not-an-option",
        ])
        .unwrap();
        assert_eq!(options.urls, ["http://a/1", "--not-an-option"]);
        assert_eq!(options.urls_file, Some(PathBuf::from("list.txt")));
        let config = &options.config;
        assert_eq!(config.out_dir, PathBuf::from("thumbs"));
        assert_eq!((config.resize.width, config.resize.height), (64, 32));
        assert_eq!(config.resize.fit, Fit::Contain);
        assert_eq!((config.workers, config.concurrency), (3, Some(2)));
        assert_eq!(config.max_buffered, 8 << 20);
        assert_eq!((options.demo_images, options.demo_delay), (5, None));
        assert_eq!(config.mode, Mode::Batch);
        assert_eq!(config.resize.limits.max_image_width, Some(1000));
        assert_eq!(config.resize.limits.max_image_height, Some(1000));
        assert_eq!(options.max_output_side, 100);
        assert_eq!(config.resize.max_output_pixels, 5000);
        assert_eq!(options.cacert, Some(PathBuf::from("roots.pem")));
        assert_eq!(options.timeline, Some(PathBuf::from("t.svg")));
        assert!(options.json);
        assert!(!options.wants_demo());
    }

    #[test]
    fn help_and_version_stop_the_parsing() {
        let parsed = parse(["--workers", "0", "--help"].map(OsString::from));
        // Arguments are read in order: the bad one first.
        assert!(parsed.is_err());
        assert!(matches!(
            parse(["-h"].map(OsString::from)),
            Ok(Command::Help)
        ));
        assert!(matches!(
            parse(["--version"].map(OsString::from)),
            Ok(Command::Version)
        ));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        assert!(error(&["--size", "0x5"]).contains("--size"));
        assert!(error(&["--size", "128"]).contains("--size"));
        assert!(error(&["--size", "12x"]).contains("--size"));
        assert!(error(&["--size", "-1x5"]).contains("--size"));
        assert!(error(&["--workers", "0"]).contains("--workers"));
        assert!(error(&["--workers", "two"]).contains("--workers"));
        assert!(error(&["--concurrency", "-3"]).contains("--concurrency"));
        assert!(error(&["--max-side", "0"]).contains("--max-side"));
        assert!(error(&["--mode", "fast"]).contains("--mode"));
        assert!(error(&["--max-buffered", "0"]).contains("--max-buffered"));
        assert!(error(&["--demo-delay", "9-1"]).contains("--demo-delay"));
        assert!(error(&["--demo-images", "0"]).contains("--demo-images"));
        assert_eq!(
            error(&["--workers", "1025"]),
            "--workers is at most 1024, not 1025"
        );
        assert!(error(&["--concurrency", "10001"]).contains("at most 10000"));
        assert!(error(&["--max-output-pixels", "134217729"]).contains("at most 134217728"));
        assert!(error(&["--size", "100000x100000"]).contains("--max-output-side"));
        assert!(error(&["--size", "8192x8192"]).contains("--max-output-pixels"));
        let raised = ["--size", "8192x8192", "--max-output-pixels", "67108864"];
        assert!(run(&raised).is_ok());
        assert_eq!(error(&["--out"]), "--out needs a value");
        assert_eq!(error(&["--out="]), "--out needs a non-empty value");
        assert_eq!(error(&["--frobnicate"]), "unknown option '--frobnicate'");
        assert_eq!(error(&["-x"]), "unknown option '-x'");
        assert_eq!(error(&["--json=yes"]), "--json takes no value");
        assert_eq!(error(&["--=x"]), "-- takes no value");
        assert_eq!(error(&["--help=1"]), "--help takes no value");
    }

    #[test]
    fn an_unreadable_url_file_is_a_usage_error() {
        let options = run(&["--urls", "/nonexistent/tandem/urls.txt"]).unwrap();
        let error = options.inputs().unwrap_err();
        assert!(
            error
                .0
                .starts_with("cannot read --urls /nonexistent/tandem/urls.txt")
        );
        let options = run(&["--urls", "/dev/zero"]).unwrap();
        if std::path::Path::new("/dev/zero").exists() {
            assert!(options.inputs().unwrap_err().0.contains("larger than"));
        }
    }
}
