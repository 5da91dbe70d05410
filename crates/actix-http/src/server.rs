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
use crate::openapi::{SPEC_PATH, serve_finished_document, spec};
use crate::{HttpSettings, HttpState, account, chat, docs_ui, metrics, routes};

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

/// Every path parameter of the documented routes is a UUID: the failing ones are those of the
/// matched route that do not parse as one, named from the route itself (no error text is read).
fn path_error(_: actix_web::error::PathError, req: &actix_web::HttpRequest) -> actix_web::Error {
    let mut errors: Vec<FieldError> = req
        .match_info()
        .iter()
        .filter(|(_, value)| uuid::Uuid::parse_str(value).is_err())
        .map(|(name, _)| FieldError {
            field: Some(format!("path.{name}")),
            message: "must be a UUID".to_owned(),
            code: "invalid_uuid".to_owned(),
        })
        .collect();
    if errors.is_empty() {
        errors.push(FieldError {
            field: Some("path".to_owned()),
            message: "invalid path".to_owned(),
            code: "invalid_type".to_owned(),
        });
    }
    ApiError::validation(errors).into()
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
        // Innermost, so it sees the normalised path and apistos' own answer.
        .wrap(from_fn(serve_finished_document))
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
    // Outside the OpenAPI document: a WebSocket and static pages (see docs/chat.md, docs/mfa.md), and the
    // Prometheus exposition (docs/observability.md).
    app.configure(chat::configure).configure(account::configure).configure(metrics::configure)
}

/// The document, as `hexgate openapi` prints it and `/openapi.json` serves it: rendered by the
/// app's own `/openapi.json` handler, in process, with no listener, no state and no adapters.
pub async fn openapi_document() -> String {
    use actix_web::test;
    let settings = HttpSettings { docs_enabled: true, ..Default::default() };
    let app = test::init_service(app(None, settings)).await;
    let req = test::TestRequest::get().uri(SPEC_PATH).to_request();
    let body = test::call_and_read_body(&app, req).await;
    String::from_utf8_lossy(&body).into_owned()
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
