use std::sync::atomic::{AtomicBool, Ordering};

use std::process::Command;

use hexgate_server::config::{Config, Vars};
use hexgate_server::startup::Application;
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};

pub const SECRET: &str = "test-secret-key-0123456789-abcdefghijklmnop";
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "AdminPass123";

/// Where a test's data lives; dropped with the test.
pub enum TestDb {
    Sqlite(std::path::PathBuf),
    Postgres { name: String, admin_url: String },
}

impl TestDb {
    pub async fn create() -> (Self, String) {
        match std::env::var("HEXGATE_TEST_DATABASE").as_deref() {
            Ok("postgres") => Self::create_postgres().await,
            _ => {
                let path = std::env::temp_dir().join(format!("hexgate-test-{}.db", uuid::Uuid::new_v4()));
                let url = format!("sqlite://{}", path.display());
                (Self::Sqlite(path), url)
            }
        }
    }

    /// A fresh database on the machine's PostgreSQL, whatever HEXGATE_TEST_DATABASE says.
    pub async fn create_postgres() -> (Self, String) {
        {
            {
                let base = std::env::var("HEXGATE_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
                let admin_url = format!("{base}/postgres");
                let name = format!("hexgate_test_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is not reachable at {admin_url} ({e}); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
                });
                sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create database");
                admin.close().await.ok();
                (Self::Postgres { name: name.clone(), admin_url }, format!("{base}/{name}"))
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            Self::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Self::Postgres { name, admin_url } => {
                let (name, admin_url) = (name.clone(), admin_url.clone());
                // Drop runs outside async; a short-lived runtime of its own does the cleanup.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                    rt.block_on(async {
                        if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                            let _ = sea_orm::ConnectionTrait::execute_unprepared(
                                &admin,
                                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                            )
                            .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    /// Where this app's mails land (the outbox adapter).
    pub outbox: std::path::PathBuf,
    /// Where this app stores uploads (`UPLOAD_DIR`).
    pub uploads: std::path::PathBuf,
    pub client: Client,
    pub database_url: String,
    /// How often this app has read its signing-key store.
    pub key_cache: std::sync::Arc<hexgate_crypto_adapter::KeyCacheStats>,
    handle: actix_web::dev::ServerHandle,
    _db: TestDb,
}

pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

static LOGS: AtomicBool = AtomicBool::new(false);

pub fn test_vars(database_url: &str, overrides: &[(&str, &str)]) -> Vars {
    let mut pairs: Vec<(String, String)> = [
        ("ENVIRONMENT", "test"),
        ("PORT", "0"),
        ("SECRET_KEY", SECRET),
        ("RATE_LIMIT_PER_MINUTE", "100000"),
        ("LOGIN_RATE_LIMIT_PER_MINUTE", "100000"),
        ("FIRST_SUPERUSER_EMAIL", ADMIN_EMAIL),
        ("FIRST_SUPERUSER_PASSWORD", ADMIN_PASSWORD),
        ("WEB_WORKERS", "1"),
        ("SHUTDOWN_TIMEOUT_SECONDS", "1"),
        ("DATABASE_POOL_SIZE", "5"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    pairs.push(("DATABASE_URL".into(), database_url.to_owned()));
    // With HEXGATE_TEST_REDIS set, limits, revocations and pub/sub go through the real Redis,
    // under a key prefix of this test's own.
    if std::env::var("HEXGATE_TEST_REDIS").is_ok_and(|v| !v.is_empty() && v != "0") {
        let url = std::env::var("HEXGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        pairs.push(("REDIS_URL".into(), url));
        pairs.push(("REDIS_KEY_PREFIX".into(), format!("hexgate-test:{}:", uuid::Uuid::new_v4().simple())));
    }
    for (k, v) in overrides {
        pairs.retain(|(key, _)| key != k);
        pairs.push(((*k).to_owned(), (*v).to_owned()));
    }
    Vars::from_entries(pairs)
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        if std::env::var("TEST_LOG").is_ok() && !LOGS.swap(true, Ordering::SeqCst) {
            hexgate_server::telemetry::init(hexgate_server::config::LogFormat::Pretty);
        }
        let (db, database_url) = TestDb::create().await;
        let outbox = std::env::temp_dir().join(format!("hexgate-outbox-{}", uuid::Uuid::new_v4().simple()));
        let outbox_str = outbox.display().to_string();
        let uploads = temp_dir("uploads");
        let uploads_str = uploads.display().to_string();
        let mut all: Vec<(&str, &str)> =
            vec![("MAIL_OUTBOX_DIR", &outbox_str), ("UPLOAD_DIR", &uploads_str), ("JOB_POLL_INTERVAL_MS", "50")];
        all.extend_from_slice(overrides);
        let config = Config::from_vars(&test_vars(&database_url, &all)).expect("test config");
        let app = Application::build(&config).await.expect("application starts");
        let base = format!("http://127.0.0.1:{}", app.port);
        let handle = app.server.handle.clone();
        let key_cache = app.services.key_cache.clone();
        actix_web::rt::spawn(app.run_until_stopped());
        let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { base, outbox, uploads, client, database_url, key_cache, handle, _db: db }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The same address with the WebSocket scheme.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws{}{path}", self.base.trim_start_matches("http"))
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token).send().await.expect("send")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token).send().await.expect("request")
    }

    pub async fn send_json(&self, method: Method, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(method, path, token).json(body).send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send_json(Method::POST, path, token, body).await
    }

    pub async fn register(&self, username: &str, password: &str) -> Value {
        let res = self
            .post_json(
                "/api/v1/users",
                None,
                &json!({"email": format!("{username}@example.com"), "username": username, "password": password}),
            )
            .await;
        assert_eq!(res.status(), 201, "sign-up of {username}");
        res.json().await.expect("json")
    }

    pub async fn login_response(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("username={}&password={}", enc(username), enc(password)))
            .send()
            .await
            .expect("request")
    }

    pub async fn login(&self, username: &str, password: &str) -> Tokens {
        let res = self.login_response(username, password).await;
        assert_eq!(res.status(), 200, "login of {username}");
        let body: Value = res.json().await.expect("json");
        Tokens {
            access: body["access_token"].as_str().expect("access").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
        }
    }

    pub async fn admin(&self) -> Tokens {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Registers and logs in a plain user.
    pub async fn user(&self, username: &str) -> (Value, Tokens) {
        let user = self.register(username, "Password123").await;
        let tokens = self.login(username, "Password123").await;
        (user, tokens)
    }
}

impl TestApp {
    /// The mails in the outbox so far, as text.
    pub fn mails(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(&self.outbox) else { return Vec::new() };
        dir.filter_map(Result::ok).filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect()
    }

    /// Waits (up to 10 s) for a mail to `to` with `subject`, and returns it.
    pub async fn wait_for_mail(&self, to: &str, subject: &str) -> String {
        for _ in 0..200 {
            if let Some(mail) =
                self.mails().into_iter().find(|m| m.contains(&format!("To: {to}")) && m.contains(subject))
            {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no mail to {to} with subject {subject:?}; outbox has {:?}", self.mails().len());
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; the workers finish on their own threads.
        drop(self.handle.stop(false));
        let _ = std::fs::remove_dir_all(&self.outbox);
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Asserts the contract's error shape and returns the body.
pub async fn error_shape(res: Response, status: u16) -> Value {
    assert_eq!(res.status(), status, "status");
    let request_id =
        res.headers().get("x-request-id").expect("x-request-id header").to_str().expect("ascii").to_owned();
    assert!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json")),
        "error bodies are JSON"
    );
    let body: Value = res.json().await.expect("json error body");
    assert!(body["detail"].is_string(), "detail: {body}");
    assert!(body["errors"].is_null() || body["errors"].is_array(), "errors: {body}");
    assert_eq!(body["request_id"], request_id, "the body quotes the request id");
    let code = body["code"].as_str().unwrap_or_else(|| panic!("every error carries a code: {body}"));
    assert_eq!(status_of_code(code), Some(status), "code {code} answers with its own status: {body}");
    body
}

/// The contract's code → status table (docs/errors.md), written out again here on purpose: the
/// server's table is checked against this one, not against itself.
pub fn status_of_code(code: &str) -> Option<u16> {
    Some(match code {
        "validation_failed" => 422,
        "malformed_json" | "bad_request" | "inactive_user" | "password_incorrect" | "duplicate_in_batch"
        | "invalid_token" => 400,
        "unsupported_media_type" => 415,
        "payload_too_large" => 413,
        "not_found" => 404,
        "method_not_allowed" => 405,
        "not_authenticated" | "invalid_credentials" | "mfa_code_invalid" => 401,
        "insufficient_permissions" | "insufficient_scope" | "mfa_required" => 403,
        "email_taken" | "username_taken" | "last_admin" | "last_owner" | "conflict" => 409,
        "rate_limited" => 429,
        "unavailable" => 503,
        "internal" => 500,
        _ => return None,
    })
}

/// Asserts the error shape with this exact code.
pub async fn error_code(res: Response, status: u16, code: &str) -> Value {
    let body = error_shape(res, status).await;
    assert_eq!(body["code"], code, "{body}");
    body
}

/// The `field`s of a 422 body.
pub fn fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> = body["errors"]
        .as_array()
        .expect("errors array")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect();
    fields.sort();
    fields
}

/// A fresh, unique folder name under the system's temporary folder (not created).
pub fn temp_dir(what: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hexgate-{what}-{}", uuid::Uuid::new_v4().simple()))
}

/// Every file under `root`, however deep.
pub fn files_under(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { stack.push(path) } else { found.push(path) }
        }
    }
    found
}

/// The real binary with a clean environment for `database_url`.
pub fn hexgate(database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hexgate"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ENVIRONMENT", "test")
        .env("SECRET_KEY", SECRET)
        .env("DATABASE_URL", database_url)
        .env("UPLOAD_DIR", temp_dir("uploads"))
        .env("MAIL_OUTBOX_DIR", temp_dir("outbox"))
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn");
    cmd
}

/// Starts the real binary on a free port and returns it with the port it printed.
// The caller owns the child and waits for it.
#[allow(clippy::zombie_processes)]
pub fn start_binary(
    url: &str,
    extra: &[(&str, &str)],
) -> (std::process::Child, u16, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut cmd = hexgate(url);
    cmd.env("PORT", "0").env("RUST_LOG", "debug,sqlx=debug").env("LOG_FORMAT", "json");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child =
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("spawn");
    let (tx, rx) = std::sync::mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().expect("stderr")),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            if line.contains("hexgate listening")
                && let Some(port) = serde_json::from_str::<Value>(&line).ok().and_then(|v| v["port"].as_u64())
            {
                return (child, u16::try_from(port).expect("port"), rx);
            }
            seen.push(line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("hexgate did not start: {seen:#?}");
}
