//! What the pool's workers did: counted by the workers as they go, read as
//! a [`PoolStats`] snapshot by reports and tests.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Counts of what the pool's workers did, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Jobs that ran and returned a value.
    pub completed: u64,
    /// Jobs that ran and panicked.
    pub panicked: u64,
    /// Jobs skipped because their future was dropped before they started.
    pub cancelled: u64,
    /// Worker threads currently alive.
    pub live_workers: usize,
}

/// The live counts behind [`PoolStats`], shared by the workers.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) completed: AtomicU64,
    pub(super) panicked: AtomicU64,
    pub(super) cancelled: AtomicU64,
    pub(super) live_workers: AtomicUsize,
}

impl Counters {
    /// The counts now.
    pub(super) fn snapshot(&self) -> PoolStats {
        PoolStats {
            completed: self.completed.load(Ordering::Relaxed),
            panicked: self.panicked.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
            live_workers: self.live_workers.load(Ordering::SeqCst),
        }
    }
}
