use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_domain::preferences::Preferences;

use crate::PortError;

/// Stored preferences per user.
///
/// # Errors
/// [`PortError::NotFound`] when saving for a user that does not exist; [`PortError::Unavailable`].
#[async_trait]
pub trait PreferencesRepository: Send + Sync {
    async fn get(&self, user: UserId) -> Result<Option<Preferences>, PortError>;
    async fn put(&self, user: UserId, preferences: &Preferences, now: DateTime<Utc>) -> Result<(), PortError>;
}
