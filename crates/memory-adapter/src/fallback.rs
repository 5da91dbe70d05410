use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use hexgate_ports::{PortError, RateLimiter, WindowCount};

use crate::InMemoryRateLimiter;

/// A shared limiter (Redis) that falls back to counting in this process while it cannot be
/// reached, so an outage never takes the service down with it. Limits are per instance during
/// the outage and shared again as soon as the primary answers.
pub struct FallbackRateLimiter {
    primary: Arc<dyn RateLimiter>,
    fallback: InMemoryRateLimiter,
    degraded: AtomicBool,
}

impl FallbackRateLimiter {
    #[must_use]
    pub fn new(primary: Arc<dyn RateLimiter>) -> Self {
        Self { primary, fallback: InMemoryRateLimiter::new(), degraded: AtomicBool::new(false) }
    }

    fn note(&self, result: &Result<impl Sized, PortError>) {
        match result {
            Err(err) if !self.degraded.swap(true, Ordering::Relaxed) => {
                tracing::warn!(error = %err, "shared rate limiter unavailable; counting in process until it returns");
            }
            Ok(_) if self.degraded.swap(false, Ordering::Relaxed) => {
                tracing::info!("shared rate limiter is back; limits are shared again");
            }
            _ => {}
        }
    }
}

#[async_trait]
impl RateLimiter for FallbackRateLimiter {
    async fn hit(&self, key: &str, window: Duration) -> Result<WindowCount, PortError> {
        let result = self.primary.hit(key, window).await;
        self.note(&result);
        match result {
            Ok(count) => Ok(count),
            Err(_) => self.fallback.hit(key, window).await,
        }
    }

    async fn peek(&self, key: &str) -> Result<WindowCount, PortError> {
        let result = self.primary.peek(key).await;
        self.note(&result);
        match result {
            Ok(count) => Ok(count),
            Err(_) => self.fallback.peek(key).await,
        }
    }

    async fn clear(&self, key: &str) -> Result<(), PortError> {
        let result = self.primary.clear(key).await;
        self.note(&result);
        self.fallback.clear(key).await?;
        result.or(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Down;

    #[async_trait]
    impl RateLimiter for Down {
        async fn hit(&self, _: &str, _: Duration) -> Result<WindowCount, PortError> {
            Err(PortError::Unavailable("down".into()))
        }
        async fn peek(&self, _: &str) -> Result<WindowCount, PortError> {
            Err(PortError::Unavailable("down".into()))
        }
        async fn clear(&self, _: &str) -> Result<(), PortError> {
            Err(PortError::Unavailable("down".into()))
        }
    }

    #[tokio::test]
    async fn an_unreachable_primary_is_replaced_by_counting_in_process() {
        let limiter = FallbackRateLimiter::new(Arc::new(Down));
        let window = Duration::from_secs(60);
        assert_eq!(limiter.hit("k", window).await.expect("hit").count, 1);
        assert_eq!(limiter.hit("k", window).await.expect("hit").count, 2);
        assert!(limiter.degraded.load(Ordering::Relaxed));
        limiter.clear("k").await.expect("clear");
        assert_eq!(limiter.peek("k").await.expect("peek").count, 0);
    }

    #[tokio::test]
    async fn a_working_primary_is_used_as_is() {
        let primary = Arc::new(InMemoryRateLimiter::new());
        let limiter = FallbackRateLimiter::new(primary.clone());
        limiter.hit("k", Duration::from_secs(60)).await.expect("hit");
        assert_eq!(primary.peek("k").await.expect("peek").count, 1);
        assert!(!limiter.degraded.load(Ordering::Relaxed));
    }
}
