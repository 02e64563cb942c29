//! # tandem: network I/O and CPU-heavy work, in tandem, without tokio
//!
//! tandem is the Rust counterpart of a Python pattern: an `asyncio` event
//! loop fetches URLs while a `ProcessPoolExecutor` does the CPU-heavy work,
//! and `asyncio.gather` collects the results. Its source is meant to be read
//! as a tutorial; this page is the map.
//!
//! | Python                                   | tandem                                   | file |
//! |------------------------------------------|------------------------------------------|------|
//! | `asyncio.run(main())`, the event loop    | [`block_on`], [`spawn`], [`Task`]        | `src/executor.rs` |
//! | `loop.run_in_executor(ProcessPoolExecutor(max_workers=n), f)` | [`CpuPool::new`]`(n)`, [`CpuPool::run`] | `src/pool/` |
//! | `loop.run_in_executor(None, blocking_call)` (threads) | [`unblock`]                     | `blocking` crate |
//! | `asyncio.gather(..., return_exceptions=True)` | [`join_all`] over `Result`s         | `src/join.rs` |
//! | `asyncio.gather(...)` (fail fast)        | [`try_join_all`]                         | `src/join.rs` |
//! | `asyncio.wait_for`, `asyncio.Semaphore`  | [`timeout`], [`Semaphore`]               | `src/join.rs` |
//! | `loop.run_in_executor(pool, ...)` waiting (`executor.submit`) | [`CpuPool::submit`]  | `src/pool/` |
//! | aiohttp `session.get(url)`               | [`http::get`], [`http::Client`]          | `src/http/` |
//! | Pillow `Image.open(..).resize((128, 128))` | `resize::process` (feature `image`)      | `src/resize/` |
//! | the article's download-and-resize program | `pipeline::run` (feature `image`)         | `src/pipeline/` |
//! | the article's "for more, use Celery": a task queue on Redis | `celery::serve` (`tandem worker`), `celery::run_through_broker` (`tandem --broker`), `redis::Client` (feature `celery`) | `src/celery/`, `src/redis/` |
//!
//! And the pieces that make it run anywhere:
//!
//! | module | what it is for |
//! |--------|----------------|
//! | [`demo`] | an httpbin-like server on 127.0.0.1, for examples, tests and `cargo run` with no internet |
//! | [`spin`] | how the loop waits awake for a CPU job's answer instead of sleeping (chapter 7) |
//! | `wait` (private) | "listen, then check again": how the semaphore and the pool's full queue wait without missing a wakeup |
//! | [`json`] | JSON string literals for the demo server and the CLI's `--json` |
//! | [`net`] | resolving a host and connecting, shared by the HTTP and Redis clients |
//!
//! The `tandem` binary (`src/main.rs`, `src/cli/`) is the main job on the
//! command line.
//!
//! ## The tutorial
//!
//! The chapters in `docs/` walk this source in reading order; every Rust
//! block in them is an excerpt of the code, checked by `tests/docs.rs`.
//! Run each example as you go (`cargo run --example NAME`; no network
//! needed).
//!
//! | chapter | what it builds | read with |
//! |---------|----------------|-----------|
//! | `docs/01-the-split.md` | why the loop must never compute; the threads and channels | this page |
//! | `docs/02-first-executor.md` | a complete executor in about 40 lines | `examples/00_first_executor.rs` |
//! | `docs/03-the-loop.md` | the batch, the reactor sleep, cancel at end, nested [`block_on`] | [`executor`] |
//! | `docs/04-the-reactor.md` | what `Async<TcpStream>` and `Timer` do underneath | async-io |
//! | `docs/05-the-pool.md` | [`CpuPool`]: back-pressure, submit then answer, shutdown | [`pool`] |
//! | `docs/06-gathering.md` | [`join_all`], [`timeout`], [`Semaphore`] | [`join`] |
//! | `docs/07-microseconds.md` | spinning before sleeping, leader and followers | [`spin`] |
//! | `docs/08-http.md` | HTTP/1.1 over a socket, limits, https | [`http`], [`demo`] |
//! | `docs/09-pipeline.md` | download and resize overlapped, read through `--timeline` | `pipeline`, `resize` |
//! | `docs/10-errors-and-limits.md` | every error a user can see; `return_exceptions=True` | `examples/04_error_handling.rs` |
//! | `docs/11-beyond-one-machine.md` | Celery's protocol on Redis: a queue instead of the pool's channel | `celery`, `redis` |
//!
//! ## The two kinds of thread
//!
//! ```text
//!   loop thread (one)                       CPU pool threads (n)
//!   ┌──────────────────────────────┐        ┌───────────────────┐
//!   │ executor: run ready tasks    │ ─job─► │ tandem-cpu-0      │
//!   │ reactor: epoll sockets/timers│ ◄─res─ │ tandem-cpu-1 ...  │
//!   └──────────────────────────────┘        └───────────────────┘
//! ```
//!
//! One thread runs the executor and the reactor: every socket read, every
//! timer and every task poll happens there. CPU work never runs on it: it
//! goes to the [`CpuPool`], whose results come back on channels the loop
//! awaits. Blocking calls that are not CPU work (a DNS lookup, a file write)
//! go to [`unblock`]'s thread pool.
//!
//! ```
//! let pool = tandem::CpuPool::new(2)?;
//! let result = tandem::block_on(async {
//!     // `await loop.run_in_executor(pool, cpu_bound_task, 42)`
//!     pool.run(|| (0..1_000u64).map(|i| i * i).sum::<u64>() + 42).await
//! })?;
//! assert_eq!(result, 332_833_542);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

#[cfg(feature = "celery")]
pub mod celery;
pub mod demo;
pub mod executor;
pub mod http;
pub mod join;
pub mod json;
pub mod net;
#[cfg(feature = "image")]
pub mod pipeline;
pub mod pool;
#[cfg(feature = "celery")]
pub mod redis;
#[cfg(feature = "image")]
pub mod resize;
pub mod spin;
mod wait;

pub use executor::{Task, block_on, spawn};
pub use join::{Permit, Semaphore, TimedOut, join_all, timeout, try_join_all};
pub use pool::{CpuPool, CpuPoolBuilder, JobError, PoolError, PoolStats};

/// Runs a blocking call on a thread pool and awaits its result: Python's
/// `loop.run_in_executor(None, f)` with the default `ThreadPoolExecutor`.
///
/// This is [`blocking::unblock`], re-exported. Use it for calls that *wait*
/// (file system, DNS, a blocking client library); use a [`CpuPool`] for
/// calls that *compute*, so that the number of busy cores stays bounded.
///
/// ```
/// let text = tandem::block_on(tandem::unblock(|| std::env::var("PATH").is_ok()));
/// assert!(text);
/// ```
pub use blocking::unblock;
