use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_shape, fields};

#[actix_web::test]
async fn an_unknown_route_is_a_404_in_the_error_shape() {
    let app = TestApp::spawn().await;
    let body = error_shape(app.get("/no/such/route", None).await, 404).await;
    assert_eq!(body["detail"], "Not found");
    assert!(body["errors"].is_null());
}

#[actix_web::test]
async fn a_literal_segment_with_a_missing_method_is_a_405_naming_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let res = app.request(Method::DELETE, "/api/v1/users/me", Some(&admin.access)).send().await.expect("send");
    let allow = res.headers()["allow"].to_str().expect("ascii").to_owned();
    assert!(allow.contains("GET") && allow.contains("PATCH"), "{allow}");
    error_shape(res, 405).await;
    let res = app.get("/api/v1/users/batch", Some(&admin.access)).await;
    assert!(res.headers()["allow"].to_str().expect("ascii").contains("POST"));
    error_shape(res, 405).await;
}

#[actix_web::test]
async fn a_json_body_with_another_content_type_is_415() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .header("content-type", "text/plain")
        .body(r#"{"email":"a@example.com","username":"abc","password":"Password123"}"#)
        .send()
        .await
        .expect("send");
    error_shape(res, 415).await;
}

#[actix_web::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .expect("send");
    let body = error_shape(res, 400).await;
    assert_eq!(body["detail"], "Malformed JSON body");
}

#[actix_web::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::spawn_with(&[("JSON_BODY_LIMIT_BYTES", "1024")]).await;
    let big =
        json!({"email": "a@example.com", "username": "abc", "password": "Password123", "full_name": "x".repeat(2000)});
    error_shape(app.post_json("/api/v1/users", None, &big).await, 413).await;
}

#[actix_web::test]
async fn a_bad_sign_up_lists_every_failing_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json("/api/v1/users", None, &json!({"email": "not-an-email", "username": "a!", "password": "short"}))
        .await;
    let body = error_shape(res, 422).await;
    assert_eq!(body["detail"], "Validation error");
    assert_eq!(fields(&body), vec!["body.email", "body.password", "body.username"]);
    let codes: Vec<&str> =
        body["errors"].as_array().expect("array").iter().map(|e| e["code"].as_str().expect("code")).collect();
    assert!(codes.contains(&"email_invalid") && codes.contains(&"password_too_short"));
}

#[actix_web::test]
async fn missing_fields_and_wrong_types_are_all_reported_with_the_rule_failures() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json("/api/v1/users", None, &json!({"email": 5, "is_active": "true", "password": "nodigitsHere"}))
        .await;
    let body = error_shape(res, 422).await;
    assert_eq!(fields(&body), vec!["body.email", "body.is_active", "body.password", "body.username"]);
}

#[actix_web::test]
async fn password_rules_each_have_their_code() {
    let app = TestApp::spawn().await;
    for (password, code) in
        [("alllowercase1", "password_uppercase"), ("NoDigitsHere", "password_digit"), ("Sh0rt", "password_too_short")]
    {
        let res = app
            .post_json(
                "/api/v1/users",
                None,
                &json!({"email": "a@example.com", "username": "abc", "password": password}),
            )
            .await;
        let body = error_shape(res, 422).await;
        assert_eq!(body["errors"][0]["field"], "body.password");
        assert_eq!(body["errors"][0]["code"], code);
    }
}

#[actix_web::test]
async fn a_bad_path_id_is_422_on_path_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = error_shape(app.get("/api/v1/users/not-a-uuid", Some(&admin.access)).await, 422).await;
    assert_eq!(fields(&body), vec!["path.id"]);
}

#[actix_web::test]
async fn a_trailing_slash_reaches_the_same_route() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json(
            "/api/v1/users/",
            None,
            &json!({"email": "t@example.com", "username": "trail", "password": "Password123"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let _: Value = res.json().await.expect("json");
}
