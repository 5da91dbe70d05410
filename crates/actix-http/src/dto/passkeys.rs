use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use chrono::{DateTime, Utc};
use garde::Validate;
use hexgate_domain::passkey::{Passkey, PasskeyName};
use hexgate_ports::{FieldViolation, StartedCeremony};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::{IntoDomain, Rules};

/// A WebAuthn ceremony started: name it by `challenge_id` when finishing (within 5 minutes, once).
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"challenge_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b",
    "options": {"challenge": "x3bN…", "rpId": "localhost", "userVerification": "required", "allowCredentials": []}}))]
pub struct PasskeyCeremonyResponse {
    pub challenge_id: Uuid,
    /// For `navigator.credentials.create` (`PublicKeyCredentialCreationOptionsJSON`) or `.get`
    /// (`PublicKeyCredentialRequestOptionsJSON`); binary fields are base64url.
    pub options: serde_json::Value,
}

impl From<StartedCeremony> for PasskeyCeremonyResponse {
    fn from(s: StartedCeremony) -> Self {
        Self { challenge_id: s.challenge_id, options: s.options }
    }
}

/// A passkey as listed.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b", "name": "laptop",
    "created_at": "2026-01-01T00:00:00Z", "last_used_at": null}))]
pub struct PasskeyResponse {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<Passkey> for PasskeyResponse {
    fn from(p: Passkey) -> Self {
        Self {
            id: p.id.as_uuid(),
            name: p.name.as_str().to_owned(),
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

/// The browser's answer to `navigator.credentials.create`, with a name for the passkey.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"challenge_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b", "name": "laptop",
    "credential": {"id": "…", "rawId": "…", "type": "public-key", "response": {"clientDataJSON": "…", "attestationObject": "…"}}}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct PasskeyRegisterFinish {
    pub challenge_id: Uuid,
    /// 1..=100 characters (trimmed), no control characters.
    #[schemars(extend("pattern" = PasskeyName::PATTERN), length(min = 1, max = 100))]
    pub name: String,
    /// `RegistrationResponseJSON` (`PublicKeyCredential.toJSON()`; binary fields base64url).
    pub credential: serde_json::Value,
}

pub(crate) struct RegisterFinish {
    pub challenge_id: Uuid,
    pub name: PasskeyName,
    pub credential: serde_json::Value,
}

impl IntoDomain for PasskeyRegisterFinish {
    type Domain = RegisterFinish;

    fn into_domain(self) -> Result<RegisterFinish, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let name = rules.check("name", PasskeyName::parse(&self.name));
        rules.finish(|| {
            Some(RegisterFinish { challenge_id: self.challenge_id, name: name?, credential: self.credential })
        })
    }
}

/// Starting a passkey login takes nothing (`{}` or no body).
#[derive(Deserialize, JsonSchema, ApiComponent, Validate, Default)]
#[schemars(crate = "apistos", example = serde_json::json!({}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct PasskeyLoginStart {}

crate::extract::as_is!(PasskeyLoginStart);

/// The browser's answer to `navigator.credentials.get`.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"challenge_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b",
    "credential": {"id": "…", "rawId": "…", "type": "public-key",
    "response": {"clientDataJSON": "…", "authenticatorData": "…", "signature": "…", "userHandle": "…"}}}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct PasskeyLoginFinish {
    pub challenge_id: Uuid,
    /// `AuthenticationResponseJSON` (binary fields base64url).
    pub credential: serde_json::Value,
}

crate::extract::as_is!(PasskeyLoginFinish);

#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct PasskeyPath {
    pub id: Uuid,
}
