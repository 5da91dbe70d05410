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
use hexgate_domain::mfa::mfa_token_ttl;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::{
    AccessClaims, AccountTokenRepository, AuditLog, AuditStamp, Clock, MfaChallenge, MfaRepository, PasswordHasher,
    RateLimiter, RefreshOutcome, RequestContext, Resource, RevocationList, ServiceError, SessionRepository,
    TokenIssuer, TokenPurpose, UserRepository,
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
    /// Second factors: with TOTP on, a right password gets an `mfa_token`, not a session.
    mfa: Option<Arc<dyn MfaRepository>>,
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
            mfa: None,
        }
    }

    /// Asks for the second factor of users who have one (see `MfaService`).
    #[must_use]
    pub fn with_mfa(mut self, mfa: Arc<dyn MfaRepository>) -> Self {
        self.mfa = Some(mfa);
        self
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
    /// With TOTP on, the right password gets `MfaRequired` with a fresh `mfa_token` instead of a
    /// session, and the failure count is not reset: only a completed second step resets it, so
    /// wrong codes keep counting toward the same limit across `mfa_token`s.
    ///
    /// # Errors
    /// `InvalidCredentials`, `TooManyAttempts`, `InactiveUser`, `MfaRequired`, or a store error.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, attempt: LoginAttempt, context: &RequestContext) -> Result<TokenPair, ServiceError> {
        let login = attempt.login.trim().to_lowercase();
        let user = if login.is_empty() { None } else { self.users.find_by_login(&login).await? };
        let account_key = match &user {
            Some(user) => failure_key(user.id),
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
        if !user.is_active {
            self.counters.clear(&account_key).await?;
            self.record(context, AuditEventType::LoginFailed, subject, json!({"reason": "inactive_user"})).await?;
            return Err(ServiceError::InactiveUser);
        }
        if let Some(challenge) = self.second_factor_challenge(&user).await? {
            info!(user_id = %user.id, outcome = "mfa_required", "login needs a second factor");
            return Err(ServiceError::MfaRequired(challenge));
        }
        self.counters.clear(&account_key).await?;
        self.open_session(&user, "password", attempt.user_agent, attempt.ip, context).await
    }

    /// An `mfa_token` for `user` when they have TOTP on; `None` otherwise.
    async fn second_factor_challenge(&self, user: &User) -> Result<Option<MfaChallenge>, ServiceError> {
        let Some(mfa) = &self.mfa else { return Ok(None) };
        if !mfa.totp(user.id).await?.is_some_and(|totp| totp.enabled) {
            return Ok(None);
        }
        let token = self.tokens.new_refresh_secret();
        let now = self.clock.now();
        mfa.create_challenge(&token.hash, user.id, now, now + mfa_token_ttl()).await?;
        Ok(Some(MfaChallenge {
            mfa_token: token.token.expose_secret().to_owned(),
            methods: vec!["totp", "recovery_code"],
        }))
    }

    /// Starts a session for a user who has proved who they are (`method`: `password`, `mfa`,
    /// `passkey`, as the `login_succeeded` event says) and hands out its token pair.
    ///
    /// # Errors
    /// Store or signing errors.
    pub async fn open_session(
        &self,
        user: &User,
        method: &'static str,
        user_agent: Option<String>,
        ip: Option<String>,
        context: &RequestContext,
    ) -> Result<TokenPair, ServiceError> {
        let now = self.clock.now();
        let refresh = self.tokens.new_refresh_secret();
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            created_at: now,
            last_used_at: now,
            expires_at: now + self.policy.refresh_ttl,
            user_agent: user_agent.map(|ua| truncate(&ua, 256)),
            ip,
        };
        let event = self.stamp(Some(user.id), context).event(
            AuditEventType::LoginSucceeded,
            Some(user.id),
            json!({"method": method, "session_id": session.id.to_string()}),
        );
        self.sessions.create_audited(&session, &refresh.hash, &[event]).await?;
        info!(user_id = %user.id, session_id = %session.id, method, outcome = "success", "login");
        let access = self.tokens.issue_access(user.id, session.id).await?;
        Ok(TokenPair {
            access_token: access.token,
            expires_in_secs: access.expires_in_secs,
            refresh_token: refresh.token,
        })
    }

    /// Counts one second-step attempt against `user`'s login-failure limit (the one passwords
    /// count against), before the attempt is checked.
    ///
    /// # Errors
    /// `TooManyAttempts` past the limit (recorded as a failed login); store errors.
    pub async fn count_attempt(&self, user: UserId, context: &RequestContext) -> Result<(), ServiceError> {
        let window = self.counters.hit(&failure_key(user), self.policy.login_failure_window).await?;
        if window.count > self.policy.login_max_failures {
            self.record(context, AuditEventType::LoginFailed, Some(user), json!({"reason": "too_many_attempts"}))
                .await?;
            return Err(ServiceError::TooManyAttempts { retry_after_secs: ceil_secs(window.resets_in) });
        }
        Ok(())
    }

    /// A login of `user` succeeded by another way than a password: their failure count starts
    /// again.
    ///
    /// # Errors
    /// Store errors.
    pub async fn reset_failures(&self, user: UserId) -> Result<(), ServiceError> {
        Ok(self.counters.clear(&failure_key(user)).await?)
    }

    /// Records a failed second step (`reason`: `mfa_code_invalid`, `passkey_invalid`, …).
    ///
    /// # Errors
    /// Store errors.
    pub async fn record_failure(
        &self,
        context: &RequestContext,
        user: Option<UserId>,
        reason: &'static str,
    ) -> Result<(), ServiceError> {
        info!(outcome = "failure", reason, "login failed");
        self.record(context, AuditEventType::LoginFailed, user, json!({"reason": reason})).await
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

/// The per-account failure counter's key for a known user.
fn failure_key(user: UserId) -> String {
    format!("login-failures:user:{user}")
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
