//! Second factors: the stored TOTP state, recovery codes and `mfa_token`s, and the crypto that
//! makes and checks codes. The TOTP secret crosses these ports only sealed (an AEAD keyed from
//! `SECRET_KEY`, as signing keys are); recovery codes and `mfa_token`s only as hashes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_domain::mfa::{RecoveryCode, TotpCode};
use secrecy::SecretString;

use crate::{AuditEvent, PortError, TokenHash};

/// A user's TOTP as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpState {
    /// `false`: enrolment started, not confirmed yet.
    pub enabled: bool,
    /// The secret, sealed for its user; only [`SecondFactorCrypto`] opens it.
    pub sealed_secret: Vec<u8>,
    /// The last RFC 6238 step accepted for this account: a code of this step or an earlier one is
    /// never accepted again.
    pub last_step: Option<i64>,
}

impl std::fmt::Debug for TotpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpState")
            .field("enabled", &self.enabled)
            .field("sealed_secret", &"<redacted>")
            .field("last_step", &self.last_step)
            .finish()
    }
}

/// A fresh TOTP secret: sealed for storage, and its base32 text for the user's app (shown once).
pub struct NewTotpSecret {
    pub sealed: Vec<u8>,
    pub base32: SecretString,
}

/// Makes and checks second-factor codes. Cheap (a few HMACs): called on the executor.
pub trait SecondFactorCrypto: Send + Sync {
    /// 160 random bits, sealed for `user` (a sealed secret copied to another user's row does not
    /// open).
    ///
    /// # Errors
    /// [`PortError::Internal`] when the random source fails.
    fn new_totp_secret(&self, user: UserId) -> Result<NewTotpSecret, PortError>;

    /// The RFC 6238 step (SHA-1, 6 digits, 30 s) that `code` is right for, looking at the step of
    /// `now` and the one before and after it; `None` when it is right for none.
    ///
    /// # Errors
    /// [`PortError::Internal`] when the sealed secret does not open (another `SECRET_KEY`).
    fn totp_step(
        &self,
        user: UserId,
        sealed: &[u8],
        code: &TotpCode,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, PortError>;

    /// `n` fresh random recovery codes.
    ///
    /// # Errors
    /// [`PortError::Internal`] when the random source fails.
    fn new_recovery_codes(&self, n: usize) -> Result<Vec<RecoveryCode>, PortError>;

    /// What is stored of a recovery code: a hash bound to its user.
    fn hash_recovery_code(&self, user: UserId, code: &RecoveryCode) -> TokenHash;
}

/// Where TOTP state, recovery codes and `mfa_token`s live, shared by every instance. Every write
/// that changes a user's factors takes `events` and writes them in its transaction.
///
/// # Errors
/// [`PortError::Unavailable`] when the store cannot be reached; [`PortError::NotFound`] when the
/// user is gone.
#[async_trait]
pub trait MfaRepository: Send + Sync {
    /// The user's TOTP, pending or on; `None` when there is none.
    async fn totp(&self, user: UserId) -> Result<Option<TotpState>, PortError>;

    /// Unused recovery codes the user has.
    async fn recovery_codes_left(&self, user: UserId) -> Result<u64, PortError>;

    /// Stores `sealed` as the user's pending secret, replacing a pending one. `false` (nothing
    /// written) when TOTP is on.
    async fn set_pending_totp(&self, user: UserId, sealed: &[u8], now: DateTime<Utc>) -> Result<bool, PortError>;

    /// In one transaction: the pending secret `sealed` is switched on with `step` as its last
    /// accepted step, the recovery codes are replaced by `codes`, and `events` are written.
    /// `false` (nothing written) when that secret is no longer the pending one (replaced, or
    /// switched on by a concurrent request).
    async fn enable_totp(
        &self,
        user: UserId,
        sealed: &[u8],
        step: i64,
        codes: &[TokenHash],
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<bool, PortError>;

    /// Removes the TOTP (pending or on) and every recovery code, and writes `events` when there
    /// was one. `false` when there was none.
    async fn disable_totp(&self, user: UserId, events: &[AuditEvent]) -> Result<bool, PortError>;

    /// Replaces the recovery codes by `codes` and writes `events`, if TOTP is on; `false`
    /// (nothing written) otherwise.
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[TokenHash],
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<bool, PortError>;

    /// Records `step` as the last accepted one if TOTP is on and `step` is later than the last
    /// accepted (one conditional write, so two requests with the same code cannot both win).
    /// `false`: a replay, or TOTP is off.
    async fn accept_totp_step(&self, user: UserId, step: i64) -> Result<bool, PortError>;

    /// Spends one of the user's unused recovery codes and writes `events`, in one transaction.
    /// `false` (nothing written) when there is no such unused code.
    async fn spend_recovery_code(
        &self,
        user: UserId,
        code: &TokenHash,
        events: &[AuditEvent],
    ) -> Result<bool, PortError>;

    /// Stores an `mfa_token` (by hash) for `user`, valid until `expires_at`; expired ones are
    /// dropped on the way.
    async fn create_challenge(
        &self,
        token: &TokenHash,
        user: UserId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError>;

    /// Counts one attempt on a live `mfa_token` that has fewer than `max_attempts` already, in one
    /// conditional write, and names its user. `None`: unknown, spent, expired or out of attempts.
    async fn attempt_challenge(
        &self,
        token: &TokenHash,
        now: DateTime<Utc>,
        max_attempts: i32,
    ) -> Result<Option<UserId>, PortError>;

    /// Spends an `mfa_token`. `false` when it was already gone (a concurrent request spent it).
    async fn spend_challenge(&self, token: &TokenHash) -> Result<bool, PortError>;

    /// Removes every second factor of `user` (TOTP, recovery codes, passkeys, pending
    /// `mfa_token`s) and writes `events`, in one transaction: an administrator's reset for a user
    /// who lost them all.
    async fn remove_every_factor(&self, user: UserId, events: &[AuditEvent]) -> Result<(), PortError>;
}
