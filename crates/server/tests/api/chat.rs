//! The chat over real WebSocket connections (tokio-tungstenite), and a raw TCP client for the
//! one that never reads.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{TestApp, TestDb, start_binary};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);

pub async fn connect_url(url: &str) -> Ws {
    let (ws, response) = tokio_tungstenite::connect_async(url).await.expect("websocket upgrade");
    assert_eq!(response.status(), 101);
    ws
}

async fn connect(app: &TestApp, id: &str, token: &str) -> Ws {
    connect_url(&app.ws_url(&format!("/ws/{id}?token={token}"))).await
}

/// The status and body of a refused upgrade.
async fn refused(url: &str) -> (u16, Value) {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => panic!("the upgrade to {url} was accepted"),
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().as_deref().map(serde_json::from_slice).and_then(Result::ok);
            (response.status().as_u16(), body.unwrap_or(Value::Null))
        }
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// The next text message, skipping control frames.
pub async fn next_text(ws: &mut Ws) -> String {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next()).await.expect("a message within 10 s");
        match frame.expect("connection open").expect("frame") {
            Message::Text(text) => return text.to_string(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected text, got {other:?}"),
        }
    }
}

/// Reads until the server's close frame and answers its code.
pub async fn close_code(ws: &mut Ws) -> u16 {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next()).await.expect("a close within 10 s");
        match frame {
            Some(Ok(Message::Close(Some(close)))) => return u16::from(close.code),
            Some(Ok(Message::Close(None))) => return 1005,
            Some(Ok(_)) => {}
            other => panic!("connection ended without a close frame: {other:?}"),
        }
    }
}

async fn say(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("send");
}

#[actix_web::test]
async fn messages_are_echoed_to_the_sender_and_broadcast_to_everyone_and_leaving_is_announced() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let mut a = connect(&app, "alice-1", &alice.access).await;
    let mut b = connect(&app, "Bob_2", &bob.access).await;

    say(&mut a, "hello, world").await;
    assert_eq!(next_text(&mut a).await, "You wrote: hello, world");
    assert_eq!(next_text(&mut a).await, "Client alice-1: hello, world");
    assert_eq!(next_text(&mut b).await, "Client alice-1: hello, world");

    say(&mut b, "hi").await;
    assert_eq!(next_text(&mut b).await, "You wrote: hi");
    assert_eq!(next_text(&mut b).await, "Client Bob_2: hi");
    assert_eq!(next_text(&mut a).await, "Client Bob_2: hi");

    b.close(None).await.expect("close");
    assert_eq!(next_text(&mut a).await, "Client Bob_2 left the chat");
}

#[actix_web::test]
async fn the_upgrade_needs_a_valid_token_and_a_valid_client_id() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let (status, body) = refused(&app.ws_url("/ws/a")).await;
    assert_eq!(status, 401);
    assert_eq!(body["detail"], "Not authenticated", "{body}");
    assert_eq!(refused(&app.ws_url("/ws/a?token=not-a-jwt")).await.0, 401);
    let forged = format!("{}x", alice.access);
    assert_eq!(refused(&app.ws_url(&format!("/ws/a?token={forged}"))).await.0, 401);
    let (status, body) = refused(&app.ws_url(&format!("/ws/bad%20id?token={}", alice.access))).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "path.client_id", "{body}");
    let long = "x".repeat(65);
    assert_eq!(refused(&app.ws_url(&format!("/ws/{long}?token={}", alice.access))).await.0, 422);
    // A logged-out token is refused too.
    let res =
        app.request(reqwest::Method::POST, "/api/v1/auth/logout", Some(&alice.access)).send().await.expect("send");
    assert_eq!(res.status(), 204);
    assert_eq!(refused(&app.ws_url(&format!("/ws/a?token={}", alice.access))).await.0, 401);
}

#[actix_web::test]
async fn a_second_connection_with_a_client_id_replaces_the_first_with_close_code_4001() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let mut first = connect(&app, "alice", &alice.access).await;
    let mut b = connect(&app, "bob", &bob.access).await;
    let mut second = connect(&app, "alice", &alice.access).await;
    assert_eq!(close_code(&mut first).await, 4001);

    say(&mut second, "still here").await;
    assert_eq!(next_text(&mut second).await, "You wrote: still here");
    // No leave notice for a replaced connection: bob's next message is the new one's.
    assert_eq!(next_text(&mut b).await, "Client alice: still here");
}

#[actix_web::test]
async fn a_frame_over_64_kib_closes_the_connection_with_1009() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let mut a = connect(&app, "alice", &alice.access).await;
    let mut b = connect(&app, "bob", &bob.access).await;
    let exactly = "x".repeat(64 * 1024);
    say(&mut a, &exactly).await;
    assert_eq!(next_text(&mut a).await.len(), "You wrote: ".len() + exactly.len(), "64 KiB itself is fine");
    assert_eq!(next_text(&mut b).await.len(), "Client alice: ".len() + exactly.len());
    next_text(&mut a).await;

    say(&mut a, &"y".repeat(64 * 1024 + 1)).await;
    assert_eq!(close_code(&mut a).await, 1009);
    assert_eq!(next_text(&mut b).await, "Client alice left the chat");
}

/// Upgrades a raw TCP connection with a tiny receive buffer, then never reads from it.
async fn silent_client(app: &TestApp, id: &str, token: &str) -> TcpStream {
    let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().expect("addr");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let mut stream = socket.connect(addr).await.expect("connect");
    let request = format!(
        "GET /ws/{id}?token={token} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.expect("read head");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    stream
}

#[actix_web::test]
async fn a_client_that_never_reads_is_dropped_while_the_others_keep_chatting() {
    // Thousands of messages from one connection: well past the default per-minute limit.
    let app = TestApp::spawn_with(&[("CHAT_SEND_QUEUE", "64"), ("CHAT_MESSAGES_PER_MINUTE", "1000000")]).await;
    let (_, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let (_, carol) = app.user("carol").await;
    let mut a = connect(&app, "alice", &alice.access).await;
    let mut b = connect(&app, "bob", &bob.access).await;
    let _stuck = silent_client(&app, "stuck", &carol.access).await;

    let text = "z".repeat(4096);
    let mut sent = 0;
    let mut dropped = false;
    let run = async {
        // Batches small enough for alice's own queue; bob reads everything as it comes.
        while !dropped && sent < 20_000 {
            for _ in 0..16 {
                say(&mut a, &format!("{sent} {text}")).await;
                sent += 1;
            }
            let mut got = 0;
            while got < 16 {
                let message = next_text(&mut b).await;
                if message == "Client stuck left the chat" {
                    dropped = true;
                } else {
                    assert!(message.starts_with(&format!("Client alice: {}", sent - 16 + got)), "in order");
                    got += 1;
                }
            }
            for _ in 0..32 {
                let message = next_text(&mut a).await;
                dropped |= message == "Client stuck left the chat";
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), run).await.expect("the others are never held up");
    assert!(dropped, "the client that never read was dropped (after {sent} messages)");

    // The two that read are still connected and chatting.
    say(&mut b, "after").await;
    assert_eq!(next_text(&mut b).await, "You wrote: after");
    assert_eq!(next_text(&mut b).await, "Client bob: after");
}

#[actix_web::test]
async fn a_connection_that_stops_answering_pings_is_dropped() {
    let app = TestApp::spawn_with(&[("CHAT_PING_INTERVAL_MS", "200"), ("CHAT_CLIENT_TIMEOUT_MS", "1000")]).await;
    let (_, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let mut a = connect(&app, "alice", &alice.access).await;
    let _silent = silent_client(&app, "silent", &bob.access).await;
    // alice reads (and so answers pings); the silent one does not.
    // By now alice has outlived the timeout several times over, answering pings as she reads.
    assert_eq!(next_text(&mut a).await, "Client silent left the chat");
    say(&mut a, "still here").await;
    assert_eq!(next_text(&mut a).await, "You wrote: still here");
}

async fn signup_and_login(base: &str, username: &str) -> String {
    let client = reqwest::Client::new();
    let signup = serde_json::json!({"email": format!("{username}@example.com"), "username": username, "password": "Password123"});
    let res = client.post(format!("{base}/api/v1/users")).json(&signup).send().await.expect("signup");
    assert_eq!(res.status(), 201);
    let res = client
        .post(format!("{base}/api/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={username}&password=Password123"))
        .send()
        .await
        .expect("login");
    let body: Value = res.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

#[actix_web::test]
async fn clients_on_two_instances_sharing_redis_chat_with_each_other() {
    let redis = std::env::var("HEXGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("hexgate-test:{}:", uuid::Uuid::new_v4().simple());
    let (_db, url) = TestDb::create_postgres().await;
    let extra = [("REDIS_URL", redis.as_str()), ("REDIS_KEY_PREFIX", prefix.as_str())];
    let (mut one, port_one, _) = start_binary(&url, &extra);
    let (mut two, port_two, _) = start_binary(&url, &extra);
    let (base_one, base_two) = (format!("http://127.0.0.1:{port_one}"), format!("http://127.0.0.1:{port_two}"));
    let alice = signup_and_login(&base_one, "alice").await;
    let bob = signup_and_login(&base_two, "bob").await;

    let mut a = connect_url(&format!("ws://127.0.0.1:{port_one}/ws/alice?token={alice}")).await;
    let mut b = connect_url(&format!("ws://127.0.0.1:{port_two}/ws/bob?token={bob}")).await;
    say(&mut a, "across").await;
    assert_eq!(next_text(&mut a).await, "You wrote: across");
    assert_eq!(next_text(&mut a).await, "Client alice: across");
    assert_eq!(next_text(&mut b).await, "Client alice: across", "a client on the other instance hears it");
    say(&mut b, "back").await;
    assert_eq!(next_text(&mut a).await, "Client bob: back");

    // The same client id on the other instance replaces the first connection there too.
    let mut a_again = connect_url(&format!("ws://127.0.0.1:{port_two}/ws/alice?token={alice}")).await;
    assert_eq!(close_code(&mut a).await, 4001);
    b.close(None).await.expect("close");
    assert_eq!(next_text(&mut a_again).await, "Client bob left the chat");

    for child in [&mut one, &mut two] {
        let _ = child.kill();
        let _ = child.wait();
    }
}
