//! A child process that is killed and reaped when dropped, so that a
//! failing test leaves no server or worker behind. Shared by the Redis
//! server, the Celery worker and the tandem worker helpers.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A running child process; killed (SIGKILL) and waited for on drop.
pub struct KillOnDrop {
    child: Option<Child>,
    /// What it is, for messages.
    pub name: String,
}

impl KillOnDrop {
    /// Starts `command`.
    pub fn spawn(name: &str, command: &mut Command) -> KillOnDrop {
        let child = command
            .spawn()
            .unwrap_or_else(|err| panic!("could not start {name}: {err}"));
        KillOnDrop {
            child: Some(child),
            name: name.to_string(),
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (a name for `kill -s`, like "TERM") without waiting.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.id().to_string()])
            .status()
            .expect("kill(1)");
        assert!(status.success(), "kill -s {signal} {}", self.name);
    }

    /// Waits at most `limit` for the process to exit; its exit code, or
    /// `None` if it is still running (then it is killed on drop).
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<Option<i32>> {
        let started = Instant::now();
        while started.elapsed() < limit {
            let child = self.child.as_mut()?;
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status.code());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether the tests that need outside programs (redis-server, Python
/// Celery) must fail rather than skip when those are missing: CI sets
/// `TANDEM_REQUIRE_SERVICES=1`.
pub fn services_required() -> bool {
    std::env::var_os("TANDEM_REQUIRE_SERVICES").is_some_and(|value| value == "1")
}

/// Says loudly on stderr that a test is skipped because `what` is
/// missing, or panics when services are required.
pub fn skip(test: &str, what: &str) {
    if services_required() {
        panic!("{test}: {what} is missing and TANDEM_REQUIRE_SERVICES=1");
    }
    // Straight to the process's stderr: the test harness captures
    // `eprintln!`, and a skip must be seen even when the test passes.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n**************** SKIPPED {test}: {what} is not installed. \
         `bash .ci/run` installs it and runs this test. ****************\n"
    );
}
