//! Passkeys (WebAuthn): every row and bullet of the contract's section, with a software
//! authenticator written here — a P-256 key, `none` attestation, CBOR and authenticator data
//! built by hand — so nothing of the server's WebAuthn library checks its own output.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, TestDb, Tokens, error_code, start_binary};

const PASSKEYS: &str = "/api/v1/auth/passkeys";
/// The relying party the test apps run with (the defaults).
const RP_ID: &str = "localhost";
const ORIGIN: &str = "http://localhost:8000";

// ---- a software authenticator ---------------------------------------------------------------

/// A CBOR item's head: major type and length (RFC 8949 §3).
fn cbor_head(major: u8, len: usize) -> Vec<u8> {
    let m = major << 5;
    match len {
        0..=23 => vec![m | u8::try_from(len).expect("small")],
        24..=255 => vec![m | 24, u8::try_from(len).expect("byte")],
        _ => {
            let [hi, lo] = u16::try_from(len).expect("short").to_be_bytes();
            vec![m | 25, hi, lo]
        }
    }
}

fn cbor_bytes(b: &[u8]) -> Vec<u8> {
    [cbor_head(2, b.len()), b.to_vec()].concat()
}

fn cbor_text(t: &str) -> Vec<u8> {
    [cbor_head(3, t.len()), t.as_bytes().to_vec()].concat()
}

/// One discoverable ES256 credential, as a platform authenticator would hold it.
struct Authenticator {
    key: SigningKey,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
}

/// How a ceremony's answer is made: normally, or broken on purpose.
#[derive(Clone)]
struct Answer {
    origin: String,
    rp_id: String,
    challenge: Option<String>,
    counter: Option<u32>,
    corrupt_signature: bool,
    user_handle: Option<Vec<u8>>,
}

impl Default for Answer {
    fn default() -> Self {
        Self {
            origin: ORIGIN.into(),
            rp_id: RP_ID.into(),
            challenge: None,
            counter: None,
            corrupt_signature: false,
            user_handle: None,
        }
    }
}

impl Authenticator {
    fn new() -> Self {
        loop {
            let seed = [uuid::Uuid::new_v4().into_bytes(), uuid::Uuid::new_v4().into_bytes()].concat();
            if let Ok(key) = SigningKey::from_slice(&seed) {
                let credential_id = uuid::Uuid::new_v4().into_bytes().to_vec();
                return Self { key, credential_id, user_handle: Vec::new(), counter: 0 };
            }
        }
    }

    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01];
        out.push(0x21);
        out.extend(cbor_bytes(point.x().expect("x")));
        out.push(0x22);
        out.extend(cbor_bytes(point.y().expect("y")));
        out
    }

    fn client_data(kind: &str, challenge: &str, answer: &Answer) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": answer.origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    /// `navigator.credentials.create`: attestation `none`, user present and verified.
    fn register(&mut self, options: &Value, answer: &Answer) -> Value {
        self.user_handle = B64.decode(options["user"]["id"].as_str().expect("user.id")).expect("b64");
        let challenge = answer.challenge.clone().unwrap_or_else(|| options["challenge"].as_str().expect("c").into());
        let client_data = Self::client_data("webauthn.create", &challenge, answer);
        let mut auth_data = Sha256::digest(answer.rp_id.as_bytes()).to_vec();
        auth_data.push(0x45); // UP | UV | AT
        auth_data.extend(answer.counter.unwrap_or(self.counter).to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend(u16::try_from(self.credential_id.len()).expect("len").to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_key());
        let mut attestation = vec![0xa3];
        attestation.extend(cbor_text("fmt"));
        attestation.extend(cbor_text("none"));
        attestation.extend(cbor_text("attStmt"));
        attestation.push(0xa0);
        attestation.extend(cbor_text("authData"));
        attestation.extend(cbor_bytes(&auth_data));
        let id = B64.encode(&self.credential_id);
        json!({"id": id, "rawId": id, "type": "public-key",
               "response": {"clientDataJSON": B64.encode(&client_data), "attestationObject": B64.encode(&attestation)},
               "clientExtensionResults": {}})
    }

    /// `navigator.credentials.get`: the counter moves on by one unless told otherwise.
    fn assert(&mut self, options: &Value, answer: &Answer) -> Value {
        let challenge = answer.challenge.clone().unwrap_or_else(|| options["challenge"].as_str().expect("c").into());
        let client_data = Self::client_data("webauthn.get", &challenge, answer);
        let counter = answer.counter.unwrap_or(self.counter + 1);
        self.counter = counter;
        let mut auth_data = Sha256::digest(answer.rp_id.as_bytes()).to_vec();
        auth_data.push(0x05); // UP | UV
        auth_data.extend(counter.to_be_bytes());
        let signed = [auth_data.clone(), Sha256::digest(&client_data).to_vec()].concat();
        let signature: Signature = self.key.sign(&signed);
        let mut der = signature.to_der().as_bytes().to_vec();
        if answer.corrupt_signature {
            let last = der.len() - 1;
            der[last] ^= 0x01;
        }
        let id = B64.encode(&self.credential_id);
        let handle = answer.user_handle.clone().unwrap_or_else(|| self.user_handle.clone());
        json!({"id": id, "rawId": id, "type": "public-key",
               "response": {"clientDataJSON": B64.encode(&client_data), "authenticatorData": B64.encode(&auth_data),
                            "signature": B64.encode(&der), "userHandle": B64.encode(&handle)},
               "clientExtensionResults": {}})
    }
}

// ---- helpers -----------------------------------------------------------------------------------

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

async fn register_start(app: &TestApp, tokens: &Tokens) -> Value {
    json_of(app.post_json(&format!("{PASSKEYS}/register/start"), Some(&tokens.access), &json!({})).await, 200).await
}

async fn register_finish(app: &TestApp, tokens: &Tokens, started: &Value, credential: &Value) -> reqwest::Response {
    let body = json!({"challenge_id": started["challenge_id"], "name": "laptop", "credential": credential});
    app.post_json(&format!("{PASSKEYS}/register/finish"), Some(&tokens.access), &body).await
}

/// Registers a fresh authenticator for the user.
async fn with_passkey(app: &TestApp, tokens: &Tokens) -> (Authenticator, Value) {
    let mut authenticator = Authenticator::new();
    let started = register_start(app, tokens).await;
    let credential = authenticator.register(&started["options"], &Answer::default());
    let created = json_of(register_finish(app, tokens, &started, &credential).await, 201).await;
    (authenticator, created)
}

async fn login_start(app: &TestApp) -> Value {
    json_of(app.post_json(&format!("{PASSKEYS}/login/start"), None, &json!({})).await, 200).await
}

async fn login_finish(app: &TestApp, started: &Value, credential: &Value) -> reqwest::Response {
    let body = json!({"challenge_id": started["challenge_id"], "credential": credential});
    app.post_json(&format!("{PASSKEYS}/login/finish"), None, &body).await
}

async fn passkey_login(app: &TestApp, authenticator: &mut Authenticator, answer: &Answer) -> reqwest::Response {
    let started = login_start(app).await;
    let credential = authenticator.assert(&started["options"], answer);
    login_finish(app, &started, &credential).await
}

async fn execute(app: &TestApp, sql: &str) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("execute");
    db.close().await.ok();
}

async fn my_event_types(app: &TestApp, access: &str) -> Vec<String> {
    let page = json_of(app.get("/api/v1/users/me/audit-events?limit=100", Some(access)).await, 200).await;
    page["items"].as_array().expect("items").iter().map(|e| e["type"].as_str().expect("type").to_owned()).collect()
}

// ---- registration -----------------------------------------------------------------------------

#[actix_web::test]
async fn registration_options_ask_for_a_discoverable_verified_credential_and_exclude_the_users_own() {
    let app = TestApp::spawn().await;
    let (user, tokens) = app.user("ada").await;
    let started = register_start(&app, &tokens).await;
    assert!(started["challenge_id"].as_str().is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
    let options = &started["options"];
    assert_eq!(options["rp"]["id"], RP_ID);
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
    let algs: Vec<i64> =
        options["pubKeyCredParams"].as_array().expect("params").iter().filter_map(|p| p["alg"].as_i64()).collect();
    assert!(algs.contains(&-7) && algs.contains(&-8), "ES256 and EdDSA: {algs:?}");
    let handle = B64.decode(options["user"]["id"].as_str().expect("user id")).expect("base64url");
    assert_eq!(uuid::Uuid::from_slice(&handle).expect("uuid").to_string(), user["id"].as_str().expect("id"));
    assert!(B64.decode(options["challenge"].as_str().expect("challenge")).expect("base64url").len() >= 16);

    let (authenticator, created) = with_passkey(&app, &tokens).await;
    assert_eq!(created["name"], "laptop");
    assert!(created["last_used_at"].is_null());
    let again = register_start(&app, &tokens).await;
    let excluded: Vec<&str> = again["options"]["excludeCredentials"]
        .as_array()
        .expect("excludeCredentials")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(excluded, vec![B64.encode(&authenticator.credential_id)]);

    let listed = json_of(app.get(PASSKEYS, Some(&tokens.access)).await, 200).await;
    assert_eq!(listed.as_array().expect("list").len(), 1);
    assert_eq!(listed[0]["id"], created["id"]);
    let status = json_of(app.get("/api/v1/auth/mfa", Some(&tokens.access)).await, 200).await;
    assert_eq!(status["passkeys"], 1);
    assert!(my_event_types(&app, &tokens.access).await.contains(&"passkey_added".to_owned()));
}

#[actix_web::test]
async fn registration_refuses_wrong_origin_wrong_rp_other_challenge_and_a_reused_or_expired_challenge() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("bob").await;
    for answer in [
        Answer { origin: "https://evil.example".into(), ..Answer::default() },
        Answer { rp_id: "evil.example".into(), ..Answer::default() },
        Answer { challenge: Some(B64.encode(b"a challenge the server never made")), ..Answer::default() },
    ] {
        let started = register_start(&app, &tokens).await;
        let credential = Authenticator::new().register(&started["options"], &answer);
        error_code(register_finish(&app, &tokens, &started, &credential).await, 400, "invalid_token").await;
    }
    // A challenge is single use: the right answer after it was spent is refused.
    let started = register_start(&app, &tokens).await;
    let mut authenticator = Authenticator::new();
    let credential = authenticator.register(&started["options"], &Answer::default());
    json_of(register_finish(&app, &tokens, &started, &credential).await, 201).await;
    let other = Authenticator::new().register(&started["options"], &Answer::default());
    error_code(register_finish(&app, &tokens, &started, &other).await, 400, "invalid_token").await;
    // An expired one too.
    let started = register_start(&app, &tokens).await;
    execute(&app, "UPDATE webauthn_challenges SET expires_at = '2000-01-01T00:00:00Z'").await;
    let credential = Authenticator::new().register(&started["options"], &Answer::default());
    error_code(register_finish(&app, &tokens, &started, &credential).await, 400, "invalid_token").await;
    // Someone else's challenge.
    let (_, eve) = app.user("eve").await;
    let started = register_start(&app, &eve).await;
    let credential = Authenticator::new().register(&started["options"], &Answer::default());
    error_code(register_finish(&app, &tokens, &started, &credential).await, 400, "invalid_token").await;

    let listed = json_of(app.get(PASSKEYS, Some(&tokens.access)).await, 200).await;
    assert_eq!(listed.as_array().expect("list").len(), 1, "only the good one");
    // The same credential cannot be registered to a second account.
    let started = register_start(&app, &eve).await;
    let mut same = Authenticator {
        key: authenticator.key.clone(),
        credential_id: authenticator.credential_id.clone(),
        user_handle: Vec::new(),
        counter: 0,
    };
    let credential = same.register(&started["options"], &Answer::default());
    error_code(register_finish(&app, &eve, &started, &credential).await, 409, "conflict").await;
}

#[actix_web::test]
async fn passkeys_are_listed_and_removed_by_their_owner_only() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("carl").await;
    let (_, other) = app.user("dora").await;
    let (mut authenticator, created) = with_passkey(&app, &tokens).await;
    let path = format!("{PASSKEYS}/{}", created["id"].as_str().expect("id"));
    error_code(app.delete(&path, Some(&other.access)).await, 404, "not_found").await;
    assert_eq!(json_of(app.get(PASSKEYS, Some(&other.access)).await, 200).await, json!([]));
    assert_eq!(app.delete(&path, Some(&tokens.access)).await.status(), 204);
    error_code(app.delete(&path, Some(&tokens.access)).await, 404, "not_found").await;
    assert!(my_event_types(&app, &tokens.access).await.contains(&"passkey_removed".to_owned()));
    // A removed passkey no longer logs in.
    let res = passkey_login(&app, &mut authenticator, &Answer::default()).await;
    error_code(res, 401, "invalid_credentials").await;
}

// ---- login ------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_passkey_logs_in_without_a_password_and_satisfies_the_second_factor() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("erin").await;
    let (mut authenticator, _) = with_passkey(&app, &tokens).await;
    let login = login_start(&app).await;
    assert_eq!(login["options"]["allowCredentials"], json!([]));
    assert_eq!(login["options"]["userVerification"], "required");
    let credential = authenticator.assert(&login["options"], &Answer::default());
    let pair = json_of(login_finish(&app, &login, &credential).await, 200).await;
    let access = pair["access_token"].as_str().expect("access");
    let me = json_of(app.get("/api/v1/users/me", Some(access)).await, 200).await;
    assert_eq!(me["username"], "erin");
    let listed = json_of(app.get(PASSKEYS, Some(access)).await, 200).await;
    assert!(listed[0]["last_used_at"].is_string());
    let events = json_of(app.get("/api/v1/users/me/audit-events?type=login_succeeded", Some(access)).await, 200).await;
    assert!(events["items"].as_array().expect("items").iter().any(|e| e["details"]["method"] == "passkey"));
}

#[actix_web::test]
async fn a_passkey_login_needs_no_code_even_with_totp_on_and_resets_the_failure_count() {
    let app = TestApp::spawn().await; // LOGIN_MAX_FAILURES = 5
    let (_, tokens) = app.user("fred").await;
    let (mut authenticator, _) = with_passkey(&app, &tokens).await;
    let started = json_of(app.post_json("/api/v1/auth/mfa/totp", Some(&tokens.access), &json!({})).await, 201).await;
    let secret = started["secret"].as_str().expect("secret");
    let code = totp_now(secret);
    json_of(app.post_json("/api/v1/auth/mfa/totp/confirm", Some(&tokens.access), &json!({"code": code})).await, 200)
        .await;
    error_code(app.login_response("fred", "Password123").await, 403, "mfa_required").await;
    for _ in 0..3 {
        error_code(app.login_response("fred", "Wrong12345").await, 401, "invalid_credentials").await;
    }
    json_of(passkey_login(&app, &mut authenticator, &Answer::default()).await, 200).await;
    // Counting started again: five more attempts fit (without the reset this would be the 10th).
    for _ in 0..4 {
        error_code(app.login_response("fred", "Wrong12345").await, 401, "invalid_credentials").await;
    }
    error_code(app.login_response("fred", "Password123").await, 403, "mfa_required").await;
}

#[actix_web::test]
async fn login_refuses_bad_signature_wrong_origin_wrong_rp_and_spent_or_expired_challenges() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("gwen").await;
    let (mut authenticator, _) = with_passkey(&app, &tokens).await;
    for answer in [
        Answer { corrupt_signature: true, ..Answer::default() },
        Answer { origin: "https://evil.example".into(), ..Answer::default() },
        Answer { rp_id: "evil.example".into(), ..Answer::default() },
        Answer { challenge: Some(B64.encode(b"a challenge the server never made")), ..Answer::default() },
    ] {
        let res = passkey_login(&app, &mut authenticator, &answer).await;
        error_code(res, 401, "invalid_credentials").await;
    }
    // Spent: a challenge finishes once, even with a valid answer.
    let started = login_start(&app).await;
    let credential = authenticator.assert(&started["options"], &Answer::default());
    json_of(login_finish(&app, &started, &credential).await, 200).await;
    let replay = authenticator.assert(&started["options"], &Answer::default());
    error_code(login_finish(&app, &started, &replay).await, 401, "invalid_credentials").await;
    // Expired.
    let started = login_start(&app).await;
    execute(&app, "UPDATE webauthn_challenges SET expires_at = '2000-01-01T00:00:00Z'").await;
    let credential = authenticator.assert(&started["options"], &Answer::default());
    error_code(login_finish(&app, &started, &credential).await, 401, "invalid_credentials").await;
    // A registration challenge does not finish a login.
    let started = register_start(&app, &tokens).await;
    let credential = authenticator.assert(&started["options"], &Answer::default());
    error_code(login_finish(&app, &started, &credential).await, 401, "invalid_credentials").await;
    // After all that, a good login still works.
    json_of(passkey_login(&app, &mut authenticator, &Answer::default()).await, 200).await;
}

#[actix_web::test]
async fn a_sign_count_that_does_not_move_forward_is_refused() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("hugo").await;
    let (mut authenticator, _) = with_passkey(&app, &tokens).await;
    json_of(passkey_login(&app, &mut authenticator, &Answer { counter: Some(5), ..Answer::default() }).await, 200)
        .await;
    for counter in [3, 5] {
        let res =
            passkey_login(&app, &mut authenticator, &Answer { counter: Some(counter), ..Answer::default() }).await;
        error_code(res, 401, "invalid_credentials").await;
    }
    json_of(passkey_login(&app, &mut authenticator, &Answer { counter: Some(6), ..Answer::default() }).await, 200)
        .await;
}

#[actix_web::test]
async fn an_unknown_credential_or_another_users_handle_is_refused() {
    let app = TestApp::spawn().await;
    let (_, ivy) = app.user("ivy").await;
    let (jon, jon_tokens) = app.user("jon").await;
    let (mut authenticator, _) = with_passkey(&app, &ivy).await;
    with_passkey(&app, &jon_tokens).await;
    // Ivy's credential claiming to be Jon's account.
    let jon_handle = uuid::Uuid::parse_str(jon["id"].as_str().expect("id")).expect("uuid").as_bytes().to_vec();
    let res =
        passkey_login(&app, &mut authenticator, &Answer { user_handle: Some(jon_handle), ..Answer::default() }).await;
    error_code(res, 401, "invalid_credentials").await;
    // A credential nobody registered.
    let mut stranger = Authenticator::new();
    stranger.user_handle = authenticator.user_handle.clone();
    error_code(passkey_login(&app, &mut stranger, &Answer::default()).await, 401, "invalid_credentials").await;
}

#[actix_web::test]
async fn passkey_management_needs_a_session_but_login_is_open() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("kim").await;
    let created = json_of(
        app.post_json(
            "/api/v1/auth/api-keys",
            Some(&tokens.access),
            &json!({"name": "k", "scopes": ["profile:write"]}),
        )
        .await,
        201,
    )
    .await;
    let key = created["key"].as_str().expect("key");
    error_code(app.get(PASSKEYS, Some(key)).await, 403, "insufficient_scope").await;
    let res = app.post_json(&format!("{PASSKEYS}/register/start"), Some(key), &json!({})).await;
    error_code(res, 403, "insufficient_scope").await;
    error_code(app.get(PASSKEYS, None).await, 401, "not_authenticated").await;
    // Login start takes `{}` or nothing at all.
    let res = app.request(reqwest::Method::POST, &format!("{PASSKEYS}/login/start"), None).send().await.expect("send");
    assert_eq!(res.status(), 200);
}

/// A passkey login started on one instance finishes on another (PostgreSQL and Redis shared).
#[actix_web::test]
async fn a_passkey_login_started_on_one_instance_finishes_on_another() {
    let (_db, url) = TestDb::create_postgres().await;
    let redis = std::env::var("HEXGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("hexgate-test:{}:", uuid::Uuid::new_v4().simple());
    let extra = [("REDIS_URL", redis.as_str()), ("REDIS_KEY_PREFIX", prefix.as_str())];
    let ((mut a, port_a, _), (mut b, port_b, _)) = std::thread::scope(|s| {
        let a = s.spawn(|| start_binary(&url, &extra));
        let b = s.spawn(|| start_binary(&url, &extra));
        (a.join().expect("a"), b.join().expect("b"))
    });
    let (a_url, b_url) = (format!("http://127.0.0.1:{port_a}"), format!("http://127.0.0.1:{port_b}"));
    let client = reqwest::Client::new();
    let post = |url: String, token: Option<String>, body: Value| {
        let client = client.clone();
        async move {
            let mut req = client.post(url).json(&body);
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            let res = req.send().await.expect("send");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let signup = json!({"email": "roam@example.com", "username": "roam", "password": "Password123"});
    assert_eq!(post(format!("{a_url}/api/v1/users"), None, signup).await.0, 201);
    let res = client
        .post(format!("{b_url}/api/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=roam&password=Password123")
        .send()
        .await
        .expect("login");
    let pair: Value = res.json().await.expect("json");
    let access = pair["access_token"].as_str().expect("access").to_owned();
    // Registration started on A, finished on B.
    let (status, started) = post(format!("{a_url}{PASSKEYS}/register/start"), Some(access.clone()), json!({})).await;
    assert_eq!(status, 200);
    let mut authenticator = Authenticator::new();
    let credential = authenticator.register(&started["options"], &Answer::default());
    let body = json!({"challenge_id": started["challenge_id"], "name": "roaming", "credential": credential});
    assert_eq!(post(format!("{b_url}{PASSKEYS}/register/finish"), Some(access), body).await.0, 201);
    // Login started on A, finished on B; and the other way round.
    for (start, finish) in [(&a_url, &b_url), (&b_url, &a_url)] {
        let (status, started) = post(format!("{start}{PASSKEYS}/login/start"), None, json!({})).await;
        assert_eq!(status, 200);
        let credential = authenticator.assert(&started["options"], &Answer::default());
        let body = json!({"challenge_id": started["challenge_id"], "credential": credential});
        let (status, pair) = post(format!("{finish}{PASSKEYS}/login/finish"), None, body.clone()).await;
        assert_eq!(status, 200, "{pair}");
        assert!(pair["access_token"].is_string());
        // And it was spent for both.
        assert_eq!(post(format!("{start}{PASSKEYS}/login/finish"), None, body).await.0, 401);
    }
    for child in [&mut a, &mut b] {
        let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
    }
}

/// The current TOTP code of a base32 secret (RFC 6238, written out here as in mfa.rs).
fn totp_now(secret: &str) -> String {
    use hmac::{KeyInit, Mac};
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut key) = (0u32, 0u64, Vec::new());
    for c in secret.trim_end_matches('=').bytes() {
        value = (value << 5) | ALPHABET.iter().position(|&a| a == c).expect("base32") as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            key.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    let step = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() / 30;
    let mut mac = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&key).expect("key");
    mac.update(&step.to_be_bytes());
    let d = mac.finalize().into_bytes();
    let o = usize::from(d[19] & 0x0f);
    format!("{:06}", u32::from_be_bytes([d[o] & 0x7f, d[o + 1], d[o + 2], d[o + 3]]) % 1_000_000)
}

#[actix_web::test]
async fn an_admin_resets_the_second_factors_of_a_user_who_lost_them_all() {
    let app = TestApp::spawn().await;
    let (user, tokens) = app.user("lost").await;
    let (mut authenticator, _) = with_passkey(&app, &tokens).await;
    let started = json_of(app.post_json("/api/v1/auth/mfa/totp", Some(&tokens.access), &json!({})).await, 201).await;
    let code = totp_now(started["secret"].as_str().expect("secret"));
    json_of(app.post_json("/api/v1/auth/mfa/totp/confirm", Some(&tokens.access), &json!({"code": code})).await, 200)
        .await;
    let id = user["id"].as_str().expect("id");
    let path = format!("/api/v1/users/{id}/second-factors");

    let (_, nosy) = app.user("nosy").await;
    error_code(app.delete(&path, Some(&nosy.access)).await, 403, "insufficient_permissions").await;
    error_code(app.delete(&path, Some(&tokens.access)).await, 403, "insufficient_permissions").await;
    let admin = app.admin().await;
    let unknown = format!("/api/v1/users/{}/second-factors", uuid::Uuid::new_v4());
    error_code(app.delete(&unknown, Some(&admin.access)).await, 404, "not_found").await;
    assert_eq!(app.delete(&path, Some(&admin.access)).await.status(), 204);

    let status = json_of(app.get("/api/v1/auth/mfa", Some(&tokens.access)).await, 200).await;
    assert_eq!(status, json!({"totp": false, "recovery_codes_left": 0, "passkeys": 0}));
    assert_eq!(app.login_response("lost", "Password123").await.status(), 200, "the password alone again");
    error_code(passkey_login(&app, &mut authenticator, &Answer::default()).await, 401, "invalid_credentials").await;
    let events = json_of(
        app.get(&format!("/api/v1/audit-events?subject_id={id}&type=mfa_disabled"), Some(&admin.access)).await,
        200,
    )
    .await;
    let event = &events["items"][0];
    assert_eq!(event["details"]["reason"], "admin_reset");
    assert_eq!(event["details"]["passkeys"], 1);
    assert_ne!(event["actor_id"], json!(id), "the admin is the actor");
}
