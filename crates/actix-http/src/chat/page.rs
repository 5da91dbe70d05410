//! A small page to try the chat from a browser: log in, connect, send. Plain HTML and JS,
//! compiled into the binary; no build step.

use actix_web::HttpResponse;
use actix_web::http::header;

const PAGE: &str = include_str!("../../assets/chat/chat.html");
const SCRIPT: &str = include_str!("../../assets/chat/chat.js");

// Scripts only from hexgate itself; connections only back to it (its HTTP API and WebSocket).
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; \
                      img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub(crate) async fn chat_page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(PAGE)
}

pub(crate) async fn chat_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(SCRIPT)
}
