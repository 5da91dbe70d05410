//! Uploaded files: ids, the client's filename as safe metadata, what processing learns about the
//! bytes, and the status a file shows while its processing job runs.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::UserId;
use crate::job::JobStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId(pub Uuid);

impl FileId {
    #[must_use]
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for FileId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The client's filename, kept only as metadata: the last path component, without control
/// characters, quotes or leading dots, at most 255 bytes. It never names anything on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalFilename(String);

impl OriginalFilename {
    pub const MAX_BYTES: usize = 255;
    /// What a file is called when the client's name leaves nothing usable.
    pub const FALLBACK: &'static str = "upload";

    /// Never fails: whatever the client sent becomes a harmless display name.
    #[must_use]
    pub fn sanitize(raw: &str) -> Self {
        // Both separators: a Windows client sends `C:\Users\me\a.txt`.
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let cleaned: String =
            last.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':')).collect();
        // Dots and spaces interleave (` . .x`): strip them together, or a leading dot survives.
        let trimmed = cleaned.trim_start_matches(|c: char| c == '.' || c.is_whitespace()).trim_end();
        let mut name = String::new();
        for c in trimmed.chars() {
            if name.len() + c.len_utf8() > Self::MAX_BYTES {
                break;
            }
            name.push(c);
        }
        // A cut can end on a space; a stored name sanitises to itself.
        name.truncate(name.trim_end().len());
        if name.is_empty() { Self(Self::FALLBACK.to_owned()) } else { Self(name) }
    }

    /// A stored value, already sanitised when it was written.
    #[must_use]
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a file is in its life: the bytes are stored at once; facts come from the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Processing,
    Done,
    Failed,
}

impl FileStatus {
    /// A file's status is its processing job's: one source of truth, so the two never disagree.
    #[must_use]
    pub fn of_job(job: JobStatus) -> Self {
        match job {
            JobStatus::Queued | JobStatus::Running => Self::Processing,
            JobStatus::Done => Self::Done,
            JobStatus::Failed => Self::Failed,
        }
    }
}

/// What processing learned from the bytes themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts {
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
    /// Detected from the bytes, never taken from the client's header.
    pub content_type: String,
    /// For text only.
    pub line_count: Option<u64>,
}

/// A stored upload as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub id: FileId,
    pub owner: UserId,
    /// The processing job's id (`/tasks/{id}`).
    pub task_id: Uuid,
    pub filename: OriginalFilename,
    /// Bytes received at upload.
    pub size: u64,
    pub status: FileStatus,
    pub facts: Option<FileFacts>,
    /// Why processing failed, once it has for good.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

pub const TEXT_PLAIN: &str = "text/plain";
pub const OCTET_STREAM: &str = "application/octet-stream";

/// Counts lines and decides whether bytes are text (UTF-8 without NUL), fed chunk by chunk so a
/// file never has to be held whole. A character split between chunks is carried over.
#[derive(Debug, Clone, Default)]
pub struct TextStats {
    newlines: u64,
    bytes: u64,
    last: Option<u8>,
    carry: Vec<u8>,
    binary: bool,
}

impl TextStats {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        self.bytes += chunk.len() as u64;
        self.last = chunk.last().copied();
        self.newlines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        if self.binary {
            return;
        }
        if chunk.contains(&0) {
            self.binary = true;
            return;
        }
        let joined;
        let bytes = if self.carry.is_empty() {
            chunk
        } else {
            joined = [self.carry.as_slice(), chunk].concat();
            &joined
        };
        self.carry.clear();
        if let Err(e) = std::str::from_utf8(bytes) {
            match e.error_len() {
                // Only the end is incomplete: the rest of the character is in the next chunk.
                None => self.carry.extend_from_slice(&bytes[e.valid_up_to()..]),
                Some(_) => self.binary = true,
            }
        }
    }

    /// The line count when the bytes were text: every `\n`, plus a last line without one.
    #[must_use]
    pub fn line_count(&self) -> Option<u64> {
        if self.binary || !self.carry.is_empty() {
            return None;
        }
        Some(self.newlines + u64::from(self.bytes > 0 && self.last != Some(b'\n')))
    }
}

/// The content type for bytes: a recognised signature wins, then text, else opaque bytes.
#[must_use]
pub fn content_type(signature: Option<&str>, stats: &TextStats) -> String {
    match (signature, stats.line_count()) {
        (Some(mime), _) => mime.to_owned(),
        (None, Some(_)) => TEXT_PLAIN.to_owned(),
        (None, None) => OCTET_STREAM.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_in_the_filename_is_cut_to_its_last_component() {
        assert_eq!(OriginalFilename::sanitize("../../etc/passwd").as_str(), "passwd");
        assert_eq!(OriginalFilename::sanitize("C:\\Users\\me\\report.pdf").as_str(), "report.pdf");
        assert_eq!(OriginalFilename::sanitize("/abs/dir/").as_str(), OriginalFilename::FALLBACK);
    }

    #[test]
    fn hidden_names_control_characters_and_quotes_are_removed() {
        assert_eq!(OriginalFilename::sanitize("..hidden").as_str(), "hidden");
        assert_eq!(OriginalFilename::sanitize("a\"b\r\n.txt").as_str(), "ab.txt");
        assert_eq!(OriginalFilename::sanitize("..").as_str(), OriginalFilename::FALLBACK);
        assert_eq!(OriginalFilename::sanitize("").as_str(), OriginalFilename::FALLBACK);
        // Found by `cargo fuzz` (upload_filename): dots and spaces interleaved left a leading dot.
        assert_eq!(OriginalFilename::sanitize(" ...\0 . \u{4}").as_str(), OriginalFilename::FALLBACK);
        assert_eq!(OriginalFilename::sanitize(". .. .x").as_str(), "x");
    }

    #[test]
    fn a_sanitised_name_sanitises_to_itself() {
        let long = format!("{}  tail", "a".repeat(OriginalFilename::MAX_BYTES - 1));
        for raw in ["report.pdf", " . .x", &long, "a\u{7f}b"] {
            let once = OriginalFilename::sanitize(raw);
            assert_eq!(OriginalFilename::sanitize(once.as_str()), once, "{raw:?}");
        }
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let name = OriginalFilename::sanitize(&"é".repeat(200));
        assert!(name.as_str().len() <= OriginalFilename::MAX_BYTES);
        assert_eq!(name.as_str().chars().count(), 127);
    }

    fn stats(chunks: &[&[u8]]) -> TextStats {
        let mut s = TextStats::new();
        for c in chunks {
            s.feed(c);
        }
        s
    }

    #[test]
    fn lines_are_counted_with_or_without_a_final_newline() {
        assert_eq!(stats(&[b"a\nb\n"]).line_count(), Some(2));
        assert_eq!(stats(&[b"a\nb"]).line_count(), Some(2));
        assert_eq!(stats(&[b"a\n", b"\n", b"b"]).line_count(), Some(3));
        assert_eq!(stats(&[]).line_count(), Some(0));
    }

    #[test]
    fn a_character_split_across_chunks_is_still_text() {
        let text = "naïve\n".as_bytes();
        let (a, b) = text.split_at(3);
        assert_eq!(stats(&[a, b]).line_count(), Some(1));
    }

    #[test]
    fn nul_bytes_invalid_utf8_and_a_truncated_character_are_not_text() {
        assert_eq!(stats(&[b"abc\0def"]).line_count(), None);
        assert_eq!(stats(&[&[0xff, 0xfe, b'a']]).line_count(), None);
        assert_eq!(stats(&[&"é".as_bytes()[..1]]).line_count(), None);
    }

    #[test]
    fn the_signature_wins_then_text_then_opaque_bytes() {
        assert_eq!(content_type(Some("image/png"), &stats(&[b"x"])), "image/png");
        assert_eq!(content_type(None, &stats(&[b"x"])), TEXT_PLAIN);
        assert_eq!(content_type(None, &stats(&[b"\0"])), OCTET_STREAM);
    }

    #[test]
    fn a_file_shows_its_job_status() {
        assert_eq!(FileStatus::of_job(JobStatus::Queued), FileStatus::Processing);
        assert_eq!(FileStatus::of_job(JobStatus::Running), FileStatus::Processing);
        assert_eq!(FileStatus::of_job(JobStatus::Done), FileStatus::Done);
        assert_eq!(FileStatus::of_job(JobStatus::Failed), FileStatus::Failed);
    }
}
