use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hexgate_domain::{SessionId, UserId};
use hexgate_ports::{
    AccessClaims, IssuedAccessToken, OrgClaim, PortError, RefreshSecret, TokenHash, TokenIssuer, TokenRejection,
};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::refresh;

#[derive(Clone)]
pub struct JwtConfig {
    pub secret: SecretString,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    /// Clock skew tolerated between instances when checking `exp` and `nbf`.
    pub leeway_secs: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the signing key must be at least {min} bytes")]
    KeyTooShort { min: usize },
}

/// HS256 access tokens carrying `sub`, `sid`, `jti`, `iat`, `nbf`, `exp`, `iss` and `aud`.
pub struct JwtIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    sub: Uuid,
    sid: Uuid,
    jti: Uuid,
    iat: i64,
    nbf: i64,
    exp: i64,
    iss: String,
    aud: String,
    /// Organization tokens only: the tenant the token acts for, and the caller's role in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org_role: Option<String>,
}

impl JwtIssuer {
    pub const MIN_KEY_BYTES: usize = 32;

    /// # Errors
    /// [`JwtError::KeyTooShort`] for a key under 32 bytes.
    pub fn new(config: JwtConfig) -> Result<Self, JwtError> {
        let key = config.secret.expose_secret().as_bytes();
        if key.len() < Self::MIN_KEY_BYTES {
            return Err(JwtError::KeyTooShort { min: Self::MIN_KEY_BYTES });
        }
        let validation = validation(Algorithm::HS256, &config);
        Ok(Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            issuer: config.issuer,
            audience: config.audience,
            access_ttl: config.access_ttl,
        })
    }
}

/// The claims of a new access token.
pub(crate) fn new_claims(issuer: &str, audience: &str, ttl: Duration, user: UserId, session: SessionId) -> Claims {
    new_claims_for(issuer, audience, ttl, user, session, None)
}

/// The claims of a new access token, naming an organization when `org` is given.
pub(crate) fn new_claims_for(
    issuer: &str,
    audience: &str,
    ttl: Duration,
    user: UserId,
    session: SessionId,
    org: Option<OrgClaim>,
) -> Claims {
    let now = Utc::now().timestamp();
    Claims {
        sub: user.as_uuid(),
        sid: session.as_uuid(),
        jti: Uuid::new_v4(),
        iat: now,
        nbf: now,
        exp: now + ttl.num_seconds(),
        iss: issuer.to_owned(),
        aud: audience.to_owned(),
        org_id: org.map(|o| o.org_id.as_uuid()),
        org_role: org.map(|o| o.role.as_str().to_owned()),
    }
}

/// The checks every access token gets, for `algorithm`.
pub(crate) fn validation(algorithm: Algorithm, config: &JwtConfig) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = config.leeway_secs;
    validation.validate_nbf = true;
    validation.set_audience(&[&config.audience]);
    validation.set_issuer(&[&config.issuer]);
    validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
    validation
}

/// Verifies `token` with `key` and reads its claims back.
pub(crate) fn decode_claims(
    token: &str,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<AccessClaims, TokenRejection> {
    let data = decode::<Claims>(token, key, validation).map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => TokenRejection::Expired,
        ErrorKind::ImmatureSignature => TokenRejection::NotYetValid,
        ErrorKind::InvalidAudience | ErrorKind::InvalidIssuer => TokenRejection::WrongAudienceOrIssuer,
        ErrorKind::InvalidSignature => TokenRejection::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => TokenRejection::WrongAlgorithm,
        _ => TokenRejection::Malformed,
    })?;
    let claims = data.claims;
    Ok(AccessClaims {
        user_id: UserId::from_uuid(claims.sub),
        session_id: SessionId::from_uuid(claims.sid),
        jti: claims.jti.to_string(),
        expires_at: DateTime::from_timestamp(claims.exp, 0).ok_or(TokenRejection::Malformed)?,
    })
}

/// Signs `claims` under `header`.
pub(crate) fn sign(
    header: &Header,
    claims: &Claims,
    key: &EncodingKey,
    ttl: Duration,
) -> Result<IssuedAccessToken, PortError> {
    let token = encode(header, claims, key).map_err(|e| PortError::Internal(format!("jwt encode failed: {e}")))?;
    Ok(IssuedAccessToken {
        token: SecretString::from(token),
        expires_in_secs: u64::try_from(ttl.num_seconds()).unwrap_or(0),
    })
}

#[async_trait]
impl TokenIssuer for JwtIssuer {
    async fn issue_access(&self, user: UserId, session: SessionId) -> Result<IssuedAccessToken, PortError> {
        let claims = new_claims(&self.issuer, &self.audience, self.access_ttl, user, session);
        sign(&Header::new(Algorithm::HS256), &claims, &self.encoding, self.access_ttl)
    }

    async fn issue_org_access(
        &self,
        user: UserId,
        session: SessionId,
        org: OrgClaim,
    ) -> Result<IssuedAccessToken, PortError> {
        let claims = new_claims_for(&self.issuer, &self.audience, self.access_ttl, user, session, Some(org));
        sign(&Header::new(Algorithm::HS256), &claims, &self.encoding, self.access_ttl)
    }

    async fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        self.verify_access_cached(token)
    }

    fn verify_access_cached(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        decode_claims(token, &self.decoding, &self.validation)
    }

    fn new_refresh_secret(&self) -> RefreshSecret {
        refresh::new_secret()
    }

    fn hash_refresh(&self, token: &str) -> TokenHash {
        refresh::hash(token)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(f)
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn issuer(key: &str) -> JwtIssuer {
        JwtIssuer::new(JwtConfig {
            secret: SecretString::from(key.to_owned()),
            issuer: "hexgate".into(),
            audience: "hexgate-api".into(),
            access_ttl: Duration::minutes(15),
            leeway_secs: 0,
        })
        .expect("valid key")
    }

    fn forge(claims: &serde_json::Value, key: &str) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(key.as_bytes())).expect("encode")
    }

    fn claims(offset_exp: i64, offset_nbf: i64) -> serde_json::Value {
        let now = Utc::now().timestamp();
        serde_json::json!({"sub": Uuid::now_v7(), "sid": Uuid::now_v7(), "jti": Uuid::new_v4(),
            "iat": now, "nbf": now + offset_nbf, "exp": now + offset_exp,
            "iss": "hexgate", "aud": "hexgate-api"})
    }

    #[test]
    fn keys_under_32_bytes_are_refused() {
        let short = JwtIssuer::new(JwtConfig {
            secret: SecretString::from("short".to_owned()),
            issuer: "i".into(),
            audience: "a".into(),
            access_ttl: Duration::minutes(1),
            leeway_secs: 0,
        });
        assert!(matches!(short, Err(JwtError::KeyTooShort { min: 32 })));
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let jwt = issuer(KEY);
        let (user, session) = (UserId::new(), SessionId::new());
        let issued = block(jwt.issue_access(user, session)).expect("issue");
        assert_eq!(issued.expires_in_secs, 900);
        let claims = jwt.verify_access_cached(issued.token.expose_secret()).expect("valid");
        assert_eq!((claims.user_id, claims.session_id), (user, session));
    }

    #[test]
    fn forged_tokens_are_rejected_for_the_right_reason() {
        let jwt = issuer(KEY);
        assert_eq!(jwt.verify_access_cached(&forge(&claims(-3600, -3700), KEY)).unwrap_err(), TokenRejection::Expired);
        assert_eq!(jwt.verify_access_cached(&forge(&claims(3600, 600), KEY)).unwrap_err(), TokenRejection::NotYetValid);
        let other_key = "ffffffffffffffffffffffffffffffff";
        assert_eq!(
            jwt.verify_access_cached(&forge(&claims(3600, 0), other_key)).unwrap_err(),
            TokenRejection::BadSignature
        );
        let mut wrong_aud = claims(3600, 0);
        wrong_aud["aud"] = "someone-else".into();
        assert_eq!(
            jwt.verify_access_cached(&forge(&wrong_aud, KEY)).unwrap_err(),
            TokenRejection::WrongAudienceOrIssuer
        );
        let mut wrong_iss = claims(3600, 0);
        wrong_iss["iss"] = "evil".into();
        assert_eq!(
            jwt.verify_access_cached(&forge(&wrong_iss, KEY)).unwrap_err(),
            TokenRejection::WrongAudienceOrIssuer
        );
        assert!(jwt.verify_access_cached("garbage").is_err());
        assert!(jwt.verify_access_cached("").is_err());
    }

    #[test]
    fn alg_none_and_a_tampered_payload_are_rejected() {
        let jwt = issuer(KEY);
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims(3600, 0).to_string());
        assert!(jwt.verify_access_cached(&format!("{header}.{payload}.")).is_err());

        let good = block(jwt.issue_access(UserId::new(), SessionId::new())).expect("issue");
        let parts: Vec<&str> = good.token.expose_secret().split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
        assert_eq!(jwt.verify_access_cached(&tampered).unwrap_err(), TokenRejection::BadSignature);
    }

    #[test]
    fn a_token_missing_a_required_claim_is_rejected() {
        let jwt = issuer(KEY);
        let mut no_nbf = claims(3600, 0);
        no_nbf.as_object_mut().expect("object").remove("nbf");
        assert!(jwt.verify_access_cached(&forge(&no_nbf, KEY)).is_err());
    }
}
