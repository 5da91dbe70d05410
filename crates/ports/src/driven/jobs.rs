use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::job::JobStatus;
use uuid::Uuid;

use crate::{AuditEvent, PortError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobId(pub Uuid);

/// A job to run: `kind` picks the handler, `payload` (JSON text) is its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    pub payload: String,
    pub max_attempts: u32,
}

/// A job a worker holds until `lease_until`; past it, another worker may claim it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: JobId,
    pub kind: String,
    pub payload: String,
    /// This attempt's number, from 1.
    pub attempt: u32,
    pub max_attempts: u32,
    pub lease_until: DateTime<Utc>,
    /// The W3C `traceparent` of the request that queued the job, when it was traced: the job's
    /// span links to it.
    pub traceparent: Option<String>,
}

/// A job as the status endpoint shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub status: JobStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The durable job queue (an outbox in the database).
///
/// # Errors
/// [`PortError::Unavailable`] when the store cannot be reached.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Queues a job on its own. Jobs caused by a change are written by that change's repository
    /// method, in its transaction, instead.
    async fn enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<JobId, PortError> {
        self.enqueue_audited(job, now, &[]).await
    }

    /// Queues a job and records `events`, in one transaction.
    async fn enqueue_audited(
        &self,
        job: &NewJob,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<JobId, PortError>;

    /// Takes the oldest due job — queued and due, or running with an expired lease — for `worker`
    /// until `now + lease`. Each job is held by one worker at a time.
    async fn claim(&self, worker: &str, now: DateTime<Utc>, lease: Duration) -> Result<Option<ClaimedJob>, PortError>;

    /// Marks a held job done. `false` when `worker` no longer holds it (its lease expired).
    async fn complete(&self, id: JobId, worker: &str, now: DateTime<Utc>) -> Result<bool, PortError>;

    /// Records a failed attempt: queued again for `retry_at`, or failed for good when `None`.
    async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<bool, PortError>;

    async fn get(&self, id: JobId) -> Result<Option<JobRecord>, PortError>;
}

/// Tells this instance's job workers that a job was just queued, so it starts now rather than at
/// their next poll. Workers on other instances still find it by polling.
pub trait JobWakeup: Send + Sync {
    fn job_queued(&self);
}
