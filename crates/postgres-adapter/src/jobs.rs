use crate::DatabasePools;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::job::JobStatus;
use hexgate_ports::{AuditEvent, ClaimedJob, JobId, JobQueue, JobRecord, NewJob, PortError};
use sea_orm::sea_query::{Condition, Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::jobs::{ActiveModel, Column, Entity};
use crate::error::port_error;
use crate::lock::become_writer;

/// Jobs in the database. A job caused by a change is written with [`enqueue_in`] inside that
/// change's transaction, so it exists exactly when the change does.
#[derive(Clone)]
pub struct SqlJobQueue {
    db: DatabasePools,
}

impl SqlJobQueue {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

/// Writes `job` with whatever connection or transaction the caller is in.
///
/// # Errors
/// [`PortError`] from the store.
pub async fn enqueue_in(conn: &impl ConnectionTrait, job: &NewJob, now: DateTime<Utc>) -> Result<JobId, PortError> {
    let id = Uuid::now_v7();
    Entity::insert(ActiveModel {
        id: Set(id),
        kind: Set(job.kind.clone()),
        payload: Set(job.payload.clone()),
        status: Set(JobStatus::Queued.as_str().to_owned()),
        attempts: Set(0),
        max_attempts: Set(i32::try_from(job.max_attempts).unwrap_or(i32::MAX)),
        run_at: Set(now),
        locked_until: Set(None),
        locked_by: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
        traceparent: Set(crate::trace::current_traceparent()),
    })
    .exec_without_returning(conn)
    .await
    .map_err(port_error)?;
    Ok(JobId(id))
}

/// Queued and due, or running with an expired lease.
fn due(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(Condition::all().add(Column::Status.eq(JobStatus::Queued.as_str())).add(Column::RunAt.lte(now)))
        .add(Condition::all().add(Column::Status.eq(JobStatus::Running.as_str())).add(Column::LockedUntil.lt(now)))
}

fn held_by(id: JobId, worker: &str) -> Condition {
    Condition::all()
        .add(Column::Id.eq(id.0))
        .add(Column::Status.eq(JobStatus::Running.as_str()))
        .add(Column::LockedBy.eq(worker))
}

#[async_trait]
impl JobQueue for SqlJobQueue {
    async fn enqueue_audited(
        &self,
        job: &NewJob,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<JobId, PortError> {
        if events.is_empty() {
            return enqueue_in(self.db.conn(), job, now).await;
        }
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let id = enqueue_in(&txn, job, now).await?;
        crate::audit::record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)?;
        Ok(id)
    }

    async fn claim(&self, worker: &str, now: DateTime<Utc>, lease: Duration) -> Result<Option<ClaimedJob>, PortError> {
        let lease_until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
        // Idle workers poll often: look first without taking any lock, so an empty queue costs a
        // read, never a write.
        if Entity::find().filter(due(now)).one(self.db.conn()).await.map_err(port_error)?.is_none() {
            return Ok(None);
        }
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        become_writer(&txn).await.map_err(port_error)?;
        let mut select = Entity::find().filter(due(now)).order_by_asc(Column::RunAt).order_by_asc(Column::Id).limit(1);
        if txn.get_database_backend() == DbBackend::Postgres {
            // Workers on every instance skip each other's rows instead of queueing behind them.
            select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let Some(job) = select.one(&txn).await.map_err(port_error)? else {
            txn.commit().await.map_err(port_error)?;
            return Ok(None);
        };
        let attempt = job.attempts + 1;
        Entity::update_many()
            .col_expr(Column::Status, Expr::value(JobStatus::Running.as_str()))
            .col_expr(Column::Attempts, Expr::value(attempt))
            .col_expr(Column::LockedUntil, Expr::value(lease_until))
            .col_expr(Column::LockedBy, Expr::value(worker))
            .filter(Column::Id.eq(job.id))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        txn.commit().await.map_err(port_error)?;
        Ok(Some(ClaimedJob {
            id: JobId(job.id),
            kind: job.kind,
            payload: job.payload,
            attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
            max_attempts: u32::try_from(job.max_attempts).unwrap_or(1),
            lease_until,
            traceparent: job.traceparent,
        }))
    }

    async fn complete(&self, id: JobId, worker: &str, now: DateTime<Utc>) -> Result<bool, PortError> {
        let result = Entity::update_many()
            .col_expr(Column::Status, Expr::value(JobStatus::Done.as_str()))
            .col_expr(Column::FinishedAt, Expr::value(now))
            .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(held_by(id, worker))
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<bool, PortError> {
        let error: String = error.chars().take(2000).collect();
        let mut update = Entity::update_many()
            .col_expr(Column::LastError, Expr::value(error))
            .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(Column::LockedBy, Expr::value(Option::<String>::None));
        update = match retry_at {
            Some(at) => update
                .col_expr(Column::Status, Expr::value(JobStatus::Queued.as_str()))
                .col_expr(Column::RunAt, Expr::value(at)),
            None => update
                .col_expr(Column::Status, Expr::value(JobStatus::Failed.as_str()))
                .col_expr(Column::FinishedAt, Expr::value(now)),
        };
        let result = update.filter(held_by(id, worker)).exec(self.db.conn()).await.map_err(port_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn get(&self, id: JobId) -> Result<Option<JobRecord>, PortError> {
        let Some(m) = Entity::find_by_id(id.0).one(self.db.conn()).await.map_err(port_error)? else { return Ok(None) };
        Ok(Some(JobRecord {
            id: JobId(m.id),
            kind: m.kind,
            status: m.status.parse().map_err(|_| PortError::Internal(format!("job {} has an invalid status", m.id)))?,
            attempts: u32::try_from(m.attempts).unwrap_or(0),
            last_error: m.last_error,
            created_at: m.created_at,
            finished_at: m.finished_at,
        }))
    }
}
