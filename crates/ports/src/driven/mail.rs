use std::fmt;

use async_trait::async_trait;

use crate::PortError;

/// A message to one recipient, with a plain-text and an HTML body.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl fmt::Debug for Mail {
    // Bodies carry single-use links (reset, verification): they never print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail").field("to", &self.to).field("subject", &self.subject).finish_non_exhaustive()
    }
}

/// Sends mail.
///
/// # Errors
/// [`PortError::Unavailable`] when the mail server cannot be reached or refuses the message for
/// now (a job retries it); [`PortError::Internal`] for a message that can never be sent.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), PortError>;
}
