//! The grammar both commands share, `tandem` and `tandem worker`: how the
//! arguments are walked and how an option gets its value.
//!
//! # Why apart
//!
//! The two commands take different options but read them the same way,
//! and several options (`--workers`, `--concurrency`, `--max-side`,
//! `--broker`, `--queue`) mean the same thing in both. One walker, here,
//! serves `args.rs` and `worker_args.rs`, so that their grammar and their
//! error messages cannot drift apart. It is built whenever the binary is;
//! only the broker's value checks (`seconds`, `broker`) need `celery`.
//!
//! # How
//!
//! [`Arguments`] yields each argument as a positional one or an option;
//! `--` makes every later argument positional. An option that takes a
//! value gets it from the next argument (`--out DIR`) or after `=`
//! (`--out=DIR`) through [`Arguments::value`]; a flag refuses one with
//! [`no_value`]. The other value checks are `values.rs`.

use std::ffi::OsString;
#[cfg(feature = "celery")]
use std::time::Duration;

pub use super::usage::UsageError;

/// One argument.
pub enum Argument {
    /// Not an option (or after `--`).
    Positional(String),
    /// `--name` or `--name=value`: the name, and the value after `=`.
    Option(String, Option<String>),
}

/// The arguments of a command line, one at a time.
pub struct Arguments<I> {
    arguments: I,
    only_positional: bool,
}

impl<I: Iterator<Item = OsString>> Arguments<I> {
    /// Walks `arguments` (the program name already skipped).
    pub fn new(arguments: impl IntoIterator<IntoIter = I>) -> Arguments<I> {
        Arguments {
            arguments: arguments.into_iter(),
            only_positional: false,
        }
    }

    /// The next argument; `--` is consumed here.
    pub fn next_argument(&mut self) -> Option<Result<Argument, UsageError>> {
        loop {
            let argument = match self.arguments.next()?.into_string() {
                Ok(argument) => argument,
                Err(raw) => {
                    let error = format!("argument {raw:?} is not valid UTF-8");
                    return Some(Err(UsageError(error)));
                }
            };
            if self.only_positional || !argument.starts_with('-') {
                return Some(Ok(Argument::Positional(argument)));
            }
            let (name, inline) = match argument.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
                _ => (argument.as_str(), None),
            };
            if name == "--" {
                if let Err(err) = no_value(name, inline) {
                    return Some(Err(err));
                }
                self.only_positional = true;
                continue;
            }
            return Some(Ok(Argument::Option(name.to_string(), inline)));
        }
    }

    /// The value of option `name`: `inline` (after `=`), or the next argument.
    pub fn value(&mut self, name: &str, inline: Option<String>) -> Result<String, UsageError> {
        match inline {
            Some(value) => Ok(value),
            None => self
                .arguments
                .next()
                .and_then(|value| value.into_string().ok())
                .ok_or_else(|| UsageError(format!("{name} needs a value"))),
        }
    }
}

/// Checks that a flag was not given a value (`--json=yes`).
pub fn no_value(name: &str, inline: Option<String>) -> Result<(), UsageError> {
    match inline {
        Some(_) => Err(UsageError(format!("{name} takes no value"))),
        None => Ok(()),
    }
}

/// A number of seconds above zero, fractions allowed: `2`, `0.5`.
#[cfg(feature = "celery")]
pub fn seconds(name: &str, text: &str) -> Result<Duration, UsageError> {
    text.parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0 && *seconds < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            UsageError(format!(
                "{name} wants a number of seconds > 0, not '{text}'"
            ))
        })
}

/// A `redis://` URL for `--broker` (or `TANDEM_BROKER`).
#[cfg(feature = "celery")]
pub fn broker(name: &str, text: &str) -> Result<tandem::redis::RedisUrl, UsageError> {
    tandem::redis::RedisUrl::parse(text).map_err(|err| UsageError(format!("{name}: {err}")))
}

#[cfg(all(test, feature = "celery"))]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_positive_and_finite() {
        assert_eq!(seconds("--t", "0.5").unwrap(), Duration::from_millis(500));
        for bad in ["0", "-1", "inf", "NaN", "soon"] {
            assert!(
                seconds("--t", bad).unwrap_err().0.starts_with("--t wants"),
                "{bad}"
            );
        }
    }
}
