//! Several instances and failing dependencies: two real `hexgate` processes on one PostgreSQL
//! and one Redis, and private Redis / PostgreSQL servers stopped and restarted under the app.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, error_shape, start_binary};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn redis_url() -> String {
    std::env::var("HEXGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn prefix() -> String {
    format!("hexgate-test:{}:", uuid::Uuid::new_v4().simple())
}

/// A redis-server of the test's own on a free port.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    async fn start() -> Self {
        let mut redis = Self { port: free_port(), child: None };
        redis.restart().await;
        redis
    }

    async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("private redis-server did not start on {}", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A PostgreSQL cluster of the test's own (initdb into a temp folder, a free port), run as the
/// `postgres` user because the server refuses to run as root.
struct PrivatePostgres {
    dir: std::path::PathBuf,
    port: u16,
}

fn pg_bin(tool: &str) -> String {
    let versions = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL server binaries are installed");
    let version = versions.filter_map(Result::ok).map(|e| e.file_name()).max().expect("a version");
    format!("/usr/lib/postgresql/{}/bin/{tool}", version.to_string_lossy())
}

fn as_postgres(args: &[&str]) -> std::process::Output {
    let mut cmd = if nix_is_root() { Command::new("runuser") } else { Command::new(args[0]) };
    if nix_is_root() {
        cmd.args(["-u", "postgres", "--"]).args(args);
    } else {
        cmd.args(&args[1..]);
    }
    cmd.output().expect("run a PostgreSQL tool")
}

fn nix_is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PrivatePostgres {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("hexgate-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        if nix_is_root() {
            let _ = Command::new("chown").args(["postgres:postgres", &dir.to_string_lossy()]).status();
        }
        let data = dir.join("data");
        let out = as_postgres(&[&pg_bin("initdb"), "-D", &data.to_string_lossy(), "-A", "trust", "-U", "postgres"]);
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let pg = Self { dir, port: free_port() };
        pg.resume();
        pg
    }

    fn resume(&self) {
        let data = self.dir.join("data");
        let opts = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        let log = self.dir.join("log");
        let out = as_postgres(&[
            &pg_bin("pg_ctl"),
            "-D",
            &data.to_string_lossy(),
            "-o",
            &opts,
            "-l",
            &log.to_string_lossy(),
            "-w",
            "start",
        ]);
        assert!(out.status.success(), "pg_ctl start: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn stop(&self) {
        let data = self.dir.join("data");
        let _ = as_postgres(&[&pg_bin("pg_ctl"), "-D", &data.to_string_lossy(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn status(client: &reqwest::Client, method: Method, url: &str, token: Option<&str>) -> u16 {
    let mut req = client.request(method, url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.expect("send").status().as_u16()
}

#[actix_web::test]
async fn two_instances_on_one_database_and_one_redis_behave_as_one_service() {
    let (_db, url) = TestDb::create_postgres().await;
    let shared = [("REDIS_URL", redis_url()), ("REDIS_KEY_PREFIX", prefix()), ("RATE_LIMIT_PER_MINUTE", "6".into())];
    let extra: Vec<(&str, &str)> = shared.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Both start at once on an empty database: the migrations must apply once, not race.
    let ((mut a, port_a, _), (mut b, port_b, _)) = std::thread::scope(|s| {
        let a = s.spawn(|| start_binary(&url, &extra));
        let b = s.spawn(|| start_binary(&url, &extra));
        (a.join().expect("a"), b.join().expect("b"))
    });
    let (a_url, b_url) = (format!("http://127.0.0.1:{port_a}"), format!("http://127.0.0.1:{port_b}"));
    let client = reqwest::Client::new();

    // A limit of 6 allows 6 requests in total across both instances.
    let mut statuses = Vec::new();
    for i in 0..7 {
        let base = if i % 2 == 0 { &a_url } else { &b_url };
        statuses.push(status(&client, Method::GET, &format!("{base}/api/v1/users/me"), None).await);
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 401, 429]);

    // Sign up and log in on A; the token works on B; logout on A kills it on B at once.
    let signup = json!({"email": "multi@example.com", "username": "multi", "password": "Password123"});
    assert_eq!(client.post(format!("{a_url}/api/v1/users")).json(&signup).send().await.expect("send").status(), 201);
    let login = |base: String| {
        let client = client.clone();
        async move {
            let res = client
                .post(format!("{base}/api/v1/auth/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("username=multi&password=Password123")
                .send()
                .await
                .expect("login");
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.expect("json")
        }
    };
    let first = login(a_url.clone()).await;
    let access = first["access_token"].as_str().expect("access").to_owned();
    let user_limited = status(&client, Method::GET, &format!("{b_url}/api/v1/users/me"), Some(&access)).await;
    assert_eq!(user_limited, 200, "authenticated clients are counted by user, not by the exhausted IP");
    let res = client.post(format!("{a_url}/api/v1/auth/logout")).bearer_auth(&access).send().await.expect("logout");
    assert_eq!(res.status(), 204);
    assert_eq!(status(&client, Method::GET, &format!("{b_url}/api/v1/users/me"), Some(&access)).await, 401);

    // A refresh family revoked on A (reuse) is dead on B.
    let second = login(b_url.clone()).await;
    let refresh = second["refresh_token"].as_str().expect("refresh").to_owned();
    let rotate =
        |base: &str| client.post(format!("{base}/api/v1/auth/refresh")).json(&json!({"refresh_token": refresh})).send();
    let rotated: Value = rotate(&a_url).await.expect("send").json().await.expect("json");
    let _ = rotated["refresh_token"].as_str().expect("rotated");
    tokio::time::sleep(Duration::from_secs(11)).await; // past the grace window
    assert_eq!(rotate(&a_url).await.expect("send").status(), 401, "reuse");
    let newest = rotated["refresh_token"].as_str().expect("newest");
    let res = client
        .post(format!("{b_url}/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": newest}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 401, "the whole family is dead on the other instance too");

    for child in [&mut a, &mut b] {
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
    }
}

#[actix_web::test]
async fn redis_down_keeps_the_service_answering_and_never_lets_a_revoked_token_in() {
    let mut redis = PrivateRedis::start().await;
    let redis_url = redis.url();
    let app = TestApp::spawn_with(&[
        ("REDIS_URL", &redis_url),
        ("REDIS_TIMEOUT_MS", "300"),
        ("RATE_LIMIT_PER_MINUTE", "1000"),
    ])
    .await;
    let (_, tokens) = app.user("steady").await;
    assert_eq!(app.get("/api/v1/users/me", Some(&tokens.access)).await.status(), 200);

    redis.stop();
    assert_eq!(app.get("/health", None).await.status(), 200);
    let ready = app.get("/ready", None).await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(
        (body["checks"]["cache"].as_str(), body["checks"]["database"].as_str()),
        (Some("unavailable"), Some("ok"))
    );
    // Limits fall back to the process: answered, with headers, and no 500.
    let res = app
        .post_json(
            "/api/v1/users",
            None,
            &json!({"email": "dn@example.com", "username": "during", "password": "Password123"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("x-ratelimit-remaining").is_some());
    // The revocation list cannot be asked: 503, not a guess, as soon as the last "not revoked"
    // answer this instance remembered (REVOCATION_CACHE_MS, at most a second) is too old to use.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let refused = loop {
        let res = app.get("/api/v1/users/me", Some(&tokens.access)).await;
        let status = res.status().as_u16();
        assert!(status == 200 || status == 503, "only the remembered answer or 503, never {status}");
        if status == 503 || std::time::Instant::now() > deadline {
            break res;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let body = error_shape(refused, 503).await;
    assert_eq!(body["detail"], "Service unavailable");

    redis.restart().await;
    let mut back = 0;
    for _ in 0..40 {
        back = app.get("/api/v1/users/me", Some(&tokens.access)).await.status().as_u16();
        if back == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(back, 200, "recovers without a restart");
    assert_eq!(app.get("/ready", None).await.status(), 200);
    // Shared limits resume: the counts are in Redis again.
    app.get("/api/v1/users/me", Some(&tokens.access)).await;
    let keys = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "--scan", "--pattern", "*rate:*"])
        .output()
        .expect("redis-cli");
    assert!(!String::from_utf8_lossy(&keys.stdout).trim().is_empty(), "rate-limit keys are back in Redis");
}

#[actix_web::test]
async fn postgres_down_is_503_not_500_and_the_service_recovers_with_nothing_lost() {
    let pg = PrivatePostgres::start();
    let app = TestApp::spawn_with(&[("DATABASE_URL", &pg.url()), ("DATABASE_ACQUIRE_TIMEOUT_SECONDS", "1")]).await;
    let (_, tokens) = app.user("durable").await;

    // Traffic keeps flowing through the outage and the recovery; no answer may be a 500.
    let stop_traffic = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let traffic = {
        let (client, url, token, stop) =
            (app.client.clone(), app.url("/api/v1/users/me"), tokens.access.clone(), stop_traffic.clone());
        actix_web::rt::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(res) = client.get(&url).bearer_auth(&token).send().await {
                    seen.push(res.status().as_u16());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen
        })
    };
    pg.stop();
    assert_eq!(app.get("/health", None).await.status(), 200);
    let ready = app.get("/ready", None).await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["checks"]["database"], "unavailable");
    for _ in 0..3 {
        error_shape(app.get("/api/v1/users/me", Some(&tokens.access)).await, 503).await;
        let res = app
            .post_json(
                "/api/v1/users",
                None,
                &json!({"email": "x@example.com", "username": "xdown", "password": "Password123"}),
            )
            .await;
        error_shape(res, 503).await;
        error_shape(app.login_response("durable", "Password123").await, 503).await;
    }

    pg.resume();
    let mut back = 0;
    for _ in 0..50 {
        back = app.get("/api/v1/users/me", Some(&tokens.access)).await.status().as_u16();
        if back == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(back, 200, "recovers without restarting hexgate");
    app.login("durable", "Password123").await;
    assert_eq!(app.get("/ready", None).await.status(), 200);
    stop_traffic.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = traffic.await.expect("traffic");
    assert!(seen.contains(&503) && seen.contains(&200), "the traffic saw the outage and the recovery");
    assert!(seen.iter().all(|s| *s == 200 || *s == 503), "only 200s and 503s: {seen:?}");
}

#[actix_web::test]
async fn two_instances_share_the_job_queue_and_each_job_runs_once() {
    let (_db, url) = TestDb::create_postgres().await;
    let outbox = std::env::temp_dir().join(format!("hexgate-shared-outbox-{}", uuid::Uuid::new_v4().simple()));
    let outbox_str = outbox.display().to_string();
    let extra = [("MAIL_OUTBOX_DIR", outbox_str.as_str()), ("JOB_WORKERS", "3"), ("JOB_POLL_INTERVAL_MS", "20")];
    let ((mut a, port_a, _), (mut b, _, _)) = std::thread::scope(|s| {
        let a = s.spawn(|| start_binary(&url, &extra));
        let b = s.spawn(|| start_binary(&url, &extra));
        (a.join().expect("a"), b.join().expect("b"))
    });
    let client = reqwest::Client::new();
    for i in 0..12 {
        let body =
            json!({"email": format!("q{i}@example.com"), "username": format!("queued{i}"), "password": "Password123"});
        let res =
            client.post(format!("http://127.0.0.1:{port_a}/api/v1/users")).json(&body).send().await.expect("send");
        assert_eq!(res.status(), 201);
    }
    let count = || std::fs::read_dir(&outbox).map(|d| d.count()).unwrap_or(0);
    for _ in 0..200 {
        if count() >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut recipients: Vec<String> = std::fs::read_dir(&outbox)
        .expect("outbox")
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|m| m.lines().find(|l| l.starts_with("To: ")).map(str::to_owned))
        .collect();
    recipients.sort();
    let before = recipients.len();
    recipients.dedup();
    assert_eq!((before, recipients.len()), (12, 12), "every welcome mail once, none twice");
    for child in [&mut a, &mut b] {
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&outbox);
}
