//! Users and sessions in memory: a fast, faithful stand-in for the SQL adapter in service tests,
//! and a reference for anyone writing a new storage adapter. One lock guards everything, which
//! makes every method atomic (the SQL adapter gets the same from transactions).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hexgate_domain::policy::{ensure_an_admin_remains, is_active_admin};
use hexgate_domain::session::{PresentedRefreshToken, RefreshVerdict, Session, judge_refresh};
use hexgate_domain::{Email, Page, PageRequest, SessionId, User, UserFilter, UserId, UserSort, UserUpdate, Username};
use hexgate_ports::{Conflict, PortError, RefreshOutcome, SessionRepository, TokenHash, UserRepository};
use uuid::Uuid;

struct TokenRow {
    id: Uuid,
    session: SessionId,
    parent: Option<Uuid>,
    expires_at: DateTime<Utc>,
    spent_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct State {
    users: HashMap<UserId, User>,
    sessions: HashMap<SessionId, (Session, Option<DateTime<Utc>>)>,
    tokens: HashMap<String, TokenRow>,
    jobs: Vec<hexgate_ports::NewJob>,
}

impl State {
    fn conflict(&self, candidate: &User) -> Option<Conflict> {
        self.users.values().filter(|u| u.id != candidate.id).find_map(|u| {
            if u.email == candidate.email {
                Some(Conflict::EmailTaken)
            } else if u.username == candidate.username {
                Some(Conflict::UsernameTaken)
            } else {
                None
            }
        })
    }

    fn active_admins(&self) -> u64 {
        self.users.values().filter(|u| is_active_admin(u)).count() as u64
    }

    fn live(&self, id: SessionId, now: DateTime<Utc>) -> Option<&Session> {
        self.sessions.get(&id).filter(|(s, revoked)| revoked.is_none() && s.expires_at > now).map(|(s, _)| s)
    }
}

#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

impl InMemoryStore {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The jobs queued with changes so far (this store keeps them; it does not run them).
    #[must_use]
    pub fn queued_jobs(&self) -> Vec<hexgate_ports::NewJob> {
        self.lock().jobs.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn matches(user: &User, filter: &UserFilter, q: Option<&str>) -> bool {
    filter.is_active.is_none_or(|active| user.is_active == active)
        && q.is_none_or(|q| {
            user.username.as_str().contains(q)
                || user.email.as_str().contains(q)
                || user.full_name.as_str().to_lowercase().contains(q)
        })
}

#[async_trait]
impl UserRepository for InMemoryStore {
    async fn insert(&self, user: &User) -> Result<(), PortError> {
        let mut state = self.lock();
        if let Some(conflict) = state.conflict(user) {
            return Err(PortError::Conflict(conflict));
        }
        state.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn insert_with_jobs(
        &self,
        user: &User,
        jobs: &[hexgate_ports::NewJob],
        _: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let mut state = self.lock();
        if let Some(conflict) = state.conflict(user) {
            return Err(PortError::Conflict(conflict));
        }
        state.users.insert(user.id, user.clone());
        state.jobs.extend_from_slice(jobs);
        Ok(())
    }

    async fn insert_many(&self, users: &[User]) -> Result<(), PortError> {
        let mut state = self.lock();
        for (i, user) in users.iter().enumerate() {
            let clash_inside = users[..i].iter().any(|u| u.email == user.email || u.username == user.username);
            if let Some(conflict) = state.conflict(user) {
                return Err(PortError::Conflict(conflict));
            }
            if clash_inside {
                return Err(PortError::Conflict(Conflict::EmailTaken));
            }
        }
        for user in users {
            state.users.insert(user.id, user.clone());
        }
        Ok(())
    }

    async fn get(&self, id: UserId) -> Result<Option<User>, PortError> {
        Ok(self.lock().users.get(&id).cloned())
    }

    async fn find_by_login(&self, login: &str) -> Result<Option<User>, PortError> {
        Ok(self.lock().users.values().find(|u| u.email.as_str() == login || u.username.as_str() == login).cloned())
    }

    async fn list(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, PortError> {
        let q = filter.normalised_q();
        let mut users: Vec<User> =
            self.lock().users.values().filter(|u| matches(u, filter, q.as_deref())).cloned().collect();
        users.sort_by(|a, b| {
            let order = match filter.sort {
                UserSort::CreatedAt | UserSort::CreatedAtDesc => a.created_at.cmp(&b.created_at),
                UserSort::Username | UserSort::UsernameDesc => a.username.cmp(&b.username),
                UserSort::Email | UserSort::EmailDesc => a.email.cmp(&b.email),
            }
            .then(a.id.cmp(&b.id));
            match filter.sort {
                UserSort::CreatedAtDesc | UserSort::UsernameDesc | UserSort::EmailDesc => order.reverse(),
                _ => order,
            }
        });
        let total = users.len() as u64;
        let items = users
            .into_iter()
            .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
            .take(usize::try_from(page.page_size()).unwrap_or(0))
            .collect();
        Ok(Page::new(items, total, page))
    }

    async fn taken_emails(&self, emails: &[Email]) -> Result<Vec<Email>, PortError> {
        let state = self.lock();
        Ok(emails.iter().filter(|e| state.users.values().any(|u| &u.email == *e)).cloned().collect())
    }

    async fn taken_usernames(&self, usernames: &[Username]) -> Result<Vec<Username>, PortError> {
        let state = self.lock();
        Ok(usernames.iter().filter(|n| state.users.values().any(|u| &u.username == *n)).cloned().collect())
    }

    async fn update(&self, id: UserId, update: &UserUpdate, now: DateTime<Utc>) -> Result<User, PortError> {
        let mut state = self.lock();
        let before = state.users.get(&id).cloned().ok_or(PortError::NotFound)?;
        let after = update.apply(&before, now);
        ensure_an_admin_remains(&before, Some(&after), state.active_admins())?;
        if let Some(conflict) = state.conflict(&after) {
            return Err(PortError::Conflict(conflict));
        }
        state.users.insert(id, after.clone());
        Ok(after)
    }

    async fn delete(&self, id: UserId) -> Result<(), PortError> {
        let mut state = self.lock();
        let before = state.users.get(&id).cloned().ok_or(PortError::NotFound)?;
        ensure_an_admin_remains(&before, None, state.active_admins())?;
        state.users.remove(&id);
        let gone: Vec<SessionId> =
            state.sessions.values().filter(|(s, _)| s.user_id == id).map(|(s, _)| s.id).collect();
        state.sessions.retain(|_, (s, _)| s.user_id != id);
        state.tokens.retain(|_, t| !gone.contains(&t.session));
        Ok(())
    }
}

#[async_trait]
impl SessionRepository for InMemoryStore {
    async fn create(&self, session: &Session, first_token: &TokenHash) -> Result<(), PortError> {
        let mut state = self.lock();
        state.sessions.insert(session.id, (session.clone(), None));
        state.tokens.insert(
            first_token.0.clone(),
            TokenRow {
                id: Uuid::now_v7(),
                session: session.id,
                parent: None,
                expires_at: session.expires_at,
                spent_at: None,
            },
        );
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
        let Some(token) = state.tokens.get(&presented.0) else { return Ok(RefreshOutcome::Invalid) };
        let (token_id, session_id) = (token.id, token.session);
        let Some((session, revoked)) = state.sessions.get(&session_id).cloned() else {
            return Ok(RefreshOutcome::Invalid);
        };
        let successor_used = state.tokens.values().any(|t| t.parent == Some(token_id) && t.spent_at.is_some());
        let verdict = judge_refresh(
            &PresentedRefreshToken {
                expires_at: token.expires_at,
                spent_at: token.spent_at,
                successor_used,
                family_revoked: revoked.is_some(),
            },
            now,
            grace,
        );
        let ids = (session.user_id, session.id);
        match verdict {
            RefreshVerdict::Rotate | RefreshVerdict::ReissueWithinGrace => {
                if let Some(t) = state.tokens.get_mut(&presented.0)
                    && t.spent_at.is_none()
                {
                    t.spent_at = Some(now);
                }
                state.tokens.insert(
                    successor.0.clone(),
                    TokenRow {
                        id: Uuid::now_v7(),
                        session: session_id,
                        parent: Some(token_id),
                        expires_at: successor_expires_at,
                        spent_at: None,
                    },
                );
                if let Some((s, _)) = state.sessions.get_mut(&session_id) {
                    s.last_used_at = now;
                    s.expires_at = successor_expires_at;
                }
                Ok(RefreshOutcome::Issued { user_id: ids.0, session_id: ids.1 })
            }
            RefreshVerdict::ReuseDetected => {
                if let Some((_, revoked)) = state.sessions.get_mut(&session_id) {
                    *revoked = Some(now);
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
            .tokens
            .get(&token.0)
            .and_then(|t| state.sessions.get(&t.session))
            .filter(|(s, _)| s.user_id == user)
            .map(|(s, _)| s.id))
    }

    async fn revoke(&self, user: UserId, session: SessionId, now: DateTime<Utc>) -> Result<bool, PortError> {
        let mut state = self.lock();
        if state.live(session, now).is_none_or(|s| s.user_id != user) {
            return Ok(false);
        }
        if let Some((_, revoked)) = state.sessions.get_mut(&session) {
            *revoked = Some(now);
        }
        Ok(true)
    }

    async fn revoke_all(&self, user: UserId, except: Option<SessionId>, now: DateTime<Utc>) -> Result<u64, PortError> {
        let mut state = self.lock();
        let mut count = 0;
        for (session, revoked) in state.sessions.values_mut() {
            if session.user_id == user && revoked.is_none() && Some(session.id) != except {
                *revoked = Some(now);
                count += 1;
            }
        }
        Ok(count)
    }
}
