//! ISO 8601 dates and times as Celery writes them, both ways, without a
//! date crate: read into Unix time (what an `expires` header carries) and
//! written from it (a result's `date_done`).
//!
//! # Why a parser of our own
//!
//! tandem's dependencies are chosen, and one header does not justify a
//! calendar library: the forms Celery writes (`datetime.isoformat()`) and
//! the common variants dateutil's `isoparse` also reads fit in a page,
//! tested against values computed by Python.
//!
//! # What it reads
//!
//! `YYYY-MM-DD` or `YYYYMMDD`, then optionally any one separator character
//! (dateutil takes any; `T` in the standard) and `hh[:mm[:ss[.f]]]` (or
//! without colons), then nothing (UTC), `Z`, or `±hh[[:]mm]`. The fraction
//! keeps six digits (microseconds), truncating the rest, as `isoparse`
//! does; `24:00` is the next midnight. Like `isoparse` it refuses a second
//! 60, a 30th of February, year 0, an offset of 24 hours or with seconds.
//! A bare year or year-month, ISO week dates and ordinal dates, which
//! `isoparse` reads and no Celery writes, are refused too.

use std::fmt;

/// Why a string is not an ISO 8601 date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// The header is not a string (nor null).
    NotAString,
    /// Not the shape `YYYY-MM-DD[Thh:mm[:ss[.ffffff]]][Z|±hh:mm]`.
    Malformed,
    /// The shape is right but this field's value is not (month 13,
    /// February 30, second 60, offset +24:00...).
    OutOfRange(&'static str),
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateError::NotAString => write!(f, "not a string"),
            DateError::Malformed => write!(
                f,
                "not an ISO 8601 date and time like 2026-12-03T07:00:00.000000+00:00"
            ),
            DateError::OutOfRange(field) => write!(f, "{field} out of range"),
        }
    }
}

/// An ISO 8601 date and time (the forms listed in the module docs) as
/// microseconds since the Unix epoch; without an offset, UTC.
pub fn parse(text: &str) -> Result<i64, DateError> {
    let mut cursor = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };
    let (year, month, day) = cursor.date()?;
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    let mut micros = 0;
    if cursor.at < cursor.bytes.len() {
        // dateutil takes any one character between the date and the time.
        cursor.at += 1;
        let (time, fraction, offset) = cursor.time()?;
        seconds += time - offset;
        micros = fraction;
    }
    Ok(seconds * 1_000_000 + micros)
}

/// Reads a string left to right.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    /// `width` digits as a number.
    fn digits(&mut self, width: usize) -> Result<i64, DateError> {
        let digits = self
            .bytes
            .get(self.at..self.at + width)
            .filter(|digits| digits.iter().all(u8::is_ascii_digit))
            .ok_or(DateError::Malformed)?;
        self.at += width;
        Ok(digits
            .iter()
            .fold(0, |number, digit| number * 10 + i64::from(digit - b'0')))
    }

    /// Whether the next byte is `byte`; if so, it is consumed.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(next);
        next
    }

    /// `YYYY-MM-DD` or `YYYYMMDD`.
    fn date(&mut self) -> Result<(i64, i64, i64), DateError> {
        let year = self.digits(4)?;
        let dashes = self.eat(b'-');
        let month = self.digits(2)?;
        if dashes && !self.eat(b'-') {
            return Err(DateError::Malformed);
        }
        let day = self.digits(2)?;
        if year < 1 {
            return Err(DateError::OutOfRange("year"));
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::OutOfRange("month"));
        }
        if !(1..=days_in_month(year, month)).contains(&day) {
            return Err(DateError::OutOfRange("day"));
        }
        Ok((year, month, day))
    }

    /// `hh[:mm[:ss[.f]]]` (or without colons) and an optional offset:
    /// (seconds into the day, microseconds, offset east of UTC in seconds).
    fn time(&mut self) -> Result<(i64, i64, i64), DateError> {
        let hour = self.digits(2)?;
        let (mut minute, mut second, mut micros) = (0, 0, 0);
        let colons = self.eat(b':');
        if colons || self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            minute = self.digits(2)?;
            let colon = self.eat(b':');
            if colon && !colons {
                return Err(DateError::Malformed);
            }
            let digit_next = self.bytes.get(self.at).is_some_and(u8::is_ascii_digit);
            if colon || (!colons && digit_next) {
                second = self.digits(2)?;
                if self.eat(b'.') || self.eat(b',') {
                    micros = self.fraction()?;
                }
            }
        }
        let offset = self.offset()?;
        if self.at != self.bytes.len() {
            return Err(DateError::Malformed);
        }
        if hour > 24 || (hour == 24 && (minute, second, micros) != (0, 0, 0)) {
            return Err(DateError::OutOfRange("hour"));
        }
        if minute > 59 {
            return Err(DateError::OutOfRange("minute"));
        }
        if second > 59 {
            return Err(DateError::OutOfRange("second"));
        }
        Ok((hour * 3600 + minute * 60 + second, micros, offset))
    }

    /// One or more digits after the decimal mark, as microseconds
    /// (truncated past six, as dateutil does).
    fn fraction(&mut self) -> Result<i64, DateError> {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        if digits.is_empty() {
            return Err(DateError::Malformed);
        }
        let micros = (0..6).fold(0, |micros, place| {
            let digit = digits.get(place).map_or(0, |digit| i64::from(digit - b'0'));
            micros * 10 + digit
        });
        Ok(micros)
    }

    /// Nothing (UTC), `Z`, or `±hh`, `±hhmm`, `±hh:mm`: seconds east of UTC.
    fn offset(&mut self) -> Result<i64, DateError> {
        if self.eat(b'Z') || self.eat(b'z') {
            return Ok(0);
        }
        let sign = match self.bytes.get(self.at) {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Ok(0),
        };
        self.at += 1;
        let hours = self.digits(2)?;
        let minutes = if self.at < self.bytes.len() {
            self.eat(b':');
            self.digits(2)?
        } else {
            0
        };
        if hours > 23 {
            return Err(DateError::OutOfRange("offset hours"));
        }
        if minutes > 59 {
            return Err(DateError::OutOfRange("offset minutes"));
        }
        Ok(sign * (hours * 3600 + minutes * 60))
    }
}

/// `time` in microseconds since the epoch (negative before it).
pub fn unix_micros(time: std::time::SystemTime) -> i64 {
    match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_micros()).map_or(i64::MIN, |us| -us),
    }
}

/// `since_epoch` as Python's `datetime.isoformat()` of a UTC datetime:
/// `2026-12-03T04:05:06.123456+00:00` (what `parse` reads back).
pub fn format(since_epoch: std::time::Duration) -> String {
    let seconds = since_epoch.as_secs();
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since_epoch.subsec_micros()
    )
}

/// The (year, month, day) of a day counted from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Gregorian leap years: every 4th, but not every 100th, but every 400th.
fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date (Howard Hinnant's `days_from_civil`,
/// the inverse of `ids::civil_from_days`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_pythons_isoformat() {
        assert_eq!(
            format(std::time::Duration::ZERO),
            "1970-01-01T00:00:00.000000+00:00"
        );
        // 2024-02-29T12:34:56.5 UTC, a leap day.
        let leap = std::time::Duration::from_millis(1_709_210_096_500);
        assert_eq!(format(leap), "2024-02-29T12:34:56.500000+00:00");
    }

    #[test]
    fn what_format_writes_parse_reads_back() {
        for micros in [
            0i64,
            951_782_400_000_001,
            1_709_210_096_500_000,
            4_102_444_799_999_999,
        ] {
            let since_epoch = std::time::Duration::from_micros(micros as u64);
            assert_eq!(
                parse(&format(since_epoch)),
                Ok(micros),
                "{}",
                format(since_epoch)
            );
        }
    }

    /// Each expected value was computed by Python:
    /// `maybe_make_aware(maybe_iso8601(text))` from `celery.utils.time`,
    /// minus the epoch, in microseconds.
    #[test]
    fn reads_what_celery_reads_as_python_computes_it() {
        for (text, micros) in [
            ("1970-01-01T00:00:00Z", 0),
            ("2024-02-29T12:34:56.5+00:00", 1_709_210_096_500_000),
            ("2000-03-01T00:00:00+05:30", 951_849_000_000_000),
            ("1999-12-31T23:59:59.999999-08:00", 946_713_599_999_999),
            // Naive: UTC, as maybe_make_aware makes it.
            ("2026-12-03T07:00:00", 1_796_281_200_000_000),
            ("2026-12-03", 1_796_256_000_000_000),
            ("2026-12-03T24:00", 1_796_342_400_000_000),
            ("2100-02-28T00:00Z", 4_107_456_000_000_000),
            ("0001-01-01T00:00Z", -62_135_596_800_000_000),
            ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
            // Seven digits: truncated to microseconds; a comma as the mark.
            ("2026-12-03T07:00:00,1234567Z", 1_796_281_200_123_456),
            ("2026-12-03 07:30+0530", 1_796_263_200_000_000),
            ("2026-12-03T07+05", 1_796_263_200_000_000),
            ("20261203T070000Z", 1_796_281_200_000_000),
            ("2026-12-03T07:00:00z", 1_796_281_200_000_000),
        ] {
            assert_eq!(parse(text), Ok(micros), "{text}");
        }
    }

    #[test]
    fn leap_years_follow_the_gregorian_rules() {
        // Every 4th year, not every 100th, but every 400th.
        assert!(parse("2024-02-29").is_ok());
        assert!(parse("2000-02-29").is_ok());
        for text in ["2026-02-29", "1900-02-29", "2100-02-29"] {
            assert_eq!(parse(text), Err(DateError::OutOfRange("day")), "{text}");
        }
        // The day after 28 February is 1 March, 29 February between them.
        let day = 86_400_000_000;
        let (feb28, mar1) = (parse("2024-02-28").unwrap(), parse("2024-03-01").unwrap());
        assert_eq!(mar1 - feb28, 2 * day);
        let (feb28, mar1) = (parse("2023-02-28").unwrap(), parse("2023-03-01").unwrap());
        assert_eq!(mar1 - feb28, day);
        assert_eq!(
            parse("2024-12-31T00:00Z").unwrap() - parse("2024-01-01T00:00Z").unwrap(),
            365 * day
        );
    }

    #[test]
    fn offsets_name_the_same_instant() {
        let utc = parse("2026-12-03T07:00:00+00:00").unwrap();
        for text in [
            "2026-12-03T12:30:00+05:30",
            "2026-12-03T12:30:00+0530",
            "2026-12-03T02:00:00-05:00",
            "2026-12-03T02:00:00-05",
            "2026-12-02T23:00:00-08:00",
            "2026-12-03T07:00:00Z",
        ] {
            assert_eq!(parse(text), Ok(utc), "{text}");
        }
    }

    #[test]
    fn bad_input_is_refused_with_its_reason() {
        use DateError::{Malformed, OutOfRange};
        for (text, why) in [
            ("", Malformed),
            ("garbage", Malformed),
            ("2026", Malformed),
            ("2026-12", Malformed),
            ("2026-1203", Malformed),
            ("2026-12-03T", Malformed),
            ("2026-12-03T7:00", Malformed),
            ("2026-12-03T07:0000", Malformed),
            ("2026-12-03T07:00.5", Malformed),
            ("2026-12-03T07:00:00.", Malformed),
            ("2026-12-03T07:00:00+05:30:00", Malformed),
            ("2026-12-03T07:00:00+5", Malformed),
            ("2026-12-03T07:00:00 UTC", Malformed),
            ("2026-12-03T07:00:00+00:00junk", Malformed),
            ("2026-W49-4", Malformed),
            ("2026-12-03T０7:00", Malformed),
            ("0000-01-01", OutOfRange("year")),
            ("2026-13-01", OutOfRange("month")),
            ("2026-00-01", OutOfRange("month")),
            ("2026-04-31", OutOfRange("day")),
            ("2026-12-00", OutOfRange("day")),
            ("2026-12-03T25:00", OutOfRange("hour")),
            ("2026-12-03T24:00:01", OutOfRange("hour")),
            ("2026-12-03T07:60", OutOfRange("minute")),
            ("2026-12-03T07:00:60", OutOfRange("second")),
            ("2026-12-03T07:00:00+24:00", OutOfRange("offset hours")),
            ("2026-12-03T07:00:00+05:60", OutOfRange("offset minutes")),
        ] {
            assert_eq!(parse(text), Err(why), "{text:?}");
        }
    }
}
