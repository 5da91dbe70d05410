use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use hexgate_domain::session::Session;
use hexgate_domain::{Password, SessionId, User};
use secrecy::SecretString;
use tracing::{info, warn};

use super::access::{AccessEnded, AccessEvents, announce};
use hexgate_domain::UserId;
use hexgate_domain::audit::AuditEventType;
use serde_json::{Value, json};

use crate::{
    AccessClaims, AccountTokenRepository, AuditLog, AuditStamp, Clock, PasswordHasher, RateLimiter, RefreshOutcome,
    RequestContext, Resource, RevocationList, ServiceError, SessionRepository, TokenIssuer, TokenPurpose,
    UserRepository,
};

/// The knobs of authentication, from configuration.
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    pub refresh_ttl: Duration,
    pub refresh_reuse_grace: Duration,
    pub login_max_failures: u64,
    pub login_failure_window: StdDuration,
}

/// What a successful login or refresh hands the client.
pub struct TokenPair {
    pub access_token: SecretString,
    pub expires_in_secs: u64,
    pub refresh_token: SecretString,
}

/// A login as typed: `login` is a username or an e-mail address.
pub struct LoginAttempt {
    pub login: String,
    pub password: Password,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub claims: AccessClaims,
}

/// A session as its owner sees it in the sessions list.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub session: Session,
    pub current: bool,
}

pub struct AuthService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    /// The mailed single-use links: a password change kills the reset links sent before it.
    account_tokens: Arc<dyn AccountTokenRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenIssuer>,
    revocations: Arc<dyn RevocationList>,
    counters: Arc<dyn RateLimiter>,
    clock: Arc<dyn Clock>,
    policy: AuthPolicy,
    /// Told when sessions end, so open connections on them (chats) end too.
    access_events: Option<Arc<AccessEvents>>,
    /// Where events with no change of their own go (failed logins, refresh-token reuse).
    audit: Option<Arc<dyn AuditLog>>,
}

impl AuthService {
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        account_tokens: Arc<dyn AccountTokenRepository>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn TokenIssuer>,
        revocations: Arc<dyn RevocationList>,
        counters: Arc<dyn RateLimiter>,
        clock: Arc<dyn Clock>,
        policy: AuthPolicy,
    ) -> Self {
        Self {
            users,
            sessions,
            account_tokens,
            hasher,
            tokens,
            revocations,
            counters,
            clock,
            policy,
            access_events: None,
            audit: None,
        }
    }

    /// Announces every session this service ends (logout, revocation, reuse, password change).
    #[must_use]
    pub fn with_access_events(mut self, events: Arc<AccessEvents>) -> Self {
        self.access_events = Some(events);
        self
    }

    /// Records failed logins and refresh-token reuse in `audit`.
    #[must_use]
    pub fn with_audit(mut self, audit: Arc<dyn AuditLog>) -> Self {
        self.audit = Some(audit);
        self
    }

    fn stamp(&self, actor: Option<UserId>, context: &RequestContext) -> AuditStamp {
        AuditStamp::new(self.clock.now(), actor, context)
    }

    /// Appends an event that records no change of its own.
    async fn record(
        &self,
        context: &RequestContext,
        event_type: AuditEventType,
        subject: Option<UserId>,
        details: Value,
    ) -> Result<(), ServiceError> {
        if let Some(audit) = &self.audit {
            audit.append(&self.stamp(None, context).event(event_type, subject, details)).await?;
        }
        Ok(())
    }

    /// The OAuth2 password grant. A wrong password and an unknown user get the same error after
    /// the same work (one hash verification). Failures are counted per account (user id, or the
    /// normalised name when there is no such user) before the password is checked, so past the
    /// limit even the right password is refused and a 429 confirms nothing.
    ///
    /// # Errors
    /// `InvalidCredentials`, `TooManyAttempts`, `InactiveUser`, or a store error.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, attempt: LoginAttempt, context: &RequestContext) -> Result<TokenPair, ServiceError> {
        let login = attempt.login.trim().to_lowercase();
        let user = if login.is_empty() { None } else { self.users.find_by_login(&login).await? };
        let account_key = match &user {
            Some(user) => format!("login-failures:user:{}", user.id),
            None => format!("login-failures:name:{login}"),
        };
        let window = self.counters.hit(&account_key, self.policy.login_failure_window).await?;
        let subject = user.as_ref().map(|u| u.id);
        if window.count > self.policy.login_max_failures {
            self.record(context, AuditEventType::LoginFailed, subject, json!({"reason": "too_many_attempts"})).await?;
            return Err(ServiceError::TooManyAttempts { retry_after_secs: ceil_secs(window.resets_in) });
        }
        let verified = self.hasher.verify(&attempt.password, user.as_ref().map(|u| &u.password_hash)).await?;
        let user = match user {
            Some(user) if verified => user,
            _ => {
                info!(outcome = "failure", "login failed");
                self.record(context, AuditEventType::LoginFailed, subject, json!({"reason": "invalid_credentials"}))
                    .await?;
                return Err(ServiceError::InvalidCredentials);
            }
        };
        self.counters.clear(&account_key).await?;
        if !user.is_active {
            self.record(context, AuditEventType::LoginFailed, subject, json!({"reason": "inactive_user"})).await?;
            return Err(ServiceError::InactiveUser);
        }
        let now = self.clock.now();
        let refresh = self.tokens.new_refresh_secret();
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            created_at: now,
            last_used_at: now,
            expires_at: now + self.policy.refresh_ttl,
            user_agent: attempt.user_agent.map(|ua| truncate(&ua, 256)),
            ip: attempt.ip,
        };
        let event = self.stamp(Some(user.id), context).event(
            AuditEventType::LoginSucceeded,
            Some(user.id),
            json!({"method": "password", "session_id": session.id.to_string()}),
        );
        self.sessions.create_audited(&session, &refresh.hash, &[event]).await?;
        info!(user_id = %user.id, session_id = %session.id, outcome = "success", "login");
        let access = self.tokens.issue_access(user.id, session.id).await?;
        Ok(TokenPair {
            access_token: access.token,
            expires_in_secs: access.expires_in_secs,
            refresh_token: refresh.token,
        })
    }

    /// Exchanges a refresh token for a new pair (see [`hexgate_domain::session::judge_refresh`]).
    ///
    /// # Errors
    /// `Unauthenticated` for an unknown, expired, revoked or replayed token.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str, context: &RequestContext) -> Result<TokenPair, ServiceError> {
        let presented = self.tokens.hash_refresh(refresh_token);
        let successor = self.tokens.new_refresh_secret();
        let now = self.clock.now();
        let outcome = self
            .sessions
            .refresh(&presented, &successor.hash, now, self.policy.refresh_reuse_grace, now + self.policy.refresh_ttl)
            .await?;
        match outcome {
            RefreshOutcome::Issued { user_id, session_id } => {
                let access = self.tokens.issue_access(user_id, session_id).await?;
                Ok(TokenPair {
                    access_token: access.token,
                    expires_in_secs: access.expires_in_secs,
                    refresh_token: successor.token,
                })
            }
            RefreshOutcome::ReuseDetected { user_id, session_id } => {
                warn!(%user_id, %session_id, "refresh token reuse detected; family revoked");
                announce(
                    self.access_events.as_ref(),
                    AccessEnded::Sessions { user: user_id, sessions: vec![session_id] },
                )
                .await;
                let details = json!({"session_id": session_id.to_string()});
                self.record(context, AuditEventType::RefreshReuseDetected, Some(user_id), details).await?;
                Err(ServiceError::Unauthenticated)
            }
            RefreshOutcome::Invalid => Err(ServiceError::Unauthenticated),
        }
    }

    /// Resolves a bearer token to its user: signature and claims, the revocation list, then one
    /// indexed read that also proves the session is live.
    ///
    /// # Errors
    /// `Unauthenticated` for any bad or revoked token; `Unavailable` when the revocation list
    /// cannot be asked (a revoked token must never get in by default).
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, ServiceError> {
        let claims = self.tokens.verify_access(bearer).await.map_err(|_| ServiceError::Unauthenticated)?;
        if self.revocations.is_revoked(&claims.jti).await? {
            return Err(ServiceError::Unauthenticated);
        }
        let user = self
            .sessions
            .principal(claims.user_id, claims.session_id, self.clock.now())
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        Ok(Principal { user, claims })
    }

    /// The user id a bearer token names, checking only its signature and claims (no store).
    /// For keying rate limits by user; never for authorisation.
    #[must_use]
    pub fn subject_of(&self, bearer: &str) -> Option<hexgate_domain::UserId> {
        self.tokens.verify_access_cached(bearer).ok().map(|claims| claims.user_id)
    }

    /// Like [`Self::authenticate`], and refuses inactive users.
    ///
    /// # Errors
    /// As `authenticate`, plus `InactiveUser`.
    pub async fn authenticate_active(&self, bearer: &str) -> Result<Principal, ServiceError> {
        let principal = self.authenticate(bearer).await?;
        if principal.user.is_active { Ok(principal) } else { Err(ServiceError::InactiveUser) }
    }

    /// Whether what `claims` were issued for still holds: the session is live and its user
    /// exists and is active. For long-lived connections (the chat) checking again after they
    /// started; the token's own expiry is not checked.
    ///
    /// # Errors
    /// Store errors only.
    pub async fn still_allowed(&self, claims: &AccessClaims) -> Result<bool, ServiceError> {
        let user = self.sessions.principal(claims.user_id, claims.session_id, self.clock.now()).await?;
        Ok(user.is_some_and(|user| user.is_active))
    }

    /// Revokes the access token used and its session; a refresh token given too has its own
    /// family revoked when it is the caller's.
    ///
    /// # Errors
    /// Store errors only.
    pub async fn logout(
        &self,
        principal: &Principal,
        refresh_token: Option<&str>,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let mut ended = vec![principal.claims.session_id];
        let user = principal.user.id;
        let stamp = self.stamp(Some(user), context);
        self.revocations.revoke(&principal.claims.jti, principal.claims.expires_at).await?;
        let session = principal.claims.session_id;
        let event = stamp.event(AuditEventType::Logout, Some(user), json!({"session_id": session.to_string()}));
        self.sessions.revoke_audited(user, session, now, &[event]).await?;
        if let Some(token) = refresh_token {
            let hash = self.tokens.hash_refresh(token);
            if let Some(session) = self.sessions.find_by_token(user, &hash).await? {
                let details = json!({"session_id": session.to_string(), "reason": "logout"});
                let event = stamp.event(AuditEventType::SessionRevoked, Some(user), details);
                self.sessions.revoke_audited(user, session, now, &[event]).await?;
                ended.push(session);
            }
        }
        announce(self.access_events.as_ref(), AccessEnded::Sessions { user: principal.user.id, sessions: ended }).await;
        Ok(())
    }

    /// Changes the caller's password, revokes every other session and kills the reset links sent
    /// before the change (a link mailed for the old password must not undo the new one).
    ///
    /// # Errors
    /// `PasswordIncorrect` when `current` is wrong; store errors.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &Password,
        new: &Password,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let user = &principal.user;
        if !self.hasher.verify(current, Some(&user.password_hash)).await? {
            return Err(ServiceError::PasswordIncorrect);
        }
        let hash = self.hasher.hash(new).await?;
        let now = self.clock.now();
        let update = hexgate_domain::UserUpdate { password_hash: Some(hash), ..Default::default() };
        let stamp = AuditStamp::new(now, Some(user.id), context);
        self.users.update_audited(user.id, &update, now, Some(&stamp)).await?;
        let revoked = self.sessions.revoke_all(user.id, Some(principal.claims.session_id), now).await?;
        self.account_tokens.invalidate(user.id, TokenPurpose::PasswordReset, now).await?;
        let except = Some(principal.claims.session_id);
        announce(self.access_events.as_ref(), AccessEnded::AllSessions { user: user.id, except }).await;
        info!(user_id = %user.id, revoked, "password changed");
        Ok(())
    }

    /// # Errors
    /// Store errors only.
    pub async fn sessions(&self, principal: &Principal) -> Result<Vec<SessionView>, ServiceError> {
        let sessions = self.sessions.list_live(principal.user.id, self.clock.now()).await?;
        Ok(sessions
            .into_iter()
            .map(|session| {
                let current = session.id == principal.claims.session_id;
                SessionView { session, current }
            })
            .collect())
    }

    /// # Errors
    /// `NotFound` for a session that is not the caller's (or not live).
    pub async fn revoke_session(
        &self,
        principal: &Principal,
        session: SessionId,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let user = principal.user.id;
        let event = self.stamp(Some(user), context).event(
            AuditEventType::SessionRevoked,
            Some(user),
            json!({"session_id": session.to_string()}),
        );
        if self.sessions.revoke_audited(user, session, self.clock.now(), &[event]).await? {
            announce(self.access_events.as_ref(), AccessEnded::Sessions { user, sessions: vec![session] }).await;
            Ok(())
        } else {
            Err(ServiceError::NotFound(Resource::Session))
        }
    }
}

fn ceil_secs(d: StdDuration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

impl From<crate::TokenRejection> for ServiceError {
    fn from(_: crate::TokenRejection) -> Self {
        Self::Unauthenticated
    }
}
