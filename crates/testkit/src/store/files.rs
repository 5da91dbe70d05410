use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_domain::file::{FileFacts, FileId, FileStatus, StoredFile};
use hexgate_ports::{FileRepository, JobId, NewFile, NewJob, PortError};

use super::{FileRow, InMemoryStore};

#[async_trait]
impl FileRepository for InMemoryStore {
    async fn create(&self, file: &NewFile, job: &NewJob, now: DateTime<Utc>) -> Result<JobId, PortError> {
        let mut state = self.lock();
        // The foreign key: the owner is gone, so neither the row nor its job is written.
        if !state.users.contains_key(&file.owner) {
            return Err(PortError::NotFound);
        }
        if state.files.contains_key(&file.id) {
            return Err(PortError::Internal(format!("unique violation: files.id {}", file.id)));
        }
        let task = state.enqueue(job, now);
        state.files.insert(
            file.id,
            FileRow {
                owner: file.owner,
                task,
                filename: file.filename.clone(),
                size: file.size,
                facts: None,
                created_at: now,
                processed_at: None,
            },
        );
        Ok(JobId(task))
    }

    async fn get(&self, id: FileId) -> Result<Option<StoredFile>, PortError> {
        let state = self.lock();
        let Some(file) = state.files.get(&id) else { return Ok(None) };
        // The file's status is its job's; a missing job is a failure, as in the SQL adapter.
        let (status, error) = match state.jobs.get(&file.task) {
            Some(job) => {
                let status = FileStatus::of_job(job.status);
                (status, job.last_error.clone().filter(|_| status == FileStatus::Failed))
            }
            None => (FileStatus::Failed, Some("the processing job is missing".to_owned())),
        };
        Ok(Some(StoredFile {
            id,
            owner: file.owner,
            task_id: file.task,
            filename: file.filename.clone(),
            size: file.size,
            status,
            facts: file.facts.clone(),
            error,
            created_at: file.created_at,
            processed_at: file.processed_at,
        }))
    }

    async fn record_facts(&self, id: FileId, facts: &FileFacts, now: DateTime<Utc>) -> Result<bool, PortError> {
        let mut state = self.lock();
        let Some(file) = state.files.get_mut(&id) else { return Ok(false) };
        file.size = facts.size;
        file.facts = Some(facts.clone());
        file.processed_at = Some(now);
        Ok(true)
    }

    async fn delete(&self, id: FileId, task: JobId) -> Result<bool, PortError> {
        let mut state = self.lock();
        if state.files.get(&id).is_none_or(|f| f.task != task.0) {
            return Ok(false);
        }
        state.files.remove(&id);
        state.jobs.remove(&task.0);
        Ok(true)
    }

    async fn owner_of_task(&self, task: JobId) -> Result<Option<UserId>, PortError> {
        Ok(self.lock().files.values().find(|f| f.task == task.0).map(|f| f.owner))
    }
}
