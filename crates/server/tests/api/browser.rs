//! The chat page in a real browser: headless Chromium (Debian's `chromium`), driven over the
//! DevTools protocol on a WebSocket, with two pages that log in, connect and talk to each other.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::chat::{Ws, connect_url};
use crate::helpers::{TestApp, temp_dir};

/// Headless Chromium, killed when dropped.
pub(crate) struct Browser {
    child: Child,
    pub(crate) devtools: String,
    profile: std::path::PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Debian's Chromium, installed by the test itself when it is missing (the README's test command
/// needs nothing installed by hand), or the one `HEXGATE_CHROMIUM` names.
fn chromium() -> String {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if let Ok(path) = std::env::var("HEXGATE_CHROMIUM") {
        assert!(std::path::Path::new(&path).exists(), "HEXGATE_CHROMIUM names {path}, which does not exist");
        return path;
    }
    let path = "/usr/bin/chromium";
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !std::path::Path::new(path).exists() {
        let apt = |args: &[&str]| {
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        // A fresh machine's package lists may be empty or stale: update once if the first try fails.
        let _ = apt(&["install", "-y", "-q", "chromium"])
            || (apt(&["update", "-q"]) && apt(&["install", "-y", "-q", "chromium"]));
    }
    assert!(
        std::path::Path::new(path).exists(),
        "the browser test needs Debian's Chromium at {path} and could not install it: run \
         `apt-get update && apt-get install -y chromium` as root, or set HEXGATE_CHROMIUM"
    );
    path.to_owned()
}

pub(crate) fn launch() -> Browser {
    let profile = temp_dir("chromium");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // No network but this machine's loopback: the pages must work offline.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("DevTools listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let devtools = rx.recv_timeout(Duration::from_secs(30)).expect("chromium prints its DevTools address");
    Browser { child, devtools, profile }
}

/// A DevTools connection: commands by id, events skipped.
pub(crate) struct DevTools {
    pub(crate) ws: Ws,
    pub(crate) next_id: u64,
}

impl DevTools {
    pub(crate) async fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.ws.send(Message::text(command.to_string())).await.expect("send command");
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(20), self.ws.next())
                .await
                .expect("DevTools answers")
                .expect("open")
                .expect("frame");
            let Message::Text(text) = frame else { continue };
            let reply: Value = serde_json::from_str(&text).expect("json");
            if reply["id"] == id {
                assert!(reply["error"].is_null(), "{method} failed: {reply}");
                return reply["result"].clone();
            }
        }
    }

    pub(crate) async fn open(&mut self, url: &str) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": url})).await;
        let attached =
            self.call(None, "Target.attachToTarget", json!({"targetId": target["targetId"], "flatten": true})).await;
        attached["sessionId"].as_str().expect("session").to_owned()
    }

    pub(crate) async fn eval(&mut self, page: &str, expression: &str) -> Value {
        let result = self
            .call(
                Some(page),
                "Runtime.evaluate",
                json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
            )
            .await;
        assert!(result["exceptionDetails"].is_null(), "{expression}: {result}");
        result["result"]["value"].clone()
    }

    /// Waits until `condition` (JavaScript) is true on `page`; answers `then` evaluated there.
    pub(crate) async fn wait_for(&mut self, page: &str, condition: &str, then: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if self.eval(page, &format!("Boolean({condition})")).await == json!(true) {
                return self.eval(page, then).await;
            }
            let seen = self.eval(page, "document.body ? document.body.innerText : ''").await;
            assert!(Instant::now() < deadline, "waited 15 s for {condition}; the page shows:\n{seen}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub(crate) fn set(id: &str, value: &str) -> String {
    format!("document.getElementById({}).value = {};", json!(id), json!(value))
}

pub(crate) fn click(id: &str) -> String {
    format!("document.getElementById({}).click();", json!(id))
}

const STATUS: &str = "document.getElementById('status').textContent";
const MESSAGES: &str = "[...document.querySelectorAll('#messages li')].map(li => li.textContent)";

async fn join(tools: &mut DevTools, page: &str, username: &str, client_id: &str) {
    tools.wait_for(page, "document.readyState === 'complete' && document.getElementById('login')", "true").await;
    let login = [set("username", username), set("password", "Password123"), click("login")].concat();
    tools.eval(page, &login).await;
    tools.wait_for(page, &format!("{STATUS} === 'logged in'"), "true").await;
    tools.eval(page, &[set("client-id", client_id), click("connect")].concat()).await;
    tools.wait_for(page, &format!("{STATUS} === 'connected'"), "true").await;
}

async fn send(tools: &mut DevTools, page: &str, text: &str) {
    tools.eval(page, &[set("message", text), click("send")].concat()).await;
}

async fn wait_for_message(tools: &mut DevTools, page: &str, text: &str) -> Value {
    tools.wait_for(page, &format!("{MESSAGES}.includes({})", json!(text)), MESSAGES).await
}

#[actix_web::test]
async fn two_browser_pages_exchange_messages_through_the_chat_page() {
    let app = TestApp::spawn().await;
    app.user("alice").await;
    app.user("bob").await;
    let browser = launch();
    let mut tools = DevTools { ws: connect_url(&browser.devtools).await, next_id: 0 };

    let alice = tools.open(&app.url("/chat")).await;
    let bob = tools.open(&app.url("/chat")).await;
    join(&mut tools, &alice, "alice", "alice-browser").await;
    join(&mut tools, &bob, "bob", "bob-browser").await;

    send(&mut tools, &alice, "hello from alice's page").await;
    let seen_by_bob = wait_for_message(&mut tools, &bob, "Client alice-browser: hello from alice's page").await;
    assert!(!seen_by_bob.to_string().contains("You wrote"), "bob sees no echo of alice's: {seen_by_bob}");
    let seen_by_alice = wait_for_message(&mut tools, &alice, "Client alice-browser: hello from alice's page").await;
    assert_eq!(seen_by_alice[0], "You wrote: hello from alice's page");

    send(&mut tools, &bob, "<b>hi</b> from bob").await;
    wait_for_message(&mut tools, &alice, "Client bob-browser: <b>hi</b> from bob").await;
    let bold = tools.eval(&alice, "document.querySelectorAll('#messages b').length").await;
    assert_eq!(bold, json!(0), "messages are shown as text, never as HTML");

    tools.eval(&bob, &click("disconnect")).await;
    wait_for_message(&mut tools, &alice, "Client bob-browser left the chat").await;
    drop(browser);
}

/// How many operations the published document has.
async fn operation_count(app: &TestApp) -> usize {
    let doc: Value = app.get("/openapi.json", None).await.json().await.expect("document");
    let methods = ["get", "put", "post", "patch", "delete"];
    doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| methods.iter().filter(|m| item.get(**m).is_some()).count())
        .sum()
}

#[actix_web::test]
async fn the_docs_pages_render_every_operation_offline_and_swagger_ui_can_try_health() {
    let app = TestApp::spawn().await;
    let operations = operation_count(&app).await;
    assert!(operations > 30, "the document lists the API: {operations}");
    let browser = launch();
    let mut tools = DevTools { ws: connect_url(&browser.devtools).await, next_id: 0 };

    let swagger = tools.open(&app.url("/docs")).await;
    let shown = tools
        .wait_for(
            &swagger,
            &format!("document.querySelectorAll('.opblock').length >= {operations}"),
            "document.querySelectorAll('.opblock').length",
        )
        .await;
    assert_eq!(shown, json!(operations), "Swagger UI lists every operation");
    // Try it out: GET /health, executed from the page against this server.
    let open_health = "document.querySelector('#operations-system-health .opblock-summary-control').click(); true";
    tools.eval(&swagger, open_health).await;
    tools.wait_for(&swagger, "document.querySelector('#operations-system-health .try-out__btn')", "true").await;
    tools.eval(&swagger, "document.querySelector('#operations-system-health .try-out__btn').click(); true").await;
    tools.wait_for(&swagger, "document.querySelector('#operations-system-health .execute')", "true").await;
    tools.eval(&swagger, "document.querySelector('#operations-system-health .execute').click(); true").await;
    let status = tools
        .wait_for(
            &swagger,
            "document.querySelector('#operations-system-health .live-responses-table tr.response .response-col_status')",
            "document.querySelector('#operations-system-health .live-responses-table tr.response .response-col_status').textContent.trim()",
        )
        .await;
    assert_eq!(status, json!("200"), "Try it out of GET /health answers 200");

    let redoc = tools.open(&app.url("/redoc")).await;
    let listed = tools
        .wait_for(
            &redoc,
            &format!("document.querySelectorAll('[data-section-id^=\"operation/\"]').length >= {operations}"),
            "document.querySelectorAll('[data-section-id^=\"operation/\"]').length",
        )
        .await;
    assert_eq!(listed, json!(operations), "ReDoc lists every operation");
    drop(browser);
}
