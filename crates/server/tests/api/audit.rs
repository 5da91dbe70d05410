//! The audit log: every event type the service emits today, with its context and details; events
//! written with their change (a refused change leaves none); the two listing routes, their
//! filters and tamper-evident cursors; no secret anywhere; retention.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, fields};

const ALL: &str = "/api/v1/audit-events";
const MINE: &str = "/api/v1/users/me/audit-events";

/// Every event `path` lists for `token`, following cursors.
async fn every_event(app: &TestApp, path: &str, token: &str, query: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{path}?limit=100{query}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let res = app.get(&url, Some(token)).await;
        assert_eq!(res.status(), 200, "{url}");
        let page: Value = res.json().await.expect("json");
        events.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return events,
        }
    }
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == t).collect()
}

/// The one event of type `t`, asserted to be the only one.
fn only<'a>(events: &'a [Value], t: &str) -> &'a Value {
    let found = of_type(events, t);
    assert_eq!(found.len(), 1, "one {t}: {events:#?}");
    found[0]
}

async fn login_with(app: &TestApp, username: &str, password: &str, request_id: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("user-agent", "audit-test/1.0")
        .header("x-request-id", request_id)
        .body(format!("username={username}&password={password}"))
        .send()
        .await
        .expect("login")
}

#[actix_web::test]
async fn each_change_and_failure_is_recorded_with_its_actor_subject_context_and_details() {
    let app = TestApp::spawn_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let admin = app.admin().await;
    let admin_me: Value = app.get("/api/v1/users/me", Some(&admin.access)).await.json().await.expect("json");
    let admin_id = admin_me["id"].clone();

    let user = app.register("audited", "Password123").await;
    let user_id = user["id"].clone();
    let user_path = format!("/api/v1/users/{}", user_id.as_str().expect("id"));

    // Logins: a success with its context, failures with and without an account.
    assert_eq!(login_with(&app, "audited", "Password123", "req-login-ok").await.status(), 200);
    assert_eq!(login_with(&app, "audited", "Wrong12345", "req-login-bad").await.status(), 401);
    assert_eq!(login_with(&app, "nobody-here", "Wrong12345", "req-login-ghost").await.status(), 401);
    let tokens = app.login("audited", "Password123").await;

    // Admin actions.
    let res = app
        .send_json(
            Method::PATCH,
            &user_path,
            Some(&admin.access),
            &json!({"full_name": "Audited One", "email": "audited2@example.com"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let perms = format!("{user_path}/permissions");
    let res = app.send_json(Method::PUT, &perms, Some(&admin.access), &json!({"permissions": ["user_manager"]})).await;
    assert_eq!(res.status(), 200);

    // Sessions and passwords.
    let second = app.login("audited2@example.com", "Password123").await;
    let sessions: Value = app.get("/api/v1/auth/sessions", Some(&tokens.access)).await.json().await.expect("json");
    let other = sessions.as_array().expect("list").iter().find(|s| s["current"] == false).expect("another session");
    let other_id = other["id"].as_str().expect("id");
    assert_eq!(app.delete(&format!("/api/v1/auth/sessions/{other_id}"), Some(&tokens.access)).await.status(), 204);
    let change = json!({"current_password": "Password123", "new_password": "Newpass1234"});
    assert_eq!(app.post_json("/api/v1/auth/password", Some(&tokens.access), &change).await.status(), 204);
    let res = app.request(Method::POST, "/api/v1/auth/logout", Some(&tokens.access)).send().await.expect("logout");
    assert_eq!(res.status(), 204);
    assert!(!second.access.is_empty());

    // Refresh-token reuse (past the grace window, which this app sets to 0).
    let fresh = app.login("audited", "Newpass1234").await;
    let spent = json!({"refresh_token": fresh.refresh});
    assert_eq!(app.post_json("/api/v1/auth/refresh", None, &spent).await.status(), 200);
    assert_eq!(app.post_json("/api/v1/auth/refresh", None, &spent).await.status(), 401);

    // Reset and verification by mailed token; forgotten passwords of unknown addresses too.
    let res = app.post_json("/api/v1/auth/forgot-password", None, &json!({"email": "audited2@example.com"})).await;
    assert_eq!(res.status(), 202);
    let res = app.post_json("/api/v1/auth/forgot-password", None, &json!({"email": "ghost@example.com"})).await;
    assert_eq!(res.status(), 202);
    let mail = app.wait_for_mail("audited2@example.com", "Reset your hexgate password").await;
    let reset_token = token_in(&mail);
    let reset = json!({"token": reset_token, "new_password": "Reset12345"});
    assert_eq!(app.post_json("/api/v1/auth/reset-password", None, &reset).await.status(), 204);
    let after_reset = app.login("audited", "Reset12345").await;
    let res =
        app.request(Method::POST, "/api/v1/auth/verify/request", Some(&after_reset.access)).send().await.expect("send");
    assert_eq!(res.status(), 202);
    let mail = app.wait_for_mail("audited2@example.com", "Confirm your e-mail address").await;
    let verify_token = token_in(&mail);
    assert_eq!(app.post_json("/api/v1/auth/verify", None, &json!({"token": verify_token})).await.status(), 200);

    // Keys, then the account's deletion.
    let key: Value = app
        .post_json(
            "/api/v1/auth/api-keys",
            Some(&after_reset.access),
            &json!({"name": "k", "scopes": ["profile:read"]}),
        )
        .await
        .json()
        .await
        .expect("json");
    let key_path = format!("/api/v1/auth/api-keys/{}", key["id"].as_str().expect("id"));
    assert_eq!(app.delete(&key_path, Some(&after_reset.access)).await.status(), 204);
    let mine_before_delete = every_event(&app, MINE, &after_reset.access, "").await;
    assert_eq!(app.delete(&user_path, Some(&admin.access)).await.status(), 204);

    let events = every_event(&app, ALL, &admin.access, "").await;
    // Newest first.
    let ats: Vec<&str> = events.iter().map(|e| e["at"].as_str().expect("at")).collect();
    let mut sorted = ats.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ats, sorted);

    let created = only(
        &of_type(&events, "user_created")
            .into_iter()
            .filter(|e| e["subject_id"] == user_id)
            .cloned()
            .collect::<Vec<_>>(),
        "user_created",
    )
    .clone();
    assert!(created["actor_id"].is_null(), "a sign-up is anonymous");
    assert_eq!(created["details"]["via"], "sign_up");

    let ok = of_type(&events, "login_succeeded");
    let first_login = ok.iter().find(|e| e["request_id"] == "req-login-ok").expect("the first login");
    assert_eq!(first_login["subject_id"], user_id);
    assert_eq!(first_login["actor_id"], user_id);
    assert_eq!(first_login["ip"], "127.0.0.1");
    assert_eq!(first_login["user_agent"], "audit-test/1.0");
    assert_eq!(first_login["details"]["method"], "password");

    let failed = of_type(&events, "login_failed");
    let bad = failed.iter().find(|e| e["request_id"] == "req-login-bad").expect("bad password");
    assert_eq!(bad["subject_id"], user_id, "subject set when the account exists");
    assert!(bad["actor_id"].is_null());
    assert_eq!(bad["details"], json!({"reason": "invalid_credentials"}));
    let ghost = failed.iter().find(|e| e["request_id"] == "req-login-ghost").expect("unknown user");
    assert!(ghost["subject_id"].is_null());

    let updated = only(&events, "user_updated");
    assert_eq!(updated["actor_id"], admin_id);
    assert_eq!(updated["subject_id"], user_id);
    let mut changed: Vec<&str> =
        updated["details"]["fields"].as_array().expect("fields").iter().map(|f| f.as_str().expect("name")).collect();
    changed.sort_unstable();
    assert_eq!(changed, ["email", "full_name"], "names only, never values");

    let permissions = only(&events, "permissions_changed");
    assert_eq!(permissions["details"], json!({"before": [], "after": ["user_manager"]}));
    assert_eq!(permissions["actor_id"], admin_id);

    let revoked = only(&events, "session_revoked");
    assert_eq!(revoked["details"]["session_id"], other_id);
    assert_eq!(only(&events, "password_changed")["actor_id"], user_id);
    assert_eq!(only(&events, "logout")["subject_id"], user_id);
    assert_eq!(only(&events, "refresh_reuse_detected")["subject_id"], user_id);
    let requested = of_type(&events, "password_reset_requested");
    assert_eq!(requested.len(), 2, "known and unknown addresses alike");
    assert!(requested.iter().any(|e| e["subject_id"] == user_id));
    assert!(requested.iter().any(|e| e["subject_id"].is_null()));
    assert_eq!(only(&events, "password_reset")["subject_id"], user_id);
    assert_eq!(only(&events, "email_verified")["subject_id"], user_id);
    assert_eq!(only(&events, "api_key_created")["details"]["prefix"], key["prefix"]);
    assert_eq!(only(&events, "api_key_revoked")["details"]["key_id"], key["id"]);
    let deleted = only(&events, "user_deleted");
    assert_eq!((deleted["actor_id"].clone(), deleted["subject_id"].clone()), (admin_id.clone(), user_id.clone()));

    // Every event carries a request id, and the shape of the contract.
    for e in &events {
        for field in
            ["id", "type", "at", "actor_id", "subject_id", "org_id", "ip", "user_agent", "request_id", "details"]
        {
            assert!(e.get(field).is_some(), "{field} in {e}");
        }
        assert!(e["request_id"].is_string() || e["details"]["via"] == "superuser", "{e}");
        assert!(e["details"].is_object());
    }

    // The user saw their own events, and only those.
    assert!(mine_before_delete.iter().all(|e| e["subject_id"] == user_id));
    assert!(of_type(&mine_before_delete, "permissions_changed").len() == 1);

    // No secret in any event: passwords, tokens, keys.
    let text = serde_json::to_string(&events).expect("json");
    for secret in [
        "Password123",
        "Newpass1234",
        "Reset12345",
        "Wrong12345",
        tokens.access.as_str(),
        tokens.refresh.as_str(),
        fresh.refresh.as_str(),
        after_reset.access.as_str(),
        key["key"].as_str().expect("key"),
        reset_token.as_str(),
        verify_token.as_str(),
        crate::helpers::ADMIN_PASSWORD,
        admin.access.as_str(),
    ] {
        assert!(!text.contains(secret), "a secret leaked into the audit log");
    }
}

fn token_in(mail: &str) -> String {
    let mail = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = mail.find("token=").expect("a link with a token") + "token=".len();
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

#[actix_web::test]
async fn a_change_that_is_refused_leaves_no_event() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let admin_me: Value = app.get("/api/v1/users/me", Some(&admin.access)).await.json().await.expect("json");
    let (_, tokens) = app.user("clasher").await;
    app.register("taken", "Password123").await;
    // A duplicate e-mail: the update rolls back, and so does its event.
    let clash = app
        .send_json(Method::PATCH, "/api/v1/users/me", Some(&tokens.access), &json!({"email": "taken@example.com"}))
        .await;
    error_code(clash, 409, "email_taken").await;
    // The last admin: neither demoted nor deleted, and nothing recorded.
    let admin_path = format!("/api/v1/users/{}", admin_me["id"].as_str().expect("id"));
    let demote = app
        .send_json(Method::PUT, &format!("{admin_path}/permissions"), Some(&admin.access), &json!({"permissions": []}))
        .await;
    error_code(demote, 409, "last_admin").await;
    error_code(app.delete(&admin_path, Some(&admin.access)).await, 409, "last_admin").await;
    let events = every_event(&app, ALL, &admin.access, "").await;
    for t in ["user_updated", "permissions_changed", "user_deleted"] {
        assert!(of_type(&events, t).is_empty(), "no {t}: {events:#?}");
    }
    // A batch refused for a taken address creates nobody and records nothing.
    let batch = json!([{"email": "new1@example.com", "username": "new1", "password": "Password123"},
                       {"email": "taken@example.com", "username": "new2", "password": "Password123"}]);
    error_code(app.post_json("/api/v1/users/batch", Some(&admin.access), &batch).await, 409, "email_taken").await;
    let events = every_event(&app, ALL, &admin.access, "").await;
    let signups = of_type(&events, "user_created").into_iter().filter(|e| e["details"]["via"] == "sign_up").count();
    assert_eq!(signups, 2, "the two sign-ups only");
    assert!(of_type(&events, "user_created").iter().all(|e| e["details"]["via"] != "batch"));
}

#[actix_web::test]
async fn two_users_never_see_each_others_events_and_only_admins_see_all() {
    let app = TestApp::spawn().await;
    let (a, a_tokens) = app.user("usera").await;
    let (b, b_tokens) = app.user("userb").await;
    let a_mine = every_event(&app, MINE, &a_tokens.access, "").await;
    let b_mine = every_event(&app, MINE, &b_tokens.access, "").await;
    assert!(!a_mine.is_empty() && !b_mine.is_empty());
    assert!(a_mine.iter().all(|e| e["subject_id"] == a["id"]));
    assert!(b_mine.iter().all(|e| e["subject_id"] == b["id"]));
    // Asking for the other's events by filter still answers one's own.
    let sneaky =
        every_event(&app, MINE, &a_tokens.access, &format!("&subject_id={}", b["id"].as_str().expect("id"))).await;
    assert_eq!(sneaky, a_mine);
    error_code(app.get(ALL, Some(&a_tokens.access)).await, 403, "insufficient_permissions").await;
    error_code(app.get(ALL, None).await, 401, "not_authenticated").await;
    error_code(app.get(MINE, None).await, 401, "not_authenticated").await;
}

#[actix_web::test]
async fn filters_limits_and_bad_cursors() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (u, tokens) = app.user("filtered").await;
    for _ in 0..3 {
        assert_eq!(app.login_response("filtered", "Wrong12345").await.status(), 401);
    }
    let uid = u["id"].as_str().expect("id");
    let failed = every_event(&app, ALL, &admin.access, &format!("&type=login_failed&subject_id={uid}")).await;
    assert_eq!(failed.len(), 3);
    let by_actor = every_event(&app, ALL, &admin.access, &format!("&actor_id={uid}")).await;
    assert!(!by_actor.is_empty() && by_actor.iter().all(|e| e["actor_id"] == uid));
    let newest = failed[0]["at"].as_str().expect("at").to_owned();
    let oldest = failed[2]["at"].as_str().expect("at").to_owned();
    let enc = |s: &str| s.replace('+', "%2B").replace(':', "%3A");
    let window = every_event(
        &app,
        ALL,
        &admin.access,
        &format!("&type=login_failed&since={}&until={}", enc(&oldest), enc(&newest)),
    )
    .await;
    assert_eq!(window.len(), 2, "since inclusive, until exclusive");
    assert!(every_event(&app, ALL, &admin.access, &format!("&org_id={}", uuid::Uuid::now_v7())).await.is_empty());

    // Pages of 2 with a cursor to the end.
    let page: Value =
        app.get(&format!("{ALL}?type=login_failed&limit=2"), Some(&admin.access)).await.json().await.expect("json");
    assert_eq!(page["items"].as_array().expect("items").len(), 2);
    let cursor = page["next_cursor"].as_str().expect("a next page").to_owned();
    let next: Value = app
        .get(&format!("{ALL}?type=login_failed&limit=2&cursor={cursor}"), Some(&admin.access))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(next["items"].as_array().expect("items").len(), 1);
    assert!(next["next_cursor"].is_null(), "null at the end");
    let default: Value = app.get(ALL, Some(&admin.access)).await.json().await.expect("json");
    assert!(default["items"].as_array().expect("items").len() <= 50);

    // Bad queries: 422 on the parameter.
    for (query, field) in [
        ("limit=0", "query.limit"),
        ("limit=101", "query.limit"),
        ("since=yesterday", "query.since"),
        ("until=2026-13-01T00:00:00Z", "query.until"),
        ("type=user_exploded", "query.type"),
        ("actor_id=nope", "query.actor_id"),
        ("cursor=garbage", "query.cursor"),
    ] {
        let body =
            error_code(app.get(&format!("{ALL}?{query}"), Some(&admin.access)).await, 422, "validation_failed").await;
        assert_eq!(fields(&body), vec![field.to_owned()], "{query}");
    }
    // A tampered cursor, one from another filter and one from the other listing are refused.
    let (payload, mac) = cursor.split_once('.').expect("two parts");
    let mut bytes = payload.as_bytes().to_vec();
    bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{}.{mac}", String::from_utf8(bytes).expect("ascii"));
    for (url, token) in [
        (format!("{ALL}?type=login_failed&limit=2&cursor={tampered}"), &admin.access),
        (format!("{ALL}?type=logout&limit=2&cursor={cursor}"), &admin.access),
        (format!("{ALL}?limit=2&cursor={cursor}"), &admin.access),
        (format!("{MINE}?type=login_failed&limit=2&cursor={cursor}"), &tokens.access),
    ] {
        let body = error_code(app.get(&url, Some(token)).await, 422, "validation_failed").await;
        assert_eq!(fields(&body), vec!["query.cursor".to_owned()], "{url}");
    }
}

#[actix_web::test]
async fn cursor_paging_neither_repeats_nor_skips_while_events_are_added() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for i in 0..30 {
        assert_eq!(app.login_response(&format!("ghost{i}"), "Wrong12345").await.status(), 401);
    }
    let before: HashSet<String> = every_event(&app, ALL, &admin.access, "")
        .await
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    // Events keep arriving while the pages are read.
    let writer = {
        let client = app.client.clone();
        let url = app.url("/api/v1/auth/token");
        tokio::spawn(async move {
            for i in 0..40 {
                let _ = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("username=late{i}&password=Wrong12345"))
                    .send()
                    .await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{ALL}?limit=4&cursor={c}"),
            None => format!("{ALL}?limit=4"),
        };
        let page: Value = app.get(&url, Some(&admin.access)).await.json().await.expect("json");
        seen.extend(page["items"].as_array().expect("items").iter().map(|e| e["id"].as_str().expect("id").to_owned()));
        tokio::time::sleep(Duration::from_millis(5)).await;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    writer.await.expect("writer");
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no event twice");
    assert!(before.is_subset(&unique), "every event that existed when paging began is on some page");
}

#[actix_web::test]
async fn the_log_is_append_only_over_http() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let events = every_event(&app, ALL, &admin.access, "").await;
    let id = events[0]["id"].as_str().expect("id");
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let res = app.request(method.clone(), ALL, Some(&admin.access)).json(&json!({})).send().await.expect("send");
        assert_eq!(res.status(), 405, "{method} on the log");
    }
    let res = app.delete(&format!("{ALL}/{id}"), Some(&admin.access)).await;
    assert_eq!(res.status(), 404, "no route names one event");
    assert_eq!(every_event(&app, ALL, &admin.access, "").await.len(), events.len());
}

#[actix_web::test]
async fn events_older_than_the_retention_are_pruned_by_a_job() {
    let app = TestApp::spawn_with(&[("AUDIT_RETENTION_DAYS", "30"), ("AUDIT_PRUNE_INTERVAL_SECONDS", "1")]).await;
    let admin = app.admin().await;
    let old = uuid::Uuid::now_v7();
    let recent = uuid::Uuid::now_v7();
    {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
        let backend = db.get_database_backend();
        let values = if backend == DbBackend::Postgres { "($1, 'logout', $2, '{}')" } else { "(?, 'logout', ?, '{}')" };
        for (id, days) in [(old, 31), (recent, 29)] {
            let at = chrono::Utc::now() - chrono::Duration::days(days);
            let sql = format!("INSERT INTO audit_events (id, event_type, at, details) VALUES {values}");
            db.execute_raw(Statement::from_sql_and_values(backend, sql, [id.into(), at.into()])).await.expect("insert");
        }
        db.close().await.ok();
    }
    let ids = || async {
        every_event(&app, ALL, &admin.access, "&type=logout")
            .await
            .iter()
            .map(|e| e["id"].as_str().expect("id").to_owned())
            .collect::<Vec<_>>()
    };
    let mut left = ids().await;
    for _ in 0..100 {
        if !left.contains(&old.to_string()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = ids().await;
    }
    assert_eq!(left, vec![recent.to_string()], "the old event pruned, the recent one kept");
}
