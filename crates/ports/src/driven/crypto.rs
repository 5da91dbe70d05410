use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::org::{OrgId, OrgRole};
use hexgate_domain::{Password, PasswordHash, SessionId, UserId};
use secrecy::SecretString;

use crate::PortError;

/// Password hashing. Implementations run the hash on a blocking pool: it is deliberately slow.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// # Errors
    /// [`PortError::Internal`] if the hasher fails (it should not).
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PortError>;

    /// Verifies `password` against `hash`. With `None` it verifies against a fixed dummy hash and
    /// answers `false`, at the same cost, so a login for an unknown user takes as long as one
    /// for a known user.
    ///
    /// # Errors
    /// [`PortError::Internal`] if the blocking pool is gone.
    async fn verify(&self, password: &Password, hash: Option<&PasswordHash>) -> Result<bool, PortError>;
}

/// The claims hexgate reads back from a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub jti: String,
    pub expires_at: DateTime<Utc>,
}

/// The tenant an organization token acts for: written into it as the `org_id` and `org_role`
/// claims, for services that authorize by tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgClaim {
    pub org_id: OrgId,
    pub role: OrgRole,
}

pub struct IssuedAccessToken {
    pub token: SecretString,
    pub expires_in_secs: u64,
}

/// Why an access token was refused. Callers answer 401 for each; the reason is for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Malformed,
    BadSignature,
    Expired,
    NotYetValid,
    WrongAudienceOrIssuer,
    WrongAlgorithm,
    /// A `kid` this service has no live key for: never made here, or retired.
    UnknownKey,
}

/// The SHA-256 of an opaque refresh token, hex-encoded: what the database stores.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// A fresh refresh token: the secret for the client and its hash for storage.
pub struct RefreshSecret {
    pub token: SecretString,
    pub hash: TokenHash,
}

/// Access tokens (signed, short-lived) and refresh tokens (opaque, stored hashed).
///
/// Signing and verifying are `async`: with stored signing keys (`EdDSA`) the issuer may have to
/// read the key store (the active key after a rotation elsewhere, a key it has not cached yet).
#[async_trait]
pub trait TokenIssuer: Send + Sync {
    /// # Errors
    /// [`PortError::Internal`] if signing fails; store errors when the active key must be read.
    async fn issue_access(&self, user: UserId, session: SessionId) -> Result<IssuedAccessToken, PortError>;

    /// An access token like [`Self::issue_access`]'s (same session, same key, same life) that
    /// also carries the `org_id` and `org_role` claims of `org`.
    ///
    /// # Errors
    /// As [`Self::issue_access`].
    async fn issue_org_access(
        &self,
        user: UserId,
        session: SessionId,
        org: OrgClaim,
    ) -> Result<IssuedAccessToken, PortError>;

    /// Checks signature, algorithm, key id, `exp`, `nbf`, `iss` and `aud`. A key id this process
    /// has not cached yet is looked up in the store (a bounded number of times, however many
    /// unknown ids arrive).
    ///
    /// # Errors
    /// The [`TokenRejection`] that applies.
    async fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenRejection>;

    /// The same checks with only what this process already holds: no I/O, ever. For keying rate
    /// limits, never for authorisation.
    ///
    /// # Errors
    /// The [`TokenRejection`] that applies ([`TokenRejection::UnknownKey`] for a key not cached).
    fn verify_access_cached(&self, token: &str) -> Result<AccessClaims, TokenRejection>;

    fn new_refresh_secret(&self) -> RefreshSecret;

    fn hash_refresh(&self, token: &str) -> TokenHash;
}
