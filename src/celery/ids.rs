//! Task ids and timestamps in the forms Celery writes them: a UUID4 for
//! `id` and `delivery_tag`, ISO 8601 with a UTC offset for `date_done`,
//! seconds as a float for the `unacked_index` scores; the host name in
//! node names and `origin`.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A random (version 4) UUID, `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
///
/// The randomness is std's own: each [`RandomState`](std::hash::RandomState)
/// is seeded from the operating system, mixed with a counter and the time.
pub fn uuid4() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut halves = [0u64; 2];
    for half in &mut halves {
        let mut hasher = std::hash::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(now().as_nanos());
        *half = hasher.finish();
    }
    let bits = (u128::from(halves[0]) << 64 | u128::from(halves[1])) & !(0xf << 76 | 0x3 << 62)
        | 0x4 << 76
        | 0x2 << 62;
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// This machine's name (`/etc/hostname`), or `localhost`.
pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn now() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Seconds since the epoch: Python's `time.time()`, kombu's scores.
pub fn unix_seconds() -> f64 {
    now().as_secs_f64()
}

/// Now as Python's `datetime.now(timezone.utc).isoformat()`:
/// `2026-12-03T04:05:06.123456+00:00`.
pub fn iso_now() -> String {
    iso(now())
}

fn iso(since_epoch: std::time::Duration) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn uuids_are_version_4_and_differ() {
        let (a, b) = (uuid4(), uuid4());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn dates_are_pythons_isoformat() {
        assert_eq!(iso(Duration::ZERO), "1970-01-01T00:00:00.000000+00:00");
        // 2024-02-29T12:34:56.5 UTC, a leap day.
        let leap = Duration::from_millis(1_709_210_096_500);
        assert_eq!(iso(leap), "2024-02-29T12:34:56.500000+00:00");
    }
}
