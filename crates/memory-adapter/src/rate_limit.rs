use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hexgate_ports::{PortError, RateLimiter, WindowCount};

/// Fixed windows in a map. Expired windows are swept when the map grows past a bound, so memory
/// stays proportional to the keys seen in one window.
#[derive(Debug, Default)]
pub struct InMemoryRateLimiter {
    windows: Mutex<HashMap<String, (u64, Instant)>>,
}

const SWEEP_ABOVE: usize = 50_000;

impl InMemoryRateLimiter {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, Instant)>> {
        // A panic while holding the lock cannot leave a window half-written: recover it.
        self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl RateLimiter for InMemoryRateLimiter {
    async fn hit(&self, key: &str, window: Duration) -> Result<WindowCount, PortError> {
        let now = Instant::now();
        let mut windows = self.lock();
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (_, ends)| *ends > now);
        }
        let entry = windows.entry(key.to_owned()).or_insert((0, now + window));
        if entry.1 <= now {
            *entry = (0, now + window);
        }
        entry.0 += 1;
        Ok(WindowCount { count: entry.0, resets_in: entry.1 - now })
    }

    async fn peek(&self, key: &str) -> Result<WindowCount, PortError> {
        let now = Instant::now();
        let windows = self.lock();
        Ok(match windows.get(key) {
            Some(&(count, ends)) if ends > now => WindowCount { count, resets_in: ends - now },
            _ => WindowCount { count: 0, resets_in: Duration::ZERO },
        })
    }

    async fn clear(&self, key: &str) -> Result<(), PortError> {
        self.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hits_count_up_within_a_window_and_restart_after_it() {
        let limiter = InMemoryRateLimiter::new();
        let window = Duration::from_millis(50);
        assert_eq!(limiter.hit("k", window).await.expect("hit").count, 1);
        assert_eq!(limiter.hit("k", window).await.expect("hit").count, 2);
        assert_eq!(limiter.peek("k").await.expect("peek").count, 2);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(limiter.peek("k").await.expect("peek").count, 0);
        assert_eq!(limiter.hit("k", window).await.expect("hit").count, 1);
    }

    #[tokio::test]
    async fn keys_are_independent_and_clear_forgets_one() {
        let limiter = InMemoryRateLimiter::new();
        let window = Duration::from_secs(60);
        limiter.hit("a", window).await.expect("hit");
        limiter.hit("a", window).await.expect("hit");
        assert_eq!(limiter.hit("b", window).await.expect("hit").count, 1);
        limiter.clear("a").await.expect("clear");
        assert_eq!(limiter.hit("a", window).await.expect("hit").count, 1);
    }

    #[tokio::test]
    async fn the_reset_time_never_exceeds_the_window() {
        let limiter = InMemoryRateLimiter::new();
        let counted = limiter.hit("k", Duration::from_secs(60)).await.expect("hit");
        assert!(counted.resets_in <= Duration::from_secs(60));
        assert!(counted.resets_in > Duration::from_secs(59));
    }

    #[tokio::test]
    async fn concurrent_hits_are_all_counted() {
        let limiter = std::sync::Arc::new(InMemoryRateLimiter::new());
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move { limiter.hit("k", Duration::from_secs(60)).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("join").expect("hit");
        }
        assert_eq!(limiter.peek("k").await.expect("peek").count, 100);
    }
}
