//! Refresh-token families. A login starts a family (a "session"); each refresh spends the
//! presented token and issues its successor in the same family. The rules for a presented token
//! are pure and live here; adapters apply the verdict atomically.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(Uuid);

impl SessionId {
    #[must_use]
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    #[must_use]
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    #[must_use]
    pub fn as_uuid(self) -> Uuid {
        self.0
    }
}

impl Default for SessionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A live login as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// What the store knows about a presented refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedRefreshToken {
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged for a successor, if it was.
    pub spent_at: Option<DateTime<Utc>>,
    /// Whether any token issued in exchange for it has itself been used.
    pub successor_used: bool,
    pub family_revoked: bool,
}

/// What to do with a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshVerdict {
    /// Unspent and live: spend it and issue its successor.
    Rotate,
    /// Spent moments ago by a concurrent refresh whose result is still unused: issue another
    /// token of the same family so two tabs refreshing at once both stay signed in.
    ReissueWithinGrace,
    /// Spent before: someone is replaying it. Revoke the whole family.
    ReuseDetected,
    /// Expired, or its family is already revoked.
    Dead,
}

#[must_use]
pub fn judge_refresh(token: &PresentedRefreshToken, now: DateTime<Utc>, grace: Duration) -> RefreshVerdict {
    if token.family_revoked || token.expires_at <= now {
        return RefreshVerdict::Dead;
    }
    match token.spent_at {
        None => RefreshVerdict::Rotate,
        Some(spent) if now - spent <= grace && !token.successor_used => RefreshVerdict::ReissueWithinGrace,
        Some(_) => RefreshVerdict::ReuseDetected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(now: DateTime<Utc>) -> PresentedRefreshToken {
        PresentedRefreshToken {
            expires_at: now + Duration::days(30),
            spent_at: None,
            successor_used: false,
            family_revoked: false,
        }
    }

    const GRACE: Duration = Duration::seconds(10);

    #[test]
    fn an_unspent_live_token_rotates() {
        let now = Utc::now();
        assert_eq!(judge_refresh(&token(now), now, GRACE), RefreshVerdict::Rotate);
    }

    #[test]
    fn a_token_spent_moments_ago_with_an_unused_successor_is_reissued() {
        let now = Utc::now();
        let t = PresentedRefreshToken { spent_at: Some(now - Duration::seconds(3)), ..token(now) };
        assert_eq!(judge_refresh(&t, now, GRACE), RefreshVerdict::ReissueWithinGrace);
    }

    #[test]
    fn a_spent_token_whose_successor_was_used_is_reuse() {
        let now = Utc::now();
        let t =
            PresentedRefreshToken { spent_at: Some(now - Duration::seconds(1)), successor_used: true, ..token(now) };
        assert_eq!(judge_refresh(&t, now, GRACE), RefreshVerdict::ReuseDetected);
    }

    #[test]
    fn a_token_spent_outside_the_grace_window_is_reuse() {
        let now = Utc::now();
        let t = PresentedRefreshToken { spent_at: Some(now - Duration::seconds(11)), ..token(now) };
        assert_eq!(judge_refresh(&t, now, GRACE), RefreshVerdict::ReuseDetected);
    }

    #[test]
    fn expired_tokens_and_revoked_families_are_dead() {
        let now = Utc::now();
        let expired = PresentedRefreshToken { expires_at: now, ..token(now) };
        assert_eq!(judge_refresh(&expired, now, GRACE), RefreshVerdict::Dead);
        let revoked = PresentedRefreshToken { family_revoked: true, ..token(now) };
        assert_eq!(judge_refresh(&revoked, now, GRACE), RefreshVerdict::Dead);
        let revoked_spent =
            PresentedRefreshToken { family_revoked: true, spent_at: Some(now - Duration::seconds(100)), ..token(now) };
        assert_eq!(judge_refresh(&revoked_spent, now, GRACE), RefreshVerdict::Dead);
    }
}
