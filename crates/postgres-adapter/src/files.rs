use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_domain::file::{FileFacts, FileId, FileStatus, OriginalFilename, StoredFile};
use hexgate_domain::job::JobStatus;
use hexgate_ports::{FileRepository, JobId, NewFile, NewJob, PortError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use crate::entity::files::{ActiveModel, Column, Entity, Model};
use crate::entity::jobs;
use crate::error::port_error;
use crate::jobs::enqueue_in;

#[derive(Clone)]
pub struct SqlFileRepository {
    db: DatabasePools,
}

impl SqlFileRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn to_domain(m: Model, job: Option<jobs::Model>) -> Result<StoredFile, PortError> {
    let (status, error) = match job {
        Some(job) => {
            let status: JobStatus =
                job.status.parse().map_err(|_| PortError::Internal(format!("job {} has an invalid status", job.id)))?;
            let status = FileStatus::of_job(status);
            (status, job.last_error.filter(|_| status == FileStatus::Failed))
        }
        None => (FileStatus::Failed, Some("the processing job is missing".to_owned())),
    };
    let facts = match (m.sha256, m.content_type) {
        (Some(sha256), Some(content_type)) => {
            Some(FileFacts { size: to_u64(m.size), sha256, content_type, line_count: m.line_count.map(to_u64) })
        }
        _ => None,
    };
    Ok(StoredFile {
        id: FileId(m.id),
        owner: UserId::from_uuid(m.owner_id),
        task_id: m.task_id,
        filename: OriginalFilename::from_stored(m.filename),
        size: to_u64(m.size),
        status,
        facts,
        error,
        created_at: m.created_at,
        processed_at: m.processed_at,
    })
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[async_trait]
impl FileRepository for SqlFileRepository {
    async fn create(&self, file: &NewFile, job: &NewJob, now: DateTime<Utc>) -> Result<JobId, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let task = enqueue_in(&txn, job, now).await?;
        Entity::insert(ActiveModel {
            id: Set(file.id.0),
            owner_id: Set(file.owner.as_uuid()),
            task_id: Set(task.0),
            filename: Set(file.filename.as_str().to_owned()),
            size: Set(to_i64(file.size)),
            sha256: Set(None),
            content_type: Set(None),
            line_count: Set(None),
            created_at: Set(now),
            processed_at: Set(None),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(port_error)?;
        txn.commit().await.map_err(port_error)?;
        Ok(task)
    }

    async fn get(&self, id: FileId) -> Result<Option<StoredFile>, PortError> {
        let Some(file) = Entity::find_by_id(id.0).one(self.db.conn()).await.map_err(port_error)? else {
            return Ok(None);
        };
        let job = jobs::Entity::find_by_id(file.task_id).one(self.db.conn()).await.map_err(port_error)?;
        to_domain(file, job).map(Some)
    }

    async fn record_facts(&self, id: FileId, facts: &FileFacts, now: DateTime<Utc>) -> Result<bool, PortError> {
        let result = Entity::update_many()
            .col_expr(Column::Size, Expr::value(to_i64(facts.size)))
            .col_expr(Column::Sha256, Expr::value(facts.sha256.clone()))
            .col_expr(Column::ContentType, Expr::value(facts.content_type.clone()))
            .col_expr(Column::LineCount, Expr::value(facts.line_count.map(to_i64)))
            .col_expr(Column::ProcessedAt, Expr::value(now))
            .filter(Column::Id.eq(id.0))
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn delete(&self, id: FileId, task: JobId) -> Result<bool, PortError> {
        // Writes only, so no read to lock first; a worker still holding the job finds it gone and
        // records nothing.
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let deleted = Entity::delete_many()
            .filter(Column::Id.eq(id.0))
            .filter(Column::TaskId.eq(task.0))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        if deleted.rows_affected == 1 {
            jobs::Entity::delete_by_id(task.0).exec(&txn).await.map_err(port_error)?;
        }
        txn.commit().await.map_err(port_error)?;
        Ok(deleted.rows_affected == 1)
    }

    async fn owner_of_task(&self, task: JobId) -> Result<Option<UserId>, PortError> {
        let file = Entity::find().filter(Column::TaskId.eq(task.0)).one(self.db.conn()).await.map_err(port_error)?;
        Ok(file.map(|f| UserId::from_uuid(f.owner_id)))
    }
}
