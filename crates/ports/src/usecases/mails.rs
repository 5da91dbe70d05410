//! The mails hexgate sends, and the job that sends the welcome mail.

use std::sync::Arc;

use async_trait::async_trait;
use hexgate_domain::{User, UserId};

use super::jobs::JobHandler;
use crate::{Mail, Mailer, NewJob, UserRepository};

pub const WELCOME_MAIL: &str = "welcome_mail";

/// The job that welcomes `user`; it carries only the id, so it reads the user as they are when
/// it runs.
#[must_use]
pub fn welcome_job(user: UserId) -> NewJob {
    NewJob { kind: WELCOME_MAIL.to_owned(), payload: user.to_string(), max_attempts: 5 }
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[must_use]
pub fn welcome_mail(user: &User, base_url: &str) -> Mail {
    let name = if user.full_name.as_str().is_empty() { user.username.as_str() } else { user.full_name.as_str() };
    Mail {
        to: user.email.to_string(),
        subject: "Welcome to hexgate".to_owned(),
        text: format!("Hello {name},\n\nyour account `{}` is ready. Sign in at {base_url}\n", user.username),
        html: format!(
            "<p>Hello {},</p><p>your account <b>{}</b> is ready. <a href=\"{}\">Sign in</a>.</p>",
            escape(name),
            escape(user.username.as_str()),
            escape(base_url)
        ),
    }
}

/// Sends the welcome mail for the user named in the payload (nothing, if they were deleted).
pub struct WelcomeMailJob {
    pub users: Arc<dyn UserRepository>,
    pub mailer: Arc<dyn Mailer>,
    pub base_url: String,
}

#[async_trait]
impl JobHandler for WelcomeMailJob {
    async fn run(&self, payload: &str) -> Result<(), String> {
        let id: UserId = payload.parse().map_err(|e| format!("bad payload: {e}"))?;
        let Some(user) = self.users.get(id).await.map_err(|e| e.to_string())? else { return Ok(()) };
        self.mailer.send(&welcome_mail(&user, &self.base_url)).await.map_err(|e| e.to_string())
    }
}
