use actix_web::body::BoxBody;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder};
use apistos::ApiComponent;
use apistos::reference_or::ReferenceOr;
use apistos::schemars::JsonSchema;
use apistos::{ApistosSchema, OpenApiVersion};
use chrono::{DateTime, Utc};
use hexgate_ports::{Discovery, PublicJwk, SigningKeyView};
use serde::Serialize;

/// A public signing key as a JSON Web Key (RFC 8037).
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", "use": "sig", "alg": "EdDSA"}))]
pub struct JwkResponse {
    /// Always `OKP`.
    pub kty: &'static str,
    /// Always `Ed25519`.
    pub crv: &'static str,
    /// The public key, base64url without padding.
    pub x: String,
    /// The key id tokens name in their header; the RFC 7638 thumbprint of the key.
    pub kid: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: &'static str,
    /// Always `EdDSA`.
    pub alg: &'static str,
}

impl From<PublicJwk> for JwkResponse {
    fn from(jwk: PublicJwk) -> Self {
        Self { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, key_use: jwk.key_use, alg: jwk.alg }
    }
}

/// The keys that verify access tokens: the active one and every rotated-out one whose tokens may
/// still be valid. Empty with `JWT_ALGORITHM=HS256`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct JwksResponse {
    pub keys: Vec<JwkResponse>,
}

/// Discovery metadata (the subset of OpenID Connect Discovery a JWT library needs).
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"issuer": "hexgate", "jwks_uri": "https://auth.example.com/.well-known/jwks.json", "token_endpoint": "https://auth.example.com/api/v1/auth/token", "id_token_signing_alg_values_supported": ["EdDSA"], "token_endpoint_auth_methods_supported": ["none"], "grant_types_supported": ["password", "refresh_token"], "response_types_supported": ["token"], "subject_types_supported": ["public"], "scopes_supported": []}))]
pub struct OpenIdConfigurationResponse {
    /// The `iss` claim of every access token (`JWT_ISSUER`).
    pub issuer: String,
    pub jwks_uri: String,
    pub token_endpoint: String,
    /// The algorithm access tokens are signed with (hexgate issues no ID tokens; libraries read
    /// this field to know which algorithm to accept).
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
}

impl From<Discovery> for OpenIdConfigurationResponse {
    fn from(d: Discovery) -> Self {
        Self {
            issuer: d.issuer,
            jwks_uri: d.jwks_uri,
            token_endpoint: d.token_endpoint,
            id_token_signing_alg_values_supported: d.signing_algorithms,
            token_endpoint_auth_methods_supported: vec!["none"],
            grant_types_supported: vec!["password", "refresh_token"],
            response_types_supported: vec!["token"],
            subject_types_supported: vec!["public"],
            scopes_supported: vec![],
        }
    }
}

/// A signing key as admins see it: never any private material.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct SigningKeyResponse {
    pub kid: String,
    pub alg: String,
    pub created_at: DateTime<Utc>,
    /// When a newer key took over signing; `null` for the active key.
    pub rotated_at: Option<DateTime<Utc>>,
    /// When the key left the JWKS (every token it signed had expired); `null` while it verifies.
    pub retired_at: Option<DateTime<Utc>>,
    /// Whether this key signs new tokens.
    pub active: bool,
}

impl From<SigningKeyView> for SigningKeyResponse {
    fn from(v: SigningKeyView) -> Self {
        Self {
            kid: v.kid,
            alg: v.alg,
            created_at: v.created_at,
            rotated_at: v.rotated_at,
            retired_at: v.retired_at,
            active: v.active,
        }
    }
}

/// A 200 JSON body that shared caches may keep for five minutes (`Cache-Control: public,
/// max-age=300`): the JWKS, so verifying services do not ask on every token.
pub struct PublicCached<T>(pub T);

impl<T: Serialize> Responder for PublicCached<T> {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse<Self::Body> {
        HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(&self.0)
    }
}

impl<T: ApiComponent> ApiComponent for PublicCached<T> {
    fn child_schemas(oas_version: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        T::child_schemas(oas_version)
    }

    fn raw_schema(oas_version: OpenApiVersion) -> Option<ReferenceOr<ApistosSchema>> {
        T::raw_schema(oas_version)
    }

    fn schema(oas_version: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        T::schema(oas_version)
    }
}
