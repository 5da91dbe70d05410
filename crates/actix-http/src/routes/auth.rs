use actix_web::HttpRequest;
use actix_web::web::{Data, Json, Path};
use apistos::actix::{AcceptedJson, NoContent};
use apistos::api_operation;
use hexgate_domain::{Password, SessionId};
use hexgate_ports::LoginAttempt;

use crate::client_ip::ClientIp;
use crate::dto::{
    Accepted, ForgotPassword, LogoutRequest, PasswordChange, RefreshRequest, ResetPassword, SessionPath,
    SessionResponse, TokenResponse, VerifyEmail,
};
use crate::extract::{Context, OptionalJson, SessionUser, TokenForm, ValidJson};
use crate::{ApiError, HttpState};

/// Log in (OAuth2 password grant)
///
/// Form-encoded or JSON; `username` may be the username or the e-mail address. A wrong password
/// and an unknown user get the same 401 after the same work. Failed attempts are limited per
/// account (429 with Retry-After), and the route has its own tighter per-IP rate limit.
#[api_operation(operation_id = "login", tag = "auth")]
pub(crate) async fn token(
    req: HttpRequest,
    state: Data<HttpState>,
    context: Context,
    form: TokenForm,
) -> Result<Json<TokenResponse>, ApiError> {
    let form = form.0;
    let attempt = LoginAttempt {
        login: form.username,
        password: Password::candidate(&form.password),
        user_agent: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_owned),
        ip: ClientIp::of(&req).0.map(|ip| ip.to_string()),
    };
    let result = state.auth.login(attempt, &context.0).await;
    if let Some(outcome) = login_outcome(&result) {
        state.metrics.login(outcome);
    }
    Ok(Json(result?.into()))
}

/// `auth_logins_total{outcome}`: what a login attempt came to. A store failure is none of them.
pub(super) fn login_outcome<T>(result: &Result<T, hexgate_ports::ServiceError>) -> Option<hexgate_ports::LoginOutcome> {
    use hexgate_ports::{ErrorCode, LoginOutcome};
    match result {
        Ok(_) => Some(LoginOutcome::Success),
        Err(err) => match err.code() {
            ErrorCode::InvalidCredentials | ErrorCode::InactiveUser | ErrorCode::MfaCodeInvalid => {
                Some(LoginOutcome::Failure)
            }
            ErrorCode::RateLimited => Some(LoginOutcome::Locked),
            ErrorCode::MfaRequired => Some(LoginOutcome::MfaRequired),
            _ => None,
        },
    }
}

/// Exchange a refresh token for a new pair
///
/// The presented token is spent. Presenting a spent token again revokes its whole family —
/// except within the grace window of a concurrent refresh, which gets a valid pair.
#[api_operation(operation_id = "refresh_token", tag = "auth")]
pub(crate) async fn refresh(
    state: Data<HttpState>,
    context: Context,
    body: ValidJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(state.auth.refresh(&body.0.refresh_token, &context.0).await?.into()))
}

/// Log out
///
/// Revokes the access token used (until it expires) and its session; a refresh token in the
/// body has its family revoked too.
#[api_operation(operation_id = "logout", tag = "auth")]
pub(crate) async fn logout(
    state: Data<HttpState>,
    user: SessionUser,
    context: Context,
    body: OptionalJson<LogoutRequest>,
) -> Result<NoContent, ApiError> {
    let refresh = body.0.and_then(|b| b.refresh_token);
    state.auth.logout(&user.0, refresh.as_deref(), &context.0).await?;
    Ok(NoContent)
}

/// Change the password
///
/// Needs the current password; every other session of the user is revoked.
#[api_operation(operation_id = "change_password", tag = "auth")]
pub(crate) async fn change_password(
    state: Data<HttpState>,
    user: SessionUser,
    context: Context,
    body: ValidJson<PasswordChange>,
) -> Result<NoContent, ApiError> {
    let change = body.0;
    state.auth.change_password(&user.0, &change.current, &change.new, &context.0).await?;
    Ok(NoContent)
}

/// List my live sessions
#[api_operation(operation_id = "list_sessions", tag = "auth")]
pub(crate) async fn list_sessions(
    state: Data<HttpState>,
    user: SessionUser,
) -> Result<Json<Vec<SessionResponse>>, ApiError> {
    let sessions = state.auth.sessions(&user.0).await?;
    Ok(Json(sessions.into_iter().map(SessionResponse::from).collect()))
}

/// Revoke one of my sessions
///
/// Its refresh tokens and access tokens stop working at once. Another user's session is 404.
#[api_operation(operation_id = "revoke_session", tag = "auth")]
pub(crate) async fn revoke_session(
    state: Data<HttpState>,
    user: SessionUser,
    context: Context,
    path: Path<SessionPath>,
) -> Result<NoContent, ApiError> {
    state.auth.revoke_session(&user.0, SessionId::from_uuid(path.id), &context.0).await?;
    Ok(NoContent)
}

/// Ask for a password-reset link
///
/// Always 202, whether or not the address is registered, after the same work: a background job
/// mails a single-use link (valid one hour) if there is an active account.
#[api_operation(operation_id = "forgot_password", tag = "auth")]
pub(crate) async fn forgot_password(
    state: Data<HttpState>,
    context: Context,
    body: ValidJson<ForgotPassword>,
) -> Result<AcceptedJson<Accepted>, ApiError> {
    state.account.forgot_password(&body.0, &context.0).await?;
    Ok(AcceptedJson(Accepted { detail: "If the address is registered, a reset link is on its way" }))
}

/// Set a new password with a mailed token
///
/// The token is single-use; every session of the user is revoked. A bad, used or expired token is 400.
#[api_operation(operation_id = "reset_password", tag = "auth")]
pub(crate) async fn reset_password(
    state: Data<HttpState>,
    context: Context,
    body: ValidJson<ResetPassword>,
) -> Result<NoContent, ApiError> {
    let reset = body.0;
    state.account.reset_password(&reset.token, &reset.password, &context.0).await?;
    Ok(NoContent)
}

/// Ask for an e-mail verification link
///
/// A background job mails a single-use link (valid a day).
#[api_operation(operation_id = "request_verification", tag = "auth")]
pub(crate) async fn request_verification(
    state: Data<HttpState>,
    user: SessionUser,
) -> Result<AcceptedJson<Accepted>, ApiError> {
    state.account.request_verification(&user.0.user).await?;
    Ok(AcceptedJson(Accepted { detail: "A verification link is on its way" }))
}

/// Verify an e-mail address with a mailed token
///
/// Answers the user, now `is_verified: true`. A bad, used or expired token is 400.
#[api_operation(operation_id = "verify_email", tag = "auth")]
pub(crate) async fn verify_email(
    state: Data<HttpState>,
    context: Context,
    body: ValidJson<VerifyEmail>,
) -> Result<Json<crate::dto::UserResponse>, ApiError> {
    Ok(Json(state.account.verify_email(&body.0.token, &context.0).await?.into()))
}
