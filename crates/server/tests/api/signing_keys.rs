//! EdDSA access tokens, the JWKS and key rotation, checked from outside: signatures are verified
//! against the published JWKS with ed25519-dalek by hand (not with jsonwebtoken, which signs
//! them), forgeries are refused, rotation keeps old tokens valid, retirement ends them, two real
//! processes follow one rotation, and random kids cannot turn into a flood of store reads.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use futures_util::StreamExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, SECRET, TestApp, TestDb, error_shape, hexgate, start_binary};

pub(crate) fn part(token: &str, i: usize) -> Value {
    let bytes = URL_SAFE_NO_PAD.decode(token.split('.').nth(i).expect("part")).expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

fn kid_of(token: &str) -> String {
    part(token, 0)["kid"].as_str().expect("kid").to_owned()
}

/// Checks `token`'s signature the way another service would: the key its header names, from the
/// JWKS, Ed25519 over `header.payload`.
pub(crate) fn verifies_with(jwks: &Value, token: &str) -> bool {
    let header = part(token, 0);
    if header["alg"] != "EdDSA" {
        return false;
    }
    let Some(jwk) = jwks["keys"].as_array().expect("keys").iter().find(|k| k["kid"] == header["kid"]) else {
        return false;
    };
    assert_eq!(
        (&jwk["kty"], &jwk["crv"], &jwk["alg"], &jwk["use"]),
        (&json!("OKP"), &json!("Ed25519"), &json!("EdDSA"), &json!("sig"))
    );
    let x: [u8; 32] = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().expect("x")).expect("b64").try_into().expect("32 bytes");
    let key = VerifyingKey::from_bytes(&x).expect("a public key");
    let (signed, signature) = token.rsplit_once('.').expect("three parts");
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else { return false };
    let Ok(signature) = ed25519_dalek::Signature::from_slice(&signature) else { return false };
    key.verify_strict(signed.as_bytes(), &signature).is_ok()
}

/// An EdDSA token signed by hand with `key`, naming `kid`.
fn forge(key: &SigningKey, kid: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = key.sign(format!("{header}.{payload}").as_bytes());
    format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn foreign_key() -> SigningKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("random");
    SigningKey::from_bytes(&seed)
}

/// Valid claims for the user and session of `token`, issued now.
fn claims_like(token: &str) -> Value {
    let real = part(token, 1);
    let now = chrono::Utc::now().timestamp();
    json!({"sub": real["sub"], "sid": real["sid"], "jti": uuid::Uuid::new_v4(), "iat": now, "nbf": now,
           "exp": now + 600, "iss": "hexgate", "aud": "hexgate-api"})
}

async fn refused(app: &TestApp, token: &str, why: &str) {
    let res = app.get("/api/v1/users/me", Some(token)).await;
    assert_eq!(res.status(), 401, "{why}");
    assert_eq!(res.headers()["www-authenticate"], "Bearer", "{why}");
    error_shape(res, 401).await;
}

async fn jwks(app: &TestApp) -> Value {
    let res = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=300");
    res.json().await.expect("json")
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"].as_array().expect("keys").iter().map(|k| k["kid"].as_str().expect("kid").to_owned()).collect()
}

async fn keys_list(app: &TestApp, admin: &str) -> Vec<Value> {
    let res = app.get("/api/v1/admin/signing-keys", Some(admin)).await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

#[actix_web::test]
async fn tokens_verify_against_the_published_jwks_with_an_independent_library() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("verifier").await;
    let header = part(&tokens.access, 0);
    assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some("EdDSA"), Some("JWT")));
    let keys = jwks(&app).await;
    assert_eq!(kids(&keys), vec![kid_of(&tokens.access)], "one key, the one the token names");
    assert!(verifies_with(&keys, &tokens.access), "the signature checks out against the JWKS");
    let mut parts: Vec<String> = tokens.access.split('.').map(str::to_owned).collect();
    let mut claims = part(&tokens.access, 1);
    claims["sub"] = json!(uuid::Uuid::now_v7());
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert!(!verifies_with(&keys, &parts.join(".")), "and a changed payload does not");
    assert!(!keys.to_string().contains("\"d\""), "no private part is published");

    let discovery: Value = app.get("/.well-known/openid-configuration", None).await.json().await.expect("json");
    assert_eq!(discovery["issuer"], "hexgate", "the iss tokens carry");
    assert!(discovery["jwks_uri"].as_str().expect("jwks_uri").ends_with("/.well-known/jwks.json"));
    assert!(discovery["token_endpoint"].as_str().expect("token_endpoint").ends_with("/api/v1/auth/token"));
    assert_eq!(discovery["id_token_signing_alg_values_supported"], json!(["EdDSA"]));
}

#[actix_web::test]
async fn forged_eddsa_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("target").await;
    let kid = kid_of(&tokens.access);
    assert_eq!(app.get("/api/v1/users/me", Some(&tokens.access)).await.status(), 200);
    let claims = claims_like(&tokens.access);

    let hs256 =
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).expect("encode");
    refused(&app, &hs256, "HS256 signed with SECRET_KEY while EdDSA is configured").await;
    let mut hs_with_kid = Header::new(Algorithm::HS256);
    hs_with_kid.kid = Some(kid.clone());
    let keys = jwks(&app).await;
    let x = URL_SAFE_NO_PAD.decode(keys["keys"][0]["x"].as_str().expect("x")).expect("b64");
    let confused = encode(&hs_with_kid, &claims, &EncodingKey::from_secret(&x)).expect("encode");
    refused(&app, &confused, "HS256 keyed with the public key (algorithm confusion)").await;

    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let none = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    refused(&app, &format!("{none}.{payload}."), "alg none").await;

    let foreign = foreign_key();
    refused(&app, &forge(&foreign, &kid, &claims), "a foreign Ed25519 key under a known kid").await;
    refused(&app, &forge(&foreign, "no-such-kid", &claims), "an unknown kid").await;
    let no_kid = {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "typ": "JWT"}).to_string());
        let signature = foreign.sign(format!("{header}.{payload}").as_bytes());
        format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    };
    refused(&app, &no_kid, "no kid").await;
    // The real token still works: each refusal above was for its own flaw.
    assert_eq!(app.get("/api/v1/users/me", Some(&tokens.access)).await.status(), 200);
}

#[actix_web::test]
async fn rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, before) = app.user("rotated").await;
    let old_kid = kid_of(&before.access);

    let res = app.request(Method::POST, "/api/v1/admin/signing-keys/rotate", Some(&before.access)).send().await;
    error_shape(res.expect("send"), 403).await;
    error_shape(app.get("/api/v1/admin/signing-keys", Some(&before.access)).await, 403).await;
    error_shape(app.get("/api/v1/admin/signing-keys", None).await, 401).await;

    let res = app.request(Method::POST, "/api/v1/admin/signing-keys/rotate", Some(&admin.access)).send().await;
    let res = res.expect("send");
    assert_eq!(res.status(), 201);
    let jwk: Value = res.json().await.expect("json");
    let new_kid = jwk["kid"].as_str().expect("kid").to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str(), jwk["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    assert!(jwk.get("d").is_none(), "never the private part");

    let keys = jwks(&app).await;
    assert_eq!(kids(&keys), vec![new_kid.clone(), old_kid.clone()], "both verify, newest first");
    assert_eq!(app.get("/api/v1/users/me", Some(&before.access)).await.status(), 200, "old tokens stay valid");
    let after = app.login("rotated", "Password123").await;
    assert_eq!(kid_of(&after.access), new_kid, "new tokens are signed with the new key at once");
    assert!(verifies_with(&keys, &after.access) && verifies_with(&keys, &before.access));
    assert_eq!(app.get("/api/v1/users/me", Some(&after.access)).await.status(), 200);

    let list = keys_list(&app, &admin.access).await;
    let summary: Vec<(String, bool, bool)> = list
        .iter()
        .map(|k| (k["kid"].as_str().expect("kid").to_owned(), k["active"] == true, k["retired_at"].is_null()))
        .collect();
    assert_eq!(summary, vec![(new_kid, true, true), (old_kid, false, true)]);
    assert!(list.iter().all(|k| k["alg"] == "EdDSA" && k["created_at"].is_string()));
    let text = serde_json::to_string(&list).expect("json");
    assert!(!text.contains("sealed") && !text.contains("private"), "no private material: {text}");
}

/// Moves a key's rotation back in time, as if a token lifetime had gone by since.
async fn backdate_rotation(database_url: &str, kid: &str) {
    use sea_orm::{ConnectionTrait, Statement, Value as DbValue};
    let db = sea_orm::Database::connect(database_url).await.expect("connect");
    let long_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE signing_keys SET rotated_at = $1 WHERE kid = $2",
        [DbValue::from(long_ago), DbValue::from(kid.to_owned())],
    );
    let done = db.execute_raw(statement).await.expect("update");
    assert_eq!(done.rows_affected(), 1);
    db.close().await.ok();
}

#[actix_web::test]
async fn a_key_is_retired_once_its_last_token_has_expired_and_its_tokens_are_then_refused() {
    let app = TestApp::spawn_with(&[("KEY_CACHE_SECONDS", "1")]).await;
    let admin = app.admin().await;
    let (_, old) = app.user("retiree").await;
    let old_kid = kid_of(&old.access);
    let res = app.request(Method::POST, "/api/v1/admin/signing-keys/rotate", Some(&admin.access)).send().await;
    assert_eq!(res.expect("send").status(), 201);
    // The admin's own token was signed by the old key too: a new one, from the new key.
    let admin = app.admin().await;
    // Within its lifetime the old key is not retired, however often the job runs.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(kids(&jwks(&app).await).contains(&old_kid));
    assert_eq!(app.get("/api/v1/users/me", Some(&old.access)).await.status(), 200);

    backdate_rotation(&app.database_url, &old_kid).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let retired = loop {
        let list = keys_list(&app, &admin.access).await;
        let entry = list.into_iter().find(|k| k["kid"] == old_kid.as_str()).expect("listed");
        if !entry["retired_at"].is_null() {
            break entry;
        }
        assert!(Instant::now() < deadline, "the retirement job did not retire the key");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(retired["active"], false);
    let keys = jwks(&app).await;
    assert!(!kids(&keys).contains(&old_kid), "a retired key leaves the JWKS");
    assert_eq!(kids(&keys).len(), 1);
    // The cache drops it within KEY_CACHE_SECONDS.
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.get("/api/v1/users/me", Some(&old.access)).await.status() != 401 {
        assert!(Instant::now() < deadline, "a token of a retired key still gets in");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    refused(&app, &old.access, "a retired key").await;
    let fresh = app.admin().await;
    assert_eq!(app.get("/api/v1/users/me", Some(&fresh.access)).await.status(), 200);
}

#[actix_web::test]
async fn a_flood_of_random_kids_costs_a_bounded_number_of_store_reads() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("flooded").await;
    let foreign = foreign_key();
    let reads_before = app.key_cache.store_reads();
    let started = Instant::now();
    // Worst case: every token claims to be fresh, so none can be refused on its age alone.
    let statuses: Vec<u16> = futures_util::stream::iter(0..10_000)
        .map(|_| {
            let token = forge(&foreign, &uuid::Uuid::new_v4().to_string(), &claims_like(&tokens.access));
            let req = app.request(Method::GET, "/api/v1/users/me", Some(&token));
            async move { req.send().await.expect("send").status().as_u16() }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let elapsed = started.elapsed();
    assert!(statuses.iter().all(|s| *s == 401), "every random kid is refused");
    let reads = app.key_cache.store_reads() - reads_before;
    // At most one read per half second of flood (MISS_RELOAD_INTERVAL), plus the one in flight.
    let bound = 2 * elapsed.as_secs() + 3;
    assert!(reads <= bound, "{reads} store reads for 10,000 random kids in {elapsed:?} (bound {bound})");

    // Tokens that claim an age older than the last read are refused without any read at all.
    let reads_before = app.key_cache.store_reads();
    let mut old = claims_like(&tokens.access);
    old["iat"] = json!(chrono::Utc::now().timestamp() - 300);
    old["nbf"] = old["iat"].clone();
    for _ in 0..200 {
        let token = forge(&foreign, &uuid::Uuid::new_v4().to_string(), &old);
        assert_eq!(app.get("/api/v1/users/me", Some(&token)).await.status(), 401);
    }
    assert!(app.key_cache.store_reads() - reads_before <= 1, "old random kids cost no reads");
    assert_eq!(app.get("/api/v1/users/me", Some(&tokens.access)).await.status(), 200, "real tokens still work");
}

#[actix_web::test]
async fn hs256_deployments_publish_no_keys() {
    let app = TestApp::spawn_with(&[("JWT_ALGORITHM", "HS256")]).await;
    let (_, tokens) = app.user("symmetric").await;
    assert_eq!(part(&tokens.access, 0)["alg"], "HS256");
    assert!(part(&tokens.access, 0).get("kid").is_none());
    assert_eq!(jwks(&app).await, json!({"keys": []}));
    let discovery: Value = app.get("/.well-known/openid-configuration", None).await.json().await.expect("json");
    assert_eq!(discovery["id_token_signing_alg_values_supported"], json!(["HS256"]));
    // An EdDSA token is the wrong algorithm here.
    refused(&app, &forge(&foreign_key(), "k", &claims_like(&tokens.access)), "EdDSA under HS256").await;
}

fn keys_cli(url: &str, secret: &str, action: &str) -> std::process::Output {
    hexgate(url).env("SECRET_KEY", secret).args(["keys", action]).output().expect("run")
}

#[actix_web::test]
async fn the_cli_rotates_and_lists_and_a_wrong_secret_key_stops_start_up() {
    let (_db, url) = TestDb::create().await;
    let list = keys_cli(&url, SECRET, "list");
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let first: Vec<Value> = serde_json::from_slice(&list.stdout).expect("json list");
    assert_eq!(first.len(), 1, "the first start made the first key");
    assert_eq!(first[0]["active"], true);

    let rotate = keys_cli(&url, SECRET, "rotate");
    assert!(rotate.status.success(), "{}", String::from_utf8_lossy(&rotate.stderr));
    let jwk: Value = serde_json::from_slice(&rotate.stdout).expect("json jwk");
    assert_eq!((jwk["kty"].as_str(), jwk["alg"].as_str()), (Some("OKP"), Some("EdDSA")));
    let listed: Vec<Value> = serde_json::from_slice(&keys_cli(&url, SECRET, "list").stdout).expect("json");
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (&listed[0]["kid"], &listed[0]["active"], &listed[1]["active"]),
        (&jwk["kid"], &json!(true), &json!(false))
    );

    let wrong = keys_cli(&url, "another-secret-key-that-is-long-enough-0000", "list");
    assert!(!wrong.status.success(), "a SECRET_KEY that opens no key stops start-up");
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("do not decrypt with this SECRET_KEY"), "{stderr}");
    assert!(!stderr.contains(SECRET));
    let after: Vec<Value> = serde_json::from_slice(&keys_cli(&url, SECRET, "list").stdout).expect("json");
    assert_eq!(after.len(), 2, "no key was made behind the operator's back");
}

async fn login_at(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let res = client
        .post(format!("{base}/api/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={username}&password={password}"))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.expect("json")["access_token"].as_str().expect("token").to_owned()
}

async fn me_at(client: &reqwest::Client, base: &str, token: &str) -> u16 {
    client.get(format!("{base}/api/v1/users/me")).bearer_auth(token).send().await.expect("send").status().as_u16()
}

#[actix_web::test]
async fn two_instances_share_keys_and_follow_a_rotation_made_on_either() {
    let (_db, url) = TestDb::create_postgres().await;
    let cache = [("KEY_CACHE_SECONDS", "2"), ("LOGIN_RATE_LIMIT_PER_MINUTE", "1000")];
    let admin_vars = [
        ("KEY_CACHE_SECONDS", "2"),
        ("LOGIN_RATE_LIMIT_PER_MINUTE", "1000"),
        ("FIRST_SUPERUSER_EMAIL", ADMIN_EMAIL),
        ("FIRST_SUPERUSER_PASSWORD", ADMIN_PASSWORD),
    ];
    // Both start at once on an empty database: one first key, not two.
    let ((mut a, port_a, _), (mut b, port_b, _)) = std::thread::scope(|s| {
        let a = s.spawn(|| start_binary(&url, &admin_vars));
        let b = s.spawn(|| start_binary(&url, &cache));
        (a.join().expect("a"), b.join().expect("b"))
    });
    let (a_url, b_url) = (format!("http://127.0.0.1:{port_a}"), format!("http://127.0.0.1:{port_b}"));
    let client = reqwest::Client::new();
    let admin = login_at(&client, &a_url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let list: Vec<Value> = client
        .get(format!("{a_url}/api/v1/admin/signing-keys"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(list.len(), 1, "two instances starting at once made one key: {list:?}");
    let first_kid = kid_of(&admin);
    assert_eq!(me_at(&client, &b_url, &admin).await, 200, "B verifies A's tokens");
    let from_b = login_at(&client, &b_url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(kid_of(&from_b), first_kid, "both sign with the one key");

    let res = client.post(format!("{a_url}/api/v1/admin/signing-keys/rotate")).bearer_auth(&admin).send().await;
    let res = res.expect("send");
    assert_eq!(res.status(), 201);
    let rotated_at = Instant::now();
    let new_kid = res.json::<Value>().await.expect("json")["kid"].as_str().expect("kid").to_owned();
    let from_a = login_at(&client, &a_url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(kid_of(&from_a), new_kid, "A signs with its new key at once");
    assert_eq!(me_at(&client, &b_url, &from_a).await, 200, "B verifies a key it has not cached yet, at once");
    assert_eq!(me_at(&client, &b_url, &from_b).await, 200, "and the old key's tokens");
    let b_jwks: Value =
        client.get(format!("{b_url}/.well-known/jwks.json")).send().await.expect("send").json().await.expect("json");
    assert!(verifies_with(&b_jwks, &from_a), "B publishes A's new key");

    // B signs with the new key within KEY_CACHE_SECONDS of the rotation.
    let signed_new = loop {
        let token = login_at(&client, &b_url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        if kid_of(&token) == new_kid {
            break rotated_at.elapsed();
        }
        assert!(rotated_at.elapsed() < Duration::from_secs(6), "B still signs with the old key");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(signed_new <= Duration::from_millis(2000 + 1500), "B took {signed_new:?} (KEY_CACHE_SECONDS=2)");

    for child in [&mut a, &mut b] {
        let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
    }
}
