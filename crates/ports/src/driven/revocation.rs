use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::PortError;

/// Access tokens revoked before they expire (logout). Entries need only live until the token
/// would have expired anyway.
///
/// # Errors
/// [`PortError::Unavailable`] when the store cannot be reached; callers must then refuse the
/// token rather than guess.
#[async_trait]
pub trait RevocationList: Send + Sync {
    async fn revoke(&self, jti: &str, until: DateTime<Utc>) -> Result<(), PortError>;
    async fn is_revoked(&self, jti: &str) -> Result<bool, PortError>;
}
