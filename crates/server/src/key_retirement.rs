//! The signing-key retirement job: every instance, every `KEY_CACHE_SECONDS`, retires the keys
//! whose last token has expired (an idempotent update, so instances running it at once agree).

use std::sync::Arc;
use std::time::Duration;

use hexgate_ports::SigningKeyService;
use tokio::task::JoinHandle;
use tracing::warn;

/// Starts the job; abort the handle to stop it.
#[must_use]
pub fn start(keys: Arc<SigningKeyService>, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every.max(Duration::from_secs(1)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = keys.retire_expired().await {
                warn!(%error, "signing-key retirement failed; trying again later");
            }
        }
    })
}
