//! Building the actix app and running it. The binary sees only [`serve`] and its handle.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::{DefaultHeaders, NormalizePath, from_fn};
use actix_web::web::{self, Data};
use actix_web::{HttpResponse, HttpServer, ResponseError};
use apistos::app::{BuildConfig, OpenApiWrapper};

use crate::dto::FieldError;
use crate::error::ApiError;
use crate::middleware::{envelope::envelope, rate_limit::rate_limit};
use crate::openapi::{SPEC_PATH, spec};
use crate::{HttpSettings, HttpState, chat, docs_ui, routes};

fn cors(settings: &HttpSettings) -> Cors {
    // Exact origins only, never `*`: tokens travel in headers, and a wildcard with credentials is
    // refused by browsers anyway.
    settings.allowed_origins.iter().fold(
        Cors::default()
            .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([
                header::HeaderName::from_static("x-request-id"),
                header::HeaderName::from_static("x-ratelimit-limit"),
                header::HeaderName::from_static("x-ratelimit-remaining"),
                header::HeaderName::from_static("x-ratelimit-reset"),
                header::RETRY_AFTER,
            ])
            .max_age(600),
        |cors, origin| cors.allowed_origin(origin),
    )
}

fn path_error(err: actix_web::error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    let message = match &err {
        actix_web::error::PathError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    let field = if message.contains("UUID") || message.contains("uuid") { "path.id" } else { "path" };
    ApiError::validation(vec![FieldError {
        field: Some(field.to_owned()),
        message: "must be a UUID".to_owned(),
        code: "invalid_uuid".to_owned(),
    }])
    .into()
}

async fn not_found() -> HttpResponse {
    ApiError::from_status(StatusCode::NOT_FOUND).error_response()
}

/// The whole application. `state` is `None` only to render the OpenAPI document.
pub(crate) fn app(
    state: Option<HttpState>,
    settings: HttpSettings,
) -> actix_web::App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let docs_enabled = settings.docs_enabled;
    let cors = cors(&settings);
    let mut app = actix_web::App::new()
        .document(spec())
        .app_data(Data::new(settings))
        .app_data(web::PathConfig::default().error_handler(path_error));
    if let Some(state) = state {
        app = app.app_data(Data::new(state));
    }
    let app = app
        .wrap(from_fn(rate_limit))
        .wrap(
            DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::X_FRAME_OPTIONS, "DENY"))
                .add((header::REFERRER_POLICY, "no-referrer")),
        )
        .wrap(cors)
        .wrap(from_fn(envelope))
        .wrap(NormalizePath::trim())
        .configure(routes::configure)
        .default_service(web::to(not_found));
    let app = if docs_enabled {
        // The UIs are hexgate's own pages and assets (docs_ui), not apistos' CDN-backed ones.
        app.build_with(SPEC_PATH, BuildConfig::default()).configure(docs_ui::configure)
    } else {
        app.build_with(SPEC_PATH, BuildConfig::default().disable_openapi_route())
    };
    // Outside the OpenAPI document: a WebSocket and a static page (see docs/chat.md).
    app.configure(chat::configure)
}

/// A running server: await it to run until stopped; stop it with the handle.
pub struct HttpServerHandle {
    pub server: Server,
    pub handle: ServerHandle,
}

/// Starts serving on `listener`. SIGTERM and SIGINT stop it gracefully: in-flight requests get
/// `shutdown_timeout_secs` to finish.
///
/// # Errors
/// When the listener cannot be used.
pub fn serve(listener: TcpListener, state: HttpState, settings: HttpSettings) -> std::io::Result<HttpServerHandle> {
    let workers = settings.workers.max(1);
    let shutdown = settings.shutdown_timeout_secs;
    let server = HttpServer::new(move || app(Some(state.clone()), settings.clone()))
        .workers(workers)
        .shutdown_timeout(shutdown)
        .listen(listener)?
        .run();
    let handle = server.handle();
    Ok(HttpServerHandle { server, handle })
}
