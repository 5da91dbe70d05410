//! API keys, found by the SHA-256 of their secret through a unique index, joined to their owner:
//! one indexed read per request, with no cache that could outlive a revocation.

use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hexgate_domain::api_key::{ApiKey, ApiKeyId, ApiKeyName, ScopeSet};
use hexgate_domain::{User, UserId};
use hexgate_ports::{ApiKeyRepository, AuditEvent, PortError, TokenHash};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait};

use crate::audit::record_in;
use crate::entity::api_keys::{ActiveModel, Column, Entity, Model};
use crate::entity::users;
use crate::error::port_error;

#[derive(Clone)]
pub struct SqlApiKeyRepository {
    db: DatabasePools,
}

impl SqlApiKeyRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

fn to_domain(m: Model) -> Result<ApiKey, PortError> {
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(m.id),
        user_id: UserId::from_uuid(m.user_id),
        name: ApiKeyName::parse(&m.name)
            .map_err(|_| PortError::Internal(format!("API key {} has an invalid name", m.id)))?,
        scopes: ScopeSet::from_text(&m.scopes),
        prefix: m.prefix,
        created_at: m.created_at,
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
    })
}

#[async_trait]
impl ApiKeyRepository for SqlApiKeyRepository {
    async fn create(&self, key: &ApiKey, hash: &TokenHash, events: &[AuditEvent]) -> Result<(), PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        Entity::insert(ActiveModel {
            id: Set(key.id.as_uuid()),
            user_id: Set(key.user_id.as_uuid()),
            name: Set(key.name.as_str().to_owned()),
            scopes: Set(key.scopes.to_text()),
            prefix: Set(key.prefix.clone()),
            key_hash: Set(hash.0.clone()),
            created_at: Set(key.created_at),
            expires_at: Set(key.expires_at),
            last_used_at: Set(key.last_used_at),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(port_error)?;
        record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)
    }

    async fn list(&self, user: UserId) -> Result<Vec<ApiKey>, PortError> {
        Entity::find()
            .filter(Column::UserId.eq(user.as_uuid()))
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .all(self.db.conn())
            .await
            .map_err(port_error)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn delete(&self, user: UserId, id: ApiKeyId, events: &[AuditEvent]) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let done = Entity::delete_many()
            .filter(Column::Id.eq(id.as_uuid()))
            .filter(Column::UserId.eq(user.as_uuid()))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        if done.rows_affected == 0 {
            txn.rollback().await.map_err(port_error)?;
            return Ok(false);
        }
        record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)?;
        Ok(true)
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<(ApiKey, User)>, PortError> {
        let found = Entity::find()
            .filter(Column::KeyHash.eq(hash.0.as_str()))
            .find_also_related(users::Entity)
            .one(self.db.conn())
            .await
            .map_err(port_error)?;
        match found {
            Some((key, Some(user))) => Ok(Some((to_domain(key)?, crate::users::to_domain(user)?))),
            _ => Ok(None),
        }
    }

    async fn touch(&self, id: ApiKeyId, now: DateTime<Utc>, interval: Duration) -> Result<bool, PortError> {
        let done = Entity::update_many()
            .col_expr(Column::LastUsedAt, Expr::value(now))
            .filter(Column::Id.eq(id.as_uuid()))
            .filter(Condition::any().add(Column::LastUsedAt.is_null()).add(Column::LastUsedAt.lte(now - interval)))
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(done.rows_affected > 0)
    }
}
