//! Settings and observation of group commit, shared by the store implementations.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How appends from many sessions are grouped into one transaction.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct GroupCommitOptions {
    /// How long the committer waits for more appends after the first of a group. Zero
    /// groups only what is already queued, which under load is most of the benefit.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// The most appends in one transaction. One disables grouping.
    pub max_batch: usize,
}

impl Default for GroupCommitOptions {
    fn default() -> Self {
        Self {
            window: Duration::ZERO,
            max_batch: 512,
        }
    }
}

impl GroupCommitOptions {
    /// One append per transaction: the baseline that group commit is measured against.
    pub fn unbatched() -> Self {
        Self {
            window: Duration::ZERO,
            max_batch: 1,
        }
    }
}

/// Told about every group commit; the gateway turns this into metrics.
pub trait BatchObserver: Send + Sync + 'static {
    /// A group of `size` appends was committed (or failed) in `elapsed`.
    fn committed(&self, size: usize, elapsed: Duration);
}

/// An observer that ignores everything.
pub struct NoObserver;

impl BatchObserver for NoObserver {
    fn committed(&self, _size: usize, _elapsed: Duration) {}
}
