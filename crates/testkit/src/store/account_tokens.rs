use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::audit::AuditEventType;
use hexgate_domain::{PasswordHash, User, UserId};
use hexgate_ports::{AccountTokenRepository, AuditStamp, PortError, TokenHash, TokenPurpose};

use super::{AccountTokenRow, InMemoryStore, State};

impl State {
    /// Finds a live (unused, unexpired) token of `purpose` and spends it: its user.
    fn spend(&mut self, token: &TokenHash, purpose: TokenPurpose, now: DateTime<Utc>) -> Option<UserId> {
        let row = self
            .account_tokens
            .iter_mut()
            .find(|t| t.hash == token.0 && t.purpose == purpose && t.used_at.is_none() && t.expires_at > now)?;
        row.used_at = Some(now);
        Some(row.user)
    }

    fn invalidate_tokens(&mut self, user: UserId, purpose: TokenPurpose, now: DateTime<Utc>) {
        for t in self.account_tokens.iter_mut().filter(|t| t.user == user && t.purpose == purpose) {
            t.used_at.get_or_insert(now);
        }
    }
}

#[async_trait]
impl AccountTokenRepository for InMemoryStore {
    async fn issue(
        &self,
        user: UserId,
        purpose: TokenPurpose,
        token: &TokenHash,
        expires_at: DateTime<Utc>,
        _now: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let mut state = self.lock();
        if !state.users.contains_key(&user) {
            return Err(PortError::NotFound);
        }
        if state.account_tokens.iter().any(|t| t.hash == token.0) {
            return Err(PortError::Internal("unique violation: account_tokens.token_hash".into()));
        }
        state.account_tokens.push(AccountTokenRow { user, purpose, hash: token.0.clone(), expires_at, used_at: None });
        Ok(())
    }

    async fn reset_password_audited(
        &self,
        token: &TokenHash,
        new_hash: &PasswordHash,
        now: DateTime<Utc>,
        stamp: Option<&AuditStamp>,
    ) -> Result<Option<UserId>, PortError> {
        let mut state = self.lock();
        let Some(user) = state.spend(token, TokenPurpose::PasswordReset, now) else { return Ok(None) };
        if let Some(u) = state.users.get_mut(&user) {
            u.password_hash = new_hash.clone();
            u.updated_at = now;
        }
        state.invalidate_tokens(user, TokenPurpose::PasswordReset, now);
        for row in state.sessions.values_mut().filter(|s| s.session.user_id == user) {
            row.revoked_at.get_or_insert(now);
        }
        if let Some(stamp) = stamp {
            state.record(&[stamp.event(AuditEventType::PasswordReset, Some(user), serde_json::json!({}))]);
        }
        Ok(Some(user))
    }

    async fn verify_email_audited(
        &self,
        token: &TokenHash,
        now: DateTime<Utc>,
        stamp: Option<&AuditStamp>,
    ) -> Result<Option<User>, PortError> {
        let mut state = self.lock();
        let Some(user) = state.spend(token, TokenPurpose::EmailVerification, now) else { return Ok(None) };
        if let Some(stamp) = stamp {
            state.record(&[stamp.event(AuditEventType::EmailVerified, Some(user), serde_json::json!({}))]);
        }
        Ok(state.users.get_mut(&user).map(|u| {
            u.is_verified = true;
            u.updated_at = now;
            u.clone()
        }))
    }

    async fn invalidate(&self, user: UserId, purpose: TokenPurpose, now: DateTime<Utc>) -> Result<(), PortError> {
        self.lock().invalidate_tokens(user, purpose, now);
        Ok(())
    }
}
