use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use hexgate_domain::UserId;
use hexgate_domain::file::FileFacts;
use hexgate_ports::{Blob, BlobKey, BlobWriter, FileStore, PortError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::inspect::inspect_reader;

const READ_CHUNK: usize = 64 * 1024;

fn unavailable(what: &str, err: &std::io::Error) -> PortError {
    PortError::Unavailable(format!("file store: {what}: {err}"))
}

/// Blobs as files under one root folder.
#[derive(Debug, Clone)]
pub struct LocalFileStore {
    root: PathBuf,
}

impl LocalFileStore {
    /// Uses (and creates) `root`.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    fn owner_dir(&self, owner: UserId) -> PathBuf {
        self.root.join(owner.as_uuid().simple().to_string())
    }

    /// Only ids make up the path, so nothing a client sends can point it elsewhere.
    fn path(&self, key: &BlobKey) -> PathBuf {
        self.owner_dir(key.owner).join(key.file.0.simple().to_string())
    }
}

/// Writes to `.{name}.part` and renames into place on commit; a writer dropped before that
/// removes its partial file.
struct LocalBlobWriter {
    file: Option<tokio::fs::File>,
    partial: PathBuf,
    dest: PathBuf,
}

#[async_trait]
impl BlobWriter for LocalBlobWriter {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), PortError> {
        let file = self.file.as_mut().ok_or_else(|| PortError::Internal("blob already committed".into()))?;
        file.write_all(chunk).await.map_err(|e| unavailable("write", &e))
    }

    async fn commit(mut self: Box<Self>) -> Result<(), PortError> {
        let mut file = self.file.take().ok_or_else(|| PortError::Internal("blob already committed".into()))?;
        file.flush().await.map_err(|e| unavailable("flush", &e))?;
        file.sync_all().await.map_err(|e| unavailable("sync", &e))?;
        drop(file);
        tokio::fs::rename(&self.partial, &self.dest).await.map_err(|e| match e.kind() {
            // The owner's folder went with the owner (deleted during the upload).
            ErrorKind::NotFound => PortError::NotFound,
            _ => unavailable("rename", &e),
        })?;
        // Committed: nothing for Drop to remove.
        self.partial = PathBuf::new();
        Ok(())
    }
}

impl Drop for LocalBlobWriter {
    fn drop(&mut self) {
        if !self.partial.as_os_str().is_empty() {
            // One unlink; the open handle (if any) is closed first by dropping `file`.
            self.file.take();
            if let Err(err) = std::fs::remove_file(&self.partial)
                && err.kind() != ErrorKind::NotFound
            {
                tracing::warn!(path = %self.partial.display(), error = %err, "could not remove a partial upload");
            }
        }
    }
}

fn ignore_missing(result: std::io::Result<()>, what: &str) -> Result<(), PortError> {
    match result {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(unavailable(what, &e)),
        _ => Ok(()),
    }
}

fn partial_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dest.with_file_name(format!(".{name}.part"))
}

#[async_trait]
impl FileStore for LocalFileStore {
    async fn create(&self, key: &BlobKey) -> Result<Box<dyn BlobWriter>, PortError> {
        tokio::fs::create_dir_all(self.owner_dir(key.owner)).await.map_err(|e| unavailable("create folder", &e))?;
        let dest = self.path(key);
        let partial = partial_path(&dest);
        let file = tokio::fs::File::create(&partial).await.map_err(|e| unavailable("create", &e))?;
        Ok(Box::new(LocalBlobWriter { file: Some(file), partial, dest }))
    }

    async fn open(&self, key: &BlobKey) -> Result<Option<Blob>, PortError> {
        let file = match tokio::fs::File::open(self.path(key)).await {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unavailable("open", &e)),
        };
        let size = file.metadata().await.map_err(|e| unavailable("stat", &e))?.len();
        let chunks = futures_util::stream::unfold(Some(file), |file| async move {
            let mut file = file?;
            let mut buf = vec![0u8; READ_CHUNK];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(buf), Some(file)))
                }
                Err(e) => Some((Err(unavailable("read", &e)), None)),
            }
        });
        Ok(Some(Blob { size, chunks: Box::pin(chunks) }))
    }

    async fn inspect(&self, key: &BlobKey) -> Result<Option<FileFacts>, PortError> {
        let path = self.path(key);
        // Hashing a large file is CPU and disk work: it runs on the blocking pool.
        let outcome = tokio::task::spawn_blocking(move || match std::fs::File::open(&path) {
            Ok(file) => inspect_reader(std::io::BufReader::new(file)).map(Some),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
        .map_err(|e| PortError::Internal(format!("inspect task: {e}")))?;
        outcome.map_err(|e| unavailable("inspect", &e))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), PortError> {
        ignore_missing(tokio::fs::remove_file(self.path(key)).await, "delete")
    }

    async fn delete_owner(&self, owner: UserId) -> Result<(), PortError> {
        ignore_missing(tokio::fs::remove_dir_all(self.owner_dir(owner)).await, "delete folder")
    }

    async fn check(&self) -> Result<(), PortError> {
        // A real write: an unmounted volume or a read-only one fails here, not at the next upload.
        // The folder is not recreated: if it vanished, something outside hexgate is wrong.
        let probe = self.root.join(".ready-probe");
        tokio::fs::write(&probe, b"ok").await.map_err(|e| unavailable("write probe", &e))?;
        ignore_missing(tokio::fs::remove_file(&probe).await, "remove probe")
    }
}
