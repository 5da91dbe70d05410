//! Forged and broken bearer tokens: every one is a 401 with `WWW-Authenticate: Bearer`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, error_shape};

fn claims(me: &Value, sid: &str, exp_offset: i64, nbf_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": me["id"], "sid": sid, "jti": uuid::Uuid::new_v4(), "iat": now,
           "nbf": now + nbf_offset, "exp": now + exp_offset, "iss": "hexgate", "aud": "hexgate-api"})
}

fn sign(claims: &Value, key: &str) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(key.as_bytes())).expect("encode")
}

fn session_of(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("payload");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json");
    claims["sid"].as_str().expect("sid").to_owned()
}

async fn assert_refused(app: &TestApp, token: &str, why: &str) {
    let res = app.get("/api/v1/users/me", Some(token)).await;
    assert_eq!(res.status(), 401, "{why}");
    assert_eq!(res.headers()["www-authenticate"], "Bearer", "{why}");
    error_shape(res, 401).await;
}

/// HS256 deployments: forgeries against the shared secret (EdDSA's are in signing_keys.rs).
#[actix_web::test]
async fn forged_and_broken_tokens_are_all_refused() {
    let app = TestApp::spawn_with(&[("JWT_ALGORITHM", "HS256")]).await;
    let (me, tokens) = app.user("victim").await;
    let sid = session_of(&tokens.access);
    // A correctly signed token with these claims works, so each refusal below is for its flaw.
    assert_eq!(app.get("/api/v1/users/me", Some(&sign(&claims(&me, &sid, 600, 0), SECRET))).await.status(), 200);

    assert_refused(&app, &sign(&claims(&me, &sid, -3600, -3700), SECRET), "expired").await;
    assert_refused(&app, &sign(&claims(&me, &sid, 3600, 600), SECRET), "not yet valid").await;
    assert_refused(&app, &sign(&claims(&me, &sid, 600, 0), "another-key-of-at-least-32-bytes!!"), "wrong key").await;
    let mut aud = claims(&me, &sid, 600, 0);
    aud["aud"] = json!("someone-else");
    assert_refused(&app, &sign(&aud, SECRET), "wrong audience").await;
    let mut iss = claims(&me, &sid, 600, 0);
    iss["iss"] = json!("evil");
    assert_refused(&app, &sign(&iss, SECRET), "wrong issuer").await;

    let payload = URL_SAFE_NO_PAD.encode(claims(&me, &sid, 600, 0).to_string());
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    assert_refused(&app, &format!("{none_header}.{payload}."), "alg none").await;
    let rs_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    assert_refused(&app, &format!("{rs_header}.{payload}.c2lnbmF0dXJl"), "RS256").await;

    let mut parts: Vec<String> = tokens.access.split('.').map(str::to_owned).collect();
    let mut admin_claims = claims(&me, &sid, 600, 0);
    admin_claims["sub"] = json!(uuid::Uuid::now_v7());
    parts[1] = URL_SAFE_NO_PAD.encode(admin_claims.to_string());
    assert_refused(&app, &parts.join("."), "tampered payload").await;

    assert_refused(&app, "garbage", "garbage").await;
    assert_refused(&app, "a.b.c", "three garbage parts").await;
    let res = app
        .client
        .get(app.url("/api/v1/users/me"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .expect("send");
    error_shape(res, 401).await;
    let res = app.client.get(app.url("/api/v1/users/me")).send().await.expect("send");
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    error_shape(res, 401).await;
}

#[actix_web::test]
async fn a_token_for_a_deleted_user_is_refused() {
    let app = TestApp::spawn().await;
    let (me, tokens) = app.user("gone").await;
    let admin = app.admin().await;
    let id = me["id"].as_str().expect("id");
    let res = app
        .request(reqwest::Method::DELETE, &format!("/api/v1/users/{id}"), Some(&admin.access))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 204);
    assert_refused(&app, &tokens.access, "deleted user").await;
}
