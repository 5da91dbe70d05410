use async_trait::async_trait;
use deadpool_redis::redis;
use futures_util::StreamExt;
use hexgate_ports::{PortError, PubSub, Subscription};

use crate::RedisStore;
use crate::connection::unavailable;

/// Redis channels: a message published by any instance reaches subscribers on every instance.
pub struct RedisPubSub {
    store: RedisStore,
}

impl RedisPubSub {
    #[must_use]
    pub fn new(store: RedisStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl PubSub for RedisPubSub {
    async fn publish(&self, topic: &str, payload: &[u8]) -> Result<(), PortError> {
        let channel = self.store.key(&["topic", topic]);
        self.store
            .run_op("PUBLISH", async |conn| {
                redis::cmd("PUBLISH").arg(&channel).arg(payload).query_async::<i64>(conn).await
            })
            .await
            .map(|_| ())
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, PortError> {
        let channel = self.store.key(&["topic", topic]);
        // A subscription holds a connection of its own, outside the pool.
        let connect = async {
            let mut pubsub = self.store.client.get_async_pubsub().await.map_err(unavailable)?;
            pubsub.subscribe(&channel).await.map_err(unavailable)?;
            Ok::<_, PortError>(pubsub)
        };
        let pubsub =
            tokio::time::timeout(self.store.timeout, connect).await.map_err(|_| unavailable("timed out"))??;
        Ok(Box::pin(pubsub.into_on_message().map(|msg| msg.get_payload_bytes().to_vec())))
    }
}
