//! Signing keys as operators and other services see them: the first key at start-up, rotation,
//! the list, the published JWKS and discovery document, and retirement once a rotated-out key's
//! last token has expired.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hexgate_domain::User;
use tracing::info;

use crate::{Clock, KeyRing, KeyUnsealError, PublicJwk, ServiceError, SigningKeyRecord, SigningKeyRepository};

/// What the key service needs from configuration.
#[derive(Debug, Clone)]
pub struct SigningKeyPolicy {
    /// How long an access token lives: a rotated-out key verifies for this long, plus `leeway`.
    pub access_ttl: Duration,
    /// The clock skew tolerated when checking `exp`.
    pub leeway: Duration,
    /// The `iss` of every token, and the discovery document's `issuer`.
    pub issuer: String,
    /// Where this service is reached from outside (`PUBLIC_BASE_URL`), without a trailing `/`.
    pub public_base_url: String,
}

/// A signing key as `GET /api/v1/admin/signing-keys` and `hexgate keys list` show it: never any
/// private material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyView {
    pub kid: String,
    pub alg: String,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
    pub active: bool,
}

impl From<&SigningKeyRecord> for SigningKeyView {
    fn from(key: &SigningKeyRecord) -> Self {
        Self {
            kid: key.kid.clone(),
            alg: key.algorithm.clone(),
            created_at: key.created_at,
            rotated_at: key.rotated_at,
            retired_at: key.retired_at,
            active: key.is_active(),
        }
    }
}

/// The OpenID-style discovery document: enough for JWT libraries to find the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub issuer: String,
    pub jwks_uri: String,
    pub token_endpoint: String,
    pub signing_algorithms: Vec<&'static str>,
}

/// Why start-up cannot use the stored keys.
#[derive(Debug, thiserror::Error)]
pub enum KeySetupError {
    /// Keys exist that this `SECRET_KEY` cannot open: never replaced silently.
    #[error(
        "the stored signing keys ({}) do not decrypt with this SECRET_KEY. Start with the SECRET_KEY they were made with; making new keys instead would log every user out, so hexgate will not do it by itself (see docs/tokens.md, \"Lost SECRET_KEY\")",
        .0.iter().map(|e| e.kid.as_str()).collect::<Vec<_>>().join(", ")
    )]
    WrongSecret(Vec<KeyUnsealError>),
    #[error(transparent)]
    Store(#[from] ServiceError),
}

pub struct SigningKeyService {
    keys: Arc<dyn SigningKeyRepository>,
    ring: Arc<dyn KeyRing>,
    clock: Arc<dyn Clock>,
    policy: SigningKeyPolicy,
}

impl SigningKeyService {
    #[must_use]
    pub fn new(
        keys: Arc<dyn SigningKeyRepository>,
        ring: Arc<dyn KeyRing>,
        clock: Arc<dyn Clock>,
        policy: SigningKeyPolicy,
    ) -> Self {
        Self { keys, ring, clock, policy }
    }

    /// At start-up: checks that every live key opens with this `SECRET_KEY`, and creates the first
    /// key when there is none (the first instance to start makes it; one wins a race). Does
    /// nothing with `HS256`.
    ///
    /// # Errors
    /// [`KeySetupError::WrongSecret`] when stored keys do not open; store errors.
    pub async fn ensure_key(&self) -> Result<(), KeySetupError> {
        if !self.ring.uses_stored_keys() {
            return Ok(());
        }
        let live = self.keys.live().await.map_err(ServiceError::from)?;
        let unopened: Vec<KeyUnsealError> = live.iter().filter_map(|k| self.ring.check_unseal(k).err()).collect();
        if !unopened.is_empty() {
            return Err(KeySetupError::WrongSecret(unopened));
        }
        if !live.iter().any(SigningKeyRecord::is_active) {
            let first = self.ring.generate(self.clock.now()).map_err(ServiceError::from)?;
            if self.keys.create_first(&first).await.map_err(ServiceError::from)? {
                info!(kid = %first.kid, "created the first signing key");
            }
        }
        self.ring.reload().await.map_err(ServiceError::from)?;
        Ok(())
    }

    /// Rotation by an admin (the HTTP route).
    ///
    /// # Errors
    /// `Forbidden` for a non-admin; store errors.
    pub async fn rotate(&self, actor: &User) -> Result<PublicJwk, ServiceError> {
        require_admin(actor)?;
        self.rotate_as_operator().await
    }

    /// Rotation by the operator (the CLI, which holds the database already): a new key signs from
    /// now on; the old one keeps verifying until its last token has expired.
    ///
    /// # Errors
    /// Store errors.
    pub async fn rotate_as_operator(&self) -> Result<PublicJwk, ServiceError> {
        let now = self.clock.now();
        let key = self.ring.generate(now)?;
        self.keys.rotate(&key, now).await?;
        info!(kid = %key.kid, "signing key rotated");
        // This instance signs with the new key at once; the others within KEY_CACHE_SECONDS.
        self.ring.reload().await?;
        Ok(self.ring.public_jwk(&key))
    }

    /// # Errors
    /// `Forbidden` for a non-admin; store errors.
    pub async fn list(&self, actor: &User) -> Result<Vec<SigningKeyView>, ServiceError> {
        require_admin(actor)?;
        self.list_as_operator().await
    }

    /// Every key, newest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn list_as_operator(&self) -> Result<Vec<SigningKeyView>, ServiceError> {
        Ok(self.keys.list().await?.iter().map(SigningKeyView::from).collect())
    }

    /// The public keys that verify access tokens: every key not retired (none with `HS256`).
    ///
    /// # Errors
    /// Store errors.
    pub async fn jwks(&self) -> Result<Vec<PublicJwk>, ServiceError> {
        if !self.ring.uses_stored_keys() {
            return Ok(Vec::new());
        }
        Ok(self.keys.live().await?.iter().map(|k| self.ring.public_jwk(k)).collect())
    }

    #[must_use]
    pub fn discovery(&self) -> Discovery {
        let base = &self.policy.public_base_url;
        Discovery {
            issuer: self.policy.issuer.clone(),
            jwks_uri: format!("{base}/.well-known/jwks.json"),
            token_endpoint: format!("{base}/api/v1/auth/token"),
            signing_algorithms: vec![self.ring.algorithm()],
        }
    }

    /// The retirement job: retires every key rotated out longer ago than a token lives (plus the
    /// leeway), so no token it signed can still be valid. Safe to run on every instance at once.
    ///
    /// # Errors
    /// Store errors.
    pub async fn retire_expired(&self) -> Result<Vec<String>, ServiceError> {
        let now = self.clock.now();
        let retired = self.keys.retire(now - self.policy.access_ttl - self.policy.leeway, now).await?;
        for kid in &retired {
            info!(%kid, "signing key retired: every token it signed has expired");
        }
        Ok(retired)
    }
}

fn require_admin(actor: &User) -> Result<(), ServiceError> {
    if actor.permissions.is_admin() { Ok(()) } else { Err(ServiceError::Forbidden) }
}
