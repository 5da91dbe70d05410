use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis::{self, Script};
use hexgate_ports::{PortError, RateLimiter, WindowCount};

use crate::RedisStore;

/// Fixed windows in Redis. Counting and setting the expiry happen in one Lua script, so a key can
/// never be left without an expiry (the seed's INCR-then-EXPIRE could); a key found without one is
/// given one on the spot.
pub struct RedisRateLimiter {
    store: RedisStore,
    script: Script,
}

const HIT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
";

impl RedisRateLimiter {
    #[must_use]
    pub fn new(store: RedisStore) -> Self {
        Self { store, script: Script::new(HIT) }
    }
}

fn window(count: i64, ttl_ms: i64) -> WindowCount {
    WindowCount {
        count: u64::try_from(count).unwrap_or(0),
        resets_in: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit(&self, key: &str, window_len: Duration) -> Result<WindowCount, PortError> {
        let key = self.store.key(&[key]);
        let ms = u64::try_from(window_len.as_millis()).unwrap_or(u64::MAX).max(1);
        let script = &self.script;
        let (count, ttl): (i64, i64) =
            self.store.run_op("EVALSHA", async |conn| script.key(&key).arg(ms).invoke_async(conn).await).await?;
        Ok(window(count, ttl))
    }

    async fn peek(&self, key: &str) -> Result<WindowCount, PortError> {
        let key = self.store.key(&[key]);
        let (count, ttl): (Option<i64>, i64) =
            self.store.run_op("GET", async |conn| redis::pipe().get(&key).pttl(&key).query_async(conn).await).await?;
        Ok(match count {
            Some(count) if ttl > 0 => window(count, ttl),
            _ => window(0, 0),
        })
    }

    async fn clear(&self, key: &str) -> Result<(), PortError> {
        let key = self.store.key(&[key]);
        self.store
            .run_op("DEL", async |conn| redis::cmd("DEL").arg(&key).query_async::<i64>(conn).await)
            .await
            .map(|_| ())
    }
}
