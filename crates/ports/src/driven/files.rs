use std::pin::Pin;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use hexgate_domain::UserId;
use hexgate_domain::file::{FileFacts, FileId, OriginalFilename, StoredFile};

use crate::{JobId, NewJob, PortError};

/// Where a file's bytes live in a [`FileStore`]: made by the server from the owner's and the
/// file's ids, never from anything the client sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey {
    pub owner: UserId,
    pub file: FileId,
}

/// A stored blob's bytes, in chunks, and its length.
pub struct Blob {
    pub size: u64,
    pub chunks: Pin<Box<dyn Stream<Item = Result<Vec<u8>, PortError>> + Send>>,
}

/// A blob being written. Nothing is visible under its key until [`BlobWriter::commit`]; a writer
/// dropped without committing removes what it wrote (a cancelled or refused upload leaves nothing).
#[async_trait]
pub trait BlobWriter: Send {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), PortError>;
    /// [`PortError::NotFound`] when the owner's blobs were deleted meanwhile.
    async fn commit(self: Box<Self>) -> Result<(), PortError>;
}

/// Stores uploaded bytes. Blocking work (disk, hashing) stays off the async workers.
///
/// # Errors
/// [`PortError::Unavailable`] when the storage cannot be used.
#[async_trait]
pub trait FileStore: Send + Sync {
    async fn create(&self, key: &BlobKey) -> Result<Box<dyn BlobWriter>, PortError>;
    /// `None` when nothing is stored under `key`.
    async fn open(&self, key: &BlobKey) -> Result<Option<Blob>, PortError>;
    /// Reads the whole blob once: size, SHA-256, the type its bytes show and, for text, lines.
    async fn inspect(&self, key: &BlobKey) -> Result<Option<FileFacts>, PortError>;
    /// Removing what is not there is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), PortError>;
    /// Removes every blob of `owner` (their account is gone).
    async fn delete_owner(&self, owner: UserId) -> Result<(), PortError>;
    /// Whether blobs can be written now (for `/ready`): a store that is gone or read-only is down.
    async fn check(&self) -> Result<(), PortError>;
}

/// A file's metadata row as the upload writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub id: FileId,
    pub owner: UserId,
    pub filename: OriginalFilename,
    pub size: u64,
}

/// Files' metadata in the database.
///
/// # Errors
/// [`PortError`] from the store; `create` answers [`PortError::NotFound`] when the owner no
/// longer exists.
#[async_trait]
pub trait FileRepository: Send + Sync {
    /// Writes the file's row and its processing job in one transaction; answers the job's id.
    async fn create(&self, file: &NewFile, job: &NewJob, now: DateTime<Utc>) -> Result<JobId, PortError>;
    /// The file with the status of its processing job.
    async fn get(&self, id: FileId) -> Result<Option<StoredFile>, PortError>;
    /// `false` when the file is gone (deleted while it was processed).
    async fn record_facts(&self, id: FileId, facts: &FileFacts, now: DateTime<Utc>) -> Result<bool, PortError>;
    /// Removes the row and its processing job (`task`); `false` when there was no row.
    async fn delete(&self, id: FileId, task: JobId) -> Result<bool, PortError>;
    /// Whose upload a task processes; `None` for tasks that are no file's.
    async fn owner_of_task(&self, task: JobId) -> Result<Option<UserId>, PortError>;
}
