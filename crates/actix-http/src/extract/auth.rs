use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use apistos::ApiSecurity;
use hexgate_ports::{Principal, ServiceError};

use crate::HttpState;
use crate::error::ApiError;

/// The bearer scheme as the OpenAPI document names it.
#[derive(ApiSecurity)]
#[openapi_security(name = "BearerAuth", scheme(security_type(http(scheme = "bearer", bearer_format = "JWT"))))]
pub(crate) struct BearerAuth;

/// The bearer token of the `Authorization` header: none, or a malformed header (401).
pub(crate) fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("authorization") else { return Ok(None) };
    let value = value.to_str().map_err(|_| ApiError::unauthorized("Could not validate credentials"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized("Could not validate credentials"));
    }
    Ok(Some(token.trim().to_owned()))
}

async fn principal(state: Data<HttpState>, token: String) -> Result<Principal, ApiError> {
    state.auth.authenticate_active(&token).await.map_err(ApiError::from)
}

/// The authenticated, active caller. Missing or bad token: 401 with `WWW-Authenticate: Bearer`;
/// inactive user: 400.
pub(crate) struct CurrentUser(pub Principal);

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<Data<HttpState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::from(ServiceError::Internal("state missing".into())))?;
            let token = token?.ok_or_else(|| ApiError::unauthorized("Not authenticated"))?;
            principal(state, token).await.map(CurrentUser)
        })
    }
}

/// The caller if a token is presented (a bad one is still 401), else nobody.
pub(crate) struct MaybeUser(pub Option<Principal>);

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<Data<HttpState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::from(ServiceError::Internal("state missing".into())))?;
            match token? {
                Some(token) => principal(state, token).await.map(|p| MaybeUser(Some(p))),
                None => Ok(MaybeUser(None)),
            }
        })
    }
}

impl apistos::ApiComponent for CurrentUser {
    fn child_schemas(
        _: apistos::OpenApiVersion,
    ) -> Vec<(String, apistos::reference_or::ReferenceOr<apistos::ApistosSchema>)> {
        vec![]
    }
    fn schema(
        _: apistos::OpenApiVersion,
    ) -> Option<(String, apistos::reference_or::ReferenceOr<apistos::ApistosSchema>)> {
        None
    }
    fn securities() -> std::collections::BTreeMap<String, apistos::security::SecurityScheme> {
        <BearerAuth as apistos::ApiComponent>::securities()
    }
    fn security_requirement_name() -> Option<String> {
        <BearerAuth as apistos::ApiComponent>::security_requirement_name()
    }
}

// Anonymous callers are welcome where MaybeUser is taken, so the operation is not marked secured.
impl apistos::ApiComponent for MaybeUser {
    fn child_schemas(
        _: apistos::OpenApiVersion,
    ) -> Vec<(String, apistos::reference_or::ReferenceOr<apistos::ApistosSchema>)> {
        vec![]
    }
    fn schema(
        _: apistos::OpenApiVersion,
    ) -> Option<(String, apistos::reference_or::ReferenceOr<apistos::ApistosSchema>)> {
        None
    }
}
