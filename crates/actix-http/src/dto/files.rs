//! Uploaded files and the tasks that process them.

use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use chrono::{DateTime, Utc};
use hexgate_domain::file::{FileStatus, StoredFile};
use hexgate_domain::job::JobStatus;
use hexgate_ports::{JobRecord, Upload};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct FilePath {
    pub id: Uuid,
}

#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct TaskPath {
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[serde(rename_all = "snake_case")]
pub enum FileStatusName {
    Processing,
    Done,
    Failed,
}

impl From<FileStatus> for FileStatusName {
    fn from(status: FileStatus) -> Self {
        match status {
            FileStatus::Processing => Self::Processing,
            FileStatus::Done => Self::Done,
            FileStatus::Failed => Self::Failed,
        }
    }
}

/// The upload is stored; processing runs in the background (poll the task or the file).
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[schemars(example = serde_json::json!({"file_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7c",
    "task_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7d", "status": "processing"}))]
pub struct UploadAccepted {
    pub file_id: Uuid,
    pub task_id: Uuid,
    pub status: FileStatusName,
}

impl From<Upload> for UploadAccepted {
    fn from(u: Upload) -> Self {
        Self { file_id: u.file_id.0, task_id: u.task_id.0, status: FileStatusName::Processing }
    }
}

/// A file's metadata. `sha256`, `content_type` and `line_count` appear once processing is done;
/// the content type comes from the bytes, never from what the client declared.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[schemars(example = serde_json::json!({"file_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7c",
    "task_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7d", "owner_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b",
    "filename": "notes.txt", "size": 12, "status": "done",
    "sha256": "4a1e67f2fe1d1cc7b31d0ca2ec441da4778203a036a77da10344c85e24ff0f92",
    "content_type": "text/plain", "line_count": 2, "error": null,
    "created_at": "2026-01-01T00:00:00Z", "processed_at": "2026-01-01T00:00:01Z"}))]
pub struct FileResponse {
    pub file_id: Uuid,
    pub task_id: Uuid,
    pub owner_id: Uuid,
    /// The client's filename, sanitised (no path); metadata only.
    pub filename: String,
    /// Bytes stored.
    pub size: u64,
    pub status: FileStatusName,
    pub sha256: Option<String>,
    pub content_type: Option<String>,
    /// For text files only.
    pub line_count: Option<u64>,
    /// Why processing failed, when it has for good.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

impl From<StoredFile> for FileResponse {
    fn from(f: StoredFile) -> Self {
        let facts = f.facts;
        Self {
            file_id: f.id.0,
            task_id: f.task_id,
            owner_id: f.owner.as_uuid(),
            filename: f.filename.as_str().to_owned(),
            size: f.size,
            status: f.status.into(),
            sha256: facts.as_ref().map(|x| x.sha256.clone()),
            content_type: facts.as_ref().map(|x| x.content_type.clone()),
            line_count: facts.as_ref().and_then(|x| x.line_count),
            error: f.error,
            created_at: f.created_at,
            processed_at: f.processed_at,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[serde(rename_all = "snake_case")]
pub enum TaskStatusName {
    Queued,
    Running,
    Done,
    Failed,
}

/// A background task (a job on the queue).
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[schemars(example = serde_json::json!({"task_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7d", "kind": "process_file",
    "status": "done", "attempts": 1, "error": null,
    "created_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z"}))]
pub struct TaskResponse {
    pub task_id: Uuid,
    pub kind: String,
    pub status: TaskStatusName,
    /// Attempts started so far.
    pub attempts: u32,
    /// The last attempt's error (kept while a retry is pending, and when the task failed).
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<JobRecord> for TaskResponse {
    fn from(j: JobRecord) -> Self {
        Self {
            task_id: j.id.0,
            kind: j.kind,
            status: match j.status {
                JobStatus::Queued => TaskStatusName::Queued,
                JobStatus::Running => TaskStatusName::Running,
                JobStatus::Done => TaskStatusName::Done,
                JobStatus::Failed => TaskStatusName::Failed,
            },
            attempts: j.attempts,
            error: j.last_error,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}
