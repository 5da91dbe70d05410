//! The outermost layer: request id, access log, panics turned into 500s, and every error that
//! did not come from our own code (actix's 404/405/413…) rewritten into the contract's shape.

use hexgate_ports::ErrorCode;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};
use futures_util::FutureExt;

use actix_web::web::Data;
use tracing::Instrument;

use super::{request_id, trace};
use crate::HttpState;
use crate::client_ip::ClientIp;
use crate::error::ApiError;

pub(crate) async fn envelope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = request_id::accept_or_generate(req.headers().get(request_id::HEADER));
    let method = req.method().clone();
    let pattern = req.match_pattern();
    let route = pattern.clone().unwrap_or_else(|| "<unmatched>".to_owned());
    let client = ClientIp::of(req.request()).to_string();
    let metrics = req.app_data::<Data<HttpState>>().map(|state| state.metrics.clone());
    let span = trace::server_span(&req, &id, pattern.as_deref(), &client);
    // Counted by pattern, never by literal path: an id in a label would be a series per id.
    let done = |status: u16| {
        trace::finish(&span, status);
        span.in_scope(|| log_access(&id, &method, &route, status, started, &client));
        if let Some(metrics) = &metrics {
            metrics.http_request(method.as_str(), pattern.as_deref().unwrap_or("unmatched"), status, started.elapsed());
        }
    };

    let outcome =
        AssertUnwindSafe(request_id::scope(id.clone(), next.call(req))).catch_unwind().instrument(span.clone()).await;
    // The request cannot be cloned before routing (actix needs it unshared), so the rare paths
    // without a response (an inner Err, a panic) answer through an error rendered here, in scope.
    let mut response = match outcome {
        Ok(Ok(res)) => normalise(res.map_into_boxed_body(), &id),
        Ok(Err(err)) => {
            let res = request_id::sync_scope(id.clone(), || err.error_response());
            let status = res.status();
            done(status.as_u16());
            return Err(Rendered::new(status, ApiError::from_status(status), &id).into());
        }
        Err(_) => {
            span.in_scope(|| tracing::error!(request_id = %id, %method, %route, "handler panicked"));
            done(500);
            let err = ApiError::new(ErrorCode::Internal, "Internal server error");
            return Err(Rendered::new(StatusCode::INTERNAL_SERVER_ERROR, err, &id).into());
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HeaderName::from_static(request_id::HEADER), value);
    }
    done(response.status().as_u16());
    Ok(response)
}

fn log_access(id: &str, method: &actix_web::http::Method, route: &str, status: u16, started: Instant, client: &str) {
    let duration_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    tracing::info!(target: "hexgate::access", request_id = %id, method = %method, route = %route, status, duration_ms, client = %client, "request");
}

/// An error already in the contract's shape, with its request id, for the paths where actix
/// renders the response after this middleware has returned.
#[derive(Debug)]
struct Rendered {
    status: StatusCode,
    body: crate::dto::ErrorBody,
    request_id: String,
}

impl Rendered {
    fn new(status: StatusCode, err: ApiError, id: &str) -> Self {
        Self { status, body: err.body(id.to_owned()), request_id: id.to_owned() }
    }
}

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body.detail)
    }
}

impl ResponseError for Rendered {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).insert_header((request_id::HEADER, self.request_id.clone())).json(&self.body)
    }
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

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test, web};

    use super::envelope;

    #[allow(clippy::unused_async)]
    async fn boom() -> HttpResponse {
        panic!("a bug in a handler")
    }

    #[actix_web::test]
    async fn a_panicking_handler_answers_500_in_the_error_shape_with_its_request_id() {
        let app = test::init_service(App::new().wrap(from_fn(envelope)).route("/boom", web::get().to(boom))).await;
        let req = test::TestRequest::get().uri("/boom").insert_header(("x-request-id", "panic-1")).to_request();
        let err = test::try_call_service(&app, req).await.expect_err("rendered by actix after the middleware");
        let res = err.error_response();
        assert_eq!(res.status(), 500);
        assert_eq!(res.headers().get("x-request-id").expect("id"), "panic-1");
        let body = actix_web::body::to_bytes(res.into_body()).await.expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"detail": "Internal server error", "code": "internal", "errors": null, "request_id": "panic-1"})
        );
    }

    #[actix_web::test]
    async fn actix_own_errors_are_rewritten_into_the_error_shape() {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(envelope))
                .service(web::resource("/only-get").route(web::get().to(HttpResponse::Ok))),
        )
        .await;
        let req = test::TestRequest::post().uri("/only-get").to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 405);
        assert_eq!(res.headers().get("allow").expect("allow"), "GET");
        let id = res.headers().get("x-request-id").expect("id").to_str().expect("ascii").to_owned();
        let body: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(body["detail"], "Method not allowed");
        assert_eq!(body["code"], "method_not_allowed");
        assert_eq!(body["request_id"], id);
    }
}
