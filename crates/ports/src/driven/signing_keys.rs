//! Signing keys for access tokens: the stored key pairs (private half sealed) and the key ring that
//! makes, opens and caches them.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::PortError;

/// A signing key as the store keeps it. The private half is sealed (an AEAD keyed from
/// `SECRET_KEY`): the store never sees it in the clear.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The key id tokens name in their header (`kid`).
    pub kid: String,
    /// The JWS algorithm (`EdDSA`).
    pub algorithm: String,
    /// The public key, raw (32 bytes for Ed25519).
    pub public_key: Vec<u8>,
    /// The private key, sealed by the key ring; only the key ring can open it.
    pub sealed_private_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
    /// When a newer key took over signing; `None` for the active key.
    pub rotated_at: Option<DateTime<Utc>>,
    /// When the key stopped verifying (every token it signed had expired).
    pub retired_at: Option<DateTime<Utc>>,
}

impl SigningKeyRecord {
    /// The key that signs new tokens.
    #[must_use]
    pub const fn is_active(&self) -> bool {
        self.rotated_at.is_none()
    }

    /// Still verifies tokens (and is published in the JWKS).
    #[must_use]
    pub const fn is_retired(&self) -> bool {
        self.retired_at.is_some()
    }
}

impl fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("sealed_private_key", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("rotated_at", &self.rotated_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// Where signing keys live, shared by every instance. At most one key is active at any time (the
/// SQL adapter holds this with a unique partial index and serialised writes).
#[async_trait]
pub trait SigningKeyRepository: Send + Sync {
    /// Stores `key` as the active key unless there is one already (a first start). Two instances
    /// starting at once end with exactly one active key.
    ///
    /// # Errors
    /// Store errors. Answers `Ok(false)`, not an error, when another key is active.
    async fn create_first(&self, key: &SigningKeyRecord) -> Result<bool, PortError>;

    /// In one step: the active key (if any) is rotated out at `now`, and `key` becomes the active
    /// key. Concurrent rotations are serialised: each one rotates out the key the one before it
    /// made, and one key is active at the end.
    ///
    /// # Errors
    /// Store errors.
    async fn rotate(&self, key: &SigningKeyRecord, now: DateTime<Utc>) -> Result<(), PortError>;

    /// Every key not retired, the active one included, newest first.
    ///
    /// # Errors
    /// Store errors.
    async fn live(&self) -> Result<Vec<SigningKeyRecord>, PortError>;

    /// Every key, retired ones included, newest first.
    ///
    /// # Errors
    /// Store errors.
    async fn list(&self) -> Result<Vec<SigningKeyRecord>, PortError>;

    /// Retires (at `now`) the keys rotated out at or before `rotated_before` and not retired yet;
    /// answers their kids. The active key is never retired.
    ///
    /// # Errors
    /// Store errors.
    async fn retire(&self, rotated_before: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<String>, PortError>;
}

/// A public key as a JSON Web Key (RFC 8037 for Ed25519): what `/.well-known/jwks.json` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    pub kid: String,
    /// `OKP`
    pub kty: &'static str,
    /// `Ed25519`
    pub crv: &'static str,
    /// The public key, base64url without padding.
    pub x: String,
    /// `EdDSA`
    pub alg: &'static str,
    /// `sig`
    pub key_use: &'static str,
}

/// A stored key that does not open with this process's `SECRET_KEY`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing key {kid} does not decrypt with this SECRET_KEY")]
pub struct KeyUnsealError {
    pub kid: String,
}

/// The cryptographic half of signing keys, implemented by the crypto adapter: makes key pairs
/// (sealing their private half), opens stored ones, and keeps this process's cache of them.
#[async_trait]
pub trait KeyRing: Send + Sync {
    /// The JWS algorithm access tokens are signed with here (`EdDSA` or `HS256`).
    fn algorithm(&self) -> &'static str;

    /// Whether tokens are signed with the stored keys (`EdDSA`); `false` for `HS256`, where the
    /// keys play no part and the JWKS is empty.
    fn uses_stored_keys(&self) -> bool;

    /// A fresh key pair, private half sealed, created at `now`, not stored.
    ///
    /// # Errors
    /// [`PortError::Internal`] when the system's random source fails.
    fn generate(&self, now: DateTime<Utc>) -> Result<SigningKeyRecord, PortError>;

    /// Checks that `key`'s private half opens with this process's secret.
    ///
    /// # Errors
    /// [`KeyUnsealError`] when it does not (another `SECRET_KEY`, or a damaged row).
    fn check_unseal(&self, key: &SigningKeyRecord) -> Result<(), KeyUnsealError>;

    /// `key`'s public half as a JWK.
    fn public_jwk(&self, key: &SigningKeyRecord) -> PublicJwk;

    /// Reads the store again now (after a rotation made here, so this instance signs with the new
    /// key at once).
    ///
    /// # Errors
    /// Store errors.
    async fn reload(&self) -> Result<(), PortError>;
}
