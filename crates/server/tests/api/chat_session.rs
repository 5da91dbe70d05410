//! Chats that end with their session: every way a session or a user's access ends closes the
//! affected connections with 4401 within 2 seconds, on whichever instance holds them, and only
//! those; and the per-connection message limit.

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::chat::{Ws, close_code, connect_url, next_text};
use crate::helpers::{TestApp, TestDb, Tokens, start_binary};

/// The contract's bound from a session's end to its chats' close.
const WITHIN: Duration = Duration::from_secs(2);

async fn connect(app: &TestApp, id: &str, token: &str) -> Ws {
    connect_url(&app.ws_url(&format!("/ws/{id}?token={token}"))).await
}

async fn say(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("send");
}

/// Asserts the server closes `ws` with 4401 within 2 s of `since` (the end of the request that
/// ended the session).
async fn closed_with_4401_in_time(ws: &mut Ws, since: Instant) {
    let code = tokio::time::timeout(WITHIN, close_code(ws)).await.expect("closed within 2 s");
    assert_eq!(code, 4401, "the close code for an ended session");
    assert!(since.elapsed() < WITHIN, "closed after {:?}", since.elapsed());
}

/// `ws` is still open and chatting: what it says comes back to it. Notices of others leaving
/// (the closed chats) and other open chats' own "still here" may come first, in any order;
/// nothing else may.
async fn still_chatting(ws: &mut Ws, id: &str) {
    say(ws, "still here").await;
    for expected in ["You wrote: still here".to_owned(), format!("Client {id}: still here")] {
        loop {
            let text = next_text(ws).await;
            if text == expected {
                break;
            }
            let others_check = text.starts_with("Client ") && text.ends_with(": still here");
            assert!(text.ends_with(" left the chat") || others_check, "unexpected {text:?} before {expected:?}");
        }
    }
}

/// Asserts the upgrade with `token` is refused with 401.
async fn upgrade_refused(app: &TestApp, token: &str) {
    match tokio_tungstenite::connect_async(app.ws_url(&format!("/ws/late?token={token}"))).await {
        Ok(_) => panic!("the upgrade was accepted"),
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 401),
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// A second login of an existing user: a second session.
async fn second_session(app: &TestApp, username: &str) -> Tokens {
    app.login(username, "Password123").await
}

#[actix_web::test]
async fn a_logout_closes_that_sessions_chat_with_4401_and_leaves_the_others_open() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let alice_elsewhere = second_session(&app, "alice").await;
    let (_, bob) = app.user("bob").await;
    let mut a = connect(&app, "alice", &alice.access).await;
    let mut a2 = connect(&app, "alice-phone", &alice_elsewhere.access).await;
    let mut b = connect(&app, "bob", &bob.access).await;

    let res = app.request(Method::POST, "/api/v1/auth/logout", Some(&alice.access)).send().await.expect("send");
    assert_eq!(res.status(), 204);
    closed_with_4401_in_time(&mut a, Instant::now()).await;
    // The others hear that it left, and go on.
    assert_eq!(next_text(&mut b).await, "Client alice left the chat");
    assert_eq!(next_text(&mut a2).await, "Client alice left the chat");
    still_chatting(&mut a2, "alice-phone").await;
    assert_eq!(next_text(&mut b).await, "Client alice-phone: still here");
    still_chatting(&mut b, "bob").await;
    // And the logged-out token opens no new chat.
    upgrade_refused(&app, &alice.access).await;
}

#[actix_web::test]
async fn a_logout_with_the_refresh_token_of_another_session_closes_both_sessions_chats() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let other = second_session(&app, "alice").await;
    let (_, bob) = app.user("bob").await;
    let mut a = connect(&app, "alice", &alice.access).await;
    let mut a2 = connect(&app, "alice-2", &other.access).await;
    let mut b = connect(&app, "bob", &bob.access).await;
    let res = app
        .send_json(Method::POST, "/api/v1/auth/logout", Some(&alice.access), &json!({"refresh_token": other.refresh}))
        .await;
    assert_eq!(res.status(), 204);
    let since = Instant::now();
    closed_with_4401_in_time(&mut a, since).await;
    closed_with_4401_in_time(&mut a2, since).await;
    still_chatting(&mut b, "bob").await;
}

#[actix_web::test]
async fn revoking_a_session_closes_its_chat_and_its_token_opens_no_new_one() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let laptop = second_session(&app, "alice").await;
    let mut phone_chat = connect(&app, "alice-phone", &alice.access).await;
    let mut laptop_chat = connect(&app, "alice-laptop", &laptop.access).await;

    // From the laptop, alice revokes the phone's session.
    let sessions: Value = app.get("/api/v1/auth/sessions", Some(&laptop.access)).await.json().await.expect("json");
    let phone = sessions
        .as_array()
        .expect("a list")
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str())
        .expect("the other session")
        .to_owned();
    let res = app.delete(&format!("/api/v1/auth/sessions/{phone}"), Some(&laptop.access)).await;
    assert_eq!(res.status(), 204);
    closed_with_4401_in_time(&mut phone_chat, Instant::now()).await;
    assert_eq!(next_text(&mut laptop_chat).await, "Client alice-phone left the chat");
    still_chatting(&mut laptop_chat, "alice-laptop").await;
    // The phone's access token has not expired, but its session has ended: no new chat.
    upgrade_refused(&app, &alice.access).await;
}

#[actix_web::test]
async fn a_password_change_closes_the_chats_of_every_other_session_and_keeps_the_callers() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let changer = second_session(&app, "alice").await;
    let (_, bob) = app.user("bob").await;
    let mut old_chat = connect(&app, "alice-old", &alice.access).await;
    let mut own_chat = connect(&app, "alice-own", &changer.access).await;
    let mut b = connect(&app, "bob", &bob.access).await;

    let body = json!({"current_password": "Password123", "new_password": "Changed12345"});
    let res = app.post_json("/api/v1/auth/password", Some(&changer.access), &body).await;
    assert_eq!(res.status(), 204);
    closed_with_4401_in_time(&mut old_chat, Instant::now()).await;
    // The session the change was made from lives on (as the contract says), and so does its chat.
    assert_eq!(next_text(&mut own_chat).await, "Client alice-old left the chat");
    still_chatting(&mut own_chat, "alice-own").await;
    assert_eq!(next_text(&mut b).await, "Client alice-old left the chat");
    assert_eq!(next_text(&mut b).await, "Client alice-own: still here");
    still_chatting(&mut b, "bob").await;
}

#[actix_web::test]
async fn a_replayed_refresh_token_closes_the_chat_of_the_family_it_revokes() {
    let app = TestApp::spawn_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let (_, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let mut b = connect(&app, "bob", &bob.access).await;
    // A refresh keeps the session: the chat opened with the new access token belongs to it too.
    let res = app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": alice.refresh})).await;
    assert_eq!(res.status(), 200);
    let fresh: Value = res.json().await.expect("json");
    let fresh_access = fresh["access_token"].as_str().expect("access").to_owned();
    let mut old_token_chat = connect(&app, "alice-old", &alice.access).await;
    let mut new_token_chat = connect(&app, "alice-new", &fresh_access).await;
    // The spent token again: the whole family is revoked, and its chats end.
    let res = app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": alice.refresh})).await;
    assert_eq!(res.status(), 401);
    let since = Instant::now();
    closed_with_4401_in_time(&mut old_token_chat, since).await;
    closed_with_4401_in_time(&mut new_token_chat, since).await;
    still_chatting(&mut b, "bob").await;
}

/// The token in the mail's link (`…?token=<token>`); the body is quoted-printable.
fn token_in(mail: &str) -> String {
    let mail = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = mail.find("token=").expect("a link with a token") + "token=".len();
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

#[actix_web::test]
async fn a_password_reset_closes_every_chat_of_the_user() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let other = second_session(&app, "alice").await;
    let (_, bob) = app.user("bob").await;
    let mut a = connect(&app, "alice", &alice.access).await;
    let mut a2 = connect(&app, "alice-2", &other.access).await;
    let mut b = connect(&app, "bob", &bob.access).await;

    let res = app.post_json("/api/v1/auth/forgot-password", None, &json!({"email": "alice@example.com"})).await;
    assert_eq!(res.status(), 202);
    let token = token_in(&app.wait_for_mail("alice@example.com", "Reset your hexgate password").await);
    let res = app
        .post_json("/api/v1/auth/reset-password", None, &json!({"token": token, "new_password": "Brandnew123"}))
        .await;
    assert_eq!(res.status(), 204);
    let since = Instant::now();
    closed_with_4401_in_time(&mut a, since).await;
    closed_with_4401_in_time(&mut a2, since).await;
    still_chatting(&mut b, "bob").await;
}

#[actix_web::test]
async fn deactivating_a_user_closes_all_their_chats_and_nobody_elses() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (alice_user, alice) = app.user("alice").await;
    let other = second_session(&app, "alice").await;
    let (_, bob) = app.user("bob").await;
    let mut a = connect(&app, "alice", &alice.access).await;
    let mut a2 = connect(&app, "alice-2", &other.access).await;
    let mut b = connect(&app, "bob", &bob.access).await;
    let mut boss = connect(&app, "admin", &admin.access).await;

    let id = alice_user["id"].as_str().expect("id");
    let res = app
        .send_json(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&admin.access), &json!({"is_active": false}))
        .await;
    assert_eq!(res.status(), 200);
    let since = Instant::now();
    closed_with_4401_in_time(&mut a, since).await;
    closed_with_4401_in_time(&mut a2, since).await;
    still_chatting(&mut b, "bob").await;
    still_chatting(&mut boss, "admin").await;
    // An inactive user's token gets the usual 400 at the upgrade.
    match tokio_tungstenite::connect_async(app.ws_url(&format!("/ws/again?token={}", alice.access))).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 400),
        other => panic!("expected a refused upgrade, got {other:?}"),
    }
}

#[actix_web::test]
async fn changing_another_field_of_a_user_leaves_their_chat_open() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (alice_user, alice) = app.user("alice").await;
    let mut a = connect(&app, "alice", &alice.access).await;
    let id = alice_user["id"].as_str().expect("id");
    let body = json!({"full_name": "Alice A.", "is_active": true});
    let res = app.send_json(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&admin.access), &body).await;
    assert_eq!(res.status(), 200);
    still_chatting(&mut a, "alice").await;
}

#[actix_web::test]
async fn deleting_a_user_closes_all_their_chats() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (alice_user, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let mut a = connect(&app, "alice", &alice.access).await;
    let mut b = connect(&app, "bob", &bob.access).await;
    let id = alice_user["id"].as_str().expect("id");
    let res = app.delete(&format!("/api/v1/users/{id}"), Some(&admin.access)).await;
    assert_eq!(res.status(), 204);
    closed_with_4401_in_time(&mut a, Instant::now()).await;
    assert_eq!(next_text(&mut b).await, "Client alice left the chat");
    still_chatting(&mut b, "bob").await;
}

#[actix_web::test]
async fn past_its_messages_per_minute_a_client_is_told_rate_limit_exceeded_and_nobody_hears_it() {
    let app = TestApp::spawn_with(&[("CHAT_MESSAGES_PER_MINUTE", "3")]).await;
    let (_, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let mut a = connect(&app, "alice", &alice.access).await;
    let mut b = connect(&app, "bob", &bob.access).await;
    for n in 0..3 {
        say(&mut a, &format!("m{n}")).await;
        assert_eq!(next_text(&mut a).await, format!("You wrote: m{n}"));
        assert_eq!(next_text(&mut a).await, format!("Client alice: m{n}"));
        assert_eq!(next_text(&mut b).await, format!("Client alice: m{n}"));
    }
    for n in 3..6 {
        say(&mut a, &format!("m{n}")).await;
        assert_eq!(next_text(&mut a).await, "Rate limit exceeded");
    }
    // Bob's own message is the next thing anyone hears: alice's last three went nowhere.
    say(&mut b, "mine").await;
    assert_eq!(next_text(&mut b).await, "You wrote: mine");
    assert_eq!(next_text(&mut b).await, "Client bob: mine");
    assert_eq!(next_text(&mut a).await, "Client bob: mine");
    // The limit is per connection: alice is still connected, only muted for the minute; a new
    // connection has its own count.
    say(&mut a, "m6").await;
    assert_eq!(next_text(&mut a).await, "Rate limit exceeded");
    let mut fresh = connect(&app, "alice", &alice.access).await;
    assert_eq!(close_code(&mut a).await, 4001);
    say(&mut fresh, "again").await;
    assert_eq!(next_text(&mut fresh).await, "You wrote: again");
}

async fn signup_and_login(base: &str, username: &str) -> String {
    let client = reqwest::Client::new();
    let signup = json!({"email": format!("{username}@example.com"), "username": username, "password": "Password123"});
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

async fn logout(base: &str, token: &str) {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 204);
}

#[actix_web::test]
async fn a_logout_on_one_instance_closes_the_chat_held_by_the_other_within_2_s() {
    let redis = std::env::var("HEXGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("hexgate-test:{}:", uuid::Uuid::new_v4().simple());
    let (_db, url) = TestDb::create_postgres().await;
    let extra = [("REDIS_URL", redis.as_str()), ("REDIS_KEY_PREFIX", prefix.as_str())];
    let (mut one, port_one, _) = start_binary(&url, &extra);
    let (mut two, port_two, _) = start_binary(&url, &extra);
    let base_one = format!("http://127.0.0.1:{port_one}");
    let alice = signup_and_login(&base_one, "alice").await;
    let bob = signup_and_login(&base_one, "bob").await;

    // Both chats on instance two; alice logs out through instance one.
    let mut a = connect_url(&format!("ws://127.0.0.1:{port_two}/ws/alice?token={alice}")).await;
    let mut b = connect_url(&format!("ws://127.0.0.1:{port_two}/ws/bob?token={bob}")).await;
    logout(&base_one, &alice).await;
    closed_with_4401_in_time(&mut a, Instant::now()).await;
    assert_eq!(next_text(&mut b).await, "Client alice left the chat");
    still_chatting(&mut b, "bob").await;

    for child in [&mut one, &mut two] {
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[actix_web::test]
async fn without_the_event_a_chat_still_ends_at_its_next_session_check() {
    // Two instances on one database but no Redis: the logout's event stays on the instance that
    // made it, and the other finds the session ended at its next check.
    let (_db, url) = TestDb::create_postgres().await;
    let extra = [("CHAT_SESSION_CHECK_INTERVAL_MS", "300")];
    let (mut one, port_one, _) = start_binary(&url, &extra);
    let (mut two, port_two, _) = start_binary(&url, &extra);
    let base_one = format!("http://127.0.0.1:{port_one}");
    let alice = signup_and_login(&base_one, "alice").await;
    let bob = signup_and_login(&base_one, "bob").await;
    let mut a = connect_url(&format!("ws://127.0.0.1:{port_two}/ws/alice?token={alice}")).await;
    let mut b = connect_url(&format!("ws://127.0.0.1:{port_two}/ws/bob?token={bob}")).await;
    logout(&base_one, &alice).await;
    closed_with_4401_in_time(&mut a, Instant::now()).await;
    still_chatting(&mut b, "bob").await;

    for child in [&mut one, &mut two] {
        let _ = child.kill();
        let _ = child.wait();
    }
}
