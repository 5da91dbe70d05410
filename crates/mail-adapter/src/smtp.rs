use std::time::Duration;

use async_trait::async_trait;
use hexgate_ports::{Mail, Mailer, PortError};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::message::{build, mailbox};

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…:465` (TLS), or
    /// `smtp://host:25` (plain, for a local relay).
    pub url: String,
    pub from: String,
    pub timeout: Duration,
}

/// SMTP through lettre's pooled async transport.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// # Errors
    /// For a malformed URL or `from` address.
    pub fn new(settings: &SmtpSettings) -> Result<Self, PortError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| PortError::Internal(format!("SMTP_URL: {e}")))?
            .timeout(Some(settings.timeout))
            .build();
        Ok(Self { transport, from: mailbox(&settings.from)? })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), PortError> {
        let message = build(&self.from, mail)?;
        match self.transport.send(message).await {
            Ok(_) => {
                tracing::info!(to = %mail.to, subject = %mail.subject, "mail sent");
                Ok(())
            }
            // A permanent refusal (5xx) will not get better by retrying.
            Err(e) if e.is_permanent() => Err(PortError::Internal(format!("SMTP refused the message: {e}"))),
            Err(e) => Err(PortError::Unavailable(format!("SMTP: {e}"))),
        }
    }
}
