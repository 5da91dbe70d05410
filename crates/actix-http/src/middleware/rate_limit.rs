//! Per-client, per-route-pattern limits. The client is the user id when a valid bearer token is
//! presented (so users behind one NAT don't share a budget), else the IP. An API key counts
//! against its owner: its lookup (one indexed read) happens here, and the bearer extractors reuse
//! it, so a request made with a key still costs one lookup. All methods on one
//! pattern share a key, and `/api/v1/users/{id}` is one pattern whatever the id.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, HttpMessage, ResponseError};

use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::{HttpSettings, HttpState};

pub(crate) const LOGIN_ROUTE: &str = "/api/v1/auth/token";
const WINDOW: Duration = Duration::from_secs(60);

fn exempt(pattern: &str) -> bool {
    matches!(pattern, "/health" | "/ready" | "/metrics" | "/openapi.json")
        || pattern.starts_with("/docs")
        || pattern.starts_with("/redoc")
        || pattern.starts_with("/chat")
}

fn headers(limit: u64, remaining: u64, reset_secs: u64) -> [(HeaderName, HeaderValue); 3] {
    [
        (HeaderName::from_static("x-ratelimit-limit"), HeaderValue::from(limit)),
        (HeaderName::from_static("x-ratelimit-remaining"), HeaderValue::from(remaining)),
        (HeaderName::from_static("x-ratelimit-reset"), HeaderValue::from(reset_secs)),
    ]
}

pub(crate) async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let pattern = req.match_pattern();
    let (Some(pattern), Some(state), Some(settings)) =
        (pattern, req.app_data::<Data<HttpState>>().cloned(), req.app_data::<Data<HttpSettings>>().cloned())
    else {
        // Unknown routes are answered 404 without touching any store.
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    if exempt(&pattern) {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let (limit, client) = if pattern == LOGIN_ROUTE {
        (settings.login_rate_limit_per_minute, format!("ip:{}", ClientIp::of(req.request())))
    } else {
        let token = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .map(str::to_owned);
        let user = match token {
            Some(key) if crate::extract::is_api_key(&key) => match state.api_keys.authenticate(&key).await {
                Ok(caller) => {
                    let id = caller.user.id;
                    req.extensions_mut().insert(crate::extract::KnownKey(caller));
                    Some(id)
                }
                Err(_) => None,
            },
            Some(token) => state.auth.subject_of(&token),
            None => None,
        };
        let client = user.map_or_else(|| format!("ip:{}", ClientIp::of(req.request())), |id| format!("user:{id}"));
        (settings.rate_limit_per_minute, client)
    };
    let key = format!("rate:{client}:{pattern}");
    let window = match state.limiter.hit(&key, WINDOW).await {
        Ok(window) => window,
        Err(err) => {
            // Limits protect the service; an unreachable counter store must not take it down.
            tracing::warn!(error = %err, "rate limiter unavailable; request not counted");
            return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
        }
    };
    let reset = window.resets_in.as_secs() + u64::from(window.resets_in.subsec_nanos() > 0);
    let remaining = limit.saturating_sub(window.count);
    if window.count > limit {
        state.metrics.rate_limited(&pattern);
        let mut err = ApiError::too_many_requests(reset);
        err.detail = "Rate limit exceeded".into();
        for (name, value) in headers(limit, 0, reset) {
            err = err.with_header(name, value);
        }
        let response = err.error_response();
        return Ok(req.into_response(response));
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    for (name, value) in headers(limit, remaining, reset) {
        res.headers_mut().insert(name, value);
    }
    Ok(res)
}
