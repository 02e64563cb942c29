//! The grammar both commands share, `tandem` and `tandem worker`: how the
//! arguments are walked and how an option gets its value.
//!
//! # Why apart
//!
//! The two commands take different options but read them the same way,
//! and several options (`--workers`, `--concurrency`, `--max-side`,
//! `--broker`, `--queue`) mean the same thing in both. One walker, here,
//! serves `args.rs` and `worker_args.rs`, so that their grammar and their
//! error messages cannot drift apart.
//!
//! # How
//!
//! [`Arguments`] yields each argument as a positional one or an option;
//! `--` makes every later argument positional. An option that takes a
//! value gets it from the next argument (`--out DIR`) or after `=`
//! (`--out=DIR`) through [`Arguments::value`]; a flag refuses one with
//! [`no_value`]. The other value checks are `values.rs`.

use std::ffi::OsString;

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
                .ok_or_else(|| UsageError(format!("{name} needs a value")))?
                .into_string()
                .map_err(|raw| UsageError(format!("{name}: {raw:?} is not valid UTF-8"))),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(arguments: &[&str]) -> Vec<String> {
        let mut walker = Arguments::new(arguments.iter().map(OsString::from));
        let mut seen = Vec::new();
        for _ in 0..arguments.len() + 1 {
            let Some(argument) = walker.next_argument() else {
                return seen;
            };
            seen.push(match argument {
                Ok(Argument::Positional(text)) => format!("positional {text}"),
                Ok(Argument::Option(name, inline)) => match walker.value(&name, inline) {
                    Ok(value) => format!("{name} = {value}"),
                    Err(error) => error.0,
                },
                Err(error) => error.0,
            });
        }
        panic!("the walker yielded more items than there are arguments");
    }

    #[test]
    fn options_take_their_value_inline_or_next_and_double_dash_ends_them() {
        assert_eq!(
            walk(&["a", "--out=x", "--size", "1x1", "--", "--json", "b"]),
            [
                "positional a",
                "--out = x",
                "--size = 1x1",
                "positional --json",
                "positional b"
            ]
        );
        assert_eq!(walk(&["--out"]), ["--out needs a value"]);
        assert_eq!(walk(&["--=x"]), ["-- takes no value"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_says_so() {
        use std::os::unix::ffi::OsStringExt;
        let raw = OsString::from_vec(vec![b'a', 0xff]);
        let mut walker = Arguments::new([OsString::from("--out"), raw]);
        let Some(Ok(Argument::Option(name, inline))) = walker.next_argument() else {
            panic!("--out is an option");
        };
        let error = walker.value(&name, inline).unwrap_err();
        assert_eq!(error.0, r#"--out: "a\xFF" is not valid UTF-8"#);
    }
}
