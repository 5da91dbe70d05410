use actix_web::web::{Data, Json, Path};
use apistos::actix::{CreatedJson, NoContent};
use apistos::api_operation;
use hexgate_domain::api_key::ApiKeyId;
use hexgate_ports::Caller;

use crate::dto::{ApiKeyCreate, ApiKeyCreated, ApiKeyPath, ApiKeyResponse};
use crate::extract::{Context, SessionUser, ValidJson};
use crate::{ApiError, HttpState};

/// Make an API key
///
/// For scripts and services acting as you, without a password. The key (`hgk_…`) is in this
/// response only; it is stored as a hash. Send it as `Authorization: Bearer <key>`. Its rights
/// are its scopes intersected with your permissions at the time of use. Not with an API key.
#[api_operation(operation_id = "create_api_key", tag = "api-keys")]
pub(crate) async fn create_api_key(
    state: Data<HttpState>,
    caller: SessionUser,
    context: Context,
    body: ValidJson<ApiKeyCreate>,
) -> Result<CreatedJson<ApiKeyCreated>, ApiError> {
    let created = state.api_keys.create(&Caller::from(caller.0), body.0, &context.0).await?;
    Ok(CreatedJson(created.into()))
}

/// List my API keys
///
/// Newest first, never with their secrets. Not with an API key.
#[api_operation(operation_id = "list_api_keys", tag = "api-keys")]
pub(crate) async fn list_api_keys(
    state: Data<HttpState>,
    caller: SessionUser,
) -> Result<Json<Vec<ApiKeyResponse>>, ApiError> {
    let keys = state.api_keys.list(&Caller::from(caller.0)).await?;
    Ok(Json(keys.into_iter().map(ApiKeyResponse::from).collect()))
}

/// Revoke one of my API keys
///
/// It stops working at once, on every instance. Another user's key is 404. Not with an API key.
#[api_operation(operation_id = "revoke_api_key", tag = "api-keys")]
pub(crate) async fn revoke_api_key(
    state: Data<HttpState>,
    caller: SessionUser,
    context: Context,
    path: Path<ApiKeyPath>,
) -> Result<NoContent, ApiError> {
    state.api_keys.revoke(&Caller::from(caller.0), ApiKeyId::from_uuid(path.id), &context.0).await?;
    Ok(NoContent)
}
