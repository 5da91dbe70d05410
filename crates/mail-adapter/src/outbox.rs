use std::path::PathBuf;

use async_trait::async_trait;
use hexgate_ports::{Mail, Mailer, PortError};
use lettre::message::Mailbox;

use crate::message::{build, mailbox};

/// Writes each mail as an `.eml` file into a folder and logs where (never the body: it holds
/// single-use links).
pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl OutboxMailer {
    /// # Errors
    /// For a bad `from` address.
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> Result<Self, PortError> {
        Ok(Self { dir: dir.into(), from: mailbox(from)? })
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &Mail) -> Result<(), PortError> {
        let message = build(&self.from, mail)?;
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| PortError::Unavailable(format!("outbox {}: {e}", self.dir.display())))?;
        let name = format!("{}.eml", uuid::Uuid::now_v7());
        let path = self.dir.join(name);
        tokio::fs::write(&path, message.formatted())
            .await
            .map_err(|e| PortError::Unavailable(format!("outbox {}: {e}", path.display())))?;
        tracing::info!(to = %mail.to, subject = %mail.subject, path = %path.display(), "mail written to the outbox");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_mail_becomes_an_eml_file_with_both_bodies() {
        let dir = std::env::temp_dir().join(format!("hexgate-outbox-{}", uuid::Uuid::new_v4()));
        let mailer = OutboxMailer::new(&dir, "hexgate <no-reply@example.com>").expect("from");
        let mail = Mail {
            to: "ada@example.com".into(),
            subject: "Welcome".into(),
            text: "Hello Ada".into(),
            html: "<p>Hello Ada</p>".into(),
        };
        mailer.send(&mail).await.expect("send");
        let files: Vec<_> = std::fs::read_dir(&dir).expect("dir").filter_map(Result::ok).collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].path()).expect("read");
        assert!(text.contains("To: ada@example.com") && text.contains("Subject: Welcome"));
        assert!(text.contains("Hello Ada") && text.contains("text/html"));
        let _ = std::fs::remove_dir_all(&dir);
        let bad = Mail { to: "not an address".into(), ..mail };
        assert!(matches!(mailer.send(&bad).await, Err(PortError::Internal(_))));
    }
}
