use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_shape};

#[actix_web::test]
async fn login_works_by_form_and_json_with_username_or_email() {
    let app = TestApp::spawn().await;
    app.register("ada", "Analytical1").await;
    let body: Value = app.login_response("ada", "Analytical1").await.json().await.expect("json");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().is_some_and(|t| t.len() >= 40));
    app.login("ADA@example.com", "Analytical1").await;
    let res = app.post_json("/api/v1/auth/token", None, &json!({"username": "ada", "password": "Analytical1"})).await;
    assert_eq!(res.status(), 200);
    let tokens = app.login("ada", "Analytical1").await;
    let me: Value = app.get("/api/v1/users/me", Some(&tokens.access)).await.json().await.expect("json");
    assert_eq!(me["username"], "ada");
    assert!(me.get("password").is_none() && me.get("password_hash").is_none());
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.register("ada", "Analytical1").await;
    let wrong = app.login_response("ada", "Wrong12345").await;
    assert_eq!(wrong.headers()["www-authenticate"], "Bearer");
    let wrong = error_shape(wrong, 401).await;
    let unknown = error_shape(app.login_response("nobody", "Wrong12345").await, 401).await;
    assert_eq!(wrong["detail"], "Incorrect username or password");
    assert_eq!(wrong["detail"], unknown["detail"]);
    assert_eq!(wrong["errors"], unknown["errors"]);
}

#[actix_web::test]
async fn an_inactive_user_cannot_log_in_or_use_a_token() {
    let app = TestApp::spawn().await;
    let (user, tokens) = app.user("ina").await;
    let admin = app.admin().await;
    let id = user["id"].as_str().expect("id");
    let res = app
        .send_json(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&admin.access), &json!({"is_active": false}))
        .await;
    assert_eq!(res.status(), 200);
    let body = error_shape(app.login_response("ina", "Password123").await, 400).await;
    assert_eq!(body["detail"], "Inactive user");
    let body = error_shape(app.get("/api/v1/users/me", Some(&tokens.access)).await, 400).await;
    assert_eq!(body["detail"], "Inactive user");
}

#[actix_web::test]
async fn a_missing_login_field_is_422() {
    let app = TestApp::spawn().await;
    let res = app.post_json("/api/v1/auth/token", None, &json!({"username": "ada"})).await;
    let body = error_shape(res, 422).await;
    assert_eq!(body["errors"][0]["field"], "body.password");
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": token})).await
}

async fn pair(res: reqwest::Response) -> Tokens {
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    Tokens {
        access: body["access_token"].as_str().expect("access").to_owned(),
        refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
    }
}

#[actix_web::test]
async fn refresh_rotates_and_the_new_pair_works() {
    let app = TestApp::spawn().await;
    let (_, first) = app.user("rot").await;
    let second = pair(refresh(&app, &first.refresh).await).await;
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(app.get("/api/v1/users/me", Some(&second.access)).await.status(), 200);
    let third = pair(refresh(&app, &second.refresh).await).await;
    assert_eq!(app.get("/api/v1/users/me", Some(&third.access)).await.status(), 200);
}

#[actix_web::test]
async fn refresh_token_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let (_, first) = app.user("reuse").await;
    let second = pair(refresh(&app, &first.refresh).await).await;
    let third = pair(refresh(&app, &second.refresh).await).await;
    // Replaying a spent token: 401, and the newest token of the family is dead too.
    error_shape(refresh(&app, &first.refresh).await, 401).await;
    error_shape(refresh(&app, &third.refresh).await, 401).await;
    error_shape(app.get("/api/v1/users/me", Some(&third.access)).await, 401).await;
}

#[actix_web::test]
async fn a_concurrent_refresh_within_the_grace_window_gets_a_valid_pair() {
    let app = TestApp::spawn().await;
    let (_, first) = app.user("tabs").await;
    let (a, b) = tokio::join!(refresh(&app, &first.refresh), refresh(&app, &first.refresh));
    let (a, b) = (pair(a).await, pair(b).await);
    assert_ne!(a.refresh, b.refresh);
    // Both tabs stay signed in and can keep refreshing.
    pair(refresh(&app, &a.refresh).await).await;
    pair(refresh(&app, &b.refresh).await).await;
}

#[actix_web::test]
async fn a_spent_token_is_refused_once_its_successor_has_been_used() {
    let app = TestApp::spawn().await;
    let (_, first) = app.user("late").await;
    let second = pair(refresh(&app, &first.refresh).await).await;
    pair(refresh(&app, &second.refresh).await).await;
    error_shape(refresh(&app, &first.refresh).await, 401).await;
}

#[actix_web::test]
async fn an_unknown_refresh_token_is_401() {
    let app = TestApp::spawn().await;
    let body = error_shape(refresh(&app, "made-up-token").await, 401).await;
    assert_eq!(body["detail"], "Could not validate credentials");
}

#[actix_web::test]
async fn logout_revokes_the_access_token_and_the_refresh_family() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("bye").await;
    let res =
        app.post_json("/api/v1/auth/logout", Some(&tokens.access), &json!({"refresh_token": tokens.refresh})).await;
    assert_eq!(res.status(), 204);
    error_shape(app.get("/api/v1/users/me", Some(&tokens.access)).await, 401).await;
    error_shape(refresh(&app, &tokens.refresh).await, 401).await;
}

#[actix_web::test]
async fn logout_without_a_body_ends_the_current_session() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("bye2").await;
    let res = app.request(Method::POST, "/api/v1/auth/logout", Some(&tokens.access)).send().await.expect("send");
    assert_eq!(res.status(), 204);
    error_shape(app.get("/api/v1/users/me", Some(&tokens.access)).await, 401).await;
    error_shape(refresh(&app, &tokens.refresh).await, 401).await;
}

#[actix_web::test]
async fn changing_the_password_revokes_every_other_session() {
    let app = TestApp::spawn().await;
    let (_, here) = app.user("pwd").await;
    let elsewhere = app.login("pwd", "Password123").await;
    let wrong = app
        .post_json(
            "/api/v1/auth/password",
            Some(&here.access),
            &json!({"current_password": "Nope12345", "new_password": "Newpass123"}),
        )
        .await;
    error_shape(wrong, 400).await;
    let weak = app
        .post_json(
            "/api/v1/auth/password",
            Some(&here.access),
            &json!({"current_password": "Password123", "new_password": "weak"}),
        )
        .await;
    error_shape(weak, 422).await;
    let res = app
        .post_json(
            "/api/v1/auth/password",
            Some(&here.access),
            &json!({"current_password": "Password123", "new_password": "Newpass123"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.get("/api/v1/users/me", Some(&here.access)).await.status(), 200);
    error_shape(app.get("/api/v1/users/me", Some(&elsewhere.access)).await, 401).await;
    error_shape(refresh(&app, &elsewhere.refresh).await, 401).await;
    error_shape(app.login_response("pwd", "Password123").await, 401).await;
    app.login("pwd", "Newpass123").await;
}

#[actix_web::test]
async fn sessions_are_listed_and_revoked_but_only_ones_own() {
    let app = TestApp::spawn().await;
    let (_, phone) = app.user("sess").await;
    let laptop = app.login("sess", "Password123").await;
    let list: Vec<Value> = app.get("/api/v1/auth/sessions", Some(&phone.access)).await.json().await.expect("json");
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    let other = list.iter().find(|s| s["current"] == false).expect("laptop session");
    let id = other["id"].as_str().expect("id");

    let (_, stranger) = app.user("stranger").await;
    let res = app
        .request(Method::DELETE, &format!("/api/v1/auth/sessions/{id}"), Some(&stranger.access))
        .send()
        .await
        .expect("send");
    error_shape(res, 404).await;

    let res = app
        .request(Method::DELETE, &format!("/api/v1/auth/sessions/{id}"), Some(&phone.access))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 204);
    // The revoked session's access token dies at once, not at expiry.
    error_shape(app.get("/api/v1/users/me", Some(&laptop.access)).await, 401).await;
    let list: Vec<Value> = app.get("/api/v1/auth/sessions", Some(&phone.access)).await.json().await.expect("json");
    assert_eq!(list.len(), 1);
}

#[actix_web::test]
async fn past_the_failure_limit_even_the_right_password_gets_429() {
    let app = TestApp::spawn_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    app.register("target", "Password123").await;
    for _ in 0..3 {
        error_shape(app.login_response("target", "Wrong12345").await, 401).await;
    }
    // Counted per account: the e-mail address shares the username's count.
    let res = app.login_response("target@example.com", "Password123").await;
    assert!(res.headers()["retry-after"].to_str().expect("ascii").parse::<u64>().expect("seconds") > 0);
    error_shape(res, 429).await;
    // An unknown name gets the same treatment, so a 429 reveals nothing.
    for _ in 0..3 {
        error_shape(app.login_response("ghost", "Wrong12345").await, 401).await;
    }
    error_shape(app.login_response("ghost", "Wrong12345").await, 429).await;
}

#[actix_web::test]
async fn a_successful_login_before_the_limit_resets_the_count() {
    let app = TestApp::spawn_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    app.register("reset", "Password123").await;
    for _ in 0..2 {
        error_shape(app.login_response("reset", "Wrong12345").await, 401).await;
    }
    app.login("reset", "Password123").await;
    for _ in 0..3 {
        error_shape(app.login_response("reset", "Wrong12345").await, 401).await;
    }
    error_shape(app.login_response("reset", "Password123").await, 429).await;
}

#[actix_web::test]
async fn the_login_route_has_its_own_tighter_rate_limit() {
    let app = TestApp::spawn_with(&[("LOGIN_RATE_LIMIT_PER_MINUTE", "2"), ("RATE_LIMIT_PER_MINUTE", "100")]).await;
    for remaining in ["1", "0"] {
        let res = app.login_response("nobody", "Wrong12345").await;
        assert_eq!(res.headers()["x-ratelimit-limit"], "2");
        assert_eq!(res.headers()["x-ratelimit-remaining"], remaining);
    }
    let res = app.login_response("nobody", "Wrong12345").await;
    assert!(res.headers().get("retry-after").is_some() && res.headers().get("x-ratelimit-reset").is_some());
    error_shape(res, 429).await;
    // Other routes still answer.
    assert_eq!(app.get("/api/v1/users/me", None).await.status(), 401);
}

#[actix_web::test]
async fn limits_are_per_route_pattern_so_changing_ids_does_not_escape_them() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        let id = uuid::Uuid::now_v7();
        app.get(&format!("/api/v1/users/{id}"), None).await;
    }
    let id = uuid::Uuid::now_v7();
    let res = app.get(&format!("/api/v1/users/{id}"), None).await;
    assert_eq!(res.headers()["x-ratelimit-remaining"], "0");
    error_shape(res, 429).await;
    // Another pattern has its own budget.
    assert_eq!(app.get("/api/v1/users/me", None).await.status(), 401);
}
