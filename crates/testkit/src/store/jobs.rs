use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::job::JobStatus;
use hexgate_ports::{AuditEvent, ClaimedJob, JobId, JobQueue, JobRecord, NewJob, PortError};

use super::{InMemoryStore, JobRow};

/// Queued and due, or running with an expired lease.
fn due(job: &JobRow, now: DateTime<Utc>) -> bool {
    match job.status {
        JobStatus::Queued => job.run_at <= now,
        JobStatus::Running => job.locked_until.is_some_and(|until| until < now),
        JobStatus::Done | JobStatus::Failed => false,
    }
}

/// Whether `worker` still holds the job: the fence every outcome goes through. Like the SQL
/// adapter, it asks who holds the job, not whether the lease is over: a late worker loses only
/// once another one has claimed the job.
fn held_by(job: &JobRow, worker: &str) -> bool {
    job.status == JobStatus::Running && job.locked_by.as_deref() == Some(worker)
}

#[async_trait]
impl JobQueue for InMemoryStore {
    async fn enqueue_audited(
        &self,
        job: &NewJob,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<JobId, PortError> {
        let mut state = self.lock();
        let id = state.enqueue(job, now);
        state.record(events);
        Ok(JobId(id))
    }

    async fn claim(&self, worker: &str, now: DateTime<Utc>, lease: Duration) -> Result<Option<ClaimedJob>, PortError> {
        let lease_until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
        let mut state = self.lock();
        // The oldest due job: by run_at, then id.
        let Some((&id, job)) =
            state.jobs.iter_mut().filter(|(_, j)| due(j, now)).min_by_key(|(id, j)| (j.run_at, **id))
        else {
            return Ok(None);
        };
        job.status = JobStatus::Running;
        job.attempts += 1;
        job.locked_until = Some(lease_until);
        job.locked_by = Some(worker.to_owned());
        Ok(Some(ClaimedJob {
            id: JobId(id),
            kind: job.job.kind.clone(),
            payload: job.job.payload.clone(),
            attempt: job.attempts,
            max_attempts: job.job.max_attempts,
            lease_until,
            // Nothing here is traced: the SQL queue keeps the queuing request's trace context.
            traceparent: None,
        }))
    }

    async fn complete(&self, id: JobId, worker: &str, now: DateTime<Utc>) -> Result<bool, PortError> {
        let mut state = self.lock();
        let Some(job) = state.jobs.get_mut(&id.0).filter(|j| held_by(j, worker)) else { return Ok(false) };
        job.status = JobStatus::Done;
        job.finished_at = Some(now);
        job.locked_until = None;
        Ok(true)
    }

    async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        let Some(job) = state.jobs.get_mut(&id.0).filter(|j| held_by(j, worker)) else { return Ok(false) };
        job.last_error = Some(error.chars().take(2000).collect());
        job.locked_until = None;
        job.locked_by = None;
        match retry_at {
            Some(at) => {
                job.status = JobStatus::Queued;
                job.run_at = at;
            }
            None => {
                job.status = JobStatus::Failed;
                job.finished_at = Some(now);
            }
        }
        Ok(true)
    }

    async fn get(&self, id: JobId) -> Result<Option<JobRecord>, PortError> {
        Ok(self.lock().jobs.get(&id.0).map(|j| JobRecord {
            id,
            kind: j.job.kind.clone(),
            status: j.status,
            attempts: j.attempts,
            last_error: j.last_error.clone(),
            created_at: j.created_at,
            finished_at: j.finished_at,
        }))
    }
}
