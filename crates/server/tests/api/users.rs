use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_shape, fields};

fn new_user(name: &str) -> Value {
    json!({"email": format!("{name}@example.com"), "username": name, "password": "Password123"})
}

#[actix_web::test]
async fn sign_up_answers_201_and_stores_lowercase_and_ignores_unknown_fields() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json(
            "/api/v1/users",
            None,
            &json!({"email": "Ada@Example.COM", "username": "AdaL", "password": "Analytical1",
            "full_name": "Ada Lovelace", "permissions": ["admin"], "is_verified": true}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let user: Value = res.json().await.expect("json");
    assert_eq!((user["email"].as_str(), user["username"].as_str()), (Some("ada@example.com"), Some("adal")));
    assert_eq!(user["permissions"], json!([]));
    assert_eq!(user["is_verified"], false);
    assert!(user["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(uuid::Uuid::parse_str(user["id"].as_str().expect("id")).is_ok());
}

#[actix_web::test]
async fn duplicate_emails_and_usernames_are_409_case_insensitively() {
    let app = TestApp::spawn().await;
    app.register("dup", "Password123").await;
    let res = app
        .post_json(
            "/api/v1/users",
            None,
            &json!({"email": "DUP@example.com", "username": "other", "password": "Password123"}),
        )
        .await;
    assert_eq!(error_shape(res, 409).await["detail"], "Email already registered");
    let res = app
        .post_json(
            "/api/v1/users",
            None,
            &json!({"email": "new@example.com", "username": "DUP", "password": "Password123"}),
        )
        .await;
    assert_eq!(error_shape(res, 409).await["detail"], "Username already taken");
}

#[actix_web::test]
async fn concurrent_sign_ups_with_one_email_create_exactly_one_user() {
    let app = TestApp::spawn().await;
    let bodies: Vec<Value> = (0..50)
        .map(|i| json!({"email": "race@example.com", "username": format!("racer{i}"), "password": "Password123"}))
        .collect();
    let attempts = bodies.iter().map(|body| app.post_json("/api/v1/users", None, body));
    let results = futures_util::future::join_all(attempts).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
}

#[actix_web::test]
async fn closed_registration_admits_only_admins() {
    let app = TestApp::spawn_with(&[("OPEN_REGISTRATION", "false")]).await;
    error_shape(app.post_json("/api/v1/users", None, &new_user("anon")).await, 401).await;
    let admin = app.admin().await;
    assert_eq!(app.post_json("/api/v1/users", Some(&admin.access), &new_user("made")).await.status(), 201);
    let plain = app.login("made", "Password123").await;
    error_shape(app.post_json("/api/v1/users", Some(&plain.access), &new_user("nope")).await, 403).await;
}

#[actix_web::test]
async fn listing_is_for_admins_and_user_managers_only() {
    let app = TestApp::spawn().await;
    let (user, plain) = app.user("plain").await;
    error_shape(app.get("/api/v1/users", Some(&plain.access)).await, 403).await;
    error_shape(app.get("/api/v1/users", None).await, 401).await;
    let admin = app.admin().await;
    let id = user["id"].as_str().expect("id");
    let res = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/users/{id}/permissions"),
            Some(&admin.access),
            &json!({"permissions": ["user_manager"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.get("/api/v1/users", Some(&plain.access)).await.status(), 200);
}

#[actix_web::test]
async fn the_list_pages_filters_and_sorts() {
    let app = TestApp::spawn().await;
    for name in ["carol", "alice", "bob", "dave_x", "erin"] {
        app.register(name, "Password123").await;
    }
    let admin = app.admin().await;
    let page: Value = app
        .get("/api/v1/users?page=2&page_size=2&sort=username", Some(&admin.access))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!((page["total"].as_u64(), page["pages"].as_u64(), page["page"].as_u64()), (Some(6), Some(3), Some(2)));
    assert_eq!((page["has_next"].as_bool(), page["has_previous"].as_bool()), (Some(true), Some(true)));
    let names: Vec<&str> =
        page["items"].as_array().expect("items").iter().map(|u| u["username"].as_str().expect("name")).collect();
    assert_eq!(names, vec!["bob", "carol"]);
    let desc: Value =
        app.get("/api/v1/users?sort=-username&page_size=1", Some(&admin.access)).await.json().await.expect("json");
    assert_eq!(desc["items"][0]["username"], "erin");
    let found: Value = app.get("/api/v1/users?q=AR", Some(&admin.access)).await.json().await.expect("json");
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["username"], "carol");
    // LIKE wildcards in q are literal.
    let underscore: Value = app.get("/api/v1/users?q=_", Some(&admin.access)).await.json().await.expect("json");
    assert_eq!(underscore["total"], 1);
    let past: Value = app.get("/api/v1/users?page=99", Some(&admin.access)).await.json().await.expect("json");
    assert_eq!((past["items"].as_array().map(Vec::len), past["total"].as_u64()), (Some(0), Some(6)));
    let active: Value = app.get("/api/v1/users?is_active=false", Some(&admin.access)).await.json().await.expect("json");
    assert_eq!((active["total"].as_u64(), active["pages"].as_u64()), (Some(0), Some(0)));
}

#[actix_web::test]
async fn out_of_range_list_parameters_are_422_each_named() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = error_shape(
        app.get("/api/v1/users?page=0&page_size=101&sort=password&is_active=1", Some(&admin.access)).await,
        422,
    )
    .await;
    assert_eq!(fields(&body), vec!["query.is_active", "query.page", "query.page_size", "query.sort"]);
    let body = error_shape(app.get("/api/v1/users?page=abc", Some(&admin.access)).await, 422).await;
    assert_eq!(fields(&body), vec!["query.page"]);
}

#[actix_web::test]
async fn reading_another_user_is_403_whether_or_not_it_exists_but_admins_get_404() {
    let app = TestApp::spawn().await;
    let (me, mine) = app.user("me1").await;
    let (other, _) = app.user("other1").await;
    let my_id = me["id"].as_str().expect("id");
    assert_eq!(app.get(&format!("/api/v1/users/{my_id}"), Some(&mine.access)).await.status(), 200);
    let other_id = other["id"].as_str().expect("id");
    let missing = uuid::Uuid::now_v7();
    let a = error_shape(app.get(&format!("/api/v1/users/{other_id}"), Some(&mine.access)).await, 403).await;
    let b = error_shape(app.get(&format!("/api/v1/users/{missing}"), Some(&mine.access)).await, 403).await;
    assert_eq!(a["detail"], "Insufficient permissions");
    assert_eq!(a["detail"], b["detail"]);
    let admin = app.admin().await;
    assert_eq!(app.get(&format!("/api/v1/users/{other_id}"), Some(&admin.access)).await.status(), 200);
    let body = error_shape(app.get(&format!("/api/v1/users/{missing}"), Some(&admin.access)).await, 404).await;
    assert_eq!(body["detail"], "User not found");
}

#[actix_web::test]
async fn patch_changes_only_given_fields_and_refuses_others() {
    let app = TestApp::spawn().await;
    let (me, tokens) = app.user("patchy").await;
    let res = app
        .send_json(Method::PATCH, "/api/v1/users/me", Some(&tokens.access), &json!({"full_name": "Patchy McPatch"}))
        .await;
    let after: Value = res.json().await.expect("json");
    assert_eq!(after["full_name"], "Patchy McPatch");
    assert_eq!(after["email"], me["email"]);
    let body = error_shape(
        app.send_json(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&tokens.access),
            &json!({"username": "x", "permissions": ["admin"]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&body), vec!["body.permissions", "body.username"]);
    let body = error_shape(
        app.send_json(Method::PATCH, "/api/v1/users/me", Some(&tokens.access), &json!({"is_active": "no"})).await,
        422,
    )
    .await;
    assert_eq!(fields(&body), vec!["body.is_active"]);
}

#[actix_web::test]
async fn an_email_change_unverifies_and_clashes_are_409() {
    let app = TestApp::spawn().await;
    app.register("taken", "Password123").await;
    let (me, tokens) = app.user("mover").await;
    let id = me["id"].as_str().expect("id");
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&tokens.access),
            &json!({"email": "TAKEN@example.com"}),
        )
        .await;
    assert_eq!(error_shape(res, 409).await["detail"], "Email already registered");
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&tokens.access),
            &json!({"email": "moved@example.com"}),
        )
        .await;
    let after: Value = res.json().await.expect("json");
    assert_eq!((after["email"].as_str(), after["is_verified"].as_bool()), (Some("moved@example.com"), Some(false)));
}

#[actix_web::test]
async fn a_user_cannot_patch_another_user_but_an_admin_can() {
    let app = TestApp::spawn().await;
    let (_, mine) = app.user("paa").await;
    let (other, _) = app.user("pbb").await;
    let id = other["id"].as_str().expect("id");
    let body = json!({"full_name": "Changed"});
    error_shape(app.send_json(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&mine.access), &body).await, 403)
        .await;
    let missing = uuid::Uuid::now_v7();
    error_shape(
        app.send_json(Method::PATCH, &format!("/api/v1/users/{missing}"), Some(&mine.access), &body).await,
        403,
    )
    .await;
    let admin = app.admin().await;
    assert_eq!(
        app.send_json(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&admin.access), &body).await.status(),
        200
    );
    error_shape(
        app.send_json(Method::PATCH, &format!("/api/v1/users/{missing}"), Some(&admin.access), &body).await,
        404,
    )
    .await;
}

#[actix_web::test]
async fn permissions_are_admin_only_from_a_fixed_set_and_the_last_admin_stays() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (user, plain) = app.user("perm").await;
    let id = user["id"].as_str().expect("id");
    let path = format!("/api/v1/users/{id}/permissions");
    error_shape(app.send_json(Method::PUT, &path, Some(&plain.access), &json!({"permissions": ["admin"]})).await, 403)
        .await;
    let body = error_shape(
        app.send_json(Method::PUT, &path, Some(&admin.access), &json!({"permissions": ["root"]})).await,
        422,
    )
    .await;
    assert_eq!(fields(&body), vec!["body.permissions.0"]);
    let me: Value = app.get("/api/v1/users/me", Some(&admin.access)).await.json().await.expect("json");
    let admin_path = format!("/api/v1/users/{}/permissions", me["id"].as_str().expect("id"));
    let res = app.send_json(Method::PUT, &admin_path, Some(&admin.access), &json!({"permissions": []})).await;
    error_shape(res, 409).await;
    let admin_id = me["id"].as_str().expect("id");
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{admin_id}"),
            Some(&admin.access),
            &json!({"is_active": false}),
        )
        .await;
    error_shape(res, 409).await;
    let res = app
        .request(Method::DELETE, &format!("/api/v1/users/{admin_id}"), Some(&admin.access))
        .send()
        .await
        .expect("send");
    error_shape(res, 409).await;
    // With a second admin, the first may step down.
    let res = app
        .send_json(Method::PUT, &path, Some(&admin.access), &json!({"permissions": ["admin", "catalog_manager"]}))
        .await;
    let promoted: Value = res.json().await.expect("json");
    assert_eq!(promoted["permissions"], json!(["admin", "catalog_manager"]));
    assert_eq!(
        app.send_json(Method::PUT, &admin_path, Some(&admin.access), &json!({"permissions": []})).await.status(),
        200
    );
}

#[actix_web::test]
async fn deleting_a_user_is_admin_only_and_ends_their_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (user, tokens) = app.user("doomed").await;
    let id = user["id"].as_str().expect("id");
    let res =
        app.request(Method::DELETE, &format!("/api/v1/users/{id}"), Some(&tokens.access)).send().await.expect("send");
    error_shape(res, 403).await;
    let res =
        app.request(Method::DELETE, &format!("/api/v1/users/{id}"), Some(&admin.access)).send().await.expect("send");
    assert_eq!(res.status(), 204);
    let res =
        app.request(Method::DELETE, &format!("/api/v1/users/{id}"), Some(&admin.access)).send().await.expect("send");
    error_shape(res, 404).await;
    error_shape(app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": tokens.refresh})).await, 401)
        .await;
}

#[actix_web::test]
async fn batch_creates_all_in_order_or_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let res = app
        .post_json(
            "/api/v1/users/batch",
            Some(&admin.access),
            &json!([new_user("b1x"), new_user("b2x"), new_user("b3x")]),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Vec<Value> = res.json().await.expect("json");
    let names: Vec<&str> = created.iter().map(|u| u["username"].as_str().expect("name")).collect();
    assert_eq!(names, vec!["b1x", "b2x", "b3x"]);

    let dup = json!([new_user("c1x"), {"email": "c1x@example.com", "username": "c2x", "password": "Password123"}]);
    let body = error_shape(app.post_json("/api/v1/users/batch", Some(&admin.access), &dup).await, 400).await;
    assert_eq!(body["detail"], "Duplicate emails in batch");
    let dup = json!([new_user("d1x"), {"email": "d2x@example.com", "username": "D1x", "password": "Password123"}]);
    let body = error_shape(app.post_json("/api/v1/users/batch", Some(&admin.access), &dup).await, 400).await;
    assert_eq!(body["detail"], "Duplicate usernames in batch");
    let taken = json!([new_user("e1x"), new_user("b1x"), new_user("b2x")]);
    let body = error_shape(app.post_json("/api/v1/users/batch", Some(&admin.access), &taken).await, 409).await;
    assert_eq!(body["detail"], "Emails already registered: b1x@example.com, b2x@example.com");
    let taken = json!([new_user("f1x"), {"email": "f2x@example.com", "username": "b3x", "password": "Password123"}]);
    let body = error_shape(app.post_json("/api/v1/users/batch", Some(&admin.access), &taken).await, 409).await;
    assert_eq!(body["detail"], "Usernames already taken: b3x");
    // Nothing from the refused batches exists.
    let page: Value = app.get("/api/v1/users?q=e1x", Some(&admin.access)).await.json().await.expect("json");
    assert_eq!(page["total"], 0);
    let body = error_shape(app.post_json("/api/v1/users/batch", Some(&admin.access), &json!([])).await, 422).await;
    assert_eq!(fields(&body), vec!["body"]);
    let bad = json!([new_user("g1x"), {"email": "bad", "username": "g2x", "password": "Password123"}]);
    let body = error_shape(app.post_json("/api/v1/users/batch", Some(&admin.access), &bad).await, 422).await;
    assert_eq!(fields(&body), vec!["body.1.email"]);
    let (_, plain) = app.user("nobatch").await;
    error_shape(app.post_json("/api/v1/users/batch", Some(&plain.access), &json!([new_user("h1x")])).await, 403).await;
}
