use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::policy::{ensure_an_admin_remains, is_active_admin};
use hexgate_domain::{Email, Slice, User, UserFilter, UserId, UserSortKey, UserUpdate, Username, Window};
use hexgate_ports::{AuditEvent, AuditStamp, Conflict, NewJob, PortError, UserRepository};

use super::window::cut;
use super::{InMemoryStore, State};

impl State {
    /// The unique index `candidate` would break, as the SQL adapter names it.
    fn conflict(&self, candidate: &User) -> Option<Conflict> {
        let others = || self.users.values().filter(|u| u.id != candidate.id);
        if others().any(|u| u.email == candidate.email) {
            Some(Conflict::EmailTaken)
        } else if others().any(|u| u.username == candidate.username) {
            Some(Conflict::UsernameTaken)
        } else {
            None
        }
    }

    fn insert_user(&mut self, user: &User) -> Result<(), PortError> {
        if let Some(conflict) = self.conflict(user) {
            return Err(PortError::Conflict(conflict));
        }
        if self.users.contains_key(&user.id) {
            return Err(PortError::Internal(format!("unique violation: users.id {}", user.id)));
        }
        self.users.insert(user.id, user.clone());
        Ok(())
    }

    fn active_admins(&self) -> u64 {
        self.users.values().filter(|u| is_active_admin(u)).count() as u64
    }
}

/// The SQL `LIKE` the adapter runs: username, e-mail or lowercased full name contains `q`.
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
    async fn insert_audited(
        &self,
        user: &User,
        jobs: &[NewJob],
        events: &[AuditEvent],
        now: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let mut state = self.lock();
        state.insert_user(user)?;
        for job in jobs {
            state.enqueue(job, now);
        }
        state.record(events);
        Ok(())
    }

    async fn insert_many_audited(&self, users: &[User], events: &[AuditEvent]) -> Result<(), PortError> {
        let mut state = self.lock();
        for (i, user) in users.iter().enumerate() {
            if let Some(conflict) = state.conflict(user) {
                return Err(PortError::Conflict(conflict));
            }
            let earlier = &users[..i];
            if earlier.iter().any(|u| u.email == user.email) {
                return Err(PortError::Conflict(Conflict::EmailTaken));
            }
            if earlier.iter().any(|u| u.username == user.username) {
                return Err(PortError::Conflict(Conflict::UsernameTaken));
            }
        }
        for user in users {
            state.users.insert(user.id, user.clone());
        }
        state.record(events);
        Ok(())
    }

    async fn get(&self, id: UserId) -> Result<Option<User>, PortError> {
        Ok(self.lock().users.get(&id).cloned())
    }

    async fn find_by_login(&self, login: &str) -> Result<Option<User>, PortError> {
        let by_email = login.contains('@');
        Ok(self
            .lock()
            .users
            .values()
            .find(|u| if by_email { u.email.as_str() == login } else { u.username.as_str() == login })
            .cloned())
    }

    async fn list(&self, filter: &UserFilter, window: Window<UserSortKey>) -> Result<Slice<User>, PortError> {
        let q = filter.normalised_q();
        let users: Vec<User> =
            self.lock().users.values().filter(|u| matches(u, filter, q.as_deref())).cloned().collect();
        // `UserSortKey` orders text by its bytes, as the SQL adapter's collations do.
        Ok(cut(users, window, filter.sort.is_descending(), |u| (filter.sort.key_of(u), u.id.as_uuid())))
    }

    async fn taken_emails(&self, emails: &[Email]) -> Result<Vec<Email>, PortError> {
        let state = self.lock();
        Ok(emails.iter().filter(|e| state.users.values().any(|u| &u.email == *e)).cloned().collect())
    }

    async fn taken_usernames(&self, usernames: &[Username]) -> Result<Vec<Username>, PortError> {
        let state = self.lock();
        Ok(usernames.iter().filter(|n| state.users.values().any(|u| &u.username == *n)).cloned().collect())
    }

    async fn update_audited(
        &self,
        id: UserId,
        update: &UserUpdate,
        now: DateTime<Utc>,
        stamp: Option<&AuditStamp>,
    ) -> Result<User, PortError> {
        let mut state = self.lock();
        let before = state.users.get(&id).cloned().ok_or(PortError::NotFound)?;
        let after = update.apply(&before, now);
        ensure_an_admin_remains(&before, Some(&after), state.active_admins())?;
        if let Some(conflict) = state.conflict(&after) {
            return Err(PortError::Conflict(conflict));
        }
        state.users.insert(id, after.clone());
        if let Some(stamp) = stamp {
            state.record(&stamp.user_change_events(&before, &after));
        }
        Ok(after)
    }

    async fn delete_audited(&self, id: UserId, events: &[AuditEvent]) -> Result<(), PortError> {
        let mut state = self.lock();
        let before = state.users.get(&id).cloned().ok_or(PortError::NotFound)?;
        ensure_an_admin_remains(&before, None, state.active_admins())?;
        state.users.remove(&id);
        state.cascade_user(id);
        state.record(events);
        Ok(())
    }
}
