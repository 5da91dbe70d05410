use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hexgate_domain::session::{PresentedRefreshToken, RefreshVerdict, Session, judge_refresh};
use hexgate_domain::{SessionId, User, UserId};
use hexgate_ports::{AuditEvent, PortError, RefreshOutcome, SessionRepository, TokenHash};
use uuid::Uuid;

use super::{InMemoryStore, RefreshTokenRow, SessionRow, State};

impl State {
    fn live(&self, id: SessionId, now: DateTime<Utc>) -> Option<&Session> {
        self.sessions.get(&id).filter(|s| s.revoked_at.is_none() && s.session.expires_at > now).map(|s| &s.session)
    }

    fn add_refresh_token(
        &mut self,
        hash: &TokenHash,
        session: SessionId,
        parent: Option<Uuid>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        if self.refresh_tokens.contains_key(&hash.0) {
            return Err(PortError::Internal("unique violation: refresh_tokens.token_hash".into()));
        }
        let row = RefreshTokenRow { id: Uuid::now_v7(), session, parent, expires_at, spent_at: None };
        self.refresh_tokens.insert(hash.0.clone(), row);
        Ok(())
    }
}

#[async_trait]
impl SessionRepository for InMemoryStore {
    async fn create_audited(
        &self,
        session: &Session,
        first_token: &TokenHash,
        events: &[AuditEvent],
    ) -> Result<(), PortError> {
        let mut state = self.lock();
        // The foreign key: a session for a user who is gone is refused.
        if !state.users.contains_key(&session.user_id) {
            return Err(PortError::NotFound);
        }
        if state.sessions.contains_key(&session.id) {
            return Err(PortError::Internal(format!("unique violation: sessions.id {}", session.id)));
        }
        state.add_refresh_token(first_token, session.id, None, session.expires_at)?;
        state.sessions.insert(session.id, SessionRow { session: session.clone(), revoked_at: None });
        state.record(events);
        Ok(())
    }

    async fn refresh(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: DateTime<Utc>,
        grace: Duration,
        successor_expires_at: DateTime<Utc>,
    ) -> Result<RefreshOutcome, PortError> {
        let mut state = self.lock();
        let Some(token) = state.refresh_tokens.get(&presented.0) else { return Ok(RefreshOutcome::Invalid) };
        let (token_id, session_id) = (token.id, token.session);
        let Some(row) = state.sessions.get(&session_id) else {
            return Err(PortError::Internal("refresh token without a session".into()));
        };
        let ids = (row.session.user_id, session_id);
        let successor_used = state.refresh_tokens.values().any(|t| t.parent == Some(token_id) && t.spent_at.is_some());
        let verdict = judge_refresh(
            &PresentedRefreshToken {
                expires_at: token.expires_at,
                spent_at: token.spent_at,
                successor_used,
                family_revoked: row.revoked_at.is_some(),
            },
            now,
            grace,
        );
        match verdict {
            RefreshVerdict::Rotate | RefreshVerdict::ReissueWithinGrace => {
                state.add_refresh_token(successor, session_id, Some(token_id), successor_expires_at)?;
                if verdict == RefreshVerdict::Rotate
                    && let Some(t) = state.refresh_tokens.get_mut(&presented.0)
                {
                    t.spent_at = Some(now);
                }
                if let Some(row) = state.sessions.get_mut(&session_id) {
                    row.session.last_used_at = now;
                    row.session.expires_at = successor_expires_at;
                }
                Ok(RefreshOutcome::Issued { user_id: ids.0, session_id: ids.1 })
            }
            RefreshVerdict::ReuseDetected => {
                if let Some(row) = state.sessions.get_mut(&session_id) {
                    row.revoked_at = Some(now);
                }
                Ok(RefreshOutcome::ReuseDetected { user_id: ids.0, session_id: ids.1 })
            }
            RefreshVerdict::Dead => Ok(RefreshOutcome::Invalid),
        }
    }

    async fn principal(&self, user: UserId, session: SessionId, now: DateTime<Utc>) -> Result<Option<User>, PortError> {
        let state = self.lock();
        let live = state.live(session, now).is_some_and(|s| s.user_id == user);
        Ok(if live { state.users.get(&user).cloned() } else { None })
    }

    async fn list_live(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, PortError> {
        let state = self.lock();
        let mut sessions: Vec<Session> = state
            .sessions
            .keys()
            .filter_map(|id| state.live(*id, now))
            .filter(|s| s.user_id == user)
            .cloned()
            .collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(sessions)
    }

    async fn find_by_token(&self, user: UserId, token: &TokenHash) -> Result<Option<SessionId>, PortError> {
        let state = self.lock();
        Ok(state
            .refresh_tokens
            .get(&token.0)
            .and_then(|t| state.sessions.get(&t.session))
            .filter(|s| s.session.user_id == user)
            .map(|s| s.session.id))
    }

    async fn revoke_audited(
        &self,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        if state.live(session, now).is_none_or(|s| s.user_id != user) {
            return Ok(false);
        }
        if let Some(row) = state.sessions.get_mut(&session) {
            row.revoked_at = Some(now);
        }
        state.record(events);
        Ok(true)
    }

    async fn revoke_all(&self, user: UserId, except: Option<SessionId>, now: DateTime<Utc>) -> Result<u64, PortError> {
        let mut state = self.lock();
        let mut count = 0;
        for row in state.sessions.values_mut() {
            if row.session.user_id == user && row.revoked_at.is_none() && Some(row.session.id) != except {
                row.revoked_at = Some(now);
                count += 1;
            }
        }
        Ok(count)
    }
}
