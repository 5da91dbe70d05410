use std::collections::BTreeMap;

use actix_web::HttpResponse;
use actix_web::web::{Data, Json};
use apistos::api_operation;
use futures_util::future::join_all;

use crate::HttpState;
use crate::dto::{HealthResponse, NotReadyResponse};
use crate::middleware::request_id;

/// Liveness: answers without touching any dependency
#[api_operation(operation_id = "health", tag = "system")]
pub(crate) async fn health() -> Json<HealthResponse> {
    Json(HealthResponse { status: "healthy" })
}

/// Readiness: the database (and the cache) answer
///
/// 200 when every dependency answers; 503 naming the ones that do not.
#[api_operation(operation_id = "ready", tag = "system")]
pub(crate) async fn ready(state: Data<HttpState>) -> Result<Json<crate::dto::ReadyResponse>, NotReady> {
    let results = join_all(state.readiness.iter().map(|c| async move { (c.name(), c.check().await) })).await;
    let mut checks = BTreeMap::new();
    let mut down = Vec::new();
    for (name, result) in results {
        match result {
            Ok(()) => {
                checks.insert(name.to_owned(), "ok".to_owned());
            }
            Err(reason) => {
                tracing::warn!(dependency = name, %reason, "readiness check failed");
                checks.insert(name.to_owned(), "unavailable".to_owned());
                down.push(name);
            }
        }
    }
    if down.is_empty() {
        return Ok(Json(crate::dto::ReadyResponse { status: "ready", checks }));
    }
    let body = NotReadyResponse {
        detail: format!("Not ready: {} unavailable", down.join(", ")),
        code: hexgate_ports::ErrorCode::Unavailable.as_str().to_owned(),
        errors: None,
        request_id: request_id::current(),
        status: "not_ready",
        checks,
    };
    Err(NotReady(body))
}

/// `/ready`'s 503: the error shape plus `status` and `checks`.
#[derive(Debug)]
pub(crate) struct NotReady(NotReadyResponse);

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.detail)
    }
}

impl actix_web::ResponseError for NotReady {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::ServiceUnavailable().json(&self.0)
    }
}

impl apistos::ApiErrorComponent for NotReady {
    fn schemas_by_status_code(
        oas_version: apistos::OpenApiVersion,
    ) -> std::collections::BTreeMap<String, (String, apistos::reference_or::ReferenceOr<apistos::ApistosSchema>)> {
        use apistos::ApiComponent;
        NotReadyResponse::schema(oas_version).map(|s| ("503".to_owned(), s)).into_iter().collect()
    }

    fn error_responses(oas_version: apistos::OpenApiVersion) -> Vec<(String, apistos::paths::Response)> {
        crate::error::error_response_doc::<NotReadyResponse>(oas_version, 503, "A dependency is unavailable")
    }
}
