//! Task ids and timestamps in the forms Celery writes them: a UUID4 for
//! `id` and `delivery_tag`, ISO 8601 with a UTC offset for `date_done`
//! (written by `iso8601.rs`), seconds as a float for the `unacked_index`
//! scores; the node name of workers and of `origin`.

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

/// This process's node name for Celery's tools, as a worker and as the
/// `origin` of the tasks it sends: `tandem-<pid>@<host>`.
pub fn node_name() -> String {
    format!("tandem-{}@{}", std::process::id(), hostname())
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
    super::iso8601::format(now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_differ() {
        let (a, b) = (uuid4(), uuid4());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert_eq!(a.matches('-').count(), 4);
    }
}
