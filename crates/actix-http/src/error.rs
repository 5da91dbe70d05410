//! The one error → HTTP mapping. Every failure, whatever produced it, leaves as [`ErrorBody`].

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use apistos::paths::{MediaType, Response};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApiErrorComponent, ApistosSchema, OpenApiVersion, VersionSpecificSchema};
use hexgate_ports::ServiceError;

use crate::dto::{ErrorBody, FieldError};
use crate::middleware::request_id;

/// An error on its way to the client: status, the human `detail`, per-field problems and extra
/// headers (`WWW-Authenticate`, `Retry-After`, `Allow`).
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    pub errors: Option<Vec<FieldError>>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    #[must_use]
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self { status, detail: detail.into(), errors: None, headers: Vec::new() }
    }

    #[must_use]
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self { errors: Some(errors), ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation error") }
    }

    #[must_use]
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    #[must_use]
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
            .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)))
    }

    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The canonical text for a status that reached the client without a body of ours.
    #[must_use]
    pub fn from_status(status: StatusCode) -> Self {
        let detail = match status.as_u16() {
            400 => "Bad request",
            404 => "Not found",
            405 => "Method not allowed",
            413 => "Request body too large",
            415 => "Unsupported media type: send application/json",
            429 => "Too many requests",
            503 => "Service unavailable",
            s if s >= 500 => "Internal server error",
            _ => status.canonical_reason().unwrap_or("Error"),
        };
        Self::new(status, detail)
    }

    #[must_use]
    pub fn body(&self, request_id: String) -> ErrorBody {
        ErrorBody { detail: self.detail.clone(), errors: self.errors.clone(), request_id }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.json(self.body(request_id::current()))
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid(violations) => Self::validation(
                violations
                    .into_iter()
                    .map(|v| FieldError { field: Some(v.field), message: v.message, code: v.code.to_owned() })
                    .collect(),
            ),
            ServiceError::BadRequest(detail) => Self::new(StatusCode::BAD_REQUEST, detail),
            ServiceError::InvalidCredentials => Self::unauthorized("Incorrect username or password"),
            ServiceError::Unauthenticated => Self::unauthorized("Could not validate credentials"),
            ServiceError::InactiveUser => Self::new(StatusCode::BAD_REQUEST, "Inactive user"),
            ServiceError::Forbidden => Self::new(StatusCode::FORBIDDEN, "Insufficient permissions"),
            ServiceError::NotFound(detail) => Self::new(StatusCode::NOT_FOUND, detail),
            ServiceError::Conflict(detail) => Self::new(StatusCode::CONFLICT, detail),
            ServiceError::PayloadTooLarge(detail) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, detail),
            ServiceError::TooManyAttempts { retry_after_secs } => {
                let mut e = Self::too_many_requests(retry_after_secs);
                e.detail = "Too many failed login attempts; try again later".into();
                e
            }
            ServiceError::Unavailable(what) => {
                tracing::warn!(dependency = %what, "dependency unavailable");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
                    .with_header(header::RETRY_AFTER, HeaderValue::from_static("5"))
            }
            ServiceError::Internal(cause) => {
                // The cause goes to the log, never to the client.
                tracing::error!(%cause, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        }
    }
}

impl From<hexgate_ports::PortError> for ApiError {
    fn from(err: hexgate_ports::PortError) -> Self {
        ServiceError::from(err).into()
    }
}

/// Every status an operation may answer with the error shape; each route names its own subset
/// with `error_code`, so the document lists exactly what that operation can return.
const DOCUMENTED: [(u16, &str); 12] = [
    (400, "Bad request (malformed JSON, a rule that needs state, an inactive user)"),
    (401, "Missing, invalid, expired or revoked credentials"),
    (403, "Insufficient permissions"),
    (404, "Not found"),
    (409, "Conflict with the current state"),
    (413, "Request body too large"),
    (415, "Unsupported media type"),
    (422, "Validation error: one entry per failing field"),
    (429, "Rate limited; see Retry-After"),
    (500, "Internal server error"),
    (503, "A dependency is unavailable"),
    (405, "Method not allowed"),
];

impl ApiErrorComponent for ApiError {
    fn schemas_by_status_code(oas_version: OpenApiVersion) -> BTreeMap<String, (String, ReferenceOr<ApistosSchema>)> {
        // FieldError is inlined into ErrorBody's schema, so this one component is all it needs.
        let mut schemas = BTreeMap::new();
        if let Some(schema) = ErrorBody::schema(oas_version) {
            for (code, _) in DOCUMENTED {
                schemas.insert(code.to_string(), schema.clone());
            }
        }
        schemas
    }

    fn error_responses(oas_version: OpenApiVersion) -> Vec<(String, Response)> {
        DOCUMENTED
            .iter()
            .flat_map(|(code, description)| error_response_doc::<ErrorBody>(oas_version, *code, description))
            .collect()
    }
}

/// A documented error response whose body is `T`'s schema (a `$ref` in 3.0, inline in 3.1).
pub(crate) fn error_response_doc<T: ApiComponent>(
    oas_version: OpenApiVersion,
    code: u16,
    description: &str,
) -> Vec<(String, Response)> {
    let Some((name, schema)) = T::schema(oas_version) else { return Vec::new() };
    let schema = match (oas_version, schema) {
        (OpenApiVersion::OAS3_1, ReferenceOr::Object(inline)) => VersionSpecificSchema::OAS3_1(inline),
        (_, _) => {
            VersionSpecificSchema::OAS3_0(ReferenceOr::Reference { _ref: format!("#/components/schemas/{name}") })
        }
    };
    let media = MediaType { schema: Some(schema), ..Default::default() };
    vec![(
        code.to_string(),
        Response {
            description: description.to_owned(),
            content: BTreeMap::from([("application/json".to_owned(), media)]),
            ..Default::default()
        },
    )]
}
