//! Password reset and e-mail verification end to end: the request, the mailed link (read from
//! the outbox), and the token used once.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_shape};

/// The token in the mail's link (`…?token=<token>`). The body is quoted-printable: soft line
/// breaks go and `=3D` is `=`.
fn token_in(mail: &str) -> String {
    let mail = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = mail.find("token=").expect("a link with a token") + "token=".len();
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

#[actix_web::test]
async fn a_password_reset_works_once_revokes_every_session_and_the_new_password_works() {
    let app = TestApp::spawn_with(&[("PUBLIC_BASE_URL", "https://app.example.com")]).await;
    let (_, old) = app.user("forgetful").await;
    let res = app.post_json("/api/v1/auth/forgot-password", None, &json!({"email": "Forgetful@example.com"})).await;
    assert_eq!(res.status(), 202);
    let mail = app.wait_for_mail("forgetful@example.com", "Reset your hexgate password").await;
    assert!(mail.contains("https://app.example.com/reset-password?token="));
    let token = token_in(&mail);

    let weak =
        app.post_json("/api/v1/auth/reset-password", None, &json!({"token": token, "new_password": "weak"})).await;
    error_shape(weak, 422).await;
    let res = app
        .post_json("/api/v1/auth/reset-password", None, &json!({"token": token, "new_password": "Brandnew123"}))
        .await;
    assert_eq!(res.status(), 204);
    // Old sessions are dead, the old password too; the new one works.
    error_shape(app.get("/api/v1/users/me", Some(&old.access)).await, 401).await;
    error_shape(app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": old.refresh})).await, 401).await;
    error_shape(app.login_response("forgetful", "Password123").await, 401).await;
    app.login("forgetful", "Brandnew123").await;
    // The token cannot be used twice.
    let again = app
        .post_json("/api/v1/auth/reset-password", None, &json!({"token": token, "new_password": "Another123"}))
        .await;
    assert_eq!(error_shape(again, 400).await["detail"], "Invalid or expired token");
}

#[actix_web::test]
async fn an_unknown_address_gets_the_same_202_and_no_mail() {
    let app = TestApp::spawn().await;
    let res = app.post_json("/api/v1/auth/forgot-password", None, &json!({"email": "nobody@example.com"})).await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["detail"], "If the address is registered, a reset link is on its way");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(app.mails().is_empty());
    error_shape(app.post_json("/api/v1/auth/forgot-password", None, &json!({"email": "not-an-address"})).await, 422)
        .await;
    error_shape(
        app.post_json("/api/v1/auth/reset-password", None, &json!({"token": "made-up", "new_password": "Brandnew123"}))
            .await,
        400,
    )
    .await;
}

#[actix_web::test]
async fn a_password_change_kills_reset_links_sent_before_it() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("changer").await;
    app.post_json("/api/v1/auth/forgot-password", None, &json!({"email": "changer@example.com"})).await;
    let token = token_in(&app.wait_for_mail("changer@example.com", "Reset your hexgate password").await);
    let res = app
        .post_json(
            "/api/v1/auth/password",
            Some(&tokens.access),
            &json!({"current_password": "Password123", "new_password": "Changed123"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .post_json("/api/v1/auth/reset-password", None, &json!({"token": token, "new_password": "Hijack1234"}))
        .await;
    error_shape(res, 400).await;
    app.login("changer", "Changed123").await;
}

#[actix_web::test]
async fn verification_marks_the_user_verified_once() {
    let app = TestApp::spawn().await;
    let (me, tokens) = app.user("verifier").await;
    assert_eq!(me["is_verified"], false);
    error_shape(app.post_json("/api/v1/auth/verify/request", None, &json!({})).await, 401).await;
    let res = app
        .request(reqwest::Method::POST, "/api/v1/auth/verify/request", Some(&tokens.access))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 202);
    let token = token_in(&app.wait_for_mail("verifier@example.com", "Confirm your e-mail address").await);
    let res = app.post_json("/api/v1/auth/verify", None, &json!({"token": token})).await;
    assert_eq!(res.status(), 200);
    let user: Value = res.json().await.expect("json");
    assert_eq!((user["id"].as_str(), user["is_verified"].as_bool()), (me["id"].as_str(), Some(true)));
    let me_now: Value = app.get("/api/v1/users/me", Some(&tokens.access)).await.json().await.expect("json");
    assert_eq!(me_now["is_verified"], true);
    error_shape(app.post_json("/api/v1/auth/verify", None, &json!({"token": token})).await, 400).await;
    error_shape(app.post_json("/api/v1/auth/verify", None, &json!({"token": "bogus"})).await, 400).await;
}
