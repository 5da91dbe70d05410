//! API keys (personal access tokens): every row and bullet of the contract's section.

use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, Tokens, error_code, fields, start_binary};

const KEYS: &str = "/api/v1/auth/api-keys";

async fn create_key(app: &TestApp, token: &str, body: &Value) -> Value {
    let res = app.post_json(KEYS, Some(token), body).await;
    assert_eq!(res.status(), 201, "create key");
    res.json().await.expect("json")
}

async fn key_with(app: &TestApp, token: &str, scopes: &[&str]) -> String {
    let created = create_key(app, token, &json!({"name": "test", "scopes": scopes})).await;
    created["key"].as_str().expect("key").to_owned()
}

/// Sets a key's timestamp column in the app's own database (values bound, so each database
/// stores them in its own format), finding the key by its prefix.
async fn set_time(app: &TestApp, column: &str, at: chrono::DateTime<chrono::Utc>, prefix: &str) {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
    let backend = db.get_database_backend();
    let (a, b) = if backend == DbBackend::Postgres { ("$1", "$2") } else { ("?", "?") };
    let sql = format!("UPDATE api_keys SET {column} = {a} WHERE prefix = {b}");
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [at.into(), prefix.into()])).await.expect("update");
    db.close().await.ok();
}

async fn one_text(app: &TestApp, query: &str) -> Option<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), query)).await.expect("query");
    let value = row.and_then(|r| r.try_get_by_index::<Option<String>>(0).ok()).flatten();
    db.close().await.ok();
    value
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[actix_web::test]
async fn a_key_is_shown_once_stored_as_a_hash_and_recognised_by_its_prefix() {
    let app = TestApp::spawn().await;
    let (me, tokens) = app.user("keyholder").await;
    let created = create_key(
        &app,
        &tokens.access,
        &json!({"name": "nightly export", "scopes": ["profile:read"], "expires_in_days": 30}),
    )
    .await;
    let key = created["key"].as_str().expect("key");
    assert!(key.starts_with("hgk_") && key.len() == 47, "hgk_ and 43 url-safe characters: {key}");
    assert!(key[4..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(created["prefix"], &key[..12]);
    assert_eq!(created["name"], "nightly export");
    assert_eq!(created["scopes"], json!(["profile:read"]));
    assert!(created["last_used_at"].is_null());
    let created_at =
        chrono::DateTime::parse_from_rfc3339(created["created_at"].as_str().expect("at")).expect("rfc3339");
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().expect("at")).expect("rfc3339");
    assert_eq!(expires_at - created_at, chrono::Duration::days(30));
    let forever = create_key(
        &app,
        &tokens.access,
        &json!({"name": "forever", "scopes": ["orders:read"], "expires_in_days": null}),
    )
    .await;
    assert!(forever["expires_at"].is_null(), "null: never expires");

    // Listed newest first, never with the key.
    let list: Value = app.get(KEYS, Some(&tokens.access)).await.json().await.expect("json");
    let list = list.as_array().expect("a plain list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], forever["id"]);
    assert_eq!(list[1]["id"], created["id"]);
    assert!(list.iter().all(|k| k.get("key").is_none()), "{list:?}");

    // Stored only as its SHA-256: the key is nowhere in the table.
    let stored = one_text(&app, &format!("SELECT key_hash FROM api_keys WHERE prefix = '{}'", &key[..12])).await;
    assert_eq!(stored.as_deref(), Some(sha256_hex(key).as_str()));
    let leaked = one_text(
        &app,
        &format!("SELECT name FROM api_keys WHERE key_hash = '{key}' OR name = '{key}' OR prefix = '{key}'"),
    )
    .await;
    assert_eq!(leaked, None);

    // Used wherever an access token is accepted.
    let res = app.get("/api/v1/users/me", Some(key)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["id"], me["id"]);
}

#[actix_web::test]
async fn a_bad_key_request_is_422_field_by_field() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("keyrules").await;
    let cases = [
        (json!({"name": "", "scopes": ["profile:read"]}), "body.name"),
        (json!({"name": "x".repeat(101), "scopes": ["profile:read"]}), "body.name"),
        (json!({"name": "ok", "scopes": []}), "body.scopes"),
        (json!({"name": "ok", "scopes": ["admin:all"]}), "body.scopes.0"),
        (json!({"name": "ok", "scopes": ["profile:read"], "expires_in_days": 0}), "body.expires_in_days"),
        (json!({"name": "ok", "scopes": ["profile:read"], "expires_in_days": 366}), "body.expires_in_days"),
        (json!({"name": "ok", "scopes": ["profile:read"], "expires_in_days": "30"}), "body.expires_in_days"),
        (json!({"scopes": ["profile:read"]}), "body.name"),
    ];
    for (body, field) in cases {
        let res = app.post_json(KEYS, Some(&tokens.access), &body).await;
        let error = error_code(res, 422, "validation_failed").await;
        assert_eq!(fields(&error), vec![field.to_owned()], "{body}");
    }
    assert_eq!(app.get(KEYS, Some(&tokens.access)).await.json::<Value>().await.expect("json"), json!([]));
    error_code(
        app.post_json(KEYS, None, &json!({"name": "x", "scopes": ["profile:read"]})).await,
        401,
        "not_authenticated",
    )
    .await;
}

#[actix_web::test]
async fn a_key_does_what_its_scopes_allow_and_a_write_scope_includes_its_read() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (me, tokens) = app.user("scoped").await;
    let (other, _) = app.user("someoneelse").await;
    let my_id = me["id"].as_str().expect("id");
    let profile = key_with(&app, &tokens.access, &["profile:read"]).await;
    assert_eq!(app.get("/api/v1/users/me", Some(&profile)).await.status(), 200);
    assert_eq!(app.get(&format!("/api/v1/users/{my_id}"), Some(&profile)).await.status(), 200, "own id");
    assert_eq!(app.get(&format!("/api/v1/users/{my_id}/preferences"), Some(&profile)).await.status(), 200);
    let others = format!("/api/v1/users/{}", other["id"].as_str().expect("id"));
    error_code(app.get(&others, Some(&profile)).await, 403, "insufficient_scope").await;
    let patch = app.send_json(Method::PATCH, "/api/v1/users/me", Some(&profile), &json!({"full_name": "X"})).await;
    error_code(patch, 403, "insufficient_scope").await;
    error_code(app.get("/api/v1/orders", Some(&profile)).await, 403, "insufficient_scope").await;

    let writer = key_with(&app, &tokens.access, &["profile:write", "orders:write"]).await;
    let patch = app.send_json(Method::PATCH, "/api/v1/users/me", Some(&writer), &json!({"full_name": "Via Key"})).await;
    assert_eq!(patch.status(), 200);
    assert_eq!(app.get("/api/v1/users/me", Some(&writer)).await.status(), 200, "profile:write includes profile:read");
    assert_eq!(app.get("/api/v1/orders", Some(&writer)).await.status(), 200, "orders:write includes orders:read");
    let product: Value = app
        .post_json("/api/v1/products", Some(&admin.access), &json!({"name": "Lamp", "price": 10}))
        .await
        .json()
        .await
        .expect("json");
    let order = app
        .post_json("/api/v1/orders", Some(&writer), &json!({"items": [{"product_id": product["id"], "quantity": 1}]}))
        .await;
    assert_eq!(order.status(), 201);
    error_code(
        app.post_json("/api/v1/products", Some(&writer), &json!({"name": "No", "price": 1})).await,
        403,
        "insufficient_scope",
    )
    .await;
    let upload = app
        .request(Method::GET, "/api/v1/files/00000000-0000-0000-0000-000000000000", Some(&writer))
        .send()
        .await
        .expect("send");
    error_code(upload, 403, "insufficient_scope").await;

    // Scopes are intersected with the owner's permissions: products:write without catalog rights.
    let catalog = key_with(&app, &tokens.access, &["products:write", "users:read"]).await;
    error_code(
        app.post_json("/api/v1/products", Some(&catalog), &json!({"name": "No", "price": 1})).await,
        403,
        "insufficient_permissions",
    )
    .await;
    error_code(app.get("/api/v1/users", Some(&catalog)).await, 403, "insufficient_permissions").await;
}

#[actix_web::test]
async fn a_key_can_never_manage_credentials() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("nokeys").await;
    let every_scope = [
        "profile:read",
        "profile:write",
        "orders:read",
        "orders:write",
        "files:read",
        "files:write",
        "products:write",
        "users:read",
        "users:write",
    ];
    let key = key_with(&app, &tokens.access, &every_scope).await;
    let listed: Value = app.get(KEYS, Some(&tokens.access)).await.json().await.expect("json");
    let key_id = listed[0]["id"].as_str().expect("id").to_owned();
    let session = uuid::Uuid::now_v7();
    let refused = [
        app.post_json(KEYS, Some(&key), &json!({"name": "more", "scopes": ["profile:read"]})).await,
        app.get(KEYS, Some(&key)).await,
        app.delete(&format!("{KEYS}/{key_id}"), Some(&key)).await,
        app.post_json(
            "/api/v1/auth/password",
            Some(&key),
            &json!({"current_password": "Password123", "new_password": "Another123"}),
        )
        .await,
        app.get("/api/v1/auth/sessions", Some(&key)).await,
        app.delete(&format!("/api/v1/auth/sessions/{session}"), Some(&key)).await,
        app.request(Method::POST, "/api/v1/auth/logout", Some(&key)).send().await.expect("send"),
        app.request(Method::POST, "/api/v1/auth/verify/request", Some(&key)).send().await.expect("send"),
        app.get("/api/v1/users/me/audit-events", Some(&key)).await,
    ];
    for res in refused {
        error_code(res, 403, "insufficient_scope").await;
    }
    // The key still works, and the session still manages it.
    assert_eq!(app.get("/api/v1/users/me", Some(&key)).await.status(), 200);
    assert_eq!(app.delete(&format!("{KEYS}/{key_id}"), Some(&tokens.access)).await.status(), 204);
}

#[actix_web::test]
async fn a_keys_rights_shrink_when_its_owner_loses_a_permission() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (manager, tokens) = app.user("manager").await;
    let perms = format!("/api/v1/users/{}/permissions", manager["id"].as_str().expect("id"));
    let grant =
        app.send_json(Method::PUT, &perms, Some(&admin.access), &json!({"permissions": ["user_manager"]})).await;
    assert_eq!(grant.status(), 200);
    let key = key_with(&app, &tokens.access, &["users:read"]).await;
    assert_eq!(app.get("/api/v1/users", Some(&key)).await.status(), 200);
    let revoke = app.send_json(Method::PUT, &perms, Some(&admin.access), &json!({"permissions": []})).await;
    assert_eq!(revoke.status(), 200);
    error_code(app.get("/api/v1/users", Some(&key)).await, 403, "insufficient_permissions").await;
    assert_eq!(app.get("/api/v1/users/me", Some(&key)).await.status(), 403, "and no profile scope either");
}

#[actix_web::test]
async fn revoked_expired_and_orphaned_keys_are_401_and_an_inactive_owners_key_400() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (alice, alice_tokens) = app.user("alice").await;
    let (_, bob_tokens) = app.user("bobby").await;
    let revoked = create_key(&app, &alice_tokens.access, &json!({"name": "r", "scopes": ["profile:read"]})).await;
    let revoked_key = revoked["key"].as_str().expect("key");
    // Another user's key is 404 and keeps working.
    let path = format!("{KEYS}/{}", revoked["id"].as_str().expect("id"));
    error_code(app.delete(&path, Some(&bob_tokens.access)).await, 404, "not_found").await;
    assert_eq!(app.get("/api/v1/users/me", Some(revoked_key)).await.status(), 200);
    assert_eq!(app.delete(&path, Some(&alice_tokens.access)).await.status(), 204);
    let res = app.get("/api/v1/users/me", Some(revoked_key)).await;
    assert_eq!(res.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
    error_code(res, 401, "not_authenticated").await;
    error_code(app.delete(&path, Some(&alice_tokens.access)).await, 404, "not_found").await;

    let expired =
        create_key(&app, &alice_tokens.access, &json!({"name": "e", "scopes": ["profile:read"], "expires_in_days": 1}))
            .await;
    let expired_key = expired["key"].as_str().expect("key");
    assert_eq!(app.get("/api/v1/users/me", Some(expired_key)).await.status(), 200);
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    set_time(&app, "expires_at", past, expired["prefix"].as_str().expect("prefix")).await;
    error_code(app.get("/api/v1/users/me", Some(expired_key)).await, 401, "not_authenticated").await;
    error_code(
        app.get("/api/v1/users/me", Some("hgk_not-a-real-key-at-all-0000000000000000000")).await,
        401,
        "not_authenticated",
    )
    .await;

    let live = key_with(&app, &alice_tokens.access, &["profile:read"]).await;
    let alice_path = format!("/api/v1/users/{}", alice["id"].as_str().expect("id"));
    let off = app.send_json(Method::PATCH, &alice_path, Some(&admin.access), &json!({"is_active": false})).await;
    assert_eq!(off.status(), 200);
    error_code(app.get("/api/v1/users/me", Some(&live)).await, 400, "inactive_user").await;
    assert_eq!(app.delete(&alice_path, Some(&admin.access)).await.status(), 204);
    error_code(app.get("/api/v1/users/me", Some(&live)).await, 401, "not_authenticated").await;
}

#[actix_web::test]
async fn last_used_is_kept_to_the_minute_without_a_write_per_request() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("usedkey").await;
    let created = create_key(&app, &tokens.access, &json!({"name": "u", "scopes": ["profile:read"]})).await;
    let key = created["key"].as_str().expect("key");
    let prefix = created["prefix"].as_str().expect("prefix");
    let last_used = || async {
        one_text(&app, &format!("SELECT CAST(last_used_at AS TEXT) FROM api_keys WHERE prefix = '{prefix}'")).await
    };
    assert_eq!(last_used().await, None);
    assert_eq!(app.get("/api/v1/users/me", Some(key)).await.status(), 200);
    let first = last_used().await.expect("written on first use");
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/users/me", Some(key)).await.status(), 200);
    }
    assert_eq!(last_used().await.as_deref(), Some(first.as_str()), "not rewritten within the minute");
    let listed: Value = app.get(KEYS, Some(&tokens.access)).await.json().await.expect("json");
    assert!(listed[0]["last_used_at"].is_string());
    // A minute later (moved back in the store), the next use writes it again.
    set_time(&app, "last_used_at", chrono::Utc::now() - chrono::Duration::seconds(90), prefix).await;
    let moved = last_used().await.expect("moved");
    assert_eq!(app.get("/api/v1/users/me", Some(key)).await.status(), 200);
    assert_ne!(last_used().await.expect("written"), moved);
}

#[actix_web::test]
async fn a_keys_requests_count_against_its_owners_rate_limit() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "4")]).await;
    let (_, tokens) = app.user("limited").await;
    let key = key_with(&app, &tokens.access, &["profile:read"]).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let credential = if i % 2 == 0 { key.as_str() } else { tokens.access.as_str() };
        statuses.push(app.get("/api/v1/users/me", Some(credential)).await.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 429], "one budget for the owner, key or token");
}

#[actix_web::test]
async fn the_document_describes_keys_under_bearer_auth_with_every_scope() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.expect("json");
    let scheme = &doc["components"]["securitySchemes"]["BearerAuth"];
    let description = scheme["description"].as_str().expect("description");
    for scope in [
        "profile:read",
        "profile:write",
        "orders:read",
        "orders:write",
        "files:read",
        "files:write",
        "products:write",
        "users:read",
        "users:write",
    ] {
        assert!(description.contains(&format!("`{scope}`")), "{scope} in {description}");
    }
    assert!(description.contains("hgk_"));
    let paths = &doc["paths"];
    assert_eq!(paths["/api/v1/users/me"]["get"]["x-api-key-scope"], "profile:read");
    assert!(paths["/api/v1/auth/api-keys"]["post"].get("x-api-key-scope").is_none());
    for (path, method, id) in [
        ("/api/v1/auth/api-keys", "post", "create_api_key"),
        ("/api/v1/auth/api-keys", "get", "list_api_keys"),
        ("/api/v1/auth/api-keys/{id}", "delete", "revoke_api_key"),
    ] {
        assert_eq!(paths[path][method]["operationId"], id);
        assert!(paths[path][method]["responses"]["403"].is_object(), "{id} answers 403 to a key");
    }
}

/// Two real processes on one PostgreSQL and one Redis: a key deleted on one instance is refused
/// by the other at its very next request.
#[actix_web::test]
async fn a_key_deleted_on_one_instance_is_refused_on_the_other_at_once() {
    let (_db, url) = TestDb::create_postgres().await;
    let redis = std::env::var("HEXGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("hexgate-test:{}:", uuid::Uuid::new_v4().simple());
    let extra = [("REDIS_URL", redis.as_str()), ("REDIS_KEY_PREFIX", prefix.as_str())];
    let ((mut a, port_a, _), (mut b, port_b, _)) = std::thread::scope(|s| {
        let a = s.spawn(|| start_binary(&url, &extra));
        let b = s.spawn(|| start_binary(&url, &extra));
        (a.join().expect("a"), b.join().expect("b"))
    });
    let (a_url, b_url) = (format!("http://127.0.0.1:{port_a}"), format!("http://127.0.0.1:{port_b}"));
    let client = reqwest::Client::new();
    let signup = json!({"email": "twokeys@example.com", "username": "twokeys", "password": "Password123"});
    assert_eq!(client.post(format!("{a_url}/api/v1/users")).json(&signup).send().await.expect("send").status(), 201);
    let login: Value = client
        .post(format!("{a_url}/api/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=twokeys&password=Password123")
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let tokens = Tokens {
        access: login["access_token"].as_str().expect("access").to_owned(),
        refresh: login["refresh_token"].as_str().expect("refresh").to_owned(),
    };
    let created: Value = client
        .post(format!("{a_url}{KEYS}"))
        .bearer_auth(&tokens.access)
        .json(&json!({"name": "shared", "scopes": ["profile:read"]}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let key = created["key"].as_str().expect("key");
    let me_on_b = || client.get(format!("{b_url}/api/v1/users/me")).bearer_auth(key).send();
    assert_eq!(me_on_b().await.expect("send").status(), 200);
    let deleted = client
        .delete(format!("{a_url}{KEYS}/{}", created["id"].as_str().expect("id")))
        .bearer_auth(&tokens.access)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 204);
    assert_eq!(me_on_b().await.expect("send").status(), 401, "refused on the other instance at once");
    assert!(!tokens.refresh.is_empty());
    for child in [&mut a, &mut b] {
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
    }
}
