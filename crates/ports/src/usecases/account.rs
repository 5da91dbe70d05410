//! Password reset and e-mail verification. The mails are sent by jobs, and the tokens are made by
//! those jobs when they run, so a token exists only once its mail is on its way.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use hexgate_domain::{Email, Password, User, UserId};
use secrecy::ExposeSecret;

use super::access::{AccessEnded, AccessEvents, announce};
use super::jobs::JobHandler;
use super::mails::escape;
use hexgate_domain::audit::AuditEventType;
use serde_json::json;

use crate::{
    AccountTokenRepository, AuditStamp, Clock, JobQueue, Mail, Mailer, NewJob, PasswordHasher, RequestContext,
    ServiceError, TokenIssuer, TokenPurpose, UserRepository,
};

pub const PASSWORD_RESET_MAIL: &str = "password_reset_mail";
pub const VERIFICATION_MAIL: &str = "verification_mail";
/// A reset link works for an hour.
pub const RESET_TOKEN_TTL: Duration = Duration::hours(1);
/// A verification link works for a day.
pub const VERIFY_TOKEN_TTL: Duration = Duration::hours(24);

pub struct AccountService {
    pub jobs: Arc<dyn JobQueue>,
    pub tokens: Arc<dyn AccountTokenRepository>,
    pub issuer: Arc<dyn TokenIssuer>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub clock: Arc<dyn Clock>,
    /// Told when a reset ends every session, so open connections on them (chats) end too.
    pub access_events: Option<Arc<AccessEvents>>,
    /// To name the account a reset request concerns in the audit log.
    pub users: Arc<dyn UserRepository>,
}

impl AccountService {
    /// Always the same work whatever the address: one job is queued carrying the address, and the
    /// job (later, off the request) decides whether there is anyone to mail. The answer and its
    /// timing therefore say nothing about whether the address is registered.
    ///
    /// # Errors
    /// Store errors only.
    pub async fn forgot_password(&self, email: &Email, context: &RequestContext) -> Result<(), ServiceError> {
        let job = NewJob { kind: PASSWORD_RESET_MAIL.to_owned(), payload: email.to_string(), max_attempts: 5 };
        // One indexed read whether or not the address is registered; the event names the
        // account when there is one (the response never does).
        let subject = self.users.find_by_login(email.as_str()).await?.map(|u| u.id);
        let now = self.clock.now();
        let event =
            AuditStamp::new(now, None, context).event(AuditEventType::PasswordResetRequested, subject, json!({}));
        self.jobs.enqueue_audited(&job, now, &[event]).await?;
        Ok(())
    }

    /// # Errors
    /// `InvalidToken` for an unknown, used or expired token.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &Password,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let hash = self.hasher.hash(new_password).await?;
        let now = self.clock.now();
        let stamp = AuditStamp::new(now, None, context);
        match self.tokens.reset_password_audited(&self.issuer.hash_refresh(token), &hash, now, Some(&stamp)).await? {
            Some(user) => {
                tracing::info!(user_id = %user, "password reset; every session revoked");
                announce(self.access_events.as_ref(), AccessEnded::AllSessions { user, except: None }).await;
                Ok(())
            }
            None => Err(ServiceError::InvalidToken),
        }
    }

    /// # Errors
    /// Store errors only.
    pub async fn request_verification(&self, user: &User) -> Result<(), ServiceError> {
        let job = NewJob { kind: VERIFICATION_MAIL.to_owned(), payload: user.id.to_string(), max_attempts: 5 };
        self.jobs.enqueue(&job, self.clock.now()).await?;
        Ok(())
    }

    /// # Errors
    /// `InvalidToken` for an unknown, used or expired token.
    pub async fn verify_email(&self, token: &str, context: &RequestContext) -> Result<User, ServiceError> {
        let now = self.clock.now();
        let stamp = AuditStamp::new(now, None, context);
        self.tokens
            .verify_email_audited(&self.issuer.hash_refresh(token), now, Some(&stamp))
            .await?
            .ok_or(ServiceError::InvalidToken)
    }
}

fn link_mail(to: &User, subject: &str, intro: &str, action: &str, link: &str, expiry: &str) -> Mail {
    Mail {
        to: to.email.to_string(),
        subject: subject.to_owned(),
        text: format!("Hello {},\n\n{intro}\n\n{action}: {link}\n\nThe link works for {expiry}, once.\n", to.username),
        html: format!(
            "<p>Hello {},</p><p>{}</p><p><a href=\"{}\">{}</a></p><p>The link works for {}, once.</p>",
            escape(to.username.as_str()),
            escape(intro),
            escape(link),
            escape(action),
            escape(expiry)
        ),
    }
}

/// What a mailed single-use link is for, and how its mail reads.
struct LinkKind {
    purpose: TokenPurpose,
    ttl: Duration,
    path: &'static str,
    subject: &'static str,
    intro: &'static str,
    action: &'static str,
    expiry: &'static str,
}

const RESET_LINK: LinkKind = LinkKind {
    purpose: TokenPurpose::PasswordReset,
    ttl: RESET_TOKEN_TTL,
    path: "reset-password",
    subject: "Reset your hexgate password",
    intro: "Someone (hopefully you) asked to reset your password.",
    action: "Choose a new password",
    expiry: "one hour",
};

const VERIFY_LINK: LinkKind = LinkKind {
    purpose: TokenPurpose::EmailVerification,
    ttl: VERIFY_TOKEN_TTL,
    path: "verify",
    subject: "Confirm your e-mail address",
    intro: "Please confirm this address for your hexgate account.",
    action: "Confirm my address",
    expiry: "a day",
};

/// What the token-mailing jobs need.
pub struct LinkMailer {
    pub users: Arc<dyn UserRepository>,
    pub tokens: Arc<dyn AccountTokenRepository>,
    pub issuer: Arc<dyn TokenIssuer>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub base_url: String,
}

impl LinkMailer {
    /// Mints a token of `kind` for `user` (stored hashed) and mails its link.
    async fn send(&self, user: &User, kind: &LinkKind) -> Result<(), String> {
        let secret = self.issuer.new_refresh_secret();
        let now = self.clock.now();
        self.tokens.issue(user.id, kind.purpose, &secret.hash, now + kind.ttl, now).await.map_err(|e| e.to_string())?;
        let link = format!("{}/{}?token={}", self.base_url, kind.path, secret.token.expose_secret());
        let mail = link_mail(user, kind.subject, kind.intro, kind.action, &link, kind.expiry);
        self.mailer.send(&mail).await.map_err(|e| e.to_string())
    }
}

/// Mails a reset link to the active account with the address in the payload, if there is one.
pub struct PasswordResetMailJob(pub Arc<LinkMailer>);

#[async_trait]
impl JobHandler for PasswordResetMailJob {
    async fn run(&self, payload: &str) -> Result<(), String> {
        match self.0.users.find_by_login(payload).await.map_err(|e| e.to_string())? {
            Some(user) if user.is_active => self.0.send(&user, &RESET_LINK).await,
            _ => Ok(()),
        }
    }
}

/// Mails a verification link to the user in the payload.
pub struct VerificationMailJob(pub Arc<LinkMailer>);

#[async_trait]
impl JobHandler for VerificationMailJob {
    async fn run(&self, payload: &str) -> Result<(), String> {
        let id: UserId = payload.parse().map_err(|e| format!("bad payload: {e}"))?;
        match self.0.users.get(id).await.map_err(|e| e.to_string())? {
            Some(user) => self.0.send(&user, &VERIFY_LINK).await,
            None => Ok(()),
        }
    }
}
