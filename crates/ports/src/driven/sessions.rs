use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hexgate_domain::session::Session;
use hexgate_domain::{SessionId, User, UserId};

use crate::{AuditEvent, PortError, TokenHash};

/// The result of presenting a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The successor was stored; issue an access token for this session.
    Issued { user_id: UserId, session_id: SessionId },
    /// A spent token was replayed: the family is now revoked.
    ReuseDetected { user_id: UserId, session_id: SessionId },
    /// Unknown, expired or already revoked.
    Invalid,
}

/// Refresh-token families ("sessions") and their tokens, stored hashed.
///
/// # Errors
/// [`PortError::Unavailable`] when the database cannot be reached; [`PortError::Internal`] for
/// anything else unexpected.
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Starts a family with its first token.
    async fn create(&self, session: &Session, first_token: &TokenHash) -> Result<(), PortError> {
        self.create_audited(session, first_token, &[]).await
    }

    /// Starts a family and records `events` (the login), in one transaction.
    async fn create_audited(
        &self,
        session: &Session,
        first_token: &TokenHash,
        events: &[AuditEvent],
    ) -> Result<(), PortError>;

    /// Applies [`hexgate_domain::session::judge_refresh`] to the presented token atomically: two
    /// concurrent refreshes of one token can never both rotate it.
    async fn refresh(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: DateTime<Utc>,
        grace: Duration,
        successor_expires_at: DateTime<Utc>,
    ) -> Result<RefreshOutcome, PortError>;

    /// The user behind an access token, if its session is still live: one indexed read that
    /// serves every authenticated request.
    async fn principal(&self, user: UserId, session: SessionId, now: DateTime<Utc>) -> Result<Option<User>, PortError>;

    /// The user's live (unrevoked, unexpired) sessions, newest first.
    async fn list_live(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, PortError>;

    /// The session a refresh token belongs to, if it is the user's.
    async fn find_by_token(&self, user: UserId, token: &TokenHash) -> Result<Option<SessionId>, PortError>;

    /// Revokes one of the user's sessions. `false` when the user has no such live session.
    async fn revoke(&self, user: UserId, session: SessionId, now: DateTime<Utc>) -> Result<bool, PortError> {
        self.revoke_audited(user, session, now, &[]).await
    }

    /// As [`Self::revoke`]; `events` are written in the same transaction, and only when a session
    /// was revoked.
    async fn revoke_audited(
        &self,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<bool, PortError>;

    /// Revokes every live session of the user but `except`. Returns how many.
    async fn revoke_all(&self, user: UserId, except: Option<SessionId>, now: DateTime<Utc>) -> Result<u64, PortError>;
}
