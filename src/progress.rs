//! How long work reports how far it got, without the core printing anything.

/// Receives progress of one piece of work, counted in bytes.
pub trait Progress: Send + Sync {
    /// The expected total, once it is known.
    fn set_total(&self, _bytes: u64) {}
    fn advance(&self, _bytes: u64) {}
    /// A short note on what is happening now ("checking integrity").
    fn phase(&self, _what: &str) {}
}

/// For callers that do not show progress.
pub struct NoProgress;

impl Progress for NoProgress {}
