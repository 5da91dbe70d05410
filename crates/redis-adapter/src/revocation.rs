use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_redis::redis;
use hexgate_ports::{PortError, RevocationList};

use crate::RedisStore;

/// Revoked access-token ids, each a key that expires when the token would have.
///
/// A "not revoked" answer is remembered for `answer_ttl` (1 s by default, `REVOCATION_CACHE_MS`):
/// a token presented again within it costs no Redis round trip, which was a third of
/// `GET /users/me`'s CPU (docs/benchmarks.md). A "revoked" answer is never remembered as
/// "not", and a revocation made through this instance forgets the token's answer at once.
/// On another instance the remembered answer may outlive a revocation by at most `answer_ttl`;
/// that costs nothing, because no revocation happens without its session being revoked in the
/// database in the same call, and authentication reads the session on every request.
pub struct RedisRevocationList {
    store: RedisStore,
    answer_ttl: Duration,
    not_revoked: Mutex<HashMap<Box<str>, Instant>>,
}

/// Answers remembered at most; when full, the stale ones go, and all of them if none is stale.
const CAPACITY: usize = 4096;

impl RedisRevocationList {
    /// With "not revoked" answers remembered for `answer_ttl` (zero: every check asks Redis).
    #[must_use]
    pub fn new(store: RedisStore, answer_ttl: Duration) -> Self {
        Self { store, answer_ttl, not_revoked: Mutex::new(HashMap::new()) }
    }

    fn remembered(&self, jti: &str) -> bool {
        let answers = self.not_revoked.lock().unwrap_or_else(PoisonError::into_inner);
        answers.get(jti).is_some_and(|at| at.elapsed() < self.answer_ttl)
    }

    fn remember(&self, jti: &str) {
        if self.answer_ttl.is_zero() {
            return;
        }
        let mut answers = self.not_revoked.lock().unwrap_or_else(PoisonError::into_inner);
        if answers.len() >= CAPACITY {
            answers.retain(|_, at| at.elapsed() < self.answer_ttl);
            if answers.len() >= CAPACITY {
                answers.clear();
            }
        }
        answers.insert(jti.into(), Instant::now());
    }

    fn forget(&self, jti: &str) {
        self.not_revoked.lock().unwrap_or_else(PoisonError::into_inner).remove(jti);
    }
}

#[async_trait]
impl RevocationList for RedisRevocationList {
    async fn revoke(&self, jti: &str, until: DateTime<Utc>) -> Result<(), PortError> {
        self.forget(jti);
        let ms = (until - Utc::now()).num_milliseconds();
        if ms <= 0 {
            return Ok(());
        }
        let key = self.store.key(&["revoked", jti]);
        self.store
            .run_op("SET", async |conn| {
                redis::cmd("SET").arg(&key).arg(1).arg("PX").arg(ms).query_async::<()>(conn).await
            })
            .await
    }

    async fn is_revoked(&self, jti: &str) -> Result<bool, PortError> {
        if self.remembered(jti) {
            return Ok(false);
        }
        let key = self.store.key(&["revoked", jti]);
        let revoked = self
            .store
            .run_op("EXISTS", async |conn| redis::cmd("EXISTS").arg(&key).query_async::<bool>(conn).await)
            .await?;
        if !revoked {
            self.remember(jti);
        }
        Ok(revoked)
    }
}
