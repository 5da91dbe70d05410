//! `GET /metrics`: the Prometheus text exposition, for operators rather than API clients (see
//! docs/observability.md). Kept out of the OpenAPI document on purpose (docs/decisions.md).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse, HttpServer, ResponseError};
use hexgate_ports::Metrics;
use secrecy::{ExposeSecret, SecretString};

use crate::error::ApiError;
use crate::{HttpServerHandle, HttpSettings, HttpState};

pub(crate) const PATH: &str = "/metrics";
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Who may read `/metrics`.
#[derive(Debug, Clone, Default)]
pub enum MetricsAccess {
    /// Anyone (development and tests).
    #[default]
    Open,
    /// Only with `Authorization: Bearer <token>` (production with `METRICS_TOKEN`).
    Bearer(SecretString),
    /// Nobody here: 404 (production without `METRICS_TOKEN`, or served on `METRICS_ADDR` instead).
    Closed,
}

impl MetricsAccess {
    fn allows(&self, req: &HttpRequest) -> bool {
        match self {
            Self::Open => true,
            Self::Closed => false,
            Self::Bearer(token) => req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|given| same(given.trim().as_bytes(), token.expose_secret().as_bytes())),
        }
    }
}

/// Compares without stopping at the first difference, so the time taken says nothing about how
/// much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn not_found() -> HttpResponse {
    ApiError::from_status(actix_web::http::StatusCode::NOT_FOUND).error_response()
}

async fn render(req: &HttpRequest, metrics: &dyn Metrics, access: &MetricsAccess) -> HttpResponse {
    // A refused caller learns nothing, not even that the route exists.
    if !access.allows(req) {
        return not_found();
    }
    match metrics.render().await {
        Some(text) => HttpResponse::Ok().insert_header((header::CONTENT_TYPE, CONTENT_TYPE)).body(text),
        None => not_found(),
    }
}

async fn on_main_listener(req: HttpRequest, state: Data<HttpState>, settings: Data<HttpSettings>) -> HttpResponse {
    render(&req, state.metrics.as_ref(), &settings.metrics).await
}

/// The route on the API's own listener (never rate limited: see middleware/rate_limit.rs).
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(PATH).route(web::get().to(on_main_listener)));
}

struct Separate {
    metrics: Arc<dyn Metrics>,
    access: MetricsAccess,
}

async fn on_separate_listener(req: HttpRequest, this: Data<Separate>) -> HttpResponse {
    render(&req, this.metrics.as_ref(), &this.access).await
}

/// Serves `/metrics` alone on its own listener (`METRICS_ADDR`), e.g. a port only the monitoring
/// network reaches. One worker: a scrape every few seconds needs no more.
///
/// # Errors
/// When the listener cannot be used.
pub fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<dyn Metrics>,
    access: MetricsAccess,
) -> std::io::Result<HttpServerHandle> {
    let data = Data::new(Separate { metrics, access });
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .service(web::resource(PATH).route(web::get().to(on_separate_listener)))
            .default_service(web::to(|| async { not_found() }))
    })
    .workers(1)
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    Ok(HttpServerHandle { server, handle })
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"a"));
    }
}
