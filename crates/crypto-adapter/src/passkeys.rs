//! WebAuthn ceremonies by `webauthn-rs` (the relying party's checks: challenge, origin, RP id
//! hash, user presence and verification, signature, sign count). hexgate adds only what the
//! contract asks of the options: a discoverable credential is required (`residentKey:
//! "required"`), and EdDSA is allowed beside ES256 (and RS256, the library's default).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hexgate_domain::User;
use hexgate_ports::{AssertedCredential, CeremonyStart, PasskeyCeremonies, PortError, RegisteredCredential};
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;
use webauthn_rs::prelude::{
    COSEAlgorithm, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Webauthn, WebauthnBuilder,
};

/// The relying party: its id (a domain, `localhost` in development) and the origins pages may
/// run the ceremonies from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAuthnSettings {
    pub rp_id: String,
    pub origins: Vec<String>,
}

impl Default for WebAuthnSettings {
    fn default() -> Self {
        Self { rp_id: "localhost".into(), origins: vec!["http://localhost:8000".into()] }
    }
}

pub struct WebAuthnCeremonies {
    webauthn: Webauthn,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WebAuthnConfigError(String);

impl WebAuthnCeremonies {
    /// # Errors
    /// When an origin is not a URL, or the RP id is not a registrable suffix of the origins.
    pub fn new(settings: &WebAuthnSettings) -> Result<Self, WebAuthnConfigError> {
        let urls: Vec<Url> = settings
            .origins
            .iter()
            .map(|o| Url::parse(o).map_err(|e| WebAuthnConfigError(format!("{o:?} is not a URL: {e}"))))
            .collect::<Result<_, _>>()?;
        let Some((first, rest)) = urls.split_first() else {
            return Err(WebAuthnConfigError("at least one origin is needed".into()));
        };
        let mut builder = WebauthnBuilder::new(&settings.rp_id, first)
            .map_err(|e| WebAuthnConfigError(format!("RP id {:?} with origin {first}: {e}", settings.rp_id)))?
            .rp_name("hexgate");
        for url in rest {
            builder = builder.append_allowed_origin(url);
        }
        let webauthn = builder.build().map_err(|e| WebAuthnConfigError(e.to_string()))?;
        Ok(Self { webauthn })
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> PortError {
    PortError::Internal(format!("{what}: {e}"))
}

fn credential_id_of(passkey: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(passkey.cred_id().as_ref())
}

/// The counter inside a serialised passkey (the library keeps it in its credential).
fn counter_of(serialised: &Value) -> u32 {
    serialised["cred"]["counter"].as_u64().and_then(|c| u32::try_from(c).ok()).unwrap_or(0)
}

impl PasskeyCeremonies for WebAuthnCeremonies {
    fn start_registration(&self, user: &User, existing: &[String]) -> Result<CeremonyStart, PortError> {
        let exclude = existing
            .iter()
            .map(|c| serde_json::from_str::<Passkey>(c).map(|p| p.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| internal("a stored passkey is unreadable", e))?;
        let (ccr, state) = self
            .webauthn
            .start_passkey_registration(user.id.as_uuid(), user.email.as_str(), user.username.as_str(), Some(exclude))
            .map_err(|e| internal("starting a passkey registration", e))?;
        let mut options = serde_json::to_value(&ccr.public_key).map_err(|e| internal("registration options", e))?;
        options["authenticatorSelection"]["residentKey"] = json!("required");
        options["authenticatorSelection"]["requireResidentKey"] = json!(true);
        options["authenticatorSelection"]["userVerification"] = json!("required");
        let eddsa = serde_json::to_value(COSEAlgorithm::EDDSA).map_err(|e| internal("EdDSA", e))?;
        if let Some(params) = options["pubKeyCredParams"].as_array_mut() {
            params.push(json!({"type": "public-key", "alg": -8}));
        }
        let mut state = serde_json::to_value(&state).map_err(|e| internal("registration state", e))?;
        if let Some(algs) = state["rs"]["credential_algorithms"].as_array_mut() {
            algs.push(eddsa);
        }
        Ok(CeremonyStart { options, state: state.to_string() })
    }

    fn finish_registration(&self, state: &str, response: &Value) -> Result<Option<RegisteredCredential>, PortError> {
        let state: PasskeyRegistration =
            serde_json::from_str(state).map_err(|e| internal("a stored registration state is unreadable", e))?;
        let Ok(response) = serde_json::from_value::<RegisterPublicKeyCredential>(response.clone()) else {
            return Ok(None);
        };
        let passkey = match self.webauthn.finish_passkey_registration(&response, &state) {
            Ok(passkey) => passkey,
            Err(e) => {
                tracing::info!(error = %e, "passkey registration does not verify");
                return Ok(None);
            }
        };
        let serialised = serde_json::to_value(&passkey).map_err(|e| internal("serialising a passkey", e))?;
        Ok(Some(RegisteredCredential {
            credential_id: credential_id_of(&passkey),
            sign_count: counter_of(&serialised),
            credential: serialised.to_string(),
        }))
    }

    fn start_login(&self) -> Result<CeremonyStart, PortError> {
        let (rcr, state) =
            self.webauthn.start_discoverable_authentication().map_err(|e| internal("starting a passkey login", e))?;
        let mut options = serde_json::to_value(&rcr.public_key).map_err(|e| internal("login options", e))?;
        // Discoverable credentials: the authenticator offers what it holds for this RP.
        options["allowCredentials"] = json!([]);
        let state = serde_json::to_string(&state).map_err(|e| internal("login state", e))?;
        Ok(CeremonyStart { options, state })
    }

    fn identify(&self, response: &Value) -> Option<(Uuid, String)> {
        let response = serde_json::from_value::<PublicKeyCredential>(response.clone()).ok()?;
        let (user, credential_id) = self.webauthn.identify_discoverable_authentication(&response).ok()?;
        Some((user, URL_SAFE_NO_PAD.encode(credential_id)))
    }

    fn finish_login(
        &self,
        state: &str,
        response: &Value,
        credential: &str,
    ) -> Result<Option<AssertedCredential>, PortError> {
        let state: DiscoverableAuthentication =
            serde_json::from_str(state).map_err(|e| internal("a stored login state is unreadable", e))?;
        let mut passkey: Passkey =
            serde_json::from_str(credential).map_err(|e| internal("a stored passkey is unreadable", e))?;
        let Ok(response) = serde_json::from_value::<PublicKeyCredential>(response.clone()) else {
            return Ok(None);
        };
        let key = DiscoverableKey::from(&passkey);
        let result = match self.webauthn.finish_discoverable_authentication(&response, state, &[key]) {
            Ok(result) => result,
            Err(e) => {
                tracing::info!(error = %e, "passkey assertion does not verify");
                return Ok(None);
            }
        };
        passkey.update_credential(&result);
        let serialised = serde_json::to_string(&passkey).map_err(|e| internal("serialising a passkey", e))?;
        Ok(Some(AssertedCredential { credential: serialised, sign_count: result.counter() }))
    }
}
