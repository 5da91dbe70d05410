use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::policy::{ensure_an_admin_remains, is_active_admin};
use hexgate_domain::{
    Email, FullName, PasswordHash, PermissionSet, Slice, User, UserFilter, UserId, UserSort, UserSortKey, UserUpdate,
    Username, Window,
};
use hexgate_ports::{AuditEvent, AuditStamp, PortError, UserRepository};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::entity::users::{ActiveModel, Column, Entity, Model};
use crate::error::port_error;
use crate::keyset::{Sorted, read_window};
use crate::lock::{become_writer, for_update};

#[derive(Clone)]
pub struct SqlUserRepository {
    db: DatabasePools,
}

impl SqlUserRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

pub(crate) fn to_domain(m: Model) -> Result<User, PortError> {
    // Stored rows were valid when written; a row that no longer parses is a data problem, reported
    // as such rather than served.
    let corrupt = |what: &str| PortError::Internal(format!("user {} has an invalid {what}", m.id));
    Ok(User {
        id: UserId::from_uuid(m.id),
        email: Email::parse(&m.email).map_err(|_| corrupt("email"))?,
        username: Username::parse(&m.username).map_err(|_| corrupt("username"))?,
        full_name: FullName::parse(&m.full_name).map_err(|_| corrupt("full_name"))?,
        is_active: m.is_active,
        is_verified: m.is_verified,
        permissions: PermissionSet::from_bits(u32::try_from(m.permissions).unwrap_or(0)),
        password_hash: PasswordHash::from_phc(m.password_hash),
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_active(user: &User) -> ActiveModel {
    ActiveModel {
        id: Set(user.id.as_uuid()),
        email: Set(user.email.as_str().to_owned()),
        username: Set(user.username.as_str().to_owned()),
        full_name: Set(user.full_name.as_str().to_owned()),
        password_hash: Set(user.password_hash.as_phc().to_owned()),
        is_active: Set(user.is_active),
        is_verified: Set(user.is_verified),
        permissions: Set(i32::try_from(user.permissions.bits()).unwrap_or(0)),
        created_at: Set(user.created_at),
        updated_at: Set(user.updated_at),
    }
}

/// `LIKE` pattern for a substring, with the wildcards in user input escaped.
pub(crate) fn contains_pattern(q: &str) -> LikeExpr {
    let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// Locks the active admins (PostgreSQL, in id order so two such transactions cannot deadlock)
/// and counts them.
async fn lock_active_admins(txn: &DatabaseTransaction) -> Result<u64, PortError> {
    let admins = for_update(
        txn,
        Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::IsActive.eq(true))
            .filter(Expr::cust("(permissions & 1) = 1"))
            .order_by_asc(Column::Id),
    )
    .into_tuple::<uuid::Uuid>()
    .all(txn)
    .await
    .map_err(port_error)?;
    Ok(admins.len() as u64)
}

/// Starts a transaction that may need the last-admin rule: serialised against every other such
/// transaction, with the target row loaded.
async fn begin_guarded(db: &DatabaseConnection, id: UserId) -> Result<(DatabaseTransaction, User, u64), PortError> {
    let txn = db.begin().await.map_err(port_error)?;
    become_writer(&txn).await.map_err(port_error)?;
    let admins = lock_active_admins(&txn).await?;
    let model = for_update(&txn, Entity::find_by_id(id.as_uuid()))
        .one(&txn)
        .await
        .map_err(port_error)?
        .ok_or(PortError::NotFound)?;
    Ok((txn, to_domain(model)?, admins))
}

#[async_trait]
impl UserRepository for SqlUserRepository {
    async fn insert_audited(
        &self,
        user: &User,
        jobs: &[hexgate_ports::NewJob],
        events: &[AuditEvent],
        now: DateTime<Utc>,
    ) -> Result<(), PortError> {
        if jobs.is_empty() && events.is_empty() {
            Entity::insert(to_active(user)).exec_without_returning(self.db.conn()).await.map_err(port_error)?;
            return Ok(());
        }
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        Entity::insert(to_active(user)).exec_without_returning(&txn).await.map_err(port_error)?;
        for job in jobs {
            crate::jobs::enqueue_in(&txn, job, now).await?;
        }
        crate::audit::record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)
    }

    async fn insert_many_audited(&self, users: &[User], events: &[AuditEvent]) -> Result<(), PortError> {
        if users.is_empty() {
            return Ok(());
        }
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        Entity::insert_many(users.iter().map(to_active)).exec_without_returning(&txn).await.map_err(port_error)?;
        crate::audit::record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)
    }

    async fn get(&self, id: UserId) -> Result<Option<User>, PortError> {
        Entity::find_by_id(id.as_uuid()).one(self.db.conn()).await.map_err(port_error)?.map(to_domain).transpose()
    }

    async fn find_by_login(&self, login: &str) -> Result<Option<User>, PortError> {
        let column = if login.contains('@') { Column::Email } else { Column::Username };
        Entity::find()
            .filter(column.eq(login))
            .one(self.db.conn())
            .await
            .map_err(port_error)?
            .map(to_domain)
            .transpose()
    }

    async fn list(&self, filter: &UserFilter, window: Window<UserSortKey>) -> Result<Slice<User>, PortError> {
        let mut condition = Condition::all();
        if let Some(q) = filter.normalised_q() {
            condition = condition.add(
                Condition::any()
                    .add(Expr::col(Column::Username).like(contains_pattern(&q)))
                    .add(Expr::col(Column::Email).like(contains_pattern(&q)))
                    .add(Expr::expr(Func::lower(Expr::col(Column::FullName))).like(contains_pattern(&q))),
            );
        }
        if let Some(active) = filter.is_active {
            condition = condition.add(Column::IsActive.eq(active));
        }
        // Username and e-mail are `COLLATE "C"` on PostgreSQL (migration 17) and `BINARY` on
        // SQLite: both byte order, as `UserSortKey` compares them.
        let column = match filter.sort {
            UserSort::CreatedAt | UserSort::CreatedAtDesc => Column::CreatedAt,
            UserSort::Username | UserSort::UsernameDesc => Column::Username,
            UserSort::Email | UserSort::EmailDesc => Column::Email,
        };
        let sorted = Sorted { column, id: Column::Id, descending: filter.sort.is_descending() };
        let slice = read_window(self.db.conn(), Entity::find().filter(condition), &sorted, window, |key| match key {
            UserSortKey::CreatedAt(at) => at.into(),
            UserSortKey::Username(text) | UserSortKey::Email(text) => text.into(),
        })
        .await?;
        Ok(Slice { items: slice.items.into_iter().map(to_domain).collect::<Result<_, _>>()?, total: slice.total })
    }

    async fn taken_emails(&self, emails: &[Email]) -> Result<Vec<Email>, PortError> {
        let wanted: Vec<&str> = emails.iter().map(Email::as_str).collect();
        let found: Vec<String> = Entity::find()
            .select_only()
            .column(Column::Email)
            .filter(Column::Email.is_in(wanted))
            .into_tuple()
            .all(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(emails.iter().filter(|e| found.iter().any(|f| f == e.as_str())).cloned().collect())
    }

    async fn taken_usernames(&self, usernames: &[Username]) -> Result<Vec<Username>, PortError> {
        let wanted: Vec<&str> = usernames.iter().map(Username::as_str).collect();
        let found: Vec<String> = Entity::find()
            .select_only()
            .column(Column::Username)
            .filter(Column::Username.is_in(wanted))
            .into_tuple()
            .all(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(usernames.iter().filter(|u| found.iter().any(|f| f == u.as_str())).cloned().collect())
    }

    async fn update_audited(
        &self,
        id: UserId,
        update: &UserUpdate,
        now: DateTime<Utc>,
        stamp: Option<&AuditStamp>,
    ) -> Result<User, PortError> {
        let touches_admin_status = update.is_active.is_some() || update.permissions.is_some();
        let (txn, before) = if touches_admin_status {
            let (txn, before, admins) = begin_guarded(self.db.conn(), id).await?;
            let after = update.apply(&before, now);
            ensure_an_admin_remains(&before, Some(&after), admins)?;
            (txn, before)
        } else {
            let txn = self.db.conn().begin().await.map_err(port_error)?;
            become_writer(&txn).await.map_err(port_error)?;
            let model =
                Entity::find_by_id(id.as_uuid()).one(&txn).await.map_err(port_error)?.ok_or(PortError::NotFound)?;
            (txn, to_domain(model)?)
        };
        let after = update.apply(&before, now);
        let mut active = to_active(&after).into_active_model();
        active.id = sea_orm::Unchanged(after.id.as_uuid());
        active.created_at = sea_orm::Unchanged(after.created_at);
        active.update(&txn).await.map_err(port_error)?;
        if let Some(stamp) = stamp {
            crate::audit::record_in(&txn, &stamp.user_change_events(&before, &after)).await?;
        }
        txn.commit().await.map_err(port_error)?;
        Ok(after)
    }

    async fn delete_audited(&self, id: UserId, events: &[AuditEvent]) -> Result<(), PortError> {
        let (txn, before, admins) = begin_guarded(self.db.conn(), id).await?;
        if is_active_admin(&before) {
            ensure_an_admin_remains(&before, None, admins)?;
        }
        // Sessions and refresh tokens go by ON DELETE CASCADE.
        Entity::delete_by_id(id.as_uuid()).exec(&txn).await.map_err(port_error)?;
        crate::audit::record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)
    }
}
