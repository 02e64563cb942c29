//! Running the built `tandem` binary as a user would, with a deadline, in a
//! fresh directory: shared by tests/cli.rs, tests/cli_inputs.rs and
//! tests/cli_https.rs.
//!
//! Every run has a deadline: the child is polled and killed when it is
//! over, so a hung binary fails a test instead of hanging the suite. Both
//! pipes are read on threads, so a chatty child never blocks on a full one.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The longest a run of the binary may take.
pub const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// What a finished run left.
#[derive(Debug)]
pub struct Run {
    /// The exit status; `None` if a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `tandem` with `args`; kills it if it outlives [`RUN_DEADLINE`].
pub fn tandem(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tandem binary starts");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let code = wait_with_deadline(&mut child);
    Run {
        code,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8(bytes).expect("tandem prints UTF-8")
    })
}

fn wait_with_deadline(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + RUN_DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tandem ran for more than {RUN_DEADLINE:?} and was killed");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh directory under the temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "tandem-cli-{name}-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let path = std::env::temp_dir().join(unique);
        fs::create_dir(&path).expect("a fresh temp dir");
        TempDir(path)
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `path` as a `&str` argument.
pub fn text(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}
