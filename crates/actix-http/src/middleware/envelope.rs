//! The outermost layer: request id, access log, panics turned into 500s, and every error that
//! did not come from our own code (actix's 404/405/413…) rewritten into the contract's shape.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};
use futures_util::FutureExt;

use super::request_id;
use crate::client_ip::ClientIp;
use crate::error::ApiError;

pub(crate) async fn envelope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = request_id::accept_or_generate(req.headers().get(request_id::HEADER));
    let method = req.method().clone();
    let route = req.match_pattern().unwrap_or_else(|| "<unmatched>".to_owned());
    let client = ClientIp::of(req.request()).to_string();
    let http_req = req.request().clone();

    let outcome = AssertUnwindSafe(request_id::scope(id.clone(), next.call(req))).catch_unwind().await;
    let mut response = match outcome {
        Ok(Ok(res)) => normalise(res.map_into_boxed_body(), &id),
        Ok(Err(err)) => {
            let res = request_id::sync_scope(id.clone(), || err.error_response());
            normalise(ServiceResponse::new(http_req, res), &id)
        }
        Err(_) => {
            tracing::error!(request_id = %id, %method, %route, "handler panicked");
            let res = request_id::sync_scope(id.clone(), || {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").error_response()
            });
            ServiceResponse::new(http_req, res)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HeaderName::from_static(request_id::HEADER), value);
    }
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "hexgate::access",
        request_id = %id,
        method = %method,
        route = %route,
        status,
        duration_ms = (duration_ms * 100.0).round() / 100.0,
        client = %client,
        "request"
    );
    Ok(response)
}

/// An error response without a JSON body (actix's own 404, 405, 413, …) gets the error shape; its
/// headers (`Allow` on a 405) are kept.
fn normalise(res: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return res;
    }
    let (req, old) = res.into_parts();
    let mut fresh = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.append_header((name.clone(), value.clone()));
        }
    }
    let body = ApiError::from_status(status).body(id.to_owned());
    ServiceResponse::new(req, fresh.json(body))
}
