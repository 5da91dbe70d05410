use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::{Email, Slice, User, UserFilter, UserId, UserSortKey, UserUpdate, Username, Window};

use crate::{AuditEvent, AuditStamp, NewJob, PortError};

/// Where users are kept. Uniqueness of e-mail and username is the store's job (a unique index),
/// so concurrent sign-ups cannot both win.
///
/// # Errors
/// [`PortError::Conflict`] for a taken e-mail or username; [`PortError::NotFound`] for a missing
/// user where one is required; [`PortError::Rule`] with `LastAdmin` when a change would leave no
/// active admin (checked in the same transaction as the change); [`PortError::Unavailable`] when
/// the database cannot be reached.
#[async_trait]
pub trait UserRepository: Send + Sync {
    async fn insert(&self, user: &User) -> Result<(), PortError> {
        self.insert_audited(user, &[], &[], user.created_at).await
    }

    /// Inserts the user and queues `jobs` in the same transaction: the jobs exist exactly when
    /// the user does.
    async fn insert_with_jobs(&self, user: &User, jobs: &[NewJob], now: DateTime<Utc>) -> Result<(), PortError> {
        self.insert_audited(user, jobs, &[], now).await
    }

    /// Inserts the user, queues `jobs` and records `events`, all in one transaction.
    async fn insert_audited(
        &self,
        user: &User,
        jobs: &[NewJob],
        events: &[AuditEvent],
        now: DateTime<Utc>,
    ) -> Result<(), PortError>;

    /// Inserts all or none, in one transaction.
    async fn insert_many(&self, users: &[User]) -> Result<(), PortError> {
        self.insert_many_audited(users, &[]).await
    }

    /// Inserts all or none and records `events`, in one transaction.
    async fn insert_many_audited(&self, users: &[User], events: &[AuditEvent]) -> Result<(), PortError>;

    async fn get(&self, id: UserId) -> Result<Option<User>, PortError>;

    /// Finds by username or e-mail (already lowercased).
    async fn find_by_login(&self, login: &str) -> Result<Option<User>, PortError>;

    /// The users passing `filter` (`q`: [`UserFilter::normalised_q`] as a substring of the
    /// username, the e-mail or the lowercased full name, `%` and `_` literal), in `filter.sort`'s
    /// order with the id breaking ties in the same direction; [`UserSortKey`] says how values
    /// compare (text by its bytes). [`Window::After`] continues strictly after a position in that
    /// order, through an index on (sort column, id), and counts nothing.
    async fn list(&self, filter: &UserFilter, window: Window<UserSortKey>) -> Result<Slice<User>, PortError>;

    /// Which of `emails` are registered already.
    async fn taken_emails(&self, emails: &[Email]) -> Result<Vec<Email>, PortError>;

    /// Which of `usernames` are taken already.
    async fn taken_usernames(&self, usernames: &[Username]) -> Result<Vec<Username>, PortError>;

    /// Applies `update` and returns the user after it, enforcing the last-admin rule.
    async fn update(&self, id: UserId, update: &UserUpdate, now: DateTime<Utc>) -> Result<User, PortError> {
        self.update_audited(id, update, now, None).await
    }

    /// As [`Self::update`]; with a `stamp`, the events the change makes
    /// ([`AuditStamp::user_change_events`] of the row before and after) are written in its
    /// transaction.
    async fn update_audited(
        &self,
        id: UserId,
        update: &UserUpdate,
        now: DateTime<Utc>,
        stamp: Option<&AuditStamp>,
    ) -> Result<User, PortError>;

    /// Deletes the user and everything that belongs to them, enforcing the last-admin rule.
    async fn delete(&self, id: UserId) -> Result<(), PortError> {
        self.delete_audited(id, &[]).await
    }

    /// As [`Self::delete`], recording `events` in the same transaction.
    async fn delete_audited(&self, id: UserId, events: &[AuditEvent]) -> Result<(), PortError>;
}
