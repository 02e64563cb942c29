//! One option's value, from text to a checked setting: each parser says
//! exactly what was wrong, as a [`UsageError`]; and the lines of a
//! `--urls` file.
//!
//! Apart from `args.rs` so that the walk over the arguments reads as a
//! list of options, and each value's grammar (sizes, byte counts, ranges)
//! can be tested on its own.

#[cfg(feature = "celery")]
use std::time::Duration;

use tandem::pipeline::Mode;

use super::usage::UsageError;

/// The URLs of a `--urls` file: each line trimmed; blank lines and lines
/// starting with `#` skipped. Nothing else is filtered: a line that is not
/// a valid URL is an input that will fail, and report why.
pub fn url_lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
}

/// `WxH`, both at least 1: `128x128`.
pub fn size(text: &str) -> Result<(u32, u32), UsageError> {
    let bad = || {
        UsageError(format!(
            "--size wants WxH with W, H ≥ 1, like 128x128, not '{text}'"
        ))
    };
    let (width, height) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let side = |side: &str| side.parse::<u32>().ok().filter(|&side| side > 0);
    match (side(width), side(height)) {
        (Some(width), Some(height)) => Ok((width, height)),
        _ => Err(bad()),
    }
}

/// A whole number of at least 1.
pub fn positive<N: std::str::FromStr + PartialOrd + From<u8>>(
    name: &str,
    text: &str,
) -> Result<N, UsageError> {
    text.parse::<N>()
        .ok()
        .filter(|number| *number >= N::from(1))
        .ok_or_else(|| UsageError(format!("{name} wants a whole number ≥ 1, not '{text}'")))
}

/// A byte count of at least 1: digits, then optionally `K`, `M` or `G`
/// (powers of 1024, with or without `iB`): `65536`, `64M`, `64MiB`.
pub fn bytes(name: &str, text: &str) -> Result<u64, UsageError> {
    let bad = || {
        UsageError(format!(
            "{name} wants a byte count ≥ 1 like 65536, 512K or 64M, not '{text}'"
        ))
    };
    let digits = text.trim_end_matches(|c: char| !c.is_ascii_digit());
    let unit = &text[digits.len()..];
    let scale: u64 = match unit.trim_end_matches("iB").trim_end_matches('B') {
        "" => 1,
        "K" | "k" => 1 << 10,
        "M" | "m" => 1 << 20,
        "G" | "g" => 1 << 30,
        _ => return Err(bad()),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|count| count.checked_mul(scale))
        .filter(|&count| count >= 1)
        .ok_or_else(bad)
}

/// Milliseconds: `MIN-MAX` (a range, each picture somewhere in it), `MS`
/// (all the same), or `0` (none, `None`).
pub fn delay_range(name: &str, text: &str) -> Result<Option<(u64, u64)>, UsageError> {
    let bad = || {
        UsageError(format!(
            "{name} wants milliseconds as MIN-MAX (like 30-150), one number, or 0, not '{text}'"
        ))
    };
    let number = |text: &str| text.trim().parse::<u64>().map_err(|_| bad());
    let (min, max) = match text.split_once('-') {
        Some((min, max)) => (number(min)?, number(max)?),
        None => {
            let ms = number(text)?;
            (ms, ms)
        }
    };
    match (min, max) {
        (0, 0) => Ok(None),
        (min, max) if min <= max && max <= 60_000 => Ok(Some((min, max))),
        _ => Err(bad()),
    }
}

/// `pipeline` or `batch`.
pub fn mode(text: &str) -> Result<Mode, UsageError> {
    match text {
        "pipeline" => Ok(Mode::Pipeline),
        "batch" => Ok(Mode::Batch),
        _ => Err(UsageError(format!(
            "--mode wants 'pipeline' or 'batch', not '{text}'"
        ))),
    }
}

/// `value`, unless it is empty.
pub fn non_empty(name: &str, value: String) -> Result<String, UsageError> {
    if value.is_empty() {
        return Err(UsageError(format!("{name} needs a non-empty value")));
    }
    Ok(value)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "celery")]
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

    #[test]
    fn url_files_skip_blanks_and_comments() {
        let text =
            "# thumbnails\nhttp://a/1\n\n   \n  http://a/2  \r\n#http://skipped\nhttp://a/1\n";
        let urls: Vec<String> = url_lines(text).collect();
        assert_eq!(urls, ["http://a/1", "http://a/2", "http://a/1"]);
    }

    #[test]
    fn byte_counts_take_binary_units() {
        let ok = |text| bytes("--max-buffered", text).unwrap();
        assert_eq!(ok("65536"), 65536);
        assert_eq!(ok("512K"), 512 << 10);
        assert_eq!(ok("64M"), 64 << 20);
        assert_eq!(ok("64MiB"), 64 << 20);
        assert_eq!(ok("1G"), 1 << 30);
        for bad in ["", "0", "M", "-1", "12Q", "1.5M", "99999999999999999999G"] {
            let error = bytes("--max-buffered", bad).unwrap_err().0;
            assert!(
                error.starts_with("--max-buffered wants a byte count"),
                "{bad}"
            );
        }
    }

    #[test]
    fn delays_are_a_range_a_number_or_zero() {
        let ok = |text| delay_range("--demo-delay", text).unwrap();
        assert_eq!(ok("30-150"), Some((30, 150)));
        assert_eq!(ok("40"), Some((40, 40)));
        assert_eq!(ok("0"), None);
        assert_eq!(ok("0-0"), None);
        assert_eq!(ok("0-10"), Some((0, 10)));
        for bad in ["", "150-30", "a-b", "-5", "10-", "70000"] {
            assert!(delay_range("--demo-delay", bad).is_err(), "{bad}");
        }
    }
}
