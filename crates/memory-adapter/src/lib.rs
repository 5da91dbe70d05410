//! In-process adapters: the embedded default for the ports Redis serves in production (rate-limit
//! counters, the access-token revocation list). State lives in this process only, so with several
//! instances each counts on its own; configure Redis for a shared view. [`InMemoryStore`] holds
//! users and sessions in memory: the fast fake the service tests run on.

mod fallback;
mod pubsub;
mod rate_limit;
mod revocation;
mod store;

pub use fallback::FallbackRateLimiter;
pub use pubsub::InMemoryPubSub;
pub use rate_limit::InMemoryRateLimiter;
pub use revocation::InMemoryRevocationList;
pub use store::InMemoryStore;
