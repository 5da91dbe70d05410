//! The Redis adapter (not yet built): the shared rate limiter (one atomic Lua script per hit),
//! the access-token revocation list and the chat's pub/sub, on deadpool-redis. Until it lands,
//! `REDIS_URL` is refused at start-up and the in-process adapters in `hexgate-memory-adapter`
//! serve those ports.
