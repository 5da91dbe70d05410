//! Which error statuses each operation documents, derived instead of kept by hand per operation.
//!
//! apistos documents every status in [`ApiError`]'s table on every operation whose handler
//! answers `Result<_, ApiError>`. One pass over the generated document then keeps, per operation,
//! only the statuses it can answer:
//!
//! - what every such operation can answer: the rate limiter, a store or the revocation list being
//!   down, an internal error;
//! - what its extractors can answer, read off the operation itself: a request body, path or query
//!   parameters, a bearer-token requirement;
//! - what its use case can refuse, declared once per use case in [`USE_CASES`] as error codes
//!   (the status comes from [`status_of`], the one code → status table).
//!
//! The pass only removes responses: those kept stay exactly as apistos wrote them, and responses
//! that are not [`ApiError`]'s (`/ready`'s 503 with its checks) are never touched. (It also puts
//! the error bodies' schemas back in `components`; see [`register_error_schemas`].)
//!
//! Why per use case and not one list per route group: a group mixes operations that answer
//! different statuses (`/users/me` can answer neither 403 nor 404, `/users/{id}` both), so a group
//! list would document statuses some operations cannot answer. See docs/decisions.md.

use std::collections::BTreeSet;

use apistos::{ApiComponent, ApiErrorComponent, OpenApiVersion};
use hexgate_ports::ErrorCode;
use serde_json::{Map, Value};

use crate::dto::{ErrorBody, NotReadyResponse};
use crate::error::{ApiError, status_of};

/// Every operation answering [`ApiError`]: the rate limiter covers every such route (only the
/// health, readiness and docs routes are exempt, and they answer no `ApiError`); every use case
/// reaches a store or the revocation list, which may be down; anything may fail internally.
const EVERY_OPERATION: &[ErrorCode] = &[ErrorCode::RateLimited, ErrorCode::Unavailable, ErrorCode::Internal];

/// A request body (`ValidJson`, `OptionalJson`, `TokenForm`, `FileUpload`): the wrong content
/// type, too large, unreadable or malformed, a field failing its rules.
const REQUEST_BODY: &[ErrorCode] = &[
    ErrorCode::UnsupportedMediaType,
    ErrorCode::PayloadTooLarge,
    ErrorCode::MalformedJson,
    ErrorCode::ValidationFailed,
];

/// Path (`Path<…>`, every one a UUID) or query (`ValidQuery`) parameters that do not decode.
const PARAMETERS: &[ErrorCode] = &[ErrorCode::ValidationFailed];

/// A bearer requirement (`CurrentUser`, `SessionUser`): no, a bad or a revoked token or key; an
/// inactive user; an API key whose scopes do not cover the route (or any key, where only a session
/// may act).
const BEARER: &[ErrorCode] = &[ErrorCode::NotAuthenticated, ErrorCode::InactiveUser, ErrorCode::InsufficientScope];

/// The security scheme that marks an operation as taking `CurrentUser`.
const BEARER_SCHEME: &str = "BearerAuth";

/// What each use case refuses beyond what its extractors already answer, by `operationId`. Every
/// operation answering [`ApiError`] has an entry (a test holds it), even an empty one, so a new
/// route is a decision, not a silent default.
pub(crate) const USE_CASES: &[(&str, &[ErrorCode])] = &[
    // auth
    (
        "login",
        &[ErrorCode::InvalidCredentials, ErrorCode::InactiveUser, ErrorCode::RateLimited, ErrorCode::MfaRequired],
    ),
    ("refresh_token", &[ErrorCode::NotAuthenticated, ErrorCode::InactiveUser]),
    ("logout", &[]),
    ("change_password", &[ErrorCode::PasswordIncorrect]),
    ("list_sessions", &[]),
    ("revoke_session", &[ErrorCode::NotFound]),
    ("forgot_password", &[]),
    ("reset_password", &[ErrorCode::InvalidToken]),
    ("request_verification", &[]),
    ("verify_email", &[ErrorCode::InvalidToken]),
    // users. Sign-up takes `MaybeUser`, which the document cannot show (anonymous callers are
    // welcome, so it is not secured), yet a bad token is 401 and an inactive caller 400; closed
    // registration refuses anonymous callers (401) and non-admins (403).
    (
        "create_user",
        &[
            ErrorCode::NotAuthenticated,
            ErrorCode::InactiveUser,
            ErrorCode::InsufficientPermissions,
            ErrorCode::InsufficientScope,
            ErrorCode::EmailTaken,
            ErrorCode::UsernameTaken,
        ],
    ),
    ("list_users", &[ErrorCode::InsufficientPermissions]),
    ("read_me", &[]),
    ("update_me", &[ErrorCode::EmailTaken, ErrorCode::UsernameTaken, ErrorCode::LastAdmin]),
    (
        "create_users_batch",
        &[
            ErrorCode::InsufficientPermissions,
            ErrorCode::DuplicateInBatch,
            ErrorCode::EmailTaken,
            ErrorCode::UsernameTaken,
        ],
    ),
    ("read_user", &[ErrorCode::InsufficientPermissions, ErrorCode::NotFound]),
    (
        "update_user",
        &[
            ErrorCode::InsufficientPermissions,
            ErrorCode::NotFound,
            ErrorCode::EmailTaken,
            ErrorCode::UsernameTaken,
            ErrorCode::LastAdmin,
        ],
    ),
    ("delete_user", &[ErrorCode::InsufficientPermissions, ErrorCode::NotFound, ErrorCode::LastAdmin]),
    ("set_permissions", &[ErrorCode::InsufficientPermissions, ErrorCode::NotFound, ErrorCode::LastAdmin]),
    ("read_preferences", &[ErrorCode::InsufficientPermissions, ErrorCode::NotFound]),
    ("update_preferences", &[ErrorCode::InsufficientPermissions, ErrorCode::NotFound]),
    ("read_user_related", &[ErrorCode::InsufficientPermissions, ErrorCode::NotFound]),
    // products: anyone reads; admins and catalog managers write.
    ("list_products", &[]),
    ("read_product", &[ErrorCode::NotFound]),
    ("create_product", &[ErrorCode::InsufficientPermissions]),
    ("update_product", &[ErrorCode::InsufficientPermissions, ErrorCode::NotFound]),
    ("delete_product", &[ErrorCode::InsufficientPermissions, ErrorCode::NotFound]),
    // orders: someone else's order is 404, not 403; only admins may list another user's.
    ("list_orders", &[ErrorCode::InsufficientPermissions]),
    ("create_order", &[ErrorCode::ValidationFailed]),
    ("read_order", &[ErrorCode::NotFound]),
    ("cancel_order", &[ErrorCode::NotFound, ErrorCode::Conflict]),
    // files and tasks: someone else's is 404, like an order.
    ("upload_file", &[ErrorCode::BadRequest, ErrorCode::PayloadTooLarge, ErrorCode::ValidationFailed]),
    ("read_file", &[ErrorCode::NotFound]),
    ("download_file", &[ErrorCode::NotFound]),
    ("delete_file", &[ErrorCode::NotFound]),
    ("read_task", &[ErrorCode::NotFound]),
    // API keys: a key that is not the caller's is 404.
    ("create_api_key", &[]),
    ("list_api_keys", &[]),
    ("revoke_api_key", &[ErrorCode::NotFound]),
    // The audit log: admins read everything; a cursor is a query parameter (422 when bad).
    ("list_audit_events", &[ErrorCode::InsufficientPermissions]),
    ("list_my_audit_events", &[]),
    // signing keys: the JWKS and discovery are public; rotation and the list are admins' only.
    ("jwks", &[]),
    ("openid_configuration", &[]),
    ("rotate_signing_key", &[ErrorCode::InsufficientPermissions]),
    ("list_signing_keys", &[ErrorCode::InsufficientPermissions]),
    // organizations: a non-member gets 404 exactly like an unknown id; a member whose role falls
    // short gets 403.
    ("create_org", &[ErrorCode::Conflict]),
    ("list_orgs", &[]),
    ("read_org", &[ErrorCode::NotFound]),
    ("update_org", &[ErrorCode::NotFound, ErrorCode::InsufficientPermissions]),
    ("delete_org", &[ErrorCode::NotFound, ErrorCode::InsufficientPermissions]),
    ("list_org_members", &[ErrorCode::NotFound]),
    ("update_org_member", &[ErrorCode::NotFound, ErrorCode::InsufficientPermissions, ErrorCode::LastOwner]),
    ("remove_org_member", &[ErrorCode::NotFound, ErrorCode::InsufficientPermissions, ErrorCode::LastOwner]),
    ("create_org_invitation", &[ErrorCode::NotFound, ErrorCode::InsufficientPermissions]),
    ("list_org_invitations", &[ErrorCode::NotFound, ErrorCode::InsufficientPermissions]),
    ("revoke_org_invitation", &[ErrorCode::NotFound, ErrorCode::InsufficientPermissions]),
    ("accept_org_invitation", &[ErrorCode::InvalidToken, ErrorCode::InsufficientPermissions, ErrorCode::Conflict]),
    ("create_org_token", &[ErrorCode::NotFound]),
    ("list_org_audit_events", &[ErrorCode::NotFound, ErrorCode::InsufficientPermissions]),
    // second factors: state conflicts are 409; a wrong code 401; the password asked again 400.
    ("mfa_status", &[]),
    ("start_totp", &[ErrorCode::Conflict]),
    ("confirm_totp", &[ErrorCode::MfaCodeInvalid, ErrorCode::Conflict]),
    ("disable_totp", &[ErrorCode::PasswordIncorrect]),
    ("regenerate_recovery_codes", &[ErrorCode::PasswordIncorrect, ErrorCode::Conflict]),
    (
        "verify_mfa",
        &[ErrorCode::NotAuthenticated, ErrorCode::MfaCodeInvalid, ErrorCode::InactiveUser, ErrorCode::RateLimited],
    ),
    // passkeys: a failed registration is 400 invalid_token, a failed login 401 invalid_credentials.
    ("passkey_register_start", &[]),
    ("passkey_register_finish", &[ErrorCode::InvalidToken, ErrorCode::Conflict]),
    ("list_passkeys", &[]),
    ("delete_passkey", &[ErrorCode::NotFound]),
    ("passkey_login_start", &[]),
    ("passkey_login_finish", &[ErrorCode::InvalidCredentials, ErrorCode::InactiveUser]),
    ("reset_second_factors", &[ErrorCode::InsufficientPermissions, ErrorCode::NotFound]),
];

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn oas_version(doc: &Value) -> OpenApiVersion {
    match doc["openapi"].as_str() {
        Some(v) if v.starts_with("3.0") => OpenApiVersion::OAS3_0,
        _ => OpenApiVersion::OAS3_1,
    }
}

/// [`ApiError`]'s documented responses, as apistos writes them into an operation.
fn api_error_responses(version: OpenApiVersion) -> Vec<(String, Value)> {
    <ApiError as ApiErrorComponent>::error_responses(version)
        .into_iter()
        .filter_map(|(status, response)| serde_json::to_value(response).ok().map(|r| (status, r)))
        .collect()
}

/// Whether the operation takes parameters from `location` (`path`, `query`).
fn has_parameters(op: &Value, location: &str) -> bool {
    op["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["in"] == location))
}

fn is_bearer_secured(op: &Value) -> bool {
    op["security"].as_array().is_some_and(|reqs| reqs.iter().any(|r| r.get(BEARER_SCHEME).is_some()))
}

/// What the operation's extractors imply, read off the operation: every operation's share, a
/// request body, parameters, a bearer-token requirement.
fn extractor_codes(op: &Value) -> Vec<ErrorCode> {
    let mut codes = EVERY_OPERATION.to_vec();
    if op.get("requestBody").is_some() {
        codes.extend_from_slice(REQUEST_BODY);
    }
    if has_parameters(op, "path") || has_parameters(op, "query") {
        codes.extend_from_slice(PARAMETERS);
    }
    if is_bearer_secured(op) {
        codes.extend_from_slice(BEARER);
    }
    codes
}

/// The use case's declared refusals; `None` for an operation missing from [`USE_CASES`].
pub(crate) fn use_case_codes(op: &Value) -> Option<&'static [ErrorCode]> {
    let id = op["operationId"].as_str()?;
    USE_CASES.iter().find(|(name, _)| *name == id).map(|(_, codes)| *codes)
}

/// The error statuses the operation can answer: its extractors' and its use case's.
pub(crate) fn statuses_of(op: &Value) -> BTreeSet<String> {
    let mut codes = extractor_codes(op);
    codes.extend_from_slice(use_case_codes(op).unwrap_or_default());
    codes.into_iter().map(|c| status_of(c).as_u16().to_string()).collect()
}

/// Every operation of the document.
fn operations_mut(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.iter_mut().filter(|(m, _)| METHODS.contains(&m.as_str())).map(|(_, op)| op))
}

/// The error bodies, in `components.schemas` as they were while routes listed `error_code`s:
/// apistos registers an error type's schemas only for an operation that lists some.
fn register_error_schemas(doc: &mut Value, version: OpenApiVersion) {
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else { return };
    for (name, schema) in [ErrorBody::schema(version), NotReadyResponse::schema(version)].into_iter().flatten() {
        if let Ok(schema) = serde_json::to_value(schema) {
            schemas.entry(name).or_insert(schema);
        }
    }
    let mut sorted: Vec<(String, Value)> = std::mem::take(schemas).into_iter().collect();
    sorted.sort_by(|(a, _), (b, _)| a.cmp(b));
    *schemas = sorted.into_iter().collect::<Map<String, Value>>();
}

/// Keeps, in each operation answering [`ApiError`], only the error responses it can answer, and
/// registers the error bodies' schemas.
pub(crate) fn narrow(doc: &mut Value) {
    register_error_schemas(doc, oas_version(doc));
    let documented = api_error_responses(oas_version(doc));
    let is_api_error = |status: &str, response: &Value| documented.iter().any(|(s, r)| s == status && r == response);
    for op in operations_mut(doc) {
        let answers_api_error =
            op["responses"].as_object().is_some_and(|rs| rs.iter().any(|(s, r)| is_api_error(s, r)));
        if !answers_api_error {
            continue;
        }
        let keep = statuses_of(op);
        if let Some(responses) = op["responses"].as_object_mut() {
            responses.retain(|status, response| keep.contains(status) || !is_api_error(status, response));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    async fn document() -> Value {
        serde_json::from_str(&crate::server::openapi_document().await).expect("json document")
    }

    /// `(operationId, operation)` for every operation of the document.
    fn operations(doc: &Value) -> Vec<(String, Value)> {
        let mut ops = Vec::new();
        for item in doc["paths"].as_object().expect("paths").values() {
            for (method, op) in item.as_object().expect("path item") {
                if METHODS.contains(&method.as_str()) {
                    ops.push((op["operationId"].as_str().expect("operationId").to_owned(), op.clone()));
                }
            }
        }
        ops
    }

    fn error_statuses(op: &Value) -> BTreeSet<String> {
        op["responses"].as_object().expect("responses").keys().filter(|s| s.as_str() >= "400").cloned().collect()
    }

    fn set(statuses: &[&str]) -> BTreeSet<String> {
        statuses.iter().map(|s| (*s).to_owned()).collect()
    }

    #[actix_web::test]
    async fn every_operation_answering_api_error_is_a_declared_use_case_and_no_entry_is_stale() {
        let doc = document().await;
        let ops = operations(&doc);
        for (id, op) in &ops {
            let answers_api_error = !matches!(id.as_str(), "health" | "ready");
            assert_eq!(use_case_codes(op).is_some(), answers_api_error, "{id}: add it to USE_CASES");
        }
        for (name, _) in USE_CASES {
            assert!(ops.iter().any(|(id, _)| id == name), "USE_CASES names no operation `{name}`");
        }
    }

    #[actix_web::test]
    async fn each_operation_documents_exactly_what_its_extractors_and_use_case_answer() {
        let doc = document().await;
        for (id, op) in operations(&doc) {
            if use_case_codes(&op).is_some() {
                // Nothing derived is missing from ApiError's table, and nothing else is left.
                assert_eq!(error_statuses(&op), statuses_of(&op), "{id}");
            }
        }
    }

    #[actix_web::test]
    async fn statuses_follow_the_handler_signature() {
        let doc = document().await;
        let ops: std::collections::BTreeMap<String, Value> = operations(&doc).into_iter().collect();
        let errors = |id: &str| error_statuses(&ops[id]);
        // Bearer only: no body, no parameters, no use-case refusal.
        // (403: an API key without `profile:read`.)
        assert_eq!(errors("read_me"), set(&["400", "401", "403", "429", "500", "503"]));
        // Anonymous, a query: no 400, 401 or 403.
        assert_eq!(errors("list_products"), set(&["422", "429", "500", "503"]));
        // Sign-up: a body, `MaybeUser` and closed registration, taken names.
        assert_eq!(errors("create_user"), set(&["400", "401", "403", "409", "413", "415", "422", "429", "500", "503"]));
        // Not ApiError: left as their handlers document them.
        assert!(errors("health").is_empty());
        assert_eq!(errors("ready"), set(&["503"]));
        assert_eq!(
            ops["ready"]["responses"]["503"]["content"]["application/json"]["schema"]["title"],
            "NotReadyResponse"
        );
        for name in ["ErrorBody", "NotReadyResponse"] {
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
    }
}
