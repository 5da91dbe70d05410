//! The binary itself: `migrate`, `create-superuser` and `openapi`.

use std::process::Command;

use serde_json::Value;

use crate::helpers::{SECRET, TestDb};

fn hexgate(database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hexgate"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ENVIRONMENT", "test")
        .env("SECRET_KEY", SECRET)
        .env("DATABASE_URL", database_url)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn");
    cmd
}

#[actix_web::test]
async fn migrate_up_status_and_down_work() {
    let (_db, url) = TestDb::create().await;
    let up = hexgate(&url).args(["migrate", "up"]).output().expect("run");
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let status = hexgate(&url).args(["migrate", "status"]).output().expect("run");
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(text.contains("m20261124_000001_users_and_sessions") && text.contains("Applied"), "{text}");
    let down = hexgate(&url).args(["migrate", "down"]).output().expect("run");
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    let status = hexgate(&url).args(["migrate", "status"]).output().expect("run");
    assert!(String::from_utf8_lossy(&status.stdout).contains("Pending"));
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
