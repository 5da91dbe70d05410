//! Passkeys: the stored credentials, the WebAuthn ceremonies in flight (shared by every instance,
//! so one can finish what another started), and the ceremonies' verification, which a
//! well-kept WebAuthn library does in an adapter. What crosses these ports of a credential is
//! opaque to the core: the adapter's own serialised form and a sign count.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::passkey::{CeremonyKind, Passkey, PasskeyId};
use hexgate_domain::{User, UserId};
use serde_json::Value;
use uuid::Uuid;

use crate::{AuditEvent, PortError};

/// A passkey with its credential as the WebAuthn adapter stored it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub passkey: Passkey,
    /// The credential id, base64url: how an assertion names its credential.
    pub credential_id: String,
    /// The adapter's serialised credential (public key, counter, flags).
    pub credential: String,
    /// The authenticator's signature counter as last accepted (0: the authenticator keeps none).
    pub sign_count: u32,
}

impl std::fmt::Debug for StoredPasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPasskey")
            .field("passkey", &self.passkey)
            .field("credential_id", &self.credential_id)
            .field("sign_count", &self.sign_count)
            .finish_non_exhaustive()
    }
}

/// A ceremony just started: the options for the browser, and the state to keep until it finishes.
pub struct CeremonyStart {
    /// `PublicKeyCredentialCreationOptionsJSON` or `PublicKeyCredentialRequestOptionsJSON`.
    pub options: Value,
    /// The adapter's serialised state (the challenge and what it expects).
    pub state: String,
}

/// A credential the registration ceremony accepted.
pub struct RegisteredCredential {
    pub credential_id: String,
    pub credential: String,
    pub sign_count: u32,
}

/// A login assertion the ceremony accepted, and the credential as it is now (counter moved on).
pub struct AssertedCredential {
    pub credential: String,
    pub sign_count: u32,
}

/// Verifies WebAuthn ceremonies (the relying party's side). Each `finish_*` answers `Ok(None)`
/// for a response that does not verify (wrong origin, wrong RP, bad signature, another challenge,
/// a sign count that went backwards); `Err` only when something is wrong on the server.
pub trait PasskeyCeremonies: Send + Sync {
    /// Options asking for a discoverable credential with user verification, excluding `existing`
    /// (the adapter's serialised credentials of the user).
    ///
    /// # Errors
    /// [`PortError::Internal`] when the options cannot be made.
    fn start_registration(&self, user: &User, existing: &[String]) -> Result<CeremonyStart, PortError>;

    /// # Errors
    /// [`PortError::Internal`] when the stored state is unreadable.
    fn finish_registration(&self, state: &str, response: &Value) -> Result<Option<RegisteredCredential>, PortError>;

    /// Options for a discoverable login (no allowed credentials listed).
    ///
    /// # Errors
    /// [`PortError::Internal`] when the options cannot be made.
    fn start_login(&self) -> Result<CeremonyStart, PortError>;

    /// The user handle and credential id (base64url) an assertion claims; `None` when it names
    /// neither. Nothing is verified yet.
    fn identify(&self, response: &Value) -> Option<(Uuid, String)>;

    /// Verifies the assertion against `credential` (the stored one it names).
    ///
    /// # Errors
    /// [`PortError::Internal`] when the stored state or credential is unreadable.
    fn finish_login(
        &self,
        state: &str,
        response: &Value,
        credential: &str,
    ) -> Result<Option<AssertedCredential>, PortError>;
}

/// Where passkeys and ceremonies in flight live.
///
/// # Errors
/// [`PortError::Unavailable`] when the store cannot be reached; [`PortError::NotFound`] from
/// writes naming a user who is gone.
#[async_trait]
pub trait PasskeyRepository: Send + Sync {
    /// Stores a passkey and `events` in one transaction. `false` (nothing written) when the
    /// credential is registered already, to anyone.
    async fn create(&self, passkey: &StoredPasskey, events: &[AuditEvent]) -> Result<bool, PortError>;

    /// The user's passkeys, oldest first.
    async fn list(&self, user: UserId) -> Result<Vec<StoredPasskey>, PortError>;

    async fn count(&self, user: UserId) -> Result<u64, PortError>;

    /// The passkey whose credential id this is.
    async fn find_by_credential_id(&self, credential_id: &str) -> Result<Option<StoredPasskey>, PortError>;

    /// Records a login with the passkey: the credential and sign count move on, `last_used_at`
    /// is set — only if the stored sign count is still `seen` (one conditional write, so two
    /// instances accepting assertions at once cannot move the counter back). `false` otherwise.
    async fn record_use(
        &self,
        id: PasskeyId,
        seen: u32,
        credential: &str,
        sign_count: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, PortError>;

    /// Deletes one of the user's passkeys and writes `events`. `false` when the user has no such
    /// passkey.
    async fn delete(&self, user: UserId, id: PasskeyId, events: &[AuditEvent]) -> Result<bool, PortError>;

    /// Keeps a ceremony's state until `expires_at` (expired ones are dropped on the way).
    async fn put_ceremony(
        &self,
        id: Uuid,
        kind: CeremonyKind,
        user: Option<UserId>,
        state: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError>;

    /// Takes a ceremony out (it can be taken once): its user and state, if it exists, is of
    /// `kind` and has not expired at `now`.
    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: CeremonyKind,
        now: DateTime<Utc>,
    ) -> Result<Option<(Option<UserId>, String)>, PortError>;
}
