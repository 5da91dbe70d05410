use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use apistos::ApiSecurity;
use hexgate_domain::api_key::KEY_PREFIX;
use hexgate_ports::{Caller, Principal, ServiceError};

use super::scopes::required_scope;
use crate::HttpState;
use crate::error::ApiError;

/// The bearer scheme as the OpenAPI document names it. It takes an access token (a JWT) or an
/// API key (`hgk_…`); the document's description of the scheme lists the keys' scopes.
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

/// Whether a bearer credential is an API key rather than an access token.
pub(crate) fn is_api_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

/// A key the rate limiter already looked up for this request, so the request pays one lookup.
#[derive(Clone)]
pub(crate) struct KnownKey(pub Caller);

async fn resolve(state: Data<HttpState>, token: String, known: Option<KnownKey>) -> Result<Caller, ApiError> {
    let caller = if is_api_key(&token) {
        match known {
            Some(KnownKey(caller)) => caller,
            None => state.api_keys.authenticate(&token).await?,
        }
    } else {
        state.auth.authenticate(&token).await?.into()
    };
    if caller.user.is_active { Ok(caller) } else { Err(ServiceError::InactiveUser.into()) }
}

type Pending<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// The caller of `req`, checked against the scope the route needs when it is an API key.
fn caller_of(req: &HttpRequest) -> Pending<Option<Caller>> {
    let state = req.app_data::<Data<HttpState>>().cloned();
    let token = bearer(req);
    let known = req.extensions().get::<KnownKey>().cloned();
    let req = req.clone();
    Box::pin(async move {
        let state = state.ok_or_else(|| ApiError::from(ServiceError::Internal("state missing".into())))?;
        let Some(token) = token? else { return Ok(None) };
        let caller = resolve(state, token, known).await?;
        caller.require_scope(required_scope(&req, &caller))?;
        Ok(Some(caller))
    })
}

/// The authenticated, active caller, by access token or API key (within the key's scopes for
/// this route). Missing or bad credentials: 401 with `WWW-Authenticate: Bearer`; inactive user:
/// 400; a key without the scope: 403 `insufficient_scope`.
pub(crate) struct CurrentUser(pub Caller);

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pending<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = caller_of(req);
        Box::pin(
            async move { caller.await?.map(CurrentUser).ok_or_else(|| ApiError::unauthorized("Not authenticated")) },
        )
    }
}

/// The caller signed in with a session (an access token), for what an API key may never do:
/// manage credentials. A valid API key gets 403 `insufficient_scope`.
pub(crate) struct SessionUser(pub Principal);

impl FromRequest for SessionUser {
    type Error = ApiError;
    type Future = Pending<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = caller_of(req);
        Box::pin(async move {
            let caller = caller.await?.ok_or_else(|| ApiError::unauthorized("Not authenticated"))?;
            Ok(SessionUser(caller.session()?))
        })
    }
}

/// The caller if credentials are presented (bad ones are still 401), else nobody.
pub(crate) struct MaybeUser(pub Option<Caller>);

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = Pending<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = caller_of(req);
        Box::pin(async move { caller.await.map(MaybeUser) })
    }
}

macro_rules! secured {
    ($($t:ty),*) => {$(
        impl apistos::ApiComponent for $t {
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
    )*};
}
secured!(CurrentUser, SessionUser);

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
