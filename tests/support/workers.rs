//! Workers for the broker tests, as child processes killed on drop:
//! `tandem worker` (this crate's binary) and a Python Celery worker running
//! `contrib/celery/tandem_tasks.py`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::child::{KillOnDrop, skip};

/// `contrib/celery`, where the Python app is.
pub fn contrib_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("contrib/celery")
}

/// Starts `tandem worker --broker <url> --workers 1 <extra...>`, its
/// output discarded (or inherited with TANDEM_TEST_VERBOSE=1).
pub fn tandem_worker(broker: &str, extra: &[&str]) -> KillOnDrop {
    KillOnDrop::spawn("tandem worker", quiet(&mut worker_command(broker, extra)))
}

/// [`tandem_worker`] with `--json`, its job lines written to `log`.
pub fn tandem_worker_logged(broker: &str, extra: &[&str], log: &std::path::Path) -> KillOnDrop {
    let file = std::fs::File::create(log).expect("create the worker's log");
    let mut command = worker_command(broker, extra);
    command.arg("--json").stdout(file).stderr(Stdio::null());
    KillOnDrop::spawn("tandem worker", &mut command)
}

fn worker_command(broker: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
    command
        .args(["worker", "--broker", broker, "--workers", "1"])
        .args(extra)
        .env_remove("TANDEM_BROKER");
    command
}

/// Whether python3 can import celery, redis and PIL; if not, says so
/// (see [`skip`]) and returns false.
pub fn python_celery_available(test: &str) -> bool {
    let imports = Command::new("python3")
        .args(["-c", "import celery, redis, PIL"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !imports {
        skip(test, "python3 with celery[redis] and pillow");
    }
    imports
}

/// Starts a Python Celery worker (one process, `-P solo`) on `queue`.
pub fn celery_worker(broker: &str, queue: &str, visibility_timeout: &str) -> KillOnDrop {
    let mut command = Command::new("python3");
    command
        .args(["-m", "celery", "-A", "tandem_tasks", "worker", "-P", "solo"])
        .args(["-Q", queue, "--loglevel", "WARNING", "--without-heartbeat"])
        .args(["--without-gossip", "--without-mingle"])
        .current_dir(contrib_dir())
        .env("TANDEM_BROKER", broker)
        .env("TANDEM_VISIBILITY_TIMEOUT", visibility_timeout);
    KillOnDrop::spawn("celery worker", quiet(&mut command))
}

/// Runs a Python program with `contrib/celery` importable and the broker
/// in `TANDEM_BROKER`; returns its stdout, panicking with its stderr if it
/// fails.
pub fn python(broker: &str, program: &str) -> String {
    let output = Command::new("timeout")
        .args(["120", "python3", "-c", program])
        .current_dir(contrib_dir())
        .env("TANDEM_BROKER", broker)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// Discards the output unless TANDEM_TEST_VERBOSE is set.
pub fn quiet(command: &mut Command) -> &mut Command {
    if std::env::var_os("TANDEM_TEST_VERBOSE").is_none() {
        command.stdout(Stdio::null()).stderr(Stdio::null());
    }
    command
}

/// The length of the body each of `urls` answers with, fetched here once:
/// what a worker that downloads it has downloaded.
pub fn served_lengths(urls: &[String]) -> Vec<u64> {
    urls.iter()
        .map(|url| {
            let response = tandem::block_on(tandem::http::get(url)).unwrap();
            assert!(response.is_success(), "{url}: {}", response.status());
            response.into_body().len() as u64
        })
        .collect()
}

/// The (width, height) of a PNG file, from its IHDR.
pub fn png_size(path: &std::path::Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (word(16), word(20))
}

/// The services every broker interop test needs: a Redis server of its own
/// and Python Celery; `None` (the test skips, or fails when services are
/// required) if either is missing.
pub fn services(test: &str) -> Option<super::redis_server::RedisServer> {
    let redis = super::redis_server::RedisServer::start(test)?;
    python_celery_available(test).then_some(redis)
}

/// The lines a `tandem worker --json` wrote to `log` so far, one JSON
/// object per job.
#[cfg(feature = "celery")]
pub fn worker_log_lines(log: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}
