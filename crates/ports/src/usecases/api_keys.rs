//! API keys: made and listed by their owner (signed in with a session, never with a key), used as
//! a bearer credential, revoked by deleting them. A key is checked on every request with one
//! indexed read and no cache, so a deleted key is refused at once on every instance.

use std::sync::Arc;

use chrono::Duration;
use hexgate_domain::api_key::{ApiKey, ApiKeyId, ApiKeyName, KEY_PREFIX, SHOWN_PREFIX_LEN, Scope, ScopeSet};
use hexgate_domain::audit::AuditEventType;
use hexgate_domain::{SessionId, User};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tracing::{info, warn};

use crate::{
    AccessClaims, ApiKeyRepository, AuditStamp, Clock, Principal, RequestContext, Resource, ServiceError, TokenIssuer,
};

/// `last_used_at` is written at most this often per key.
pub const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

/// How a request's caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// An access token of a live session.
    Session(AccessClaims),
    /// An API key, which may do only what its scopes allow (and its owner's permissions, checked
    /// as for the owner).
    ApiKey { id: ApiKeyId, scopes: ScopeSet },
}

/// The authenticated caller of a request, whichever credential they used.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub credential: Credential,
}

impl Caller {
    /// The caller as a session, for what only a session may do (managing credentials): an API
    /// key gets `InsufficientScope`.
    ///
    /// # Errors
    /// `InsufficientScope` for an API key.
    pub fn session(&self) -> Result<Principal, ServiceError> {
        match &self.credential {
            Credential::Session(claims) => Ok(Principal { user: self.user.clone(), claims: claims.clone() }),
            Credential::ApiKey { .. } => Err(ServiceError::InsufficientScope),
        }
    }

    /// Checks that the credential covers `needed`: a session covers everything (its limits are
    /// the user's permissions), a key only its scopes. `None` means no scope covers the request.
    ///
    /// # Errors
    /// `InsufficientScope`.
    pub fn require_scope(&self, needed: Option<Scope>) -> Result<(), ServiceError> {
        match (&self.credential, needed) {
            (Credential::Session(_), _) => Ok(()),
            (Credential::ApiKey { scopes, .. }, Some(needed)) if scopes.allows(needed) => Ok(()),
            (Credential::ApiKey { .. }, _) => Err(ServiceError::InsufficientScope),
        }
    }

    #[must_use]
    pub fn is_api_key(&self) -> bool {
        matches!(self.credential, Credential::ApiKey { .. })
    }

    /// The session this caller's credential belongs to, if it is a session.
    #[must_use]
    pub fn session_id(&self) -> Option<SessionId> {
        match &self.credential {
            Credential::Session(claims) => Some(claims.session_id),
            Credential::ApiKey { .. } => None,
        }
    }
}

impl From<Principal> for Caller {
    fn from(p: Principal) -> Self {
        Self { user: p.user, credential: Credential::Session(p.claims) }
    }
}

/// A key to make, from parts that are already valid.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: ApiKeyName,
    pub scopes: ScopeSet,
    /// 1..=365; `None`: the key never expires.
    pub expires_in_days: Option<u16>,
}

/// A key just made: the only time its secret is seen.
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: SecretString,
}

pub struct ApiKeyService {
    keys: Arc<dyn ApiKeyRepository>,
    issuer: Arc<dyn TokenIssuer>,
    clock: Arc<dyn Clock>,
}

impl ApiKeyService {
    #[must_use]
    pub fn new(keys: Arc<dyn ApiKeyRepository>, issuer: Arc<dyn TokenIssuer>, clock: Arc<dyn Clock>) -> Self {
        Self { keys, issuer, clock }
    }

    /// Makes a key for the caller. The secret is `hgk_` and 43 characters of base64url (256
    /// random bits); only its SHA-256 is stored.
    ///
    /// # Errors
    /// `InsufficientScope` when the caller is itself an API key; store errors.
    #[tracing::instrument(skip_all, fields(user_id = %caller.user.id))]
    pub async fn create(
        &self,
        caller: &Caller,
        draft: NewApiKey,
        context: &RequestContext,
    ) -> Result<CreatedApiKey, ServiceError> {
        caller.session()?;
        let now = self.clock.now();
        let stamp = AuditStamp::new(now, Some(caller.user.id), context);
        let random = self.issuer.new_refresh_secret();
        let secret = format!("{KEY_PREFIX}{}", random.token.expose_secret());
        let hash = self.issuer.hash_refresh(&secret);
        let key = ApiKey {
            id: ApiKeyId::new(),
            user_id: caller.user.id,
            name: draft.name,
            scopes: draft.scopes,
            prefix: secret.chars().take(SHOWN_PREFIX_LEN).collect(),
            created_at: stamp.at,
            expires_at: draft.expires_in_days.map(|days| stamp.at + Duration::days(i64::from(days))),
            last_used_at: None,
        };
        let event = stamp.event(
            AuditEventType::ApiKeyCreated,
            Some(caller.user.id),
            json!({"key_id": key.id.to_string(), "name": key.name.as_str(), "prefix": key.prefix,
                   "scopes": key.scopes.names(), "expires_at": key.expires_at}),
        );
        self.keys.create(&key, &hash, &[event]).await?;
        info!(key_id = %key.id, "API key created");
        Ok(CreatedApiKey { key, secret: SecretString::from(secret) })
    }

    /// The caller's keys, newest first (never their secrets).
    ///
    /// # Errors
    /// Store errors.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<ApiKey>, ServiceError> {
        caller.session()?;
        Ok(self.keys.list(caller.user.id).await?)
    }

    /// Deletes one of the caller's keys: it stops working at once, everywhere.
    ///
    /// # Errors
    /// `NotFound` for a key that is not the caller's; `InsufficientScope` for an API key caller.
    pub async fn revoke(&self, caller: &Caller, id: ApiKeyId, context: &RequestContext) -> Result<(), ServiceError> {
        caller.session()?;
        let stamp = AuditStamp::new(self.clock.now(), Some(caller.user.id), context);
        let event = stamp.event(AuditEventType::ApiKeyRevoked, Some(caller.user.id), json!({"key_id": id.to_string()}));
        if self.keys.delete(caller.user.id, id, &[event]).await? {
            info!(key_id = %id, "API key revoked");
            Ok(())
        } else {
            Err(ServiceError::NotFound(Resource::ApiKey))
        }
    }

    /// The key's owner, with the key's scopes. One indexed read; `last_used_at` is written only
    /// when the stored one is a minute old or more.
    ///
    /// # Errors
    /// `Unauthenticated` for an unknown or expired key (a deleted key, or one whose owner was
    /// deleted, is unknown).
    pub async fn authenticate(&self, secret: &str) -> Result<Caller, ServiceError> {
        if !secret.starts_with(KEY_PREFIX) {
            return Err(ServiceError::Unauthenticated);
        }
        let hash = self.issuer.hash_refresh(secret);
        let (key, user) = self.keys.find_by_hash(&hash).await?.ok_or(ServiceError::Unauthenticated)?;
        let now = self.clock.now();
        if key.is_expired(now) {
            return Err(ServiceError::Unauthenticated);
        }
        if key.use_is_worth_recording(now, LAST_USED_GRANULARITY)
            && let Err(err) = self.keys.touch(key.id, now, LAST_USED_GRANULARITY).await
        {
            // Bookkeeping only: a failed write must not refuse a valid key.
            warn!(key_id = %key.id, error = %err, "could not record an API key's use");
        }
        Ok(Caller { user, credential: Credential::ApiKey { id: key.id, scopes: key.scopes } })
    }
}
