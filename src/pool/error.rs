//! The pool's two errors: why a job gave no value, and why a pool could not
//! be built.

use std::fmt;

/// Why a job did not produce its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The job panicked; the string is the panic message.
    Panicked(String),
    /// The pool was shut down before the job could run.
    ShutDown,
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Panicked(message) => write!(f, "job panicked: {message}"),
            JobError::ShutDown => write!(f, "the CPU pool was shut down before the job ran"),
        }
    }
}

impl std::error::Error for JobError {}

/// Why a pool could not be built.
#[derive(Debug)]
pub enum PoolError {
    /// `workers(0)`: a pool without workers would never run a job.
    ZeroWorkers,
    /// `queue(0)`: a job must be able to wait in the queue, if only for an
    /// instant, because idle workers take jobs from it by polling.
    ZeroQueue,
    /// The operating system refused to start a worker thread.
    Spawn(std::io::Error),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::ZeroWorkers => write!(f, "a CPU pool needs at least one worker"),
            PoolError::ZeroQueue => write!(f, "a CPU pool's queue needs room for at least one job"),
            PoolError::Spawn(err) => write!(f, "could not start a worker thread: {err}"),
        }
    }
}

impl std::error::Error for PoolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PoolError::Spawn(err) => Some(err),
            PoolError::ZeroWorkers | PoolError::ZeroQueue => None,
        }
    }
}
