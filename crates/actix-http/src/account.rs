//! The account page (`/account`): log in (password, then a second factor when asked, or a
//! passkey), sessions, TOTP with a QR code, recovery codes, passkeys. Plain HTML and JS compiled
//! into the binary, a strict CSP, no third-party code; everything it does goes through the
//! documented API. The QR code is an SVG drawn here (`POST /account/qr.svg`), so the secret never
//! leaves hexgate for a QR service.

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use hexgate_ports::ErrorCode;
use qrcode::QrCode;
use qrcode::render::svg;

use crate::ApiError;

const PAGE: &str = include_str!("../assets/account/account.html");
const SCRIPT: &str = include_str!("../assets/account/account.js");

/// Scripts only from hexgate itself; requests only back to it; images from it or a `blob:` (the
/// QR code, fetched with its secret in a POST body, never in a URL).
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; \
                      img-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The longest text the QR endpoint draws (an `otpauth://` URI is far shorter).
const QR_MAX_TEXT: usize = 1024;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/account", web::get().to(page))
        .route("/account/account.js", web::get().to(script))
        .route("/account/qr.svg", web::post().to(qr_svg));
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(PAGE)
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(SCRIPT)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct QrRequest {
    text: String,
}

/// `{"text"}` → the QR code of `text` as SVG. Not cached (it may carry a secret).
async fn qr_svg(body: Bytes) -> Result<HttpResponse, ApiError> {
    let invalid = || ApiError::new(ErrorCode::BadRequest, "Send {\"text\": \"…\"} of at most 1024 characters");
    let request: QrRequest = serde_json::from_slice(&body).map_err(|_| invalid())?;
    if request.text.is_empty() || request.text.len() > QR_MAX_TEXT {
        return Err(invalid());
    }
    let code = QrCode::new(request.text.as_bytes()).map_err(|_| invalid())?;
    let image = code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(image))
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test};

    use super::*;

    #[actix_web::test]
    async fn the_qr_endpoint_draws_an_svg_and_refuses_junk() {
        let app = test::init_service(App::new().configure(configure)).await;
        let req = test::TestRequest::post()
            .uri("/account/qr.svg")
            .set_payload(r#"{"text":"otpauth://totp/hexgate:a@b.c?secret=JBSWY3DPEHPK3PXP"}"#)
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 200);
        let body = test::read_body(res).await;
        assert!(std::str::from_utf8(&body).expect("utf-8").contains("<svg"));
        for junk in ["", "{}", r#"{"text":""}"#] {
            let req = test::TestRequest::post().uri("/account/qr.svg").set_payload(junk).to_request();
            assert_eq!(test::call_service(&app, req).await.status(), 400, "{junk}");
        }
        let page = test::call_service(&app, test::TestRequest::get().uri("/account").to_request()).await;
        let csp = page.headers().get(header::CONTENT_SECURITY_POLICY).expect("csp").to_str().expect("text");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"));
    }
}
