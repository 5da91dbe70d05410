use actix_web::web::{Data, Json};
use apistos::actix::CreatedJson;
use apistos::api_operation;

use crate::HttpState;
use crate::dto::{JwkResponse, JwksResponse, OpenIdConfigurationResponse, PublicCached, SigningKeyResponse};
use crate::error::ApiError;
use crate::extract::CurrentUser;

/// The public keys that verify access tokens (JWKS)
///
/// Every key that may have signed a still-valid token: the active key and rotated-out keys until
/// their last token has expired. Verify a token by the key whose `kid` its header names. Empty
/// with `JWT_ALGORITHM=HS256`. Cacheable for five minutes.
#[api_operation(operation_id = "jwks", tag = "system")]
pub(crate) async fn jwks(state: Data<HttpState>) -> Result<PublicCached<JwksResponse>, ApiError> {
    let keys = state.signing_keys.jwks().await?;
    Ok(PublicCached(JwksResponse { keys: keys.into_iter().map(JwkResponse::from).collect() }))
}

/// Discovery metadata for JWT libraries
///
/// The issuer tokens carry (`iss`), where the keys are (`jwks_uri`) and which algorithm signs them.
#[api_operation(operation_id = "openid_configuration", tag = "system")]
pub(crate) async fn openid_configuration(
    state: Data<HttpState>,
) -> Result<Json<OpenIdConfigurationResponse>, ApiError> {
    Ok(Json(state.signing_keys.discovery().into()))
}

/// Rotate the signing key (admin)
///
/// A new key signs every token from now on (on every instance within `KEY_CACHE_SECONDS`); the
/// old one keeps verifying, and stays in the JWKS, until every token it signed has expired.
/// Answers the new key's public JWK.
#[api_operation(operation_id = "rotate_signing_key", tag = "admin")]
pub(crate) async fn rotate_signing_key(
    state: Data<HttpState>,
    caller: CurrentUser,
) -> Result<CreatedJson<JwkResponse>, ApiError> {
    Ok(CreatedJson(state.signing_keys.rotate(&caller.0.user).await?.into()))
}

/// List signing keys (admin)
///
/// Every key, newest first, retired ones included. Never any private material.
#[api_operation(operation_id = "list_signing_keys", tag = "admin")]
pub(crate) async fn list_signing_keys(
    state: Data<HttpState>,
    caller: CurrentUser,
) -> Result<Json<Vec<SigningKeyResponse>>, ApiError> {
    let keys = state.signing_keys.list(&caller.0.user).await?;
    Ok(Json(keys.into_iter().map(SigningKeyResponse::from).collect()))
}
