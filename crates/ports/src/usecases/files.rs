//! Uploads: stored as they stream in, then processed by a job; read, downloaded and deleted by
//! their owner or an admin.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::{Stream, StreamExt};
use hexgate_domain::User;
use hexgate_domain::file::{FileId, OriginalFilename, StoredFile};
use hexgate_domain::policy::owner_or_admin;
use tracing::{info, warn};
use uuid::Uuid;

use super::jobs::JobHandler;
use crate::{
    Blob, BlobKey, Clock, FileRepository, FileStore, JobId, JobQueue, JobRecord, JobWakeup, NewFile, NewJob, PortError,
    Resource, ServiceError,
};

pub const PROCESS_FILE: &str = "process_file";

/// The job that processes `file`; it carries only the id and reads the file as it is then.
#[must_use]
pub fn process_file_job(file: FileId) -> NewJob {
    NewJob { kind: PROCESS_FILE.to_owned(), payload: file.to_string(), max_attempts: 5 }
}

/// What a transport may wrap around an upload's bytes (multipart boundaries, part headers): a
/// declared body longer than the limit plus this cannot carry an acceptable upload.
pub const UPLOAD_FRAMING_ALLOWANCE: u64 = 64 * 1024;

/// The bytes one upload may still read: every byte the request carries (the file and any field
/// read past) is spent from it, and the first chunk past the limit is refused. Made only by
/// [`FileService::budget`], so the limit has one owner.
#[derive(Debug)]
pub struct UploadBudget {
    limit: u64,
    spent: u64,
}

impl UploadBudget {
    /// Counts `bytes` read.
    ///
    /// # Errors
    /// `PayloadTooLarge` once more than the limit has been read.
    pub fn spend(&mut self, bytes: usize) -> Result<(), ServiceError> {
        self.spent = self.spent.saturating_add(bytes as u64);
        if self.spent > self.limit { Err(ServiceError::PayloadTooLarge { limit: self.limit }) } else { Ok(()) }
    }
}

/// What `POST /files` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upload {
    pub file_id: FileId,
    pub task_id: JobId,
}

pub struct FileService {
    files: Arc<dyn FileRepository>,
    store: Arc<dyn FileStore>,
    jobs: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    max_upload_bytes: u64,
    wakeup: Option<Arc<dyn JobWakeup>>,
}

const FILE_NOT_FOUND: ServiceError = ServiceError::NotFound(Resource::File);
const TASK_NOT_FOUND: ServiceError = ServiceError::NotFound(Resource::Task);

/// The uploader's account was deleted while the bytes streamed in: they are no longer anyone.
fn owner_gone(err: PortError) -> ServiceError {
    match err {
        PortError::NotFound => ServiceError::Unauthenticated,
        other => other.into(),
    }
}

fn key_of(file: &StoredFile) -> BlobKey {
    BlobKey { owner: file.owner, file: file.id }
}

impl FileService {
    #[must_use]
    pub fn new(
        files: Arc<dyn FileRepository>,
        store: Arc<dyn FileStore>,
        jobs: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
        max_upload_bytes: u64,
    ) -> Self {
        Self { files, store, jobs, clock, max_upload_bytes, wakeup: None }
    }

    /// Processing starts as soon as an upload is stored, not at the workers' next poll.
    #[must_use]
    pub fn with_wakeup(mut self, wakeup: Arc<dyn JobWakeup>) -> Self {
        self.wakeup = Some(wakeup);
        self
    }

    /// Whether a request declaring a body of `declared_len` bytes can carry an acceptable upload
    /// at all, so a far-too-large one is refused before a byte is read.
    ///
    /// # Errors
    /// `PayloadTooLarge` when `declared_len` exceeds the limit plus [`UPLOAD_FRAMING_ALLOWANCE`].
    pub fn admits(&self, declared_len: u64) -> Result<(), ServiceError> {
        if declared_len > self.max_upload_bytes.saturating_add(UPLOAD_FRAMING_ALLOWANCE) {
            Err(ServiceError::PayloadTooLarge { limit: self.max_upload_bytes })
        } else {
            Ok(())
        }
    }

    /// A fresh budget for one upload request: spend what is read before the file (fields read
    /// past) from it, then hand it to [`FileService::upload`].
    #[must_use]
    pub fn budget(&self) -> UploadBudget {
        UploadBudget { limit: self.max_upload_bytes, spent: 0 }
    }

    /// Streams `chunks` into the store under a server-made key, then writes the file's row and
    /// its processing job together. Every chunk is spent from `budget`: the upload stops at the
    /// first chunk past the limit and what was written is removed. `rest` reads whatever the
    /// request holds after the file (spending the same budget) before anything is kept; its error
    /// refuses the upload like any other.
    ///
    /// # Errors
    /// `PayloadTooLarge` past the limit; `Invalid` (`file`) for no bytes; `rest`'s error; the stream's own
    /// error (a broken upload); `Unauthenticated` when the uploader was deleted meanwhile; store
    /// errors.
    pub async fn upload<S, C>(
        &self,
        actor: &User,
        filename: &str,
        mut budget: UploadBudget,
        mut chunks: S,
        rest: impl AsyncFnOnce(&mut UploadBudget) -> Result<(), ServiceError>,
    ) -> Result<Upload, ServiceError>
    where
        S: Stream<Item = Result<C, ServiceError>> + Unpin,
        C: AsRef<[u8]>,
    {
        let file = FileId::new();
        let key = BlobKey { owner: actor.id, file };
        let mut writer = self.store.create(&key).await?;
        let mut size: u64 = 0;
        // Returning early drops `writer`, which removes the partial blob.
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            let chunk = chunk.as_ref();
            budget.spend(chunk.len())?;
            size += chunk.len() as u64;
            writer.write(chunk).await?;
        }
        if size == 0 {
            return Err(ServiceError::invalid("file", "must not be empty", "file_empty"));
        }
        // What follows the file in the request is read (and judged) before anything is kept: a
        // request refused for its tail leaves no file behind. The file's stream goes first: a
        // multipart reader hands out the next field only once the previous one is gone.
        drop(chunks);
        rest(&mut budget).await?;
        writer.commit().await.map_err(owner_gone)?;
        let row = NewFile { id: file, owner: actor.id, filename: OriginalFilename::sanitize(filename), size };
        match self.files.create(&row, &process_file_job(file), self.clock.now()).await {
            Ok(task_id) => {
                info!(file = %file, size, "file stored");
                if let Some(wakeup) = &self.wakeup {
                    wakeup.job_queued();
                }
                Ok(Upload { file_id: file, task_id })
            }
            Err(err) => {
                // No row, no bytes: a blob nobody can name would only fill the disk.
                if let Err(cleanup) = self.store.delete(&key).await {
                    warn!(file = %file, error = %cleanup, "could not remove the blob of a failed upload");
                }
                Err(owner_gone(err))
            }
        }
    }

    /// # Errors
    /// `NotFound` for a missing file and for someone else's (which does not reveal it exists).
    pub async fn get(&self, actor: &User, id: FileId) -> Result<StoredFile, ServiceError> {
        match self.files.get(id).await? {
            Some(file) if owner_or_admin(actor, file.owner) => Ok(file),
            _ => Err(FILE_NOT_FOUND),
        }
    }

    /// The file and its bytes.
    ///
    /// # Errors
    /// As [`FileService::get`]; `NotFound` when the bytes are gone.
    pub async fn content(&self, actor: &User, id: FileId) -> Result<(StoredFile, Blob), ServiceError> {
        let file = self.get(actor, id).await?;
        let blob = self.store.open(&key_of(&file)).await?.ok_or(FILE_NOT_FOUND)?;
        Ok((file, blob))
    }

    /// Removes the row (and its job), then the bytes.
    ///
    /// # Errors
    /// As [`FileService::get`].
    pub async fn delete(&self, actor: &User, id: FileId) -> Result<(), ServiceError> {
        let file = self.get(actor, id).await?;
        if !self.files.delete(id, JobId(file.task_id)).await? {
            return Err(FILE_NOT_FOUND);
        }
        if let Err(err) = self.store.delete(&key_of(&file)).await {
            warn!(file = %id, error = %err, "file row deleted but its bytes could not be removed");
        }
        info!(file = %id, actor = %actor.id, "file deleted");
        Ok(())
    }

    /// A task as its owner sees it: an admin sees every task; a user sees the tasks processing
    /// their files, and any other id is not found.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn task(&self, actor: &User, id: Uuid) -> Result<JobRecord, ServiceError> {
        let id = JobId(id);
        let Some(job) = self.jobs.get(id).await? else { return Err(TASK_NOT_FOUND) };
        if actor.permissions.is_admin() || self.files.owner_of_task(id).await? == Some(actor.id) {
            Ok(job)
        } else {
            Err(TASK_NOT_FOUND)
        }
    }
}

/// Reads the stored bytes once and records what they are.
pub struct ProcessFileJob {
    pub files: Arc<dyn FileRepository>,
    pub store: Arc<dyn FileStore>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl JobHandler for ProcessFileJob {
    async fn run(&self, payload: &str) -> Result<(), String> {
        let id = FileId(payload.parse().map_err(|e| format!("bad payload: {e}"))?);
        // Deleted before it was processed: nothing to do.
        let Some(file) = self.files.get(id).await.map_err(|e| e.to_string())? else { return Ok(()) };
        let facts = self
            .store
            .inspect(&key_of(&file))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the stored bytes are missing".to_owned())?;
        if facts.size != file.size {
            return Err(format!("stored {} bytes, but {} were uploaded", facts.size, file.size));
        }
        self.files.record_facts(id, &facts, self.clock.now()).await.map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_takes_exactly_its_limit_and_refuses_the_first_byte_past_it() {
        let mut budget = UploadBudget { limit: 10, spent: 0 };
        assert_eq!(budget.spend(4), Ok(()));
        assert_eq!(budget.spend(6), Ok(()));
        assert_eq!(budget.spend(1), Err(ServiceError::PayloadTooLarge { limit: 10 }));
    }
}
