use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_redis::redis;
use hexgate_ports::{PortError, RevocationList};

use crate::RedisStore;

/// Revoked access-token ids, each a key that expires when the token would have.
pub struct RedisRevocationList {
    store: RedisStore,
}

impl RedisRevocationList {
    #[must_use]
    pub fn new(store: RedisStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl RevocationList for RedisRevocationList {
    async fn revoke(&self, jti: &str, until: DateTime<Utc>) -> Result<(), PortError> {
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
        let key = self.store.key(&["revoked", jti]);
        self.store.run_op("EXISTS", async |conn| redis::cmd("EXISTS").arg(&key).query_async::<bool>(conn).await).await
    }
}
