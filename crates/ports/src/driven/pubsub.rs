use std::pin::Pin;

use async_trait::async_trait;
use futures_util::Stream;

use crate::PortError;

/// Messages for one topic, as they arrive.
pub type Subscription = Pin<Box<dyn Stream<Item = Vec<u8>> + Send>>;

/// Fan-out of messages between everyone subscribed to a topic — in one process, or across
/// instances when a shared broker backs it. Delivery is best effort: a subscriber that joins late
/// or falls behind misses messages.
///
/// # Errors
/// [`PortError::Unavailable`] when the broker cannot be reached.
#[async_trait]
pub trait PubSub: Send + Sync {
    async fn publish(&self, topic: &str, payload: &[u8]) -> Result<(), PortError>;
    async fn subscribe(&self, topic: &str) -> Result<Subscription, PortError>;
}
