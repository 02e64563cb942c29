//! The command line of the broker: `tandem worker ...`, and the
//! `--broker`, `--queue`, `--result-timeout` options of `tandem` itself.
//!
//! Both read the broker's URL from `--broker`, or else from the
//! `TANDEM_BROKER` variable (which `main` passes in, so that parsing stays a
//! pure function of its inputs), and the queue from `--queue`.

use std::ffi::OsString;
use std::time::Duration;

use super::command_line::{Argument, Arguments, UsageError, no_value};
use super::limits::{MAX_CONCURRENCY, MAX_WORKERS, at_most};
use super::values::{broker, non_empty, positive, seconds};
use tandem::celery::{BrokerConfig, DEFAULT_QUEUE, WorkerConfig, sweep_interval};
use tandem::redis::RedisUrl;

/// The text of `tandem worker --help`.
pub const WORKER_USAGE: &str = "\
tandem worker: serve a Celery queue on Redis: download and resize images
for `tandem --broker`, for Python's `send_task('tandem.resize', ...)`, beside
Python Celery workers or instead of them

Usage: tandem worker --broker redis://[user:password@]host[:port][/db] [OPTIONS]

Options:
  --broker URL              the Redis server [default: $TANDEM_BROKER]
  --queue NAME              the queue served [default: tandem]
  --workers N               CPU pool threads [default: available cores]
  --concurrency N           jobs in flight at once [default: 8]
  --visibility-timeout SECS a job taken but not acknowledged for this long is
                            given to a worker again [default: 3600]
  --max-side N              refuse images wider or higher than N pixels
                            [default: 16384]
  --events                  send Celery's task and worker events (Celery's
                            -E), so that Flower and `celery events` see jobs
  --json                    one JSON object per job on stdout, instead of a
                            line on stderr
  -h, --help                print this help and exit

SIGINT or SIGTERM: take no more jobs, finish those in flight, exit 0.
A second signal exits at once; unfinished jobs go to another worker after
the visibility timeout.
";

/// The variable read when `--broker` is not given.
pub const BROKER_VARIABLE: &str = "TANDEM_BROKER";

/// `tandem --broker`'s settings, as given.
#[derive(Debug, Clone, Default)]
pub struct Broker {
    /// `--broker`.
    pub url: Option<RedisUrl>,
    /// `--queue`.
    pub queue: Option<String>,
    /// `--result-timeout`.
    pub result_timeout: Option<Duration>,
}

impl Broker {
    /// Reads `--broker`, `--queue` or `--result-timeout`; `Ok(false)` for
    /// any other option.
    pub fn option(&mut self, name: &str, value: &str) -> Result<bool, UsageError> {
        match name {
            "--broker" => self.url = Some(broker(name, value)?),
            "--queue" => self.queue = Some(non_empty(name, value.to_string())?),
            "--result-timeout" => self.result_timeout = Some(seconds(name, value)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The broker configuration, if a broker is named (by `--broker` or
    /// `variable`); a `--queue` without a broker is a usage error.
    pub fn config(&self, variable: Option<&str>) -> Result<Option<BrokerConfig>, UsageError> {
        let url = match (&self.url, variable) {
            (Some(url), _) => url.clone(),
            (None, Some(text)) if !text.is_empty() => broker(BROKER_VARIABLE, text)?,
            _ if self.queue.is_some() || self.result_timeout.is_some() => {
                return Err(UsageError(
                    "--queue and --result-timeout need --broker".into(),
                ));
            }
            _ => return Ok(None),
        };
        let mut config = BrokerConfig::new(url, self.queue.as_deref().unwrap_or(DEFAULT_QUEUE));
        if let Some(limit) = self.result_timeout {
            config.result_timeout = limit;
        }
        Ok(Some(config))
    }
}

/// What `tandem worker` was asked.
#[derive(Debug)]
pub enum WorkerCommand {
    /// Serve.
    Serve(Box<WorkerOptions>),
    /// `--help`.
    Help,
}

/// `tandem worker`'s options, as given.
#[derive(Debug, Default)]
pub struct WorkerOptions {
    broker: Option<RedisUrl>,
    queue: Option<String>,
    workers: Option<usize>,
    concurrency: Option<usize>,
    visibility_timeout: Option<Duration>,
    max_side: Option<u32>,
    /// `--json`.
    pub json: bool,
    /// `--events`.
    events: bool,
}

/// The options of `tandem worker` that take a value.
const WORKER_OPTIONS: [&str; 6] = [
    "--broker",
    "--queue",
    "--workers",
    "--concurrency",
    "--visibility-timeout",
    "--max-side",
];

/// Parses the arguments after `worker`.
pub fn parse(arguments: impl IntoIterator<Item = OsString>) -> Result<WorkerCommand, UsageError> {
    let mut options = WorkerOptions::default();
    let mut arguments = Arguments::new(arguments);
    while let Some(argument) = arguments.next_argument() {
        let (name, inline) = match argument? {
            Argument::Positional(text) => {
                return Err(UsageError(format!(
                    "tandem worker takes no URL, not '{text}'"
                )));
            }
            Argument::Option(name, inline) => (name, inline),
        };
        let name = name.as_str();
        match name {
            "-h" | "--help" => return no_value(name, inline).map(|()| WorkerCommand::Help),
            "--json" => {
                no_value(name, inline)?;
                options.json = true;
            }
            "--events" => {
                no_value(name, inline)?;
                options.events = true;
            }
            _ if WORKER_OPTIONS.contains(&name) => {
                let value = arguments.value(name, inline)?;
                option(&mut options, name, &value)?;
            }
            _ => return Err(UsageError(format!("unknown option '{name}'"))),
        }
    }
    Ok(WorkerCommand::Serve(Box::new(options)))
}

/// An option of `tandem worker` with a value.
fn option(options: &mut WorkerOptions, name: &str, value: &str) -> Result<(), UsageError> {
    match name {
        "--broker" => options.broker = Some(broker(name, value)?),
        "--queue" => options.queue = Some(non_empty(name, value.to_string())?),
        "--workers" => {
            let workers = positive(name, value)?;
            options.workers = Some(at_most(name, workers, MAX_WORKERS)?);
        }
        "--concurrency" => {
            let concurrency = positive(name, value)?;
            options.concurrency = Some(at_most(name, concurrency, MAX_CONCURRENCY)?);
        }
        "--visibility-timeout" => options.visibility_timeout = Some(seconds(name, value)?),
        "--max-side" => options.max_side = Some(positive(name, value)?),
        _ => return Err(UsageError(format!("unknown option '{name}'"))),
    }
    Ok(())
}

impl WorkerOptions {
    /// The worker's configuration; the broker from `--broker` or `variable`.
    pub fn config(&self, variable: Option<&str>) -> Result<WorkerConfig, UsageError> {
        let url = match (&self.broker, variable) {
            (Some(url), _) => url.clone(),
            (None, Some(text)) if !text.is_empty() => broker(BROKER_VARIABLE, text)?,
            _ => {
                return Err(UsageError(format!(
                    "tandem worker needs --broker URL or ${BROKER_VARIABLE}"
                )));
            }
        };
        let mut config = WorkerConfig::new(url, self.queue.as_deref().unwrap_or(DEFAULT_QUEUE));
        if let Some(workers) = self.workers {
            config.workers = workers;
        }
        if let Some(concurrency) = self.concurrency {
            config.concurrency = concurrency;
        }
        if let Some(visibility) = self.visibility_timeout {
            config.visibility_timeout = visibility;
            config.sweep_every = sweep_interval(visibility);
        }
        config.events = self.events;
        if let Some(side) = self.max_side {
            let limits = &mut config.resize.limits;
            (limits.max_image_width, limits.max_image_height) = (Some(side), Some(side));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(arguments: &[&str]) -> Result<WorkerOptions, UsageError> {
        match parse(arguments.iter().map(OsString::from))? {
            WorkerCommand::Serve(options) => Ok(*options),
            WorkerCommand::Help => panic!("help"),
        }
    }

    #[test]
    fn every_worker_option_is_read() {
        let options = options(&[
            "--broker=redis://h:1/2",
            "--queue",
            "q",
            "--workers",
            "3",
            "--concurrency=5",
            "--visibility-timeout",
            "2.5",
            "--max-side",
            "100",
            "--json",
            "--events",
        ])
        .unwrap();
        let config = options.config(Some("redis://ignored")).unwrap();
        assert_eq!(
            (
                config.broker.host.as_str(),
                config.broker.port,
                config.broker.db
            ),
            ("h", 1, 2)
        );
        assert_eq!(
            (config.queue.as_str(), config.workers, config.concurrency),
            ("q", 3, 5)
        );
        assert_eq!(config.visibility_timeout, Duration::from_millis(2500));
        assert_eq!(config.resize.limits.max_image_width, Some(100));
        assert!(options.json && config.events);
    }

    #[test]
    fn the_broker_comes_from_the_variable_or_is_required() {
        let options = options(&[]).unwrap();
        let config = options.config(Some("redis://envhost")).unwrap();
        assert_eq!(
            (config.broker.host.as_str(), config.queue.as_str()),
            ("envhost", "tandem")
        );
        assert!(
            options
                .config(None)
                .unwrap_err()
                .0
                .contains("needs --broker")
        );
        assert!(
            options
                .config(Some("http://x"))
                .unwrap_err()
                .0
                .contains("TANDEM_BROKER")
        );
    }

    #[test]
    fn bad_worker_arguments_are_usage_errors() {
        for (arguments, message) in [
            (&["http://x"][..], "takes no URL"),
            (&["--broker", "mysql://x"], "only redis://"),
            (&["--visibility-timeout", "0"], "--visibility-timeout wants"),
            (&["--concurrency", "0"], "--concurrency wants"),
            (&["--fit"], "unknown option '--fit'"),
        ] {
            let error = options(arguments).unwrap_err();
            assert!(error.0.contains(message), "{arguments:?}: {error}");
        }
    }

    #[test]
    fn a_queue_without_a_broker_is_refused() {
        let mut broker = Broker::default();
        assert!(broker.option("--queue", "q").unwrap());
        assert!(broker.config(None).is_err());
        assert!(broker.config(Some("redis://h")).unwrap().is_some());
        assert_eq!(
            Broker::default().config(None).unwrap().map(|c| c.queue),
            None
        );
    }
}
