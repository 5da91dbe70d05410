//! Second factors in SQL: the TOTP row per user, recovery codes and `mfa_token`s. Every rule that
//! must hold under concurrency is one conditional write: a step is accepted only if later than
//! the last (`UPDATE … WHERE last_step < ?`), a code or token is spent by a `DELETE` that must
//! remove one row, an attempt is counted only while attempts remain.

use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_ports::{AuditEvent, MfaRepository, PortError, TokenHash, TotpState};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, Set, SqlErr,
    TransactionTrait,
};
use uuid::Uuid;

use crate::audit::record_in;
use crate::entity::{mfa_challenges, passkeys, recovery_codes, user_totp};
use crate::error::port_error;

#[derive(Clone)]
pub struct SqlMfaRepository {
    db: DatabasePools,
}

impl SqlMfaRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

async fn replace_codes(
    txn: &DatabaseTransaction,
    user: UserId,
    codes: &[TokenHash],
    now: DateTime<Utc>,
) -> Result<(), PortError> {
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user.as_uuid()))
        .exec(txn)
        .await
        .map_err(port_error)?;
    if codes.is_empty() {
        return Ok(());
    }
    recovery_codes::Entity::insert_many(codes.iter().map(|code| recovery_codes::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.as_uuid()),
        code_hash: Set(code.0.clone()),
        created_at: Set(now),
    }))
    .exec_without_returning(txn)
    .await
    .map_err(port_error)?;
    Ok(())
}

async fn finish(txn: DatabaseTransaction, done: bool, events: &[AuditEvent]) -> Result<bool, PortError> {
    if !done {
        txn.rollback().await.map_err(port_error)?;
        return Ok(false);
    }
    record_in(&txn, events).await?;
    txn.commit().await.map_err(port_error)?;
    Ok(true)
}

#[async_trait]
impl MfaRepository for SqlMfaRepository {
    async fn totp(&self, user: UserId) -> Result<Option<TotpState>, PortError> {
        let row = user_totp::Entity::find_by_id(user.as_uuid()).one(self.db.conn()).await.map_err(port_error)?;
        Ok(row.map(|m| TotpState { enabled: m.enabled, sealed_secret: m.sealed_secret, last_step: m.last_step }))
    }

    async fn recovery_codes_left(&self, user: UserId) -> Result<u64, PortError> {
        recovery_codes::Entity::find()
            .filter(recovery_codes::Column::UserId.eq(user.as_uuid()))
            .count(self.db.conn())
            .await
            .map_err(port_error)
    }

    async fn set_pending_totp(&self, user: UserId, sealed: &[u8], now: DateTime<Utc>) -> Result<bool, PortError> {
        let row = user_totp::ActiveModel {
            user_id: Set(user.as_uuid()),
            sealed_secret: Set(sealed.to_vec()),
            enabled: Set(false),
            last_step: Set(None),
            created_at: Set(now),
            enabled_at: Set(None),
        };
        // Replaces a pending secret, never one that is on: the update's condition leaves an
        // enabled row alone and reports no row written.
        let upsert = OnConflict::column(user_totp::Column::UserId)
            .update_columns([user_totp::Column::SealedSecret, user_totp::Column::CreatedAt])
            .action_and_where(Expr::col((user_totp::Entity, user_totp::Column::Enabled)).eq(false))
            .to_owned();
        match user_totp::Entity::insert(row).on_conflict(upsert).exec_without_returning(self.db.conn()).await {
            Ok(written) => Ok(written > 0),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => Err(PortError::NotFound),
            Err(e) => Err(port_error(e)),
        }
    }

    async fn enable_totp(
        &self,
        user: UserId,
        sealed: &[u8],
        step: i64,
        codes: &[TokenHash],
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let switched = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::Enabled, Expr::value(true))
            .col_expr(user_totp::Column::LastStep, Expr::value(step))
            .col_expr(user_totp::Column::EnabledAt, Expr::value(now))
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .filter(user_totp::Column::Enabled.eq(false))
            .filter(user_totp::Column::SealedSecret.eq(sealed.to_vec()))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        if switched.rows_affected == 1 {
            replace_codes(&txn, user, codes, now).await?;
        }
        finish(txn, switched.rows_affected == 1, events).await
    }

    async fn disable_totp(&self, user: UserId, events: &[AuditEvent]) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let removed = user_totp::Entity::delete_many()
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        recovery_codes::Entity::delete_many()
            .filter(recovery_codes::Column::UserId.eq(user.as_uuid()))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        if removed.rows_affected == 0 {
            // Nothing was on; stray codes (there should be none) are gone all the same.
            txn.commit().await.map_err(port_error)?;
            return Ok(false);
        }
        finish(txn, true, events).await
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[TokenHash],
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        // Touching the enabled row locks it (PostgreSQL) so a concurrent disable cannot leave
        // codes behind, and tells whether TOTP is on.
        let on = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::Enabled, Expr::value(true))
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .filter(user_totp::Column::Enabled.eq(true))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        if on.rows_affected == 1 {
            replace_codes(&txn, user, codes, now).await?;
        }
        finish(txn, on.rows_affected == 1, events).await
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> Result<bool, PortError> {
        let done = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::LastStep, Expr::value(step))
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .filter(user_totp::Column::Enabled.eq(true))
            .filter(
                Condition::any().add(user_totp::Column::LastStep.is_null()).add(user_totp::Column::LastStep.lt(step)),
            )
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(done.rows_affected == 1)
    }

    async fn spend_recovery_code(
        &self,
        user: UserId,
        code: &TokenHash,
        events: &[AuditEvent],
    ) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let spent = recovery_codes::Entity::delete_many()
            .filter(recovery_codes::Column::UserId.eq(user.as_uuid()))
            .filter(recovery_codes::Column::CodeHash.eq(code.0.as_str()))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        finish(txn, spent.rows_affected == 1, events).await
    }

    async fn create_challenge(
        &self,
        token: &TokenHash,
        user: UserId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        mfa_challenges::Entity::delete_many()
            .filter(mfa_challenges::Column::ExpiresAt.lte(now))
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        mfa_challenges::Entity::insert(mfa_challenges::ActiveModel {
            token_hash: Set(token.0.clone()),
            user_id: Set(user.as_uuid()),
            attempts: Set(0),
            created_at: Set(now),
            expires_at: Set(expires_at),
        })
        .exec_without_returning(self.db.conn())
        .await
        .map_err(port_error)?;
        Ok(())
    }

    async fn attempt_challenge(
        &self,
        token: &TokenHash,
        now: DateTime<Utc>,
        max_attempts: i32,
    ) -> Result<Option<UserId>, PortError> {
        let counted = mfa_challenges::Entity::update_many()
            .col_expr(mfa_challenges::Column::Attempts, Expr::col(mfa_challenges::Column::Attempts).add(1))
            .filter(mfa_challenges::Column::TokenHash.eq(token.0.as_str()))
            .filter(mfa_challenges::Column::Attempts.lt(max_attempts))
            .filter(mfa_challenges::Column::ExpiresAt.gt(now))
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        if counted.rows_affected != 1 {
            return Ok(None);
        }
        let row = mfa_challenges::Entity::find_by_id(token.0.clone()).one(self.db.conn()).await.map_err(port_error)?;
        Ok(row.map(|m| UserId::from_uuid(m.user_id)))
    }

    async fn spend_challenge(&self, token: &TokenHash) -> Result<bool, PortError> {
        let spent = mfa_challenges::Entity::delete_many()
            .filter(mfa_challenges::Column::TokenHash.eq(token.0.as_str()))
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(spent.rows_affected == 1)
    }

    async fn remove_every_factor(&self, user: UserId, events: &[AuditEvent]) -> Result<(), PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let id = user.as_uuid();
        user_totp::Entity::delete_many()
            .filter(user_totp::Column::UserId.eq(id))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        recovery_codes::Entity::delete_many()
            .filter(recovery_codes::Column::UserId.eq(id))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        passkeys::Entity::delete_many().filter(passkeys::Column::UserId.eq(id)).exec(&txn).await.map_err(port_error)?;
        mfa_challenges::Entity::delete_many()
            .filter(mfa_challenges::Column::UserId.eq(id))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        finish(txn, true, events).await.map(|_| ())
    }
}
