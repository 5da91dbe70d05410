//! Passkeys and WebAuthn ceremonies in flight, in SQL. A credential id is unique across accounts
//! (a unique index); a ceremony is taken by a `DELETE` that must remove its row, so it finishes
//! once, on whichever instance; a login moves the sign count by a write conditional on the count
//! it verified against.

use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_domain::passkey::{CeremonyKind, Passkey, PasskeyId, PasskeyName};
use hexgate_ports::{AuditEvent, PasskeyRepository, PortError, StoredPasskey};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr, TransactionTrait};
use uuid::Uuid;

use crate::audit::record_in;
use crate::entity::{passkeys, webauthn_challenges};
use crate::error::port_error;

#[derive(Clone)]
pub struct SqlPasskeyRepository {
    db: DatabasePools,
}

impl SqlPasskeyRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

fn to_stored(m: passkeys::Model) -> Result<StoredPasskey, PortError> {
    let name = PasskeyName::parse(&m.name)
        .map_err(|_| PortError::Internal(format!("passkey {} has an invalid name", m.id)))?;
    Ok(StoredPasskey {
        passkey: Passkey {
            id: PasskeyId::from_uuid(m.id),
            user_id: UserId::from_uuid(m.user_id),
            name,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
        },
        credential_id: m.credential_id,
        credential: m.credential,
        sign_count: u32::try_from(m.sign_count).unwrap_or(0),
    })
}

#[async_trait]
impl PasskeyRepository for SqlPasskeyRepository {
    async fn create(&self, stored: &StoredPasskey, events: &[AuditEvent]) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let p = &stored.passkey;
        let inserted = passkeys::Entity::insert(passkeys::ActiveModel {
            id: Set(p.id.as_uuid()),
            user_id: Set(p.user_id.as_uuid()),
            name: Set(p.name.as_str().to_owned()),
            credential_id: Set(stored.credential_id.clone()),
            credential: Set(stored.credential.clone()),
            sign_count: Set(i64::from(stored.sign_count)),
            created_at: Set(p.created_at),
            last_used_at: Set(p.last_used_at),
        })
        .exec_without_returning(&txn)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                txn.rollback().await.map_err(port_error)?;
                return Ok(false);
            }
            Err(e) => return Err(port_error(e)),
        }
        record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)?;
        Ok(true)
    }

    async fn list(&self, user: UserId) -> Result<Vec<StoredPasskey>, PortError> {
        passkeys::Entity::find()
            .filter(passkeys::Column::UserId.eq(user.as_uuid()))
            .order_by_asc(passkeys::Column::CreatedAt)
            .order_by_asc(passkeys::Column::Id)
            .all(self.db.conn())
            .await
            .map_err(port_error)?
            .into_iter()
            .map(to_stored)
            .collect()
    }

    async fn count(&self, user: UserId) -> Result<u64, PortError> {
        passkeys::Entity::find()
            .filter(passkeys::Column::UserId.eq(user.as_uuid()))
            .count(self.db.conn())
            .await
            .map_err(port_error)
    }

    async fn find_by_credential_id(&self, credential_id: &str) -> Result<Option<StoredPasskey>, PortError> {
        passkeys::Entity::find()
            .filter(passkeys::Column::CredentialId.eq(credential_id))
            .one(self.db.conn())
            .await
            .map_err(port_error)?
            .map(to_stored)
            .transpose()
    }

    async fn record_use(
        &self,
        id: PasskeyId,
        seen: u32,
        credential: &str,
        sign_count: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let done = passkeys::Entity::update_many()
            .col_expr(passkeys::Column::Credential, Expr::value(credential.to_owned()))
            .col_expr(passkeys::Column::SignCount, Expr::value(i64::from(sign_count)))
            .col_expr(passkeys::Column::LastUsedAt, Expr::value(now))
            .filter(passkeys::Column::Id.eq(id.as_uuid()))
            .filter(passkeys::Column::SignCount.eq(i64::from(seen)))
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(done.rows_affected == 1)
    }

    async fn delete(&self, user: UserId, id: PasskeyId, events: &[AuditEvent]) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let done = passkeys::Entity::delete_many()
            .filter(passkeys::Column::Id.eq(id.as_uuid()))
            .filter(passkeys::Column::UserId.eq(user.as_uuid()))
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

    async fn put_ceremony(
        &self,
        id: Uuid,
        kind: CeremonyKind,
        user: Option<UserId>,
        state: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        webauthn_challenges::Entity::delete_many()
            .filter(webauthn_challenges::Column::ExpiresAt.lte(now))
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        webauthn_challenges::Entity::insert(webauthn_challenges::ActiveModel {
            id: Set(id),
            user_id: Set(user.map(UserId::as_uuid)),
            kind: Set(kind.as_str().to_owned()),
            state: Set(state.to_owned()),
            expires_at: Set(expires_at),
        })
        .exec_without_returning(self.db.conn())
        .await
        .map_err(port_error)?;
        Ok(())
    }

    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: CeremonyKind,
        now: DateTime<Utc>,
    ) -> Result<Option<(Option<UserId>, String)>, PortError> {
        let Some(row) = webauthn_challenges::Entity::find_by_id(id)
            .filter(webauthn_challenges::Column::Kind.eq(kind.as_str()))
            .one(self.db.conn())
            .await
            .map_err(port_error)?
        else {
            return Ok(None);
        };
        let taken = webauthn_challenges::Entity::delete_many()
            .filter(webauthn_challenges::Column::Id.eq(id))
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        if taken.rows_affected != 1 || row.expires_at <= now {
            return Ok(None);
        }
        Ok(Some((row.user_id.map(UserId::from_uuid), row.state)))
    }
}
