//! The HTTP driving adapter: routes, extractors, DTOs, middleware and the OpenAPI document, on
//! actix-web and apistos. It talks to the services in `hexgate-ports` and to nothing else.

mod account;
mod chat;
mod client_ip;
mod docs_ui;
mod dto;
mod error;
mod extract;
mod metrics;
mod middleware;
mod openapi;
mod routes;
mod server;
mod state;

pub use chat::ChatSettings;
pub use client_ip::ClientIp;
pub use error::ApiError;
/// The request decoders for `cargo fuzz` (`fuzz/`); not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use extract::fuzzing;
pub use metrics::{MetricsAccess, serve_metrics};
pub use server::{HttpServerHandle, openapi_document, serve};
pub use state::{HttpSettings, HttpState, ReadinessCheck};
