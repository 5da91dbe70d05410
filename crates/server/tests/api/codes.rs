//! Every error the service can answer carries the contract's stable `code`; one request per code.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, error_code};

#[actix_web::test]
async fn transport_failures_carry_their_codes() {
    let app = TestApp::spawn().await;
    error_code(app.get("/no/such/route", None).await, 404, "not_found").await;
    error_code(
        app.request(Method::POST, "/api/v1/users/me", None).send().await.expect("send"),
        405,
        "method_not_allowed",
    )
    .await;
    let text = app
        .request(Method::POST, "/api/v1/users", None)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("send");
    error_code(text, 415, "unsupported_media_type").await;
    let broken = app
        .request(Method::POST, "/api/v1/users", None)
        .header("content-type", "application/json")
        .body("{\"email\":")
        .send()
        .await
        .expect("send");
    error_code(broken, 400, "malformed_json").await;
    let huge = app
        .request(Method::POST, "/api/v1/users", None)
        .header("content-type", "application/json")
        .body(format!("{{\"full_name\":\"{}\"}}", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .expect("send");
    error_code(huge, 413, "payload_too_large").await;
    let invalid =
        app.post_json("/api/v1/users", None, &json!({"email": "nope", "username": "a", "password": "x"})).await;
    error_code(invalid, 422, "validation_failed").await;
}

#[actix_web::test]
async fn authentication_failures_carry_their_codes() {
    let app = TestApp::spawn().await;
    error_code(app.get("/api/v1/users/me", None).await, 401, "not_authenticated").await;
    error_code(app.get("/api/v1/users/me", Some("not-a-token")).await, 401, "not_authenticated").await;
    app.register("coder", "Password123").await;
    error_code(app.login_response("coder", "Wrong12345").await, 401, "invalid_credentials").await;
    // Past the per-account limit every attempt is refused, the right password included.
    for _ in 0..5 {
        app.login_response("coder", "Wrong12345").await;
    }
    error_code(app.login_response("coder", "Password123").await, 429, "rate_limited").await;

    let (user, tokens) = app.user("sleeper").await;
    let admin = app.admin().await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().expect("id"));
    let res = app.send_json(Method::PATCH, &path, Some(&admin.access), &json!({"is_active": false})).await;
    assert_eq!(res.status(), 200);
    error_code(app.get("/api/v1/users/me", Some(&tokens.access)).await, 400, "inactive_user").await;
    // Every bearer route, files and tasks included (their documents list this 400 too).
    let file = format!("/api/v1/files/{}", uuid::Uuid::nil());
    error_code(app.get(&file, Some(&tokens.access)).await, 400, "inactive_user").await;

    // An API key outside its scopes, or anywhere only a session may act.
    let (_, keeper) = app.user("keeper").await;
    let created: serde_json::Value = app
        .post_json("/api/v1/auth/api-keys", Some(&keeper.access), &json!({"name": "k", "scopes": ["orders:read"]}))
        .await
        .json()
        .await
        .expect("json");
    let key = created["key"].as_str().expect("key");
    error_code(app.get("/api/v1/users/me", Some(key)).await, 403, "insufficient_scope").await;
    error_code(app.get("/api/v1/auth/sessions", Some(key)).await, 403, "insufficient_scope").await;
}

#[actix_web::test]
async fn rule_and_state_failures_carry_their_codes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (me, tokens) = app.user("ruler").await;
    error_code(app.get("/api/v1/users", Some(&tokens.access)).await, 403, "insufficient_permissions").await;

    let again = json!({"email": "ruler@example.com", "username": "other", "password": "Password123"});
    error_code(app.post_json("/api/v1/users", None, &again).await, 409, "email_taken").await;
    let again = json!({"email": "other@example.com", "username": "ruler", "password": "Password123"});
    error_code(app.post_json("/api/v1/users", None, &again).await, 409, "username_taken").await;
    let twice = json!([
        {"email": "twin@example.com", "username": "twin1", "password": "Password123"},
        {"email": "twin@example.com", "username": "twin2", "password": "Password123"}
    ]);
    error_code(app.post_json("/api/v1/users/batch", Some(&admin.access), &twice).await, 400, "duplicate_in_batch")
        .await;
    let taken = json!([{"email": "ruler@example.com", "username": "fresh", "password": "Password123"}]);
    let body =
        error_code(app.post_json("/api/v1/users/batch", Some(&admin.access), &taken).await, 409, "email_taken").await;
    assert_eq!(body["detail"], "Emails already registered: ruler@example.com");

    let admin_me: serde_json::Value =
        app.get("/api/v1/users/me", Some(&admin.access)).await.json().await.expect("json");
    let demote = format!("/api/v1/users/{}/permissions", admin_me["id"].as_str().expect("id"));
    let res = app.send_json(Method::PUT, &demote, Some(&admin.access), &json!({"permissions": []})).await;
    error_code(res, 409, "last_admin").await;

    let wrong = json!({"current_password": "Wrong12345", "new_password": "Another123"});
    error_code(app.post_json("/api/v1/auth/password", Some(&tokens.access), &wrong).await, 400, "password_incorrect")
        .await;
    let reset = json!({"token": "no-such-token", "new_password": "Another123"});
    error_code(app.post_json("/api/v1/auth/reset-password", None, &reset).await, 400, "invalid_token").await;

    let product = app
        .post_json("/api/v1/products", Some(&admin.access), &json!({"name": "Lamp", "price": 10}))
        .await
        .json::<serde_json::Value>()
        .await
        .expect("json");
    let order = app
        .post_json(
            "/api/v1/orders",
            Some(&tokens.access),
            &json!({"items": [{"product_id": product["id"], "quantity": 1}]}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .expect("json");
    let cancel = format!("/api/v1/orders/{}/cancel", order["id"].as_str().expect("id"));
    assert_eq!(app.request(Method::POST, &cancel, Some(&tokens.access)).send().await.expect("send").status(), 200);
    error_code(app.request(Method::POST, &cancel, Some(&tokens.access)).send().await.expect("send"), 409, "conflict")
        .await;
    let unknown = json!({"items": [{"product_id": uuid::Uuid::new_v4(), "quantity": 1}]});
    let body =
        error_code(app.post_json("/api/v1/orders", Some(&tokens.access), &unknown).await, 422, "validation_failed")
            .await;
    assert_eq!(body["errors"][0]["field"], "body.items.0.product_id");
    assert_eq!(me["username"], "ruler");
}
