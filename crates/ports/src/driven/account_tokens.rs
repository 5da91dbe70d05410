use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::{PasswordHash, User, UserId};

use crate::{AuditStamp, PortError, TokenHash};

/// What a single-use account token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    PasswordReset,
    EmailVerification,
}

impl TokenPurpose {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "reset",
            Self::EmailVerification => "verify",
        }
    }
}

/// Single-use tokens mailed to users, stored hashed.
///
/// # Errors
/// [`PortError::Unavailable`] when the store cannot be reached.
#[async_trait]
pub trait AccountTokenRepository: Send + Sync {
    async fn issue(
        &self,
        user: UserId,
        purpose: TokenPurpose,
        token: &TokenHash,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), PortError>;

    /// In one transaction: spends a live reset token, sets the new password, kills every other
    /// reset token of the user and revokes all their sessions. `None` for an unknown, used or
    /// expired token.
    async fn reset_password(
        &self,
        token: &TokenHash,
        new_hash: &PasswordHash,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, PortError> {
        self.reset_password_audited(token, new_hash, now, None).await
    }

    /// As [`Self::reset_password`]; with a `stamp`, a `password_reset` event about the token's
    /// user is written in the same transaction.
    async fn reset_password_audited(
        &self,
        token: &TokenHash,
        new_hash: &PasswordHash,
        now: DateTime<Utc>,
        stamp: Option<&AuditStamp>,
    ) -> Result<Option<UserId>, PortError>;

    /// Spends a live verification token and marks the user verified. `None` for a bad token.
    async fn verify_email(&self, token: &TokenHash, now: DateTime<Utc>) -> Result<Option<User>, PortError> {
        self.verify_email_audited(token, now, None).await
    }

    /// As [`Self::verify_email`]; with a `stamp`, an `email_verified` event is written in the
    /// same transaction.
    async fn verify_email_audited(
        &self,
        token: &TokenHash,
        now: DateTime<Utc>,
        stamp: Option<&AuditStamp>,
    ) -> Result<Option<User>, PortError>;

    /// Kills the user's unused tokens of `purpose` (a password change makes reset links dead).
    async fn invalidate(&self, user: UserId, purpose: TokenPurpose, now: DateTime<Utc>) -> Result<(), PortError>;
}
