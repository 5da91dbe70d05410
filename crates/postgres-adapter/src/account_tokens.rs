use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::audit::AuditEventType;
use hexgate_domain::{PasswordHash, User, UserId};
use hexgate_ports::{AccountTokenRepository, AuditStamp, PortError, TokenHash, TokenPurpose};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use crate::entity::account_tokens::{ActiveModel, Column, Entity, Model};
use crate::entity::{sessions, users};
use crate::error::port_error;
use crate::lock::{become_writer, for_update};

#[derive(Clone)]
pub struct SqlAccountTokenRepository {
    db: DatabasePools,
}

impl SqlAccountTokenRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

/// Finds a live (unused, unexpired) token of `purpose` and spends it, inside `txn`.
async fn spend(
    txn: &DatabaseTransaction,
    token: &TokenHash,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<Option<Model>, PortError> {
    let found = for_update(
        txn,
        Entity::find()
            .filter(Column::TokenHash.eq(token.0.as_str()))
            .filter(Column::Purpose.eq(purpose.as_str()))
            .filter(Column::UsedAt.is_null())
            .filter(Column::ExpiresAt.gt(now)),
    )
    .one(txn)
    .await
    .map_err(port_error)?;
    if let Some(row) = &found {
        Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(now))
            .filter(Column::Id.eq(row.id))
            .exec(txn)
            .await
            .map_err(port_error)?;
    }
    Ok(found)
}

async fn invalidate_in(
    txn: &impl sea_orm::ConnectionTrait,
    user: Uuid,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<(), PortError> {
    Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::UserId.eq(user))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::UsedAt.is_null())
        .exec(txn)
        .await
        .map_err(port_error)?;
    Ok(())
}

#[async_trait]
impl AccountTokenRepository for SqlAccountTokenRepository {
    async fn issue(
        &self,
        user: UserId,
        purpose: TokenPurpose,
        token: &TokenHash,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), PortError> {
        Entity::insert(ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.as_uuid()),
            purpose: Set(purpose.as_str().to_owned()),
            token_hash: Set(token.0.clone()),
            expires_at: Set(expires_at),
            used_at: Set(None),
            created_at: Set(now),
        })
        .exec_without_returning(self.db.conn())
        .await
        .map_err(port_error)?;
        Ok(())
    }

    async fn reset_password_audited(
        &self,
        token: &TokenHash,
        new_hash: &PasswordHash,
        now: DateTime<Utc>,
        stamp: Option<&AuditStamp>,
    ) -> Result<Option<UserId>, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        become_writer(&txn).await.map_err(port_error)?;
        let Some(row) = spend(&txn, token, TokenPurpose::PasswordReset, now).await? else {
            return Ok(None);
        };
        users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(new_hash.as_phc()))
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Id.eq(row.user_id))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        invalidate_in(&txn, row.user_id, TokenPurpose::PasswordReset, now).await?;
        sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, Expr::value(now))
            .filter(sessions::Column::UserId.eq(row.user_id))
            .filter(sessions::Column::RevokedAt.is_null())
            .exec(&txn)
            .await
            .map_err(port_error)?;
        let user = UserId::from_uuid(row.user_id);
        if let Some(stamp) = stamp {
            let event = stamp.event(AuditEventType::PasswordReset, Some(user), serde_json::json!({}));
            crate::audit::record_in(&txn, &[event]).await?;
        }
        txn.commit().await.map_err(port_error)?;
        Ok(Some(user))
    }

    async fn verify_email_audited(
        &self,
        token: &TokenHash,
        now: DateTime<Utc>,
        stamp: Option<&AuditStamp>,
    ) -> Result<Option<User>, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        become_writer(&txn).await.map_err(port_error)?;
        let Some(row) = spend(&txn, token, TokenPurpose::EmailVerification, now).await? else {
            return Ok(None);
        };
        users::Entity::update_many()
            .col_expr(users::Column::IsVerified, Expr::value(true))
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Id.eq(row.user_id))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        let user = users::Entity::find_by_id(row.user_id).one(&txn).await.map_err(port_error)?;
        if let Some(stamp) = stamp {
            let event =
                stamp.event(AuditEventType::EmailVerified, Some(UserId::from_uuid(row.user_id)), serde_json::json!({}));
            crate::audit::record_in(&txn, &[event]).await?;
        }
        txn.commit().await.map_err(port_error)?;
        user.map(crate::users::to_domain).transpose()
    }

    async fn invalidate(&self, user: UserId, purpose: TokenPurpose, now: DateTime<Utc>) -> Result<(), PortError> {
        invalidate_in(self.db.conn(), user.as_uuid(), purpose, now).await
    }
}
