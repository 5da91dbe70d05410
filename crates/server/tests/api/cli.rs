//! The binary itself: `migrate`, `create-superuser` and `openapi`.

use std::process::Command;

use futures_util::SinkExt;
use serde_json::Value;

use crate::helpers::{SECRET, TestDb, hexgate, start_binary};

#[actix_web::test]
async fn migrate_up_status_and_down_work() {
    let (_db, url) = TestDb::create().await;
    let up = hexgate(&url).args(["migrate", "up"]).output().expect("run");
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let status = hexgate(&url).args(["migrate", "status"]).output().expect("run");
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(text.contains("m20261124_000001_users_and_sessions") && text.contains("Applied"), "{text}");
    assert!(text.contains("m20261124_000002_catalog_orders_preferences"), "{text}");
    let down = hexgate(&url).args(["migrate", "down"]).output().expect("run");
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    let status =
        String::from_utf8_lossy(&hexgate(&url).args(["migrate", "status"]).output().expect("run").stdout).into_owned();
    let migrations = status.lines().count();
    assert_eq!((status.matches("Applied").count(), status.matches("Pending").count()), (migrations - 1, 1), "{status}");
    // Every migration back, then forward again: both directions work on this database.
    let all_down = hexgate(&url).args(["migrate", "down", "--steps", "10"]).output().expect("run");
    assert!(all_down.status.success(), "{}", String::from_utf8_lossy(&all_down.stderr));
    let status =
        String::from_utf8_lossy(&hexgate(&url).args(["migrate", "status"]).output().expect("run").stdout).into_owned();
    assert!(!status.contains("Applied"), "{status}");
    let up = hexgate(&url).args(["migrate", "up"]).output().expect("run");
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
}

#[actix_web::test]
async fn create_superuser_creates_then_promotes_idempotently() {
    let (_db, url) = TestDb::create().await;
    let run = |email: &str| {
        hexgate(&url)
            .env("HEXGATE_SUPERUSER_PASSWORD", "RootPass123")
            .args(["create-superuser", "--email", email, "--username", "root"])
            .output()
            .expect("run")
    };
    let first = run("root@example.com");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("Created"));
    let again = run("root@example.com");
    assert!(String::from_utf8_lossy(&again.stdout).contains("AlreadyAdmin"));
    let weak = hexgate(&url)
        .env("HEXGATE_SUPERUSER_PASSWORD", "weak")
        .args(["create-superuser", "--email", "x@example.com"])
        .output()
        .expect("run");
    assert!(!weak.status.success());
}

#[actix_web::test]
async fn a_bad_variable_stops_start_up_naming_it() {
    let out = hexgate("sqlite://unused.db").env("PORT", "eighty").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PORT"));
    let out =
        hexgate("sqlite://unused.db").env("ENVIRONMENT", "production").env_remove("SECRET_KEY").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SECRET_KEY"));
}

#[actix_web::test]
async fn openapi_prints_the_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_hexgate")).arg("openapi").output().expect("run");
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json document");
    assert_eq!(doc["info"]["title"], "hexgate");
    assert!(
        doc["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
            .is_object()
    );
}

#[actix_web::test]
async fn secrets_never_reach_the_logs_and_sigterm_stops_the_service_gracefully() {
    let (_db, url) = TestDb::create().await;
    let (mut child, port, logs) = start_binary(
        &url,
        &[("FIRST_SUPERUSER_EMAIL", "boss@example.com"), ("FIRST_SUPERUSER_PASSWORD", "BossSecret987")],
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let password = "Sup3rSecretPassw0rd";
    let res = client
        .post(format!("{base}/api/v1/users"))
        .json(&serde_json::json!({"email": "log@example.com", "username": "logger", "password": password}))
        .send()
        .await
        .expect("sign up");
    assert_eq!(res.status(), 201);
    let tokens: Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=logger&password={password}"))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"].as_str().expect("refresh").to_owned();
    let me = client.get(format!("{base}/api/v1/users/me")).bearer_auth(&access).send().await.expect("me");
    assert_eq!(me.status(), 200);
    let _ = client
        .post(format!("{base}/api/v1/auth/refresh"))
        .json(&serde_json::json!({"refresh_token": refresh}))
        .send()
        .await;
    let _ = client
        .post(format!("{base}/api/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=logger&password=WrongGuess123")
        .send()
        .await;

    // A chat is open (its token in the query string) when the service is told to stop.
    let mut chat = crate::chat::connect_url(&format!("ws://127.0.0.1:{port}/ws/logger?token={access}")).await;
    chat.send(tokio_tungstenite::tungstenite::Message::text("hello")).await.expect("send");
    assert_eq!(crate::chat::next_text(&mut chat).await, "You wrote: hello");

    let pid = child.id().to_string();
    let stopping = std::time::Instant::now();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    assert_eq!(crate::chat::close_code(&mut chat).await, 1001, "open chats are told the server is going away");
    let status = tokio::task::spawn_blocking(move || child.wait()).await.expect("join").expect("wait");
    assert!(status.success(), "SIGTERM ends hexgate cleanly: {status:?}");
    assert!(
        stopping.elapsed() < std::time::Duration::from_secs(15),
        "an open chat does not hold the shutdown until its 30 s timeout"
    );

    let lines: Vec<String> = logs.try_iter().collect();
    let all = lines.join("\n");
    assert!(all.contains("hexgate stopped"), "shutdown is logged");
    let access_lines: Vec<&String> = lines.iter().filter(|l| l.contains("hexgate::access")).collect();
    assert!(access_lines.len() >= 4, "one line per request");
    for line in &access_lines {
        let v: Value = serde_json::from_str(line).expect("json log line");
        for key in ["request_id", "method", "route", "status", "duration_ms", "client"] {
            assert!(!v[key].is_null(), "{key} in {line}");
        }
    }
    for secret in [password, "BossSecret987", "WrongGuess123", access.as_str(), refresh.as_str(), "$argon2id$", SECRET]
    {
        assert!(!all.contains(secret), "a secret reached the logs: {secret}");
    }
}
