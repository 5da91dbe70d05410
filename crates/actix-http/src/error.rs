//! The one error → HTTP mapping. Every failure, whatever produced it, leaves as [`ErrorBody`].

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use apistos::paths::{MediaType, Response};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApiErrorComponent, ApistosSchema, OpenApiVersion, VersionSpecificSchema};
use hexgate_ports::{ErrorCode, ServiceError};

use crate::dto::{ErrorBody, FieldError};
use crate::middleware::request_id;

/// The one code → status table. Every error body's status comes from here.
#[must_use]
pub const fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::MalformedJson
        | ErrorCode::BadRequest
        | ErrorCode::InactiveUser
        | ErrorCode::PasswordIncorrect
        | ErrorCode::DuplicateInBatch
        | ErrorCode::InvalidToken => StatusCode::BAD_REQUEST,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::NotAuthenticated | ErrorCode::InvalidCredentials | ErrorCode::MfaCodeInvalid => {
            StatusCode::UNAUTHORIZED
        }
        ErrorCode::InsufficientPermissions | ErrorCode::InsufficientScope | ErrorCode::MfaRequired => {
            StatusCode::FORBIDDEN
        }
        ErrorCode::EmailTaken
        | ErrorCode::UsernameTaken
        | ErrorCode::LastAdmin
        | ErrorCode::LastOwner
        | ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error on its way to the client: its code (which fixes the status), the human `detail`,
/// per-field problems and extra headers (`WWW-Authenticate`, `Retry-After`, `Allow`).
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Option<Vec<FieldError>>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The second step a login needs (`mfa_required` only).
    pub mfa: Option<Box<hexgate_ports::MfaChallenge>>,
}

impl ApiError {
    #[must_use]
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        let mut err = Self { code, detail: detail.into(), errors: None, headers: Vec::new(), mfa: None };
        if status_of(code) == StatusCode::UNAUTHORIZED {
            err.headers.push((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        err
    }

    #[must_use]
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self { errors: Some(errors), ..Self::new(ErrorCode::ValidationFailed, "Validation error") }
    }

    #[must_use]
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotAuthenticated, detail)
    }

    #[must_use]
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(ErrorCode::RateLimited, "Too many requests")
            .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)))
    }

    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    #[must_use]
    pub const fn status(&self) -> StatusCode {
        status_of(self.code)
    }

    /// The code and canonical text for a status that reached the client without a body of ours
    /// (actix's own 404, 405, 413, …).
    #[must_use]
    pub fn from_status(status: StatusCode) -> Self {
        let (code, detail) = match status.as_u16() {
            400 => (ErrorCode::BadRequest, "Bad request"),
            401 => (ErrorCode::NotAuthenticated, "Not authenticated"),
            403 => (ErrorCode::InsufficientPermissions, "Insufficient permissions"),
            404 => (ErrorCode::NotFound, "Not found"),
            405 => (ErrorCode::MethodNotAllowed, "Method not allowed"),
            413 => (ErrorCode::PayloadTooLarge, "Request body too large"),
            415 => (ErrorCode::UnsupportedMediaType, "Unsupported media type: send application/json"),
            422 => (ErrorCode::ValidationFailed, "Validation error"),
            429 => (ErrorCode::RateLimited, "Too many requests"),
            503 => (ErrorCode::Unavailable, "Service unavailable"),
            _ if status.is_client_error() => {
                (ErrorCode::BadRequest, status.canonical_reason().unwrap_or("Bad request"))
            }
            _ => (ErrorCode::Internal, "Internal server error"),
        };
        Self::new(code, detail)
    }

    #[must_use]
    pub fn body(&self, request_id: String) -> ErrorBody {
        ErrorBody {
            detail: self.detail.clone(),
            code: self.code.as_str().to_owned(),
            errors: self.errors.clone(),
            request_id,
            mfa_token: self.mfa.as_ref().map(|m| m.mfa_token.clone()),
            methods: self.mfa.as_ref().map(|m| m.methods.iter().map(|&m| m.to_owned()).collect()),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.json(self.body(request_id::current()))
    }
}

/// Where the fields a use case names came from: the request body, since every use-case input
/// that can be wrong only in the light of stored state (an unknown product, an empty upload) is
/// part of a body.
const USE_CASE_FIELD_LOCATION: &str = "body";

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        let code = err.code();
        match err {
            ServiceError::Invalid(violations) => Self::validation(
                violations
                    .into_iter()
                    .map(|v| FieldError {
                        // A violation naming no field is about the body as a whole.
                        field: Some(if v.field.is_empty() {
                            USE_CASE_FIELD_LOCATION.to_owned()
                        } else {
                            format!("{USE_CASE_FIELD_LOCATION}.{}", v.field)
                        }),
                        message: v.message,
                        code: v.code.to_owned(),
                    })
                    .collect(),
            ),
            // Cursors come in query strings (the only place a client sends one back).
            ServiceError::BadCursor => Self::validation(vec![FieldError {
                field: Some("query.cursor".to_owned()),
                message: "malformed, tampered with, or from another listing, sort or filter".to_owned(),
                code: "cursor_invalid".to_owned(),
            }]),
            ServiceError::TooManyAttempts { retry_after_secs } => {
                let detail = err.to_string();
                Self { detail, ..Self::too_many_requests(retry_after_secs) }
            }
            ServiceError::MfaRequired(challenge) => {
                Self { mfa: Some(Box::new(challenge)), ..Self::new(code, "A second factor is required") }
            }
            ServiceError::Unavailable(ref what) => {
                tracing::warn!(dependency = %what, "dependency unavailable");
                Self::new(code, err.to_string()).with_header(header::RETRY_AFTER, HeaderValue::from_static("5"))
            }
            ServiceError::Internal(ref cause) => {
                // The cause goes to the log, never to the client.
                tracing::error!(%cause, "internal error");
                Self::new(code, err.to_string())
            }
            other => Self::new(code, other.to_string()),
        }
    }
}

impl From<hexgate_ports::PortError> for ApiError {
    fn from(err: hexgate_ports::PortError) -> Self {
        ServiceError::from(err).into()
    }
}

/// Every status an operation may answer with the error shape. apistos writes all of them into
/// every operation answering `ApiError`; `openapi::operation_errors` then keeps in each only what
/// its extractors and its use case can answer, so no route lists statuses by hand. (405 is not
/// here: it answers a method a path lacks, which no operation describes.)
const DOCUMENTED: [(u16, &str); 11] = [
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
