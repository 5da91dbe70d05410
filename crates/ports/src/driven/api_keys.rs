use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hexgate_domain::api_key::{ApiKey, ApiKeyId};
use hexgate_domain::{User, UserId};

use crate::{AuditEvent, PortError, TokenHash};

/// API keys, stored by the hash of their secret (unique index: one indexed read per request).
///
/// # Errors
/// [`PortError::NotFound`] from `create` when the owner is gone; [`PortError::Unavailable`] when
/// the store cannot be reached.
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    /// Stores the key and `events` in one transaction.
    async fn create(&self, key: &ApiKey, hash: &TokenHash, events: &[AuditEvent]) -> Result<(), PortError>;

    /// The user's keys, newest first.
    async fn list(&self, user: UserId) -> Result<Vec<ApiKey>, PortError>;

    /// Deletes one of the user's keys and writes `events`, in one transaction. `false` (and no
    /// event) when the user has no such key.
    async fn delete(&self, user: UserId, id: ApiKeyId, events: &[AuditEvent]) -> Result<bool, PortError>;

    /// The key with this hash and its owner, in one indexed read. Expired keys are returned
    /// too; the caller decides.
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<(ApiKey, User)>, PortError>;

    /// Sets `last_used_at = now` unless it was set less than `interval` ago (one conditional
    /// UPDATE, so instances racing write it once). `true` when it wrote.
    async fn touch(&self, id: ApiKeyId, now: DateTime<Utc>, interval: Duration) -> Result<bool, PortError>;
}
