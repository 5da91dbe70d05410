//! The OpenAPI document and the docs pages.

mod bearer;
mod operation_errors;

use std::sync::OnceLock;

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::ContentType;
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse};
use apistos::info::Info;
use apistos::spec::Spec;
use apistos::tag::Tag;

pub(crate) const SPEC_PATH: &str = "/openapi.json";

/// The published document, finished once per process: it depends on the code only (the spec and
/// the routes), never on settings or state.
static DOCUMENT: OnceLock<Bytes> = OnceLock::new();

/// apistos' document after the passes apistos cannot do itself: each operation keeps only the
/// error statuses it can answer (see [`operation_errors`]), and the bearer scheme describes API
/// keys and their scopes (see [`bearer`]).
fn finish(raw: &[u8]) -> Bytes {
    let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(raw) else {
        return Bytes::copy_from_slice(raw);
    };
    operation_errors::narrow(&mut doc);
    bearer::describe(&mut doc);
    serde_json::to_vec(&doc).map_or_else(|_| Bytes::copy_from_slice(raw), Bytes::from)
}

/// Serves the finished document at [`SPEC_PATH`] in place of apistos' raw one. apistos keeps the
/// route (it alone holds the document it built, and answers 404 when the docs are off); this only
/// replaces a 200's body, so `/openapi.json` and `hexgate openapi` (which asks the app for
/// `/openapi.json`) publish the same bytes.
pub(crate) async fn serve_finished_document(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let is_spec = req.method() == Method::GET && req.path() == SPEC_PATH;
    let res = next.call(req).await?;
    if !is_spec || res.status() != StatusCode::OK {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let document = match DOCUMENT.get() {
        Some(document) => document.clone(),
        None => {
            let raw = to_bytes(res.into_body()).await.map_err(|e| {
                let e: Box<dyn std::error::Error> = e.into();
                actix_web::error::ErrorInternalServerError(e.to_string())
            })?;
            DOCUMENT.get_or_init(|| finish(&raw)).clone()
        }
    };
    Ok(ServiceResponse::new(req, HttpResponse::Ok().content_type(ContentType::json()).body(document)))
}

pub(crate) fn spec() -> Spec {
    let tag = |name: &str, description: &str| Tag {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        ..Default::default()
    };
    Spec {
        info: Info {
            title: "hexgate".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: Some(
                "Users and authentication: sign-up, OAuth2 password login with JWT access tokens and \
                 rotating refresh tokens, sessions, password reset and e-mail verification, \
                 permissions, preferences, a product catalog and orders with exact money, file uploads \
                 processed in the background. Every error has one shape (`ErrorBody`). The \
                 WebSocket chat (`/ws/{client_id}`) is described in the project's docs/chat.md, \
                 since OpenAPI has no words for WebSockets."
                    .to_owned(),
            ),
            ..Default::default()
        },
        // 3.1: its schemas are JSON Schema 2020-12, where the `examples` schemars writes are valid.
        openapi: apistos::OpenApiVersion::OAS3_1,
        tags: vec![
            tag("system", "Liveness, readiness, and the keys that verify access tokens"),
            tag("auth", "Tokens, sessions and passwords"),
            tag("users", "Accounts, permissions, preferences"),
            tag("products", "The catalog"),
            tag("orders", "Orders"),
            tag("files", "Uploads: stored at once, processed in the background"),
            tag("tasks", "Background tasks and their status"),
            tag("api-keys", "Personal access tokens for scripts and services"),
            tag("audit", "The security audit log"),
            tag("admin", "Operating the service: signing-key rotation"),
            tag("orgs", "Organizations (tenants): members, roles, invitations and organization tokens"),
        ],
        ..Default::default()
    }
}
