//! What long jobs share: progress reporting (a trait the hosts implement: a progress bar in the
//! CLI, events in the app) and cancellation (a flag the core polls between steps).

use crate::error::{Error, ErrorCode, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Receives progress from a job. Every method has a no-op default.
pub trait Progress: Send + Sync {
    /// A new phase starts; `total` items when known.
    fn phase(&self, _name: &str, _total: Option<u64>) {}
    /// `items` more items done, `bytes` more bytes moved.
    fn advance(&self, _items: u64, _bytes: u64) {}
    /// `n` more messages handled (read, or found unchanged).
    fn messages(&self, _n: u64) {}
    /// The messages this job will handle, when known. A store read in one pass finishes its
    /// conversations together at the end, so the bar and the time left go by messages then.
    fn messages_total(&self, _total: u64) {}
    /// Bytes uploaded so far in this job.
    fn uploaded(&self, _total: u64) {}
}

/// Ignores progress.
pub struct NoProgress;
impl Progress for NoProgress {}

/// A cancellation flag shared between the host and the job.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once cancelled; jobs call it between steps.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::new(ErrorCode::Cancelled, "cancelled")
                .with_hint("Nothing was lost; run it again to finish."))
        } else {
            Ok(())
        }
    }
}
