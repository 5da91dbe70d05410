//! Mails sent by background jobs: to the outbox folder by default, or over real SMTP.

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

/// An SMTP server of the test's own, on a free port: a real SMTP conversation over TCP
/// (greeting, EHLO, MAIL FROM, RCPT TO, DATA with dot-unstuffing, QUIT), keeping each message it
/// accepts. Written here so the test needs nothing installed.
struct SmtpSink {
    port: u16,
    received: std::sync::Arc<std::sync::Mutex<Vec<Envelope>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Clone)]
struct Envelope {
    from: String,
    to: Vec<String>,
    data: String,
}

impl SmtpSink {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = converse(socket, store).await;
                });
            }
        });
        Self { port, received, task }
    }

    fn received(&self) -> Vec<Envelope> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn converse(
    socket: tokio::net::TcpStream,
    store: std::sync::Arc<std::sync::Mutex<Vec<Envelope>>>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("RSET") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if let Some(rest) = upper.strip_prefix("MAIL FROM:") {
            from = line[line.len() - rest.len()..].trim().to_owned();
            b"250 OK\r\n"
        } else if let Some(rest) = upper.strip_prefix("RCPT TO:") {
            to.push(line[line.len() - rest.len()..].trim().to_owned());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = String::new();
            while let Some(body) = lines.next_line().await? {
                if body == "." {
                    break;
                }
                data.push_str(body.strip_prefix('.').unwrap_or(&body));
                data.push('\n');
            }
            store.lock().expect("lock").push(Envelope { from: from.clone(), to: std::mem::take(&mut to), data });
            b"250 OK: queued\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
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
    assert_eq!(delivered[0].from, "<no-reply@example.com>");
    assert_eq!(delivered[0].to, ["<smtpuser@example.com>"]);
    let mail = &delivered[0].data;
    assert!(mail.contains("To: smtpuser@example.com"), "{mail}");
    assert!(mail.contains("Subject: Welcome to hexgate") && mail.contains("From: hexgate <no-reply@example.com>"));
    assert!(mail.contains("https://app.example.com"), "a working link");
    assert!(app.mails().is_empty(), "nothing went to the outbox");
}
