//! Passkeys: registration by a signed-in user, discoverable login by anyone. Each ceremony's state
//! is kept in the shared store between its start and its finish (single use, 5 minutes), so any
//! instance finishes what another started. A passkey login is possession plus user verification:
//! it satisfies the second factor and resets the account's failure count.

use std::sync::Arc;

use hexgate_domain::audit::AuditEventType;
use hexgate_domain::passkey::{CeremonyKind, Passkey, PasskeyId, PasskeyName, ceremony_ttl};
use hexgate_domain::{User, UserId};
use serde_json::{Value, json};
use tracing::{info, warn};
use uuid::Uuid;

use crate::{
    AuditStamp, AuthService, Clock, MfaConflict, PasskeyCeremonies, PasskeyCount, PasskeyRepository, PortError,
    Principal, RequestContext, Resource, ServiceError, StoredPasskey, TokenPair, UserRepository,
};

/// A ceremony started: its id (to name it at the finish) and the browser's options.
pub struct StartedCeremony {
    pub challenge_id: Uuid,
    pub options: Value,
}

/// A login with a passkey as it arrives.
pub struct PasskeyLogin {
    pub challenge_id: Uuid,
    pub credential: Value,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

pub struct PasskeyService {
    repo: Arc<dyn PasskeyRepository>,
    ceremonies: Arc<dyn PasskeyCeremonies>,
    users: Arc<dyn UserRepository>,
    auth: Arc<AuthService>,
    clock: Arc<dyn Clock>,
}

impl PasskeyService {
    #[must_use]
    pub fn new(
        repo: Arc<dyn PasskeyRepository>,
        ceremonies: Arc<dyn PasskeyCeremonies>,
        users: Arc<dyn UserRepository>,
        auth: Arc<AuthService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { repo, ceremonies, users, auth, clock }
    }

    async fn keep(&self, kind: CeremonyKind, user: Option<UserId>, state: &str) -> Result<Uuid, ServiceError> {
        let id = Uuid::now_v7();
        let now = self.clock.now();
        self.repo.put_ceremony(id, kind, user, state, now, now + ceremony_ttl()).await?;
        Ok(id)
    }

    /// Starts registering a passkey for the caller.
    ///
    /// # Errors
    /// Store errors.
    pub async fn register_start(&self, principal: &Principal) -> Result<StartedCeremony, ServiceError> {
        let user = &principal.user;
        let existing: Vec<String> = self.repo.list(user.id).await?.into_iter().map(|p| p.credential).collect();
        let started = self.ceremonies.start_registration(user, &existing)?;
        let challenge_id = self.keep(CeremonyKind::Registration, Some(user.id), &started.state).await?;
        Ok(StartedCeremony { challenge_id, options: started.options })
    }

    /// Finishes a registration the caller started.
    ///
    /// # Errors
    /// `InvalidToken` for an unknown, spent, expired or someone else's challenge and for a
    /// response that does not verify; `MfaConflict(PasskeyRegistered)` for a credential
    /// registered already; store errors.
    pub async fn register_finish(
        &self,
        principal: &Principal,
        challenge_id: Uuid,
        name: PasskeyName,
        credential: &Value,
        context: &RequestContext,
    ) -> Result<Passkey, ServiceError> {
        let user = principal.user.id;
        let now = self.clock.now();
        let Some((owner, state)) = self.repo.take_ceremony(challenge_id, CeremonyKind::Registration, now).await? else {
            return Err(ServiceError::InvalidToken);
        };
        if owner != Some(user) {
            return Err(ServiceError::InvalidToken);
        }
        let Some(registered) = self.ceremonies.finish_registration(&state, credential)? else {
            info!(user_id = %user, "passkey registration refused");
            return Err(ServiceError::InvalidToken);
        };
        let passkey = Passkey { id: PasskeyId::new(), user_id: user, name, created_at: now, last_used_at: None };
        let event = AuditStamp::new(now, Some(user), context).event(
            AuditEventType::PasskeyAdded,
            Some(user),
            json!({"passkey_id": passkey.id.to_string(), "name": passkey.name.as_str()}),
        );
        let stored = StoredPasskey {
            passkey: passkey.clone(),
            credential_id: registered.credential_id,
            credential: registered.credential,
            sign_count: registered.sign_count,
        };
        if !self.repo.create(&stored, &[event]).await? {
            return Err(ServiceError::MfaConflict(MfaConflict::PasskeyRegistered));
        }
        info!(user_id = %user, passkey_id = %passkey.id, "passkey added");
        Ok(passkey)
    }

    /// The caller's passkeys, oldest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<Passkey>, ServiceError> {
        Ok(self.repo.list(principal.user.id).await?.into_iter().map(|p| p.passkey).collect())
    }

    /// # Errors
    /// `NotFound` for a passkey that is not the caller's; store errors.
    pub async fn delete(
        &self,
        principal: &Principal,
        id: PasskeyId,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let user = principal.user.id;
        let event = AuditStamp::new(self.clock.now(), Some(user), context).event(
            AuditEventType::PasskeyRemoved,
            Some(user),
            json!({"passkey_id": id.to_string()}),
        );
        if self.repo.delete(user, id, &[event]).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(Resource::Passkey))
        }
    }

    /// Starts a discoverable login (anyone).
    ///
    /// # Errors
    /// Store errors.
    pub async fn login_start(&self) -> Result<StartedCeremony, ServiceError> {
        let started = self.ceremonies.start_login()?;
        let challenge_id = self.keep(CeremonyKind::Login, None, &started.state).await?;
        Ok(StartedCeremony { challenge_id, options: started.options })
    }

    /// Finishes a discoverable login: the assertion must name a registered credential of the user
    /// it claims, verify against the challenge, origin and RP, and move the sign count forward.
    ///
    /// # Errors
    /// `InvalidCredentials` for all of those (and an unknown, spent or expired challenge);
    /// `InactiveUser`; store errors.
    #[tracing::instrument(skip_all)]
    pub async fn login_finish(&self, login: PasskeyLogin, context: &RequestContext) -> Result<TokenPair, ServiceError> {
        let now = self.clock.now();
        let Some((_, state)) = self.repo.take_ceremony(login.challenge_id, CeremonyKind::Login, now).await? else {
            return Err(ServiceError::InvalidCredentials);
        };
        let Some((handle, credential_id)) = self.ceremonies.identify(&login.credential) else {
            return Err(ServiceError::InvalidCredentials);
        };
        let Some(stored) = self.repo.find_by_credential_id(&credential_id).await? else {
            self.auth.record_failure(context, None, "passkey_unknown").await?;
            return Err(ServiceError::InvalidCredentials);
        };
        let user_id = stored.passkey.user_id;
        if handle != user_id.as_uuid() {
            // The authenticator claims another account than the one the credential is registered to.
            self.auth.record_failure(context, Some(user_id), "passkey_invalid").await?;
            return Err(ServiceError::InvalidCredentials);
        }
        let Some(asserted) = self.ceremonies.finish_login(&state, &login.credential, &stored.credential)? else {
            warn!(%user_id, passkey_id = %stored.passkey.id, "passkey assertion refused");
            self.auth.record_failure(context, Some(user_id), "passkey_invalid").await?;
            return Err(ServiceError::InvalidCredentials);
        };
        let moved = self
            .repo
            .record_use(stored.passkey.id, stored.sign_count, &asserted.credential, asserted.sign_count, now)
            .await?;
        if !moved {
            // Another login with this passkey won the race: its counter is the newer one.
            self.auth.record_failure(context, Some(user_id), "passkey_invalid").await?;
            return Err(ServiceError::InvalidCredentials);
        }
        let user: User = self.users.get(user_id).await?.ok_or(ServiceError::InvalidCredentials)?;
        if !user.is_active {
            return Err(ServiceError::InactiveUser);
        }
        self.auth.reset_failures(user.id).await?;
        self.auth.open_session(&user, "passkey", login.user_agent, login.ip, context).await
    }
}

#[async_trait::async_trait]
impl PasskeyCount for PasskeyService {
    async fn passkeys(&self, user: UserId) -> Result<u64, PortError> {
        self.repo.count(user).await
    }
}
