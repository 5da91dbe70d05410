use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use hexgate_ports::{PortError, PubSub, Subscription};
use tokio::sync::broadcast;

/// Topics as broadcast channels inside this process. A subscriber that falls more than
/// `capacity` messages behind skips what it missed rather than slowing the publisher.
pub struct InMemoryPubSub {
    topics: Mutex<HashMap<String, broadcast::Sender<Vec<u8>>>>,
    capacity: usize,
}

impl Default for InMemoryPubSub {
    fn default() -> Self {
        Self { topics: Mutex::default(), capacity: 1024 }
    }
}

impl InMemoryPubSub {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn sender(&self, topic: &str) -> broadcast::Sender<Vec<u8>> {
        let mut topics = self.topics.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Topics nobody listens to any more are dropped as new ones are made.
        topics.retain(|_, tx| tx.receiver_count() > 0);
        topics.entry(topic.to_owned()).or_insert_with(|| broadcast::channel(self.capacity).0).clone()
    }
}

#[async_trait]
impl PubSub for InMemoryPubSub {
    async fn publish(&self, topic: &str, payload: &[u8]) -> Result<(), PortError> {
        // No subscriber is not an error: the message is simply not delivered.
        let _ = self.sender(topic).send(payload.to_vec());
        Ok(())
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, PortError> {
        let rx = self.sender(topic).subscribe();
        Ok(Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(message) => return Some((message, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })))
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn every_subscriber_of_a_topic_gets_each_message_and_other_topics_get_none() {
        let bus = InMemoryPubSub::new();
        let mut a = bus.subscribe("chat").await.expect("sub");
        let mut b = bus.subscribe("chat").await.expect("sub");
        let mut other = bus.subscribe("other").await.expect("sub");
        bus.publish("chat", b"hello").await.expect("pub");
        assert_eq!(a.next().await.as_deref(), Some(&b"hello"[..]));
        assert_eq!(b.next().await.as_deref(), Some(&b"hello"[..]));
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(50), other.next()).await;
        assert!(nothing.is_err());
    }
}
