use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hexgate_domain::session::{PresentedRefreshToken, RefreshVerdict, Session, judge_refresh};
use hexgate_domain::{SessionId, User, UserId};
use hexgate_ports::{AuditEvent, PortError, RefreshOutcome, SessionRepository, TokenHash};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::{refresh_tokens, sessions, users};
use crate::error::port_error;
use crate::lock::{become_writer, for_update};
use crate::users::to_domain;

#[derive(Clone)]
pub struct SqlSessionRepository {
    db: DatabasePools,
}

impl SqlSessionRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

fn new_token(
    session: Uuid,
    parent: Option<Uuid>,
    hash: &TokenHash,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> refresh_tokens::ActiveModel {
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session),
        parent_id: Set(parent),
        token_hash: Set(hash.0.clone()),
        issued_at: Set(now),
        expires_at: Set(expires),
        spent_at: Set(None),
    }
}

fn to_session(m: sessions::Model) -> Session {
    Session {
        id: SessionId::from_uuid(m.id),
        user_id: UserId::from_uuid(m.user_id),
        created_at: m.created_at,
        last_used_at: m.last_used_at,
        expires_at: m.expires_at,
        user_agent: m.user_agent,
        ip: m.ip,
    }
}

async fn apply_verdict(
    txn: &DatabaseTransaction,
    token: &refresh_tokens::Model,
    session: &sessions::Model,
    verdict: RefreshVerdict,
    successor: &TokenHash,
    now: DateTime<Utc>,
    successor_expires_at: DateTime<Utc>,
) -> Result<RefreshOutcome, PortError> {
    let ids = (UserId::from_uuid(session.user_id), SessionId::from_uuid(session.id));
    match verdict {
        RefreshVerdict::Rotate | RefreshVerdict::ReissueWithinGrace => {
            if verdict == RefreshVerdict::Rotate {
                refresh_tokens::Entity::update_many()
                    .col_expr(refresh_tokens::Column::SpentAt, Expr::value(now))
                    .filter(refresh_tokens::Column::Id.eq(token.id))
                    .exec(txn)
                    .await
                    .map_err(port_error)?;
            }
            refresh_tokens::Entity::insert(new_token(session.id, Some(token.id), successor, now, successor_expires_at))
                .exec_without_returning(txn)
                .await
                .map_err(port_error)?;
            sessions::Entity::update_many()
                .col_expr(sessions::Column::LastUsedAt, Expr::value(now))
                .col_expr(sessions::Column::ExpiresAt, Expr::value(successor_expires_at))
                .filter(sessions::Column::Id.eq(session.id))
                .exec(txn)
                .await
                .map_err(port_error)?;
            Ok(RefreshOutcome::Issued { user_id: ids.0, session_id: ids.1 })
        }
        RefreshVerdict::ReuseDetected => {
            sessions::Entity::update_many()
                .col_expr(sessions::Column::RevokedAt, Expr::value(now))
                .filter(sessions::Column::Id.eq(session.id))
                .exec(txn)
                .await
                .map_err(port_error)?;
            Ok(RefreshOutcome::ReuseDetected { user_id: ids.0, session_id: ids.1 })
        }
        RefreshVerdict::Dead => Ok(RefreshOutcome::Invalid),
    }
}

#[async_trait]
impl SessionRepository for SqlSessionRepository {
    async fn create_audited(
        &self,
        session: &Session,
        first_token: &TokenHash,
        events: &[AuditEvent],
    ) -> Result<(), PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        sessions::Entity::insert(sessions::ActiveModel {
            id: Set(session.id.as_uuid()),
            user_id: Set(session.user_id.as_uuid()),
            created_at: Set(session.created_at),
            last_used_at: Set(session.last_used_at),
            expires_at: Set(session.expires_at),
            revoked_at: Set(None),
            user_agent: Set(session.user_agent.clone()),
            ip: Set(session.ip.clone()),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(port_error)?;
        refresh_tokens::Entity::insert(new_token(
            session.id.as_uuid(),
            None,
            first_token,
            session.created_at,
            session.expires_at,
        ))
        .exec_without_returning(&txn)
        .await
        .map_err(port_error)?;
        crate::audit::record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)
    }

    async fn refresh(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: DateTime<Utc>,
        grace: Duration,
        successor_expires_at: DateTime<Utc>,
    ) -> Result<RefreshOutcome, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        become_writer(&txn).await.map_err(port_error)?;
        // The row lock makes a concurrent refresh of the same token wait, then see it spent.
        let Some(token) = for_update(
            &txn,
            refresh_tokens::Entity::find().filter(refresh_tokens::Column::TokenHash.eq(presented.0.as_str())),
        )
        .one(&txn)
        .await
        .map_err(port_error)?
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        let session = sessions::Entity::find_by_id(token.session_id)
            .one(&txn)
            .await
            .map_err(port_error)?
            .ok_or_else(|| PortError::Internal("refresh token without a session".into()))?;
        let successor_used = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::ParentId.eq(token.id))
            .filter(refresh_tokens::Column::SpentAt.is_not_null())
            .count(&txn)
            .await
            .map_err(port_error)?
            > 0;
        let state = PresentedRefreshToken {
            expires_at: token.expires_at,
            spent_at: token.spent_at,
            successor_used,
            family_revoked: session.revoked_at.is_some(),
        };
        let verdict = judge_refresh(&state, now, grace);
        let outcome = apply_verdict(&txn, &token, &session, verdict, successor, now, successor_expires_at).await?;
        txn.commit().await.map_err(port_error)?;
        Ok(outcome)
    }

    async fn principal(&self, user: UserId, session: SessionId, now: DateTime<Utc>) -> Result<Option<User>, PortError> {
        let live_session = Query::select()
            .expr(Expr::val(1))
            .from(sessions::Entity)
            .and_where(Expr::col((sessions::Entity, sessions::Column::Id)).eq(session.as_uuid()))
            .and_where(Expr::col((sessions::Entity, sessions::Column::UserId)).eq(user.as_uuid()))
            .and_where(Expr::col((sessions::Entity, sessions::Column::RevokedAt)).is_null())
            .and_where(Expr::col((sessions::Entity, sessions::Column::ExpiresAt)).gt(now))
            .to_owned();
        users::Entity::find_by_id(user.as_uuid())
            .filter(Expr::exists(live_session))
            .one(self.db.conn())
            .await
            .map_err(port_error)?
            .map(to_domain)
            .transpose()
    }

    async fn list_live(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, PortError> {
        let rows = sessions::Entity::find()
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .filter(sessions::Column::RevokedAt.is_null())
            .filter(sessions::Column::ExpiresAt.gt(now))
            .order_by_desc(sessions::Column::CreatedAt)
            .all(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(rows.into_iter().map(to_session).collect())
    }

    async fn find_by_token(&self, user: UserId, token: &TokenHash) -> Result<Option<SessionId>, PortError> {
        let Some(token) = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(token.0.as_str()))
            .one(self.db.conn())
            .await
            .map_err(port_error)?
        else {
            return Ok(None);
        };
        let owned = sessions::Entity::find_by_id(token.session_id)
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .one(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(owned.map(|s| SessionId::from_uuid(s.id)))
    }

    async fn revoke_audited(
        &self,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(session.as_uuid()))
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .filter(sessions::Column::RevokedAt.is_null())
            .filter(sessions::Column::ExpiresAt.gt(now))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        let revoked = result.rows_affected > 0;
        if revoked {
            crate::audit::record_in(&txn, events).await?;
        }
        txn.commit().await.map_err(port_error)?;
        Ok(revoked)
    }

    async fn revoke_all(&self, user: UserId, except: Option<SessionId>, now: DateTime<Utc>) -> Result<u64, PortError> {
        let mut update = sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, Expr::value(now))
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .filter(sessions::Column::RevokedAt.is_null());
        if let Some(keep) = except {
            update = update.filter(sessions::Column::Id.ne(keep.as_uuid()));
        }
        Ok(update.exec(self.db.conn()).await.map_err(port_error)?.rows_affected)
    }
}
