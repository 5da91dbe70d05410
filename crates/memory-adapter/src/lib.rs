//! In-process adapters: the embedded default for the ports Redis serves in production (rate-limit
//! counters, the access-token revocation list, pub/sub for the chat). State lives in this process
//! only, so with several instances each counts on its own; configure Redis for a shared view.
//! (The in-memory storage ports the tests run on live in the dev-only `hexgate-testkit`.)

mod fallback;
mod pubsub;
mod rate_limit;
mod revocation;

pub use fallback::FallbackRateLimiter;
pub use pubsub::InMemoryPubSub;
pub use rate_limit::InMemoryRateLimiter;
pub use revocation::InMemoryRevocationList;
