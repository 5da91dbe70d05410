//! The Redis adapter, on deadpool-redis: the shared rate limiter (one atomic Lua script per hit),
//! the access-token revocation list and pub/sub. Every key carries a configurable prefix so
//! several deployments (or test runs) can share one Redis.

mod connection;
mod pubsub;
mod rate_limit;
mod revocation;

pub use connection::{RedisSettings, RedisStore};
pub use pubsub::RedisPubSub;
pub use rate_limit::RedisRateLimiter;
pub use revocation::RedisRevocationList;
