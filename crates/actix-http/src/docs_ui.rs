//! Swagger UI at `/docs` and ReDoc at `/redoc`, with their JavaScript served by hexgate (see
//! `assets/README.md`), so the pages work on a machine without internet access.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpResponse, Responder};

const SWAGGER_JS: &[u8] = include_bytes!("../assets/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../assets/swagger-ui.css");
const REDOC_JS: &[u8] = include_bytes!("../assets/redoc.standalone.js");

const SWAGGER_PAGE: &str = r##"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>hexgate API</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: true });</script>
</body>
</html>"##;

const REDOC_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>hexgate API</title></head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="/redoc/redoc.standalone.js"></script>
</body>
</html>"#;

fn page(html: &'static str) -> impl Responder {
    HttpResponse::Ok().insert_header((CONTENT_TYPE, "text/html; charset=utf-8")).body(html)
}

fn asset(bytes: &'static [u8], content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(bytes)
}

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/docs", web::get().to(|| async { page(SWAGGER_PAGE) }))
        .route("/docs/swagger-ui-bundle.js", web::get().to(|| async { asset(SWAGGER_JS, "text/javascript") }))
        .route("/docs/swagger-ui.css", web::get().to(|| async { asset(SWAGGER_CSS, "text/css") }))
        .route("/redoc", web::get().to(|| async { page(REDOC_PAGE) }))
        .route("/redoc/redoc.standalone.js", web::get().to(|| async { asset(REDOC_JS, "text/javascript") }));
}
