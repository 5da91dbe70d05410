use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_ports::{PortError, SigningKeyRecord, SigningKeyRepository};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use crate::entity::signing_keys::{ActiveModel, Column, Entity, Model};
use crate::error::port_error;
use crate::lock::{become_writer, for_update};

/// Signing keys on PostgreSQL or SQLite. Writes that change which key is active are serialised
/// (an advisory lock on PostgreSQL, the write lock on SQLite), and the unique partial index
/// `ux_signing_keys_one_active` backs the one-active-key rule up.
#[derive(Clone)]
pub struct SqlSigningKeyRepository {
    db: DatabasePools,
}

impl SqlSigningKeyRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

/// An arbitrary key reserved for signing-key changes (the migrations use 7265047700).
const KEYS_LOCK: i64 = 7_265_047_701;

/// Makes `txn` the only one changing signing keys until it ends.
async fn serialise(txn: &DatabaseTransaction) -> Result<(), PortError> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({KEYS_LOCK})")).await.map_err(port_error)?;
    } else {
        become_writer(txn).await.map_err(port_error)?;
    }
    Ok(())
}

fn to_record(row: Model) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: row.kid,
        algorithm: row.algorithm,
        public_key: row.public_key,
        sealed_private_key: row.sealed_private_key,
        created_at: row.created_at,
        rotated_at: row.rotated_at,
        retired_at: row.retired_at,
    }
}

fn active_row(key: &SigningKeyRecord) -> ActiveModel {
    ActiveModel {
        kid: Set(key.kid.clone()),
        algorithm: Set(key.algorithm.clone()),
        public_key: Set(key.public_key.clone()),
        sealed_private_key: Set(key.sealed_private_key.clone()),
        active: Set(true),
        created_at: Set(key.created_at),
        rotated_at: Set(None),
        retired_at: Set(None),
    }
}

#[async_trait]
impl SigningKeyRepository for SqlSigningKeyRepository {
    async fn create_first(&self, key: &SigningKeyRecord) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        serialise(&txn).await?;
        let active = Entity::find().filter(Column::Active.eq(true)).one(&txn).await.map_err(port_error)?;
        if active.is_some() {
            return Ok(false);
        }
        Entity::insert(active_row(key)).exec_without_returning(&txn).await.map_err(port_error)?;
        txn.commit().await.map_err(port_error)?;
        Ok(true)
    }

    async fn rotate(&self, key: &SigningKeyRecord, now: DateTime<Utc>) -> Result<(), PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        serialise(&txn).await?;
        Entity::update_many()
            .col_expr(Column::Active, Expr::value(false))
            .col_expr(Column::RotatedAt, Expr::value(now))
            .filter(Column::Active.eq(true))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        Entity::insert(active_row(key)).exec_without_returning(&txn).await.map_err(port_error)?;
        txn.commit().await.map_err(port_error)
    }

    async fn live(&self) -> Result<Vec<SigningKeyRecord>, PortError> {
        let rows = Entity::find()
            .filter(Column::RetiredAt.is_null())
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Kid)
            .all(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(rows.into_iter().map(to_record).collect())
    }

    async fn list(&self) -> Result<Vec<SigningKeyRecord>, PortError> {
        let rows = Entity::find()
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Kid)
            .all(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(rows.into_iter().map(to_record).collect())
    }

    async fn retire(&self, rotated_before: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<String>, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        become_writer(&txn).await.map_err(port_error)?;
        let due = for_update(
            &txn,
            Entity::find()
                .filter(Column::Active.eq(false))
                .filter(Column::RetiredAt.is_null())
                .filter(Column::RotatedAt.lte(rotated_before)),
        )
        .all(&txn)
        .await
        .map_err(port_error)?;
        let kids: Vec<String> = due.into_iter().map(|row| row.kid).collect();
        if !kids.is_empty() {
            Entity::update_many()
                .col_expr(Column::RetiredAt, Expr::value(now))
                .filter(Column::Kid.is_in(kids.clone()))
                .filter(Column::RetiredAt.is_null())
                .exec(&txn)
                .await
                .map_err(port_error)?;
        }
        txn.commit().await.map_err(port_error)?;
        Ok(kids)
    }
}
