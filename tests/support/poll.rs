//! Waiting for something another process does, bounded: a test that
//! waits for ever hangs CI instead of failing.

use std::time::{Duration, Instant};

/// Checks `condition` every 25 ms until it holds; fails the test, naming
/// `what`, after 60 s.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "waited too long for {what}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}
