use actix_web::HttpRequest;
use actix_web::web::{Data, Json, Path};
use apistos::actix::{CreatedJson, NoContent};
use apistos::api_operation;
use hexgate_domain::passkey::PasskeyId;
use hexgate_ports::PasskeyLogin;

use crate::client_ip::ClientIp;
use crate::dto::{
    PasskeyCeremonyResponse, PasskeyLoginFinish, PasskeyLoginStart, PasskeyPath, PasskeyRegisterFinish,
    PasskeyResponse, TokenResponse,
};
use crate::extract::{Context, OptionalJson, SessionUser, ValidJson};
use crate::{ApiError, HttpState};

/// Start registering a passkey
///
/// `options` is for `navigator.credentials.create`: a discoverable credential with user
/// verification, ES256 or EdDSA, the caller's passkeys excluded. Finish within 5 minutes.
/// Not with an API key.
#[api_operation(operation_id = "passkey_register_start", tag = "passkeys")]
pub(crate) async fn register_start(
    state: Data<HttpState>,
    user: SessionUser,
) -> Result<Json<PasskeyCeremonyResponse>, ApiError> {
    Ok(Json(state.passkeys.register_start(&user.0).await?.into()))
}

/// Finish registering a passkey
///
/// With the browser's answer (`none` attestation is accepted). A bad signature, another origin
/// or RP, a spent, expired or someone else's challenge is 400 `invalid_token`; a credential
/// registered already is 409 `conflict`.
#[api_operation(operation_id = "passkey_register_finish", tag = "passkeys")]
pub(crate) async fn register_finish(
    state: Data<HttpState>,
    user: SessionUser,
    context: Context,
    body: ValidJson<PasskeyRegisterFinish>,
) -> Result<CreatedJson<PasskeyResponse>, ApiError> {
    let finish = body.0;
    let passkey = state
        .passkeys
        .register_finish(&user.0, finish.challenge_id, finish.name, &finish.credential, &context.0)
        .await?;
    Ok(CreatedJson(passkey.into()))
}

/// List my passkeys
#[api_operation(operation_id = "list_passkeys", tag = "passkeys")]
pub(crate) async fn list_passkeys(
    state: Data<HttpState>,
    user: SessionUser,
) -> Result<Json<Vec<PasskeyResponse>>, ApiError> {
    Ok(Json(state.passkeys.list(&user.0).await?.into_iter().map(PasskeyResponse::from).collect()))
}

/// Remove one of my passkeys
///
/// Another user's passkey is 404.
#[api_operation(operation_id = "delete_passkey", tag = "passkeys")]
pub(crate) async fn delete_passkey(
    state: Data<HttpState>,
    user: SessionUser,
    context: Context,
    path: Path<PasskeyPath>,
) -> Result<NoContent, ApiError> {
    state.passkeys.delete(&user.0, PasskeyId::from_uuid(path.id), &context.0).await?;
    Ok(NoContent)
}

/// Start a passkey login
///
/// `options` is for `navigator.credentials.get`, with no allowed credentials listed
/// (discoverable credentials). Finish within 5 minutes, on any instance.
#[api_operation(operation_id = "passkey_login_start", tag = "passkeys")]
pub(crate) async fn login_start(
    state: Data<HttpState>,
    _body: OptionalJson<PasskeyLoginStart>,
) -> Result<Json<PasskeyCeremonyResponse>, ApiError> {
    Ok(Json(state.passkeys.login_start().await?.into()))
}

/// Finish a passkey login
///
/// 200 the token pair: a passkey is possession plus user verification, so no second factor is
/// asked, and the account's failure count is reset. An unknown credential, a bad signature, a
/// sign count that went backwards, or a spent or expired challenge is 401 `invalid_credentials`.
#[api_operation(operation_id = "passkey_login_finish", tag = "passkeys")]
pub(crate) async fn login_finish(
    req: HttpRequest,
    state: Data<HttpState>,
    context: Context,
    body: ValidJson<PasskeyLoginFinish>,
) -> Result<Json<TokenResponse>, ApiError> {
    let finish = body.0;
    let login = PasskeyLogin {
        challenge_id: finish.challenge_id,
        credential: finish.credential,
        user_agent: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_owned),
        ip: ClientIp::of(&req).0.map(|ip| ip.to_string()),
    };
    let result = state.passkeys.login_finish(login, &context.0).await;
    if let Some(outcome) = super::auth::login_outcome(&result) {
        state.metrics.login(outcome);
    }
    Ok(Json(result?.into()))
}
