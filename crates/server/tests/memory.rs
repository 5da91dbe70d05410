//! Resident memory stays flat however many passwords are hashed.
//!
//! Its own test binary, so no other test shares the process that cargo runs; and the process it
//! measures is the real `hexgate` binary (with the allocator it ships with), started here on a
//! SQLite file and driven over HTTP.
//!
//! Measured on 2 cores before the fix (glibc's malloc: `cargo test -p hexgate-server --test memory
//! --features system-allocator`): 465 MB after the warm-up, 1,634 MB after the 640 hashes, because
//! every 19 MiB Argon2 block stayed in malloc's heap, fragmented by the small allocations made
//! between hashes. With jemalloc: 59.9 MB, then 57.2 MB. The bound below sits far from both.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const SECRET: &str = "test-secret-key-0123456789-abcdefghijklmnop";
const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "AdminPass123";
/// Growth allowed over the measured hashes: one Argon2 block per core in flight plus the
/// allocator's caches, with room for a busy machine; an order of magnitude under the old leak.
const GROWTH_BOUND_KB: u64 = 60 * 1024;

struct Server {
    child: Child,
    base: String,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    // The child is owned by the returned `Server`, whose `Drop` kills and waits for it.
    #[allow(clippy::zombie_processes)]
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("hexgate-memory-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_hexgate"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ENVIRONMENT", "test")
            .env("SECRET_KEY", SECRET)
            .env("DATABASE_URL", format!("sqlite://{}", dir.join("memory.db").display()))
            .env("UPLOAD_DIR", dir.join("uploads"))
            .env("MAIL_OUTBOX_DIR", dir.join("outbox"))
            .env("FIRST_SUPERUSER_EMAIL", ADMIN_EMAIL)
            .env("FIRST_SUPERUSER_PASSWORD", ADMIN_PASSWORD)
            .env("RATE_LIMIT_PER_MINUTE", "1000000")
            .env("LOGIN_RATE_LIMIT_PER_MINUTE", "1000000")
            .env("PORT", "0")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn hexgate");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
                && line.contains("hexgate listening")
                && let Some(port) = serde_json::from_str::<Value>(&line).ok().and_then(|v| v["port"].as_u64())
            {
                // Keep draining stdout so the server never blocks on a full pipe.
                std::thread::spawn(move || while rx.recv().is_ok() {});
                return Self { child, base: format!("http://127.0.0.1:{port}"), dir };
            }
        }
        panic!("hexgate did not start within 60 s");
    }

    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS")
    }
}

async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let res = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200, "login as {username}");
    res.json::<Value>().await.expect("json")["access_token"].as_str().expect("token").to_owned()
}

/// `count` users in one batch: `count` hashes, run side by side by the service.
async fn batch(client: &reqwest::Client, base: &str, admin: &str, tag: &str, count: usize) {
    let users: Vec<Value> = (0..count)
        .map(|i| json!({"email": format!("{tag}{i}@example.com"), "username": format!("{tag}{i}"), "password": "Password123"}))
        .collect();
    let res =
        client.post(format!("{base}/api/v1/users/batch")).bearer_auth(admin).json(&users).send().await.expect("batch");
    assert_eq!(res.status(), 201, "batch {tag}: {}", res.text().await.unwrap_or_default());
}

/// Sign-ups (one hash each) and password changes (one hash and one verification each).
async fn hash_load(client: &reqwest::Client, base: &str, admin: &str, tag: &str) {
    for round in 0..3 {
        batch(client, base, admin, &format!("{tag}b{round}x"), 100).await;
    }
    let token = login(client, base, &format!("{tag}b0x0"), "Password123").await;
    let mut current = "Password123".to_owned();
    for i in 0..20 {
        let next = format!("Changed{i}Pass");
        let res = client
            .post(format!("{base}/api/v1/auth/password"))
            .bearer_auth(&token)
            .json(&json!({"current_password": current, "new_password": next}))
            .send()
            .await
            .expect("password change");
        assert_eq!(res.status(), 204, "password change {i}");
        current = next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashing_hundreds_of_passwords_leaves_resident_memory_flat() {
    let server = Server::start();
    let client = reqwest::Client::new();
    let admin = login(&client, &server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Warm up: the runtime's threads, pools and caches reach their working size.
    batch(&client, &server.base, &admin, "warm", 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_kb();

    hash_load(&client, &server.base, &admin, "a").await;
    let after_first = server.rss_kb();
    hash_load(&client, &server.base, &admin, "b").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = server.rss_kb();

    eprintln!("RSS: {before} kB after warm-up, {after_first} kB after 320 hashes, {after} kB after 640");
    assert!(
        after.saturating_sub(before) < GROWTH_BOUND_KB,
        "resident memory grew from {before} kB to {after} kB over 640 password hashes (bound {GROWTH_BOUND_KB} kB)"
    );
}
