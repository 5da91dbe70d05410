//! The OpenAPI document and the docs pages.

use apistos::info::Info;
use apistos::spec::Spec;
use apistos::tag::Tag;

pub(crate) const SPEC_PATH: &str = "/openapi.json";

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
            tag("system", "Liveness and readiness"),
            tag("auth", "Tokens, sessions and passwords"),
            tag("users", "Accounts, permissions, preferences"),
            tag("products", "The catalog"),
            tag("orders", "Orders"),
            tag("files", "Uploads: stored at once, processed in the background"),
            tag("tasks", "Background tasks and their status"),
        ],
        ..Default::default()
    }
}
