use std::time::Duration;

use async_trait::async_trait;

use crate::PortError;

/// The state of one key's window after a hit (or at a peek).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    pub count: u64,
    /// Time until the window ends and the count starts again.
    pub resets_in: Duration,
}

/// Fixed-window counters: the rate limiter and the per-account login-failure count both use it.
///
/// # Errors
/// Implementations return [`PortError::Unavailable`] when their store cannot be reached.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one event for `key` and reports the window. Counting and setting the expiry are
    /// one atomic step: no key may live without an expiry.
    async fn hit(&self, key: &str, window: Duration) -> Result<WindowCount, PortError>;

    /// The window as it is, without counting.
    async fn peek(&self, key: &str) -> Result<WindowCount, PortError>;

    /// Forgets the key's count.
    async fn clear(&self, key: &str) -> Result<(), PortError>;
}
