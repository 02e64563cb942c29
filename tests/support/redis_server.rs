//! A real `redis-server` on a free 127.0.0.1 port, stopped when dropped.
//!
//! Tests that need one call [`RedisServer::start`], which returns `None`
//! (after a loud message) when `redis-server` is not installed, unless
//! `TANDEM_REQUIRE_SERVICES=1`, when it fails the test instead.

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::child::{KillOnDrop, skip};

/// A running redis-server, with no persistence.
pub struct RedisServer {
    process: KillOnDrop,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

/// Whether `program --version` runs.
pub fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

impl RedisServer {
    /// Starts one on a free port, or says why not (see the module docs).
    pub fn start(test: &str) -> Option<RedisServer> {
        if !installed("redis-server") {
            skip(test, "redis-server");
            return None;
        }
        Some(RedisServer::start_on(free_port()))
    }

    /// Starts one on `port` and waits (at most 10 s) until it accepts.
    pub fn start_on(port: u16) -> RedisServer {
        RedisServer::start_with(port, &[])
    }

    /// [`start_on`](Self::start_on) with more arguments for redis-server
    /// (`--requirepass secret`).
    pub fn start_with(port: u16, extra: &[&str]) -> RedisServer {
        let process = KillOnDrop::spawn(
            "redis-server",
            Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { process, port }
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL): everything in it is lost.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Kills it and starts a new, empty one on the same port.
    pub fn restart(&mut self) {
        self.kill();
        *self = RedisServer::start_on(self.port);
    }
}

impl RedisServer {
    /// Waits (at most 60 s) until at least `count` clients are blocked in
    /// BRPOP: that many workers are ready to take a job.
    pub fn wait_for_consumers(&self, count: usize) {
        let started = Instant::now();
        while self.clients_in_brpop() < count {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "fewer than {count} workers are consuming"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How many clients are in BRPOP now, from `CLIENT LIST` (read with
    /// std, so that this helper needs no feature of the crate).
    fn clients_in_brpop(&self) -> usize {
        use std::io::{Read, Write};
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return 0;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        if stream
            .write_all(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n")
            .is_err()
        {
            return 0;
        }
        let mut reply = Vec::new();
        let mut chunk = [0u8; 4096];
        // A bulk string: `$<n>\r\n<n bytes>\r\n`; read until it is whole.
        while let Ok(read @ 1..) = stream.read(&mut chunk) {
            reply.extend_from_slice(&chunk[..read]);
            let text = String::from_utf8_lossy(&reply);
            let whole = text.split_once("\r\n").is_some_and(|(head, body)| {
                head[1..]
                    .parse::<usize>()
                    .is_ok_and(|n| body.len() >= n + 2)
            });
            if whole || reply.len() > 1 << 20 {
                break;
            }
        }
        String::from_utf8_lossy(&reply).matches("cmd=brpop").count()
    }
}
