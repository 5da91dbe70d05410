//! Second factors: TOTP enrolment (start, confirm), recovery codes, turning TOTP off, and the
//! second step of a login (`/auth/mfa/verify`). Every change is audited in its own transaction.
//! Codes are never replayed: the last accepted TOTP step is kept per account and moved forward
//! by one conditional write, and a recovery code is deleted when spent.

use std::sync::Arc;

use hexgate_domain::audit::AuditEventType;
use hexgate_domain::mfa::{MFA_TOKEN_MAX_ATTEMPTS, RECOVERY_CODE_COUNT, RecoveryCode, SecondFactorProof, TotpCode};
use hexgate_domain::{Password, User, UserId};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tracing::info;

use crate::{
    AuditStamp, AuthService, Clock, MfaConflict, MfaRepository, PasswordHasher, Principal, RequestContext,
    SecondFactorCrypto, ServiceError, TokenIssuer, TokenPair, UserRepository,
};

/// The issuer named in `otpauth://` URIs (and shown by authenticator apps).
pub const TOTP_ISSUER: &str = "hexgate";

/// What a user has of second factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaStatus {
    pub totp: bool,
    pub recovery_codes_left: u64,
    pub passkeys: u64,
}

/// A TOTP enrolment just started: the secret, shown this once, for the user's app.
pub struct TotpEnrolment {
    pub secret: SecretString,
    pub otpauth_uri: SecretString,
}

/// Counts a user's passkeys (for the status); the passkey feature provides it.
#[async_trait::async_trait]
pub trait PasskeyCount: Send + Sync {
    /// # Errors
    /// Store errors.
    async fn passkeys(&self, user: UserId) -> Result<u64, crate::PortError>;
}

pub struct MfaService {
    repo: Arc<dyn MfaRepository>,
    crypto: Arc<dyn SecondFactorCrypto>,
    users: Arc<dyn UserRepository>,
    hasher: Arc<dyn PasswordHasher>,
    issuer: Arc<dyn TokenIssuer>,
    auth: Arc<AuthService>,
    clock: Arc<dyn Clock>,
    passkeys: Option<Arc<dyn PasskeyCount>>,
}

impl MfaService {
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn new(
        repo: Arc<dyn MfaRepository>,
        crypto: Arc<dyn SecondFactorCrypto>,
        users: Arc<dyn UserRepository>,
        hasher: Arc<dyn PasswordHasher>,
        issuer: Arc<dyn TokenIssuer>,
        auth: Arc<AuthService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { repo, crypto, users, hasher, issuer, auth, clock, passkeys: None }
    }

    /// Counts passkeys in the status.
    #[must_use]
    pub fn with_passkeys(mut self, passkeys: Arc<dyn PasskeyCount>) -> Self {
        self.passkeys = Some(passkeys);
        self
    }

    fn stamp(&self, user: UserId, context: &RequestContext) -> AuditStamp {
        AuditStamp::new(self.clock.now(), Some(user), context)
    }

    /// # Errors
    /// Store errors.
    pub async fn status(&self, principal: &Principal) -> Result<MfaStatus, ServiceError> {
        let user = principal.user.id;
        let totp = self.repo.totp(user).await?.is_some_and(|t| t.enabled);
        let recovery_codes_left = if totp { self.repo.recovery_codes_left(user).await? } else { 0 };
        let passkeys = match &self.passkeys {
            Some(p) => p.passkeys(user).await?,
            None => 0,
        };
        Ok(MfaStatus { totp, recovery_codes_left, passkeys })
    }

    /// Starts (or restarts) a TOTP enrolment: a fresh secret, pending until confirmed.
    ///
    /// # Errors
    /// `MfaConflict(AlreadyOn)` when TOTP is on; store errors.
    pub async fn start_totp(&self, principal: &Principal) -> Result<TotpEnrolment, ServiceError> {
        let user = &principal.user;
        let secret = self.crypto.new_totp_secret(user.id)?;
        if !self.repo.set_pending_totp(user.id, &secret.sealed, self.clock.now()).await? {
            return Err(ServiceError::MfaConflict(MfaConflict::AlreadyOn));
        }
        let uri = otpauth_uri(user, secret.base32.expose_secret());
        Ok(TotpEnrolment { secret: secret.base32, otpauth_uri: SecretString::from(uri) })
    }

    /// Switches the pending TOTP on with a code from the user's app, and makes the first
    /// recovery codes (shown this once). The code's step counts as used.
    ///
    /// # Errors
    /// `MfaConflict` when nothing is pending (or TOTP is on already); `MfaCodeInvalid`.
    pub async fn confirm_totp(
        &self,
        principal: &Principal,
        code: &TotpCode,
        context: &RequestContext,
    ) -> Result<Vec<RecoveryCode>, ServiceError> {
        let user = principal.user.id;
        let pending = match self.repo.totp(user).await? {
            Some(totp) if totp.enabled => return Err(ServiceError::MfaConflict(MfaConflict::AlreadyOn)),
            Some(totp) => totp,
            None => return Err(ServiceError::MfaConflict(MfaConflict::NothingPending)),
        };
        let now = self.clock.now();
        let Some(step) = self.crypto.totp_step(user, &pending.sealed_secret, code, now)? else {
            return Err(ServiceError::MfaCodeInvalid);
        };
        let codes = self.crypto.new_recovery_codes(RECOVERY_CODE_COUNT)?;
        let hashes: Vec<_> = codes.iter().map(|c| self.crypto.hash_recovery_code(user, c)).collect();
        let event = self.stamp(user, context).event(
            AuditEventType::MfaEnabled,
            Some(user),
            json!({"method": "totp", "recovery_codes": codes.len()}),
        );
        if !self.repo.enable_totp(user, &pending.sealed_secret, step, &hashes, now, &[event]).await? {
            return Err(ServiceError::MfaConflict(MfaConflict::NothingPending));
        }
        info!(user_id = %user, "TOTP enabled");
        Ok(codes)
    }

    /// Turns TOTP off (a pending enrolment too) and deletes the recovery codes.
    ///
    /// # Errors
    /// `PasswordIncorrect`; store errors.
    pub async fn disable_totp(
        &self,
        principal: &Principal,
        password: &Password,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        self.check_password(principal, password).await?;
        let user = principal.user.id;
        let event = self.stamp(user, context).event(AuditEventType::MfaDisabled, Some(user), json!({"method": "totp"}));
        if self.repo.disable_totp(user, &[event]).await? {
            info!(user_id = %user, "TOTP disabled");
        }
        Ok(())
    }

    /// New recovery codes (shown this once); the old ones stop working.
    ///
    /// # Errors
    /// `PasswordIncorrect`; `MfaConflict(NotOn)` without TOTP; store errors.
    pub async fn regenerate_recovery_codes(
        &self,
        principal: &Principal,
        password: &Password,
        context: &RequestContext,
    ) -> Result<Vec<RecoveryCode>, ServiceError> {
        self.check_password(principal, password).await?;
        let user = principal.user.id;
        let codes = self.crypto.new_recovery_codes(RECOVERY_CODE_COUNT)?;
        let hashes: Vec<_> = codes.iter().map(|c| self.crypto.hash_recovery_code(user, c)).collect();
        let event = self.stamp(user, context).event(
            AuditEventType::RecoveryCodesRegenerated,
            Some(user),
            json!({"recovery_codes": codes.len()}),
        );
        if !self.repo.replace_recovery_codes(user, &hashes, self.clock.now(), &[event]).await? {
            return Err(ServiceError::MfaConflict(MfaConflict::NotOn));
        }
        Ok(codes)
    }

    async fn check_password(&self, principal: &Principal, password: &Password) -> Result<(), ServiceError> {
        if self.hasher.verify(password, Some(&principal.user.password_hash)).await? {
            Ok(())
        } else {
            Err(ServiceError::PasswordIncorrect)
        }
    }

    /// An administrator removes every second factor of a user who lost them all (TOTP, recovery
    /// codes, passkeys); the user then logs in with the password alone and enrols again. Audited
    /// as `mfa_disabled` (and `passkey_removed` when there were passkeys) with the admin as actor.
    ///
    /// # Errors
    /// `Forbidden` for a non-admin; `NotFound(User)`; store errors.
    pub async fn reset_for_user(
        &self,
        admin: &Principal,
        user: UserId,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        if !admin.user.permissions.is_admin() {
            return Err(ServiceError::Forbidden);
        }
        if self.users.get(user).await?.is_none() {
            return Err(ServiceError::NotFound(crate::Resource::User));
        }
        self.remove_every_factor(Some(admin.user.id), user, context).await
    }

    /// The operator's reset (`hexgate mfa-reset`, for when no admin can log in): the user named
    /// by username or e-mail. Audited with no actor.
    ///
    /// # Errors
    /// `NotFound(User)`; store errors.
    pub async fn reset_as_operator(&self, login: &str) -> Result<UserId, ServiceError> {
        let login = login.trim().to_lowercase();
        let user = self.users.find_by_login(&login).await?.ok_or(ServiceError::NotFound(crate::Resource::User))?;
        self.remove_every_factor(None, user.id, &RequestContext::default()).await?;
        Ok(user.id)
    }

    async fn remove_every_factor(
        &self,
        actor: Option<UserId>,
        user: UserId,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let totp = self.repo.totp(user).await?.is_some_and(|t| t.enabled);
        let passkeys = match &self.passkeys {
            Some(p) => p.passkeys(user).await?,
            None => 0,
        };
        let stamp = AuditStamp::new(self.clock.now(), actor, context);
        let mut events = vec![stamp.event(
            AuditEventType::MfaDisabled,
            Some(user),
            json!({"reason": "admin_reset", "totp": totp, "passkeys": passkeys}),
        )];
        if passkeys > 0 {
            events.push(stamp.event(
                AuditEventType::PasskeyRemoved,
                Some(user),
                json!({"reason": "admin_reset", "count": passkeys}),
            ));
        }
        self.repo.remove_every_factor(user, &events).await?;
        info!(user_id = %user, actor = ?actor, "second factors reset");
        Ok(())
    }

    /// The second step of a login: the `mfa_token` from the first and a TOTP or recovery code.
    /// Each call spends one of the token's attempts (the fifth wrong code kills it) and counts
    /// against the account's login-failure limit; a right code spends the token, resets the
    /// count and opens a session.
    ///
    /// # Errors
    /// `MfaTokenInvalid` (unknown, spent, expired or killed token), `TooManyAttempts`,
    /// `InactiveUser`, `MfaCodeInvalid` (wrong, replayed or spent code); store errors.
    #[tracing::instrument(skip_all)]
    pub async fn verify(
        &self,
        mfa_token: &str,
        proof: SecondFactorProof,
        user_agent: Option<String>,
        ip: Option<String>,
        context: &RequestContext,
    ) -> Result<TokenPair, ServiceError> {
        let token = self.issuer.hash_refresh(mfa_token);
        let now = self.clock.now();
        let user_id = self
            .repo
            .attempt_challenge(&token, now, MFA_TOKEN_MAX_ATTEMPTS)
            .await?
            .ok_or(ServiceError::MfaTokenInvalid)?;
        let user: User = self.users.get(user_id).await?.ok_or(ServiceError::MfaTokenInvalid)?;
        if !user.is_active {
            return Err(ServiceError::InactiveUser);
        }
        self.auth.count_attempt(user.id, context).await?;
        let right = match &proof {
            SecondFactorProof::Totp(code) => self.accept_totp(&user, code).await?,
            SecondFactorProof::Recovery(code) => {
                let hash = self.crypto.hash_recovery_code(user.id, code);
                let event = self.stamp(user.id, context).event(
                    AuditEventType::RecoveryCodeUsed,
                    Some(user.id),
                    json!({"during": "login"}),
                );
                self.repo.spend_recovery_code(user.id, &hash, &[event]).await?
            }
        };
        if !right {
            self.auth.record_failure(context, Some(user.id), "mfa_code_invalid").await?;
            return Err(ServiceError::MfaCodeInvalid);
        }
        if !self.repo.spend_challenge(&token).await? {
            return Err(ServiceError::MfaTokenInvalid);
        }
        self.auth.reset_failures(user.id).await?;
        self.auth.open_session(&user, "mfa", user_agent, ip, context).await
    }

    /// Whether `code` is right now and of a step later than the last one accepted; if so, its
    /// step becomes the last accepted.
    async fn accept_totp(&self, user: &User, code: &TotpCode) -> Result<bool, ServiceError> {
        let Some(totp) = self.repo.totp(user.id).await?.filter(|t| t.enabled) else { return Ok(false) };
        let Some(step) = self.crypto.totp_step(user.id, &totp.sealed_secret, code, self.clock.now())? else {
            return Ok(false);
        };
        Ok(self.repo.accept_totp_step(user.id, step).await?)
    }
}

/// `otpauth://totp/hexgate:{email}?secret=…&issuer=hexgate&digits=6&period=30&algorithm=SHA1`
/// (the label percent-encoded where an e-mail address may hold characters a URI may not).
fn otpauth_uri(user: &User, secret_base32: &str) -> String {
    let label: String = user
        .email
        .as_str()
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"@.-_~+".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!(
        "otpauth://totp/{TOTP_ISSUER}:{label}?secret={secret_base32}&issuer={TOTP_ISSUER}&digits=6&period=30&algorithm=SHA1"
    )
}
