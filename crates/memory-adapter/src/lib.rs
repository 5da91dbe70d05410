//! In-process adapters: the embedded default for the ports Redis serves in production (rate-limit
//! counters, the access-token revocation list). State lives in this process only, so with several
//! instances each counts on its own; configure Redis for a shared view.

mod rate_limit;
mod revocation;

pub use rate_limit::InMemoryRateLimiter;
pub use revocation::InMemoryRevocationList;
