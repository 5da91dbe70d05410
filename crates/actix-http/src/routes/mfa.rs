use actix_web::HttpRequest;
use actix_web::web::{Data, Json, Path};
use apistos::actix::{CreatedJson, NoContent};
use apistos::api_operation;

use crate::client_ip::ClientIp;
use crate::dto::{
    MfaStatusResponse, MfaVerify, PasswordConfirm, RecoveryCodesResponse, TokenResponse, TotpConfirm,
    TotpEnrolmentResponse, UserPath,
};
use crate::extract::{Context, SessionUser, ValidJson};
use crate::{ApiError, HttpState};

/// My second factors
///
/// Whether TOTP is on, how many recovery codes are left, how many passkeys are registered.
/// Not with an API key.
#[api_operation(operation_id = "mfa_status", tag = "mfa")]
pub(crate) async fn mfa_status(state: Data<HttpState>, user: SessionUser) -> Result<Json<MfaStatusResponse>, ApiError> {
    Ok(Json(state.mfa.status(&user.0).await?.into()))
}

/// Start a TOTP enrolment
///
/// A fresh secret (and its `otpauth://` URI for a QR code), pending until confirmed; starting
/// again replaces a pending secret. 409 `conflict` when TOTP is already on. Not with an API key.
#[api_operation(operation_id = "start_totp", tag = "mfa")]
pub(crate) async fn start_totp(
    state: Data<HttpState>,
    user: SessionUser,
) -> Result<CreatedJson<TotpEnrolmentResponse>, ApiError> {
    Ok(CreatedJson(state.mfa.start_totp(&user.0).await?.into()))
}

/// Confirm the TOTP enrolment
///
/// With a code from the app (the previous and next 30-second step are accepted too). TOTP is on
/// from now, and the ten recovery codes are in this answer only. A wrong code is 401
/// `mfa_code_invalid`; nothing pending is 409 `conflict`.
#[api_operation(operation_id = "confirm_totp", tag = "mfa")]
pub(crate) async fn confirm_totp(
    state: Data<HttpState>,
    user: SessionUser,
    context: Context,
    body: ValidJson<TotpConfirm>,
) -> Result<Json<RecoveryCodesResponse>, ApiError> {
    Ok(Json(state.mfa.confirm_totp(&user.0, &body.0, &context.0).await?.into()))
}

/// Turn TOTP off
///
/// Needs the password (wrong: 400 `password_incorrect`). The recovery codes go too.
#[api_operation(operation_id = "disable_totp", tag = "mfa")]
pub(crate) async fn disable_totp(
    state: Data<HttpState>,
    user: SessionUser,
    context: Context,
    body: ValidJson<PasswordConfirm>,
) -> Result<NoContent, ApiError> {
    state.mfa.disable_totp(&user.0, &body.0, &context.0).await?;
    Ok(NoContent)
}

/// Make new recovery codes
///
/// Needs the password and TOTP on (else 409 `conflict`). The old codes stop working; the new
/// ones are in this answer only.
#[api_operation(operation_id = "regenerate_recovery_codes", tag = "mfa")]
pub(crate) async fn regenerate_recovery_codes(
    state: Data<HttpState>,
    user: SessionUser,
    context: Context,
    body: ValidJson<PasswordConfirm>,
) -> Result<Json<RecoveryCodesResponse>, ApiError> {
    Ok(Json(state.mfa.regenerate_recovery_codes(&user.0, &body.0, &context.0).await?.into()))
}

/// Finish a login with a second factor
///
/// The `mfa_token` of the 403 `mfa_required` answer to `POST /auth/token`, with a TOTP `code`
/// or a `recovery_code`. A wrong or replayed code is 401 `mfa_code_invalid`; the fifth wrong code
/// kills the token, and wrong codes count toward the account's failed-login limit (429). An
/// unknown, spent, expired or killed token is 401 `not_authenticated`.
#[api_operation(operation_id = "verify_mfa", tag = "mfa")]
pub(crate) async fn verify_mfa(
    req: HttpRequest,
    state: Data<HttpState>,
    context: Context,
    body: ValidJson<MfaVerify>,
) -> Result<Json<TokenResponse>, ApiError> {
    let step = body.0;
    let user_agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let ip = ClientIp::of(&req).0.map(|ip| ip.to_string());
    let result = state.mfa.verify(&step.mfa_token, step.proof, user_agent, ip, &context.0).await;
    if let Some(outcome) = super::auth::login_outcome(&result) {
        state.metrics.login(outcome);
    }
    Ok(Json(result?.into()))
}

/// Reset a user's second factors (admin)
///
/// For a user who lost every factor: their TOTP, recovery codes and passkeys are removed, so they
/// log in with the password alone and enrol again. Audited with the admin as actor. Only with a
/// session (not an API key); an unknown user is 404.
#[api_operation(operation_id = "reset_second_factors", tag = "mfa")]
pub(crate) async fn reset_second_factors(
    state: Data<HttpState>,
    admin: SessionUser,
    context: Context,
    path: Path<UserPath>,
) -> Result<NoContent, ApiError> {
    state.mfa.reset_for_user(&admin.0, hexgate_domain::UserId::from_uuid(path.id), &context.0).await?;
    Ok(NoContent)
}
