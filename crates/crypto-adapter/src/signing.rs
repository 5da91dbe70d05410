//! EdDSA (Ed25519) access tokens over stored, rotating signing keys.
//!
//! [`SigningKeyRing`] keeps this process's view of the key store: every live key's public half
//! (to verify) and the active key's private half (to sign), read in one query and kept for
//! `KEY_CACHE_SECONDS`. [`EdDsaIssuer`] signs and verifies with it. The rules:
//!
//! - Signing uses the cached active key; once the cache is older than `KEY_CACHE_SECONDS` the next
//!   use reads the store again, so a rotation made on any instance is picked up within that time.
//! - A token naming a `kid` not in the cache (a key made by another instance a moment ago) makes
//!   the ring read the store again, at most once per [`MISS_RELOAD_INTERVAL`], and never when the
//!   cache was read after the token claims to have been issued (then the key, had it existed,
//!   would be in it). At most [`MAX_MISS_WAITERS`] requests wait for that read; more are refused
//!   at once. A flood of random kids thus costs at most one read per interval, however many
//!   requests it holds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration as StdDuration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use hexgate_domain::{SessionId, UserId};
use hexgate_ports::{
    AccessClaims, IssuedAccessToken, KeyRing, KeyUnsealError, OrgClaim, PortError, PublicJwk, RefreshSecret,
    SigningKeyRecord, SigningKeyRepository, TokenHash, TokenIssuer, TokenRejection,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sha2::{Digest, Sha256};
use tracing::{error, warn};

use crate::jwt::{Claims, JwtConfig, decode_claims, new_claims, new_claims_for, sign, validation};
use crate::refresh;
use crate::seal::Sealer;
use crate::verified::VerifiedTokens;

/// The most often a `kid` this process has not cached makes it read the store.
pub const MISS_RELOAD_INTERVAL: StdDuration = StdDuration::from_millis(500);

/// How many requests with an unknown `kid` may wait for the next read at once; past that they are
/// refused at once (a flood of random kids costs neither reads nor parked requests).
pub const MAX_MISS_WAITERS: usize = 16;

/// The JWS algorithm of access tokens (`JWT_ALGORITHM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// Ed25519 over the stored keys; verifiable by anyone from the JWKS.
    EdDsa,
    /// HMAC-SHA256 with `SECRET_KEY`; only holders of the secret can verify.
    Hs256,
}

impl JwtAlgorithm {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Hs256 => "HS256",
        }
    }
}

/// Counters of the key cache, for tests and operators.
#[derive(Debug, Default)]
pub struct KeyCacheStats {
    store_reads: AtomicU64,
}

impl KeyCacheStats {
    /// How many times the key store has been read by this process.
    #[must_use]
    pub fn store_reads(&self) -> u64 {
        self.store_reads.load(Ordering::Relaxed)
    }
}

/// What one read of the store gave.
struct KeySet {
    /// When the read began (`None`: never read).
    read_at: Option<Instant>,
    /// The same moment on the wall clock, comparable with a token's `iat`.
    read_at_unix: i64,
    verifying: HashMap<String, DecodingKey>,
    /// The active key's id and private half; `None` when it does not open (see `reload`).
    signing: Option<(String, EncodingKey)>,
}

impl KeySet {
    fn empty() -> Self {
        Self { read_at: None, read_at_unix: i64::MIN, verifying: HashMap::new(), signing: None }
    }
}

/// One request waiting for a read of the store, counted while it waits (also when it is dropped
/// mid-wait, its client gone).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    /// `None` when [`MAX_MISS_WAITERS`] already wait.
    fn join(waiters: &'a AtomicUsize) -> Option<Self> {
        let waiting = Self(waiters);
        (waiters.fetch_add(1, Ordering::AcqRel) < MAX_MISS_WAITERS).then_some(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// This process's signing keys: the store behind them, the secret that opens them, the cache.
pub struct SigningKeyRing {
    store: Arc<dyn SigningKeyRepository>,
    sealer: Sealer,
    algorithm: JwtAlgorithm,
    cache_for: StdDuration,
    keys: RwLock<Arc<KeySet>>,
    /// One reload at a time; those waiting use its result.
    reloading: tokio::sync::Mutex<()>,
    /// Requests with an unknown kid waiting for a read now.
    miss_waiters: AtomicUsize,
    stats: Arc<KeyCacheStats>,
}

/// The HKDF purpose the signing keys are sealed under.
const SEAL_PURPOSE: &str = "signing-keys";

/// PKCS#8 v1 for an Ed25519 private key is this fixed prefix and the 32-byte seed (RFC 8410);
/// jsonwebtoken wants that DER. Built by ed25519-dalek's own encoder below.
fn pkcs8_der(seed: &[u8; 32]) -> Result<Vec<u8>, PortError> {
    let document = SigningKey::from_bytes(seed)
        .to_pkcs8_der()
        .map_err(|e| PortError::Internal(format!("pkcs8 encoding failed: {e}")))?;
    Ok(document.as_bytes().to_vec())
}

/// The RFC 7638 thumbprint of an Ed25519 public key: a stable, standard `kid`.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

impl SigningKeyRing {
    /// `secret` is `SECRET_KEY`; the sealing key is derived from it.
    #[must_use]
    pub fn new(
        store: Arc<dyn SigningKeyRepository>,
        secret: &[u8],
        algorithm: JwtAlgorithm,
        cache_for: StdDuration,
    ) -> Self {
        Self {
            store,
            sealer: Sealer::new(secret, SEAL_PURPOSE),
            algorithm,
            cache_for,
            keys: RwLock::new(Arc::new(KeySet::empty())),
            reloading: tokio::sync::Mutex::new(()),
            miss_waiters: AtomicUsize::new(0),
            stats: Arc::new(KeyCacheStats::default()),
        }
    }

    #[must_use]
    pub fn stats(&self) -> Arc<KeyCacheStats> {
        self.stats.clone()
    }

    fn snapshot(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn is_stale(&self, set: &KeySet) -> bool {
        set.read_at.is_none_or(|at| at.elapsed() >= self.cache_for)
    }

    fn open_seed(&self, key: &SigningKeyRecord) -> Result<[u8; 32], KeyUnsealError> {
        let unsealed = self.sealer.open(&key.kid, &key.sealed_private_key);
        unsealed
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
            .ok_or_else(|| KeyUnsealError { kid: key.kid.clone() })
    }

    /// Reads the store unless a read began after `arrived`, waiting until `min_gap` after the
    /// previous read began. Concurrent callers share one read.
    async fn reload_after(&self, arrived: Instant, min_gap: StdDuration) -> Result<(), PortError> {
        let _one_at_a_time = self.reloading.lock().await;
        let current = self.snapshot();
        if let Some(read_at) = current.read_at {
            if read_at >= arrived {
                return Ok(());
            }
            let next = read_at + min_gap;
            if next > Instant::now() {
                tokio::time::sleep_until(next.into()).await;
            }
        }
        let read_at = Instant::now();
        let read_at_unix = Utc::now().timestamp();
        self.stats.store_reads.fetch_add(1, Ordering::Relaxed);
        let live = match self.store.live().await {
            Ok(live) => live,
            Err(e) => {
                // Keep serving what is cached; try again no sooner than the miss interval.
                let mut stale = KeySet::empty();
                stale.read_at = Some(read_at);
                stale.read_at_unix = current.read_at_unix;
                stale.verifying.clone_from(&current.verifying);
                stale.signing.clone_from(&current.signing);
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(stale);
                return Err(e);
            }
        };
        let mut set = KeySet { read_at: Some(read_at), read_at_unix, verifying: HashMap::new(), signing: None };
        for key in &live {
            let x = URL_SAFE_NO_PAD.encode(&key.public_key);
            match DecodingKey::from_ed_components(&x) {
                Ok(decoding) => {
                    set.verifying.insert(key.kid.clone(), decoding);
                }
                Err(e) => error!(kid = %key.kid, error = %e, "a stored signing key's public half is unusable"),
            }
            if key.is_active() {
                match self.open_seed(key) {
                    Ok(seed) => set.signing = Some((key.kid.clone(), EncodingKey::from_ed_der(&pkcs8_der(&seed)?))),
                    Err(e) => error!(error = %e, "the active signing key cannot sign here"),
                }
            }
        }
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
        Ok(())
    }

    /// The cached keys, read again first when older than `KEY_CACHE_SECONDS`.
    async fn fresh(&self) -> Arc<KeySet> {
        let set = self.snapshot();
        if !self.is_stale(&set) {
            return set;
        }
        if let Err(e) = self.reload_after(Instant::now(), MISS_RELOAD_INTERVAL).await {
            warn!(error = %e, "signing keys could not be read again; using the cached ones");
        }
        self.snapshot()
    }

    /// The verifying key for `kid`, reading the store for a kid not cached unless the cache was
    /// read after `issued_at` (the token's unverified `iat`) or a read was made too recently.
    async fn verifying_key(&self, kid: &str, issued_at: i64, leeway: i64) -> Option<DecodingKey> {
        let arrived = Instant::now();
        let set = self.fresh().await;
        if let Some(key) = set.verifying.get(kid) {
            return Some(key.clone());
        }
        // The cache was read after this token was (it says) issued: its key would be there.
        if set.read_at_unix > issued_at.saturating_add(leeway) {
            return None;
        }
        let waiting = Waiting::join(&self.miss_waiters)?;
        let reloaded = self.reload_after(arrived, MISS_RELOAD_INTERVAL).await;
        drop(waiting);
        if let Err(e) = reloaded {
            warn!(error = %e, "signing keys could not be read for an unknown kid");
        }
        self.snapshot().verifying.get(kid).cloned()
    }

    fn cached_verifying_key(&self, kid: &str) -> Option<DecodingKey> {
        self.snapshot().verifying.get(kid).cloned()
    }
}

#[async_trait]
impl KeyRing for SigningKeyRing {
    fn algorithm(&self) -> &'static str {
        self.algorithm.as_str()
    }

    fn uses_stored_keys(&self) -> bool {
        self.algorithm == JwtAlgorithm::EdDsa
    }

    fn generate(&self, now: DateTime<Utc>) -> Result<SigningKeyRecord, PortError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| PortError::Internal(format!("random source failed: {e}")))?;
        let public_key = SigningKey::from_bytes(&seed).verifying_key().to_bytes().to_vec();
        let kid = thumbprint(&URL_SAFE_NO_PAD.encode(&public_key));
        let sealed_private_key =
            self.sealer.seal(&kid, &seed).map_err(|e| PortError::Internal(format!("sealing failed: {e}")))?;
        seed.fill(0);
        Ok(SigningKeyRecord {
            kid,
            algorithm: JwtAlgorithm::EdDsa.as_str().to_owned(),
            public_key,
            sealed_private_key,
            created_at: now,
            rotated_at: None,
            retired_at: None,
        })
    }

    fn check_unseal(&self, key: &SigningKeyRecord) -> Result<(), KeyUnsealError> {
        self.open_seed(key).map(|mut seed| seed.fill(0))
    }

    fn public_jwk(&self, key: &SigningKeyRecord) -> PublicJwk {
        PublicJwk {
            kid: key.kid.clone(),
            kty: "OKP",
            crv: "Ed25519",
            x: URL_SAFE_NO_PAD.encode(&key.public_key),
            alg: "EdDSA",
            key_use: "sig",
        }
    }

    async fn reload(&self) -> Result<(), PortError> {
        self.reload_after(Instant::now(), StdDuration::ZERO).await
    }
}

/// Access tokens signed with Ed25519 keys from a [`SigningKeyRing`], each naming its key (`kid`).
pub struct EdDsaIssuer {
    ring: Arc<SigningKeyRing>,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    leeway_secs: i64,
    /// Tokens verified in the last second (see `verified.rs`).
    verified: VerifiedTokens,
}

impl EdDsaIssuer {
    #[must_use]
    pub fn new(ring: Arc<SigningKeyRing>, config: &JwtConfig) -> Self {
        Self {
            ring,
            validation: validation(Algorithm::EdDSA, config),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl: config.access_ttl,
            leeway_secs: i64::try_from(config.leeway_secs).unwrap_or(i64::MAX),
            verified: VerifiedTokens::new(i64::try_from(config.leeway_secs).unwrap_or(i64::MAX)),
        }
    }

    /// Signs `claims` with the active key, naming it in the header.
    async fn issue(&self, claims: Claims) -> Result<IssuedAccessToken, PortError> {
        let keys = self.ring.fresh().await;
        let Some((kid, key)) = &keys.signing else {
            return Err(PortError::Internal(
                "no active signing key opens with this SECRET_KEY (see docs/tokens.md)".to_owned(),
            ));
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        sign(&header, &claims, key, self.access_ttl)
    }

    /// The key id of an `EdDSA` token, refusing any other algorithm before a key is looked at.
    fn kid_of(token: &str) -> Result<String, TokenRejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenRejection::WrongAlgorithm);
        }
        header.kid.ok_or(TokenRejection::UnknownKey)
    }
}

/// The `iat` a token claims, read before its signature is checked: only to decide whether the
/// key store is worth asking about its `kid`.
fn unverified_issued_at(token: &str) -> Result<i64, TokenRejection> {
    let payload = token.split('.').nth(1).ok_or(TokenRejection::Malformed)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenRejection::Malformed)?;
    #[derive(serde::Deserialize)]
    struct IssuedAt {
        iat: i64,
    }
    serde_json::from_slice::<IssuedAt>(&bytes).map(|c| c.iat).map_err(|_| TokenRejection::Malformed)
}

#[async_trait]
impl TokenIssuer for EdDsaIssuer {
    async fn issue_access(&self, user: UserId, session: SessionId) -> Result<IssuedAccessToken, PortError> {
        self.issue(new_claims(&self.issuer, &self.audience, self.access_ttl, user, session)).await
    }

    async fn issue_org_access(
        &self,
        user: UserId,
        session: SessionId,
        org: OrgClaim,
    ) -> Result<IssuedAccessToken, PortError> {
        self.issue(new_claims_for(&self.issuer, &self.audience, self.access_ttl, user, session, Some(org))).await
    }

    async fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        if let Some(claims) = self.verified.get(token) {
            return Ok(claims);
        }
        let kid = Self::kid_of(token)?;
        let issued_at = unverified_issued_at(token)?;
        // A token from the future fails `nbf` anyway: no reason to ask the store about it.
        if issued_at > Utc::now().timestamp().saturating_add(self.leeway_secs) {
            return Err(TokenRejection::NotYetValid);
        }
        let key = self.ring.verifying_key(&kid, issued_at, self.leeway_secs).await.ok_or(TokenRejection::UnknownKey)?;
        let claims = decode_claims(token, &key, &self.validation)?;
        self.verified.put(token, &claims);
        Ok(claims)
    }

    fn verify_access_cached(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        if let Some(claims) = self.verified.get(token) {
            return Ok(claims);
        }
        let kid = Self::kid_of(token)?;
        let key = self.ring.cached_verifying_key(&kid).ok_or(TokenRejection::UnknownKey)?;
        // Not remembered: only `verify_access`, which reads the key store again when the cached
        // keys are stale, vouches for a token (else a retired key's tokens would be honoured from
        // a stale key set for as long as they keep coming).
        decode_claims(token, &key, &self.validation)
    }

    fn new_refresh_secret(&self) -> RefreshSecret {
        refresh::new_secret()
    }

    fn hash_refresh(&self, token: &str) -> TokenHash {
        refresh::hash(token)
    }
}
