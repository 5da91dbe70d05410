//! Mails sent by background jobs: to the outbox folder by default, or over real SMTP.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn sign_up_queues_a_welcome_mail_that_lands_in_the_outbox() {
    let app = TestApp::spawn_with(&[("PUBLIC_BASE_URL", "https://app.example.com")]).await;
    app.register("welcomed", "Password123").await;
    let mail = app.wait_for_mail("welcomed@example.com", "Welcome to hexgate").await;
    assert!(mail.contains("https://app.example.com"), "the link uses the public base URL");
    assert!(mail.contains("text/plain") && mail.contains("text/html"));
}

#[actix_web::test]
async fn a_refused_sign_up_queues_no_mail() {
    let app = TestApp::spawn().await;
    app.register("once", "Password123").await;
    app.wait_for_mail("once@example.com", "Welcome").await;
    let dup = json!({"email": "once@example.com", "username": "twice", "password": "Password123"});
    assert_eq!(app.post_json("/api/v1/users", None, &dup).await.status(), 409);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.mails().len(), 1, "the rolled-back sign-up left no job behind");
}

/// An aiosmtpd server of the test's own, storing what it receives in a Maildir.
struct SmtpSink {
    child: Child,
    port: u16,
    maildir: std::path::PathBuf,
}

impl SmtpSink {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let maildir = std::env::temp_dir().join(format!("hexgate-smtp-{}", uuid::Uuid::new_v4().simple()));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox", &maildir.display().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 is installed");
        let mut sink = Self { child, port, maildir };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return sink;
            }
            if let Ok(Some(status)) = sink.child.try_wait() {
                panic!("aiosmtpd exited ({status}); install it with: pip install aiosmtpd");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = sink.child.kill();
        panic!("aiosmtpd did not start; install it with: pip install aiosmtpd");
    }

    fn received(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.maildir.join("new")) else { return Vec::new() };
        dir.filter_map(Result::ok).filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

#[actix_web::test]
async fn with_smtp_configured_the_welcome_mail_is_delivered_by_smtp() {
    let sink = SmtpSink::start().await;
    let url = format!("smtp://127.0.0.1:{}", sink.port);
    let app = TestApp::spawn_with(&[
        ("SMTP_URL", &url),
        ("MAIL_FROM", "hexgate <no-reply@example.com>"),
        ("PUBLIC_BASE_URL", "https://app.example.com"),
    ])
    .await;
    app.register("smtpuser", "Password123").await;
    let mut delivered = Vec::new();
    for _ in 0..200 {
        delivered = sink.received();
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivered.len(), 1, "one mail arrived");
    let mail = &delivered[0];
    assert!(mail.contains("To: smtpuser@example.com"), "{mail}");
    assert!(mail.contains("Subject: Welcome to hexgate") && mail.contains("From: hexgate <no-reply@example.com>"));
    assert!(mail.contains("https://app.example.com"), "a working link");
    assert!(app.mails().is_empty(), "nothing went to the outbox");
}
