//! Second factor: TOTP and recovery codes — every row and bullet of the contract's section. The
//! codes are computed here by an RFC 6238 implementation of the test's own (HMAC-SHA1 from
//! RustCrypto), not by the crate the server uses.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_code};

const MFA: &str = "/api/v1/auth/mfa";
const PASSWORD: &str = "Password123";

// ---- an independent TOTP (RFC 4226 / RFC 6238) -----------------------------------------------

fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u64, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let index = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase()).expect("base32 character");
        value = (value << 5) | index as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}

/// The six-digit HOTP of `counter` (RFC 4226 §5.3: HMAC-SHA1, dynamic truncation).
fn hotp(secret: &[u8], counter: u64) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(secret).expect("any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary =
        u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    format!("{:06}", binary % 1_000_000)
}

pub(crate) fn current_step() -> u64 {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    secs / 30
}

/// A code no step near `step` has (so it is wrong whenever the server checks it).
fn wrong_code(secret: &str, step: u64) -> String {
    let near: Vec<String> = (step - 2..=step + 3).map(|s| code_at(secret, s)).collect();
    (0..).map(|n: u32| format!("{n:06}")).find(|c| !near.contains(c)).expect("a wrong code")
}

/// The code of `step` for an enrolment's base32 secret.
pub(crate) fn code_at(secret: &str, step: u64) -> String {
    hotp(&base32_decode(secret), step)
}

#[test]
fn the_tests_own_totp_matches_rfc_6238() {
    // Appendix B, SHA-1: T = 59 s is step 1, code 94287082 (its last six digits for 6 digits).
    assert_eq!(hotp(b"12345678901234567890", 59 / 30), "287082");
    assert_eq!(hotp(b"12345678901234567890", 1_111_111_109 / 30), "081804");
    assert_eq!(base32_decode("GEZDGNBVGY3TQOJQ"), b"1234567890");
}

// ---- helpers ----------------------------------------------------------------------------------

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

/// Starts and confirms TOTP for the user; the secret, the step used to confirm and the codes.
async fn enrol(app: &TestApp, tokens: &Tokens) -> (String, u64, Vec<String>) {
    let started = json_of(app.post_json(&format!("{MFA}/totp"), Some(&tokens.access), &json!({})).await, 201).await;
    let secret = started["secret"].as_str().expect("secret").to_owned();
    let step = current_step();
    let confirmed = json_of(
        app.post_json(&format!("{MFA}/totp/confirm"), Some(&tokens.access), &json!({"code": code_at(&secret, step)}))
            .await,
        200,
    )
    .await;
    let codes = confirmed["recovery_codes"].as_array().expect("codes").iter();
    (secret, step, codes.map(|c| c.as_str().expect("code").to_owned()).collect())
}

/// A user with TOTP on: their tokens, secret, last used step and recovery codes.
async fn enrolled(app: &TestApp, name: &str) -> (Tokens, String, u64, Vec<String>) {
    let (_, tokens) = app.user(name).await;
    let (secret, step, codes) = enrol(app, &tokens).await;
    (tokens, secret, step, codes)
}

/// The `mfa_token` of a password login that needs a second factor.
async fn mfa_token(app: &TestApp, name: &str) -> String {
    let body = error_code(app.login_response(name, PASSWORD).await, 403, "mfa_required").await;
    body["mfa_token"].as_str().expect("mfa_token").to_owned()
}

async fn verify(app: &TestApp, body: &Value) -> reqwest::Response {
    app.post_json(&format!("{MFA}/verify"), None, body).await
}

async fn my_event_types(app: &TestApp, access: &str) -> Vec<String> {
    let page = json_of(app.get("/api/v1/users/me/audit-events?limit=100", Some(access)).await, 200).await;
    page["items"].as_array().expect("items").iter().map(|e| e["type"].as_str().expect("type").to_owned()).collect()
}

async fn status(app: &TestApp, access: &str) -> Value {
    json_of(app.get(MFA, Some(access)).await, 200).await
}

async fn count_rows(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("query");
    let n = row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).expect("a count");
    db.close().await.ok();
    n
}

async fn all_text_of(app: &TestApp, sql: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("query");
    db.close().await.ok();
    rows.into_iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).collect()
}

async fn sealed_secrets(app: &TestApp) -> Vec<Vec<u8>> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
    let sql = "SELECT sealed_secret FROM user_totp";
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("query");
    db.close().await.ok();
    rows.into_iter().map(|r| r.try_get_by_index::<Vec<u8>>(0).expect("bytes")).collect()
}

async fn execute(app: &TestApp, sql: &str) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("execute");
    db.close().await.ok();
}

// ---- enrolment --------------------------------------------------------------------------------

#[actix_web::test]
async fn enrolment_gives_a_secret_and_an_otpauth_uri_and_confirming_turns_totp_on_with_ten_codes() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("ada").await;
    assert_eq!(status(&app, &tokens.access).await, json!({"totp": false, "recovery_codes_left": 0, "passkeys": 0}));

    let first = json_of(app.post_json(&format!("{MFA}/totp"), Some(&tokens.access), &json!({})).await, 201).await;
    let old_secret = first["secret"].as_str().expect("secret").to_owned();
    assert_eq!(base32_decode(&old_secret).len(), 20, "160 random bits");
    // Calling again replaces the pending secret: a code of the old one no longer confirms.
    let started = json_of(app.post_json(&format!("{MFA}/totp"), Some(&tokens.access), &json!({})).await, 201).await;
    let secret = started["secret"].as_str().expect("secret").to_owned();
    assert_ne!(secret, old_secret);
    assert_eq!(
        started["otpauth_uri"],
        format!(
            "otpauth://totp/hexgate:ada@example.com?secret={secret}&issuer=hexgate&digits=6&period=30&algorithm=SHA1"
        )
    );
    assert_eq!(status(&app, &tokens.access).await["totp"], false, "pending until confirmed");
    let step = current_step();
    let stale = app
        .post_json(&format!("{MFA}/totp/confirm"), Some(&tokens.access), &json!({"code": code_at(&old_secret, step)}))
        .await;
    error_code(stale, 401, "mfa_code_invalid").await;

    // The secret is stored sealed: neither its bytes nor its text are in the row.
    let sealed = sealed_secrets(&app).await;
    assert_eq!(sealed.len(), 1);
    let raw = base32_decode(&secret);
    assert!(!sealed[0].windows(raw.len()).any(|w| w == raw.as_slice()), "no raw secret");
    assert!(!sealed[0].windows(secret.len()).any(|w| w == secret.as_bytes()), "no base32 secret");

    let confirmed = json_of(
        app.post_json(&format!("{MFA}/totp/confirm"), Some(&tokens.access), &json!({"code": code_at(&secret, step)}))
            .await,
        200,
    )
    .await;
    let codes: Vec<&str> =
        confirmed["recovery_codes"].as_array().expect("codes").iter().filter_map(Value::as_str).collect();
    assert_eq!(codes.len(), 10);
    let mut distinct = codes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'), "{codes:?}");
    assert_eq!(status(&app, &tokens.access).await, json!({"totp": true, "recovery_codes_left": 10, "passkeys": 0}));
    // Stored hashed: no code appears in the table.
    let stored = all_text_of(&app, "SELECT code_hash FROM recovery_codes").await;
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|h| codes.iter().all(|c| !h.contains(&c.replace('-', "")))));

    // On already: starting again is a conflict, and confirming again too.
    error_code(app.post_json(&format!("{MFA}/totp"), Some(&tokens.access), &json!({})).await, 409, "conflict").await;
    assert!(my_event_types(&app, &tokens.access).await.contains(&"mfa_enabled".to_owned()));
}

#[actix_web::test]
async fn confirming_needs_a_pending_enrolment_and_a_right_code() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("bob").await;
    let confirm = format!("{MFA}/totp/confirm");
    error_code(app.post_json(&confirm, Some(&tokens.access), &json!({"code": "123456"})).await, 409, "conflict").await;
    let started = json_of(app.post_json(&format!("{MFA}/totp"), Some(&tokens.access), &json!({})).await, 201).await;
    let secret = started["secret"].as_str().expect("secret");
    let step = current_step();
    let wrong = format!("{:06}", (code_at(secret, step).parse::<u32>().expect("digits") + 1) % 1_000_000);
    let far = code_at(secret, step + 3);
    for code in [wrong, far] {
        if [step - 1, step, step + 1, step + 2].iter().any(|s| code_at(secret, *s) == code) {
            continue; // an accidental collision with an accepted step
        }
        error_code(
            app.post_json(&confirm, Some(&tokens.access), &json!({"code": code})).await,
            401,
            "mfa_code_invalid",
        )
        .await;
    }
    let bad = app.post_json(&confirm, Some(&tokens.access), &json!({"code": "12345a"})).await;
    error_code(bad, 422, "validation_failed").await;
    assert_eq!(status(&app, &tokens.access).await["totp"], false);
}

// ---- the login's second step --------------------------------------------------------------------

#[actix_web::test]
async fn with_totp_on_a_right_password_gets_an_mfa_token_and_a_code_gets_the_pair() {
    let app = TestApp::spawn().await;
    let (_, secret, step, _) = enrolled(&app, "carol").await;

    // A wrong password answers exactly as without a second factor.
    error_code(app.login_response("carol", "Wrong12345").await, 401, "invalid_credentials").await;
    let res = app.login_response("carol", PASSWORD).await;
    let body = error_code(res, 403, "mfa_required").await;
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none(), "no pair before the code");
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    let token = body["mfa_token"].as_str().expect("mfa_token").to_owned();
    assert!(token.len() >= 32);

    let res = verify(&app, &json!({"mfa_token": token, "code": code_at(&secret, step + 1)})).await;
    let pair = json_of(res, 200).await;
    assert_eq!(pair["token_type"], "bearer");
    let access = pair["access_token"].as_str().expect("access");
    let me = json_of(app.get("/api/v1/users/me", Some(access)).await, 200).await;
    assert_eq!(me["username"], "carol");
    let refreshed = app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": pair["refresh_token"]})).await;
    assert_eq!(refreshed.status(), 200, "a full session");

    // The token is single use.
    let again = verify(&app, &json!({"mfa_token": token, "code": code_at(&secret, step + 2)})).await;
    error_code(again, 401, "not_authenticated").await;
    // An unknown token is the same.
    let unknown = verify(&app, &json!({"mfa_token": "no-such-token", "code": "123456"})).await;
    error_code(unknown, 401, "not_authenticated").await;

    let events = json_of(app.get("/api/v1/users/me/audit-events?type=login_succeeded", Some(access)).await, 200).await;
    let methods: Vec<&str> =
        events["items"].as_array().expect("items").iter().filter_map(|e| e["details"]["method"].as_str()).collect();
    assert!(methods.contains(&"mfa"), "{methods:?}");
}

#[actix_web::test]
async fn a_code_is_never_accepted_twice() {
    let app = TestApp::spawn().await;
    let (_, secret, step, _) = enrolled(&app, "dave").await;
    // The code that confirmed the enrolment is spent.
    let token = mfa_token(&app, "dave").await;
    let replay = verify(&app, &json!({"mfa_token": token, "code": code_at(&secret, step)})).await;
    error_code(replay, 401, "mfa_code_invalid").await;
    // As is an earlier step's, once a later one was accepted.
    let fresh = code_at(&secret, step + 1);
    json_of(verify(&app, &json!({"mfa_token": token, "code": fresh})).await, 200).await;
    let token = mfa_token(&app, "dave").await;
    error_code(verify(&app, &json!({"mfa_token": token, "code": fresh})).await, 401, "mfa_code_invalid").await;
    error_code(
        verify(&app, &json!({"mfa_token": token, "code": code_at(&secret, step)})).await,
        401,
        "mfa_code_invalid",
    )
    .await;
}

#[actix_web::test]
async fn five_wrong_codes_kill_the_mfa_token() {
    // A higher account limit, so the token's own limit shows.
    let app = TestApp::spawn_with(&[("LOGIN_MAX_FAILURES", "20")]).await;
    let (_, secret, step, _) = enrolled(&app, "erin").await;
    let token = mfa_token(&app, "erin").await;
    let right = code_at(&secret, step + 1);
    let wrong = if right == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        error_code(verify(&app, &json!({"mfa_token": token, "code": wrong})).await, 401, "mfa_code_invalid").await;
    }
    error_code(verify(&app, &json!({"mfa_token": token, "code": right})).await, 401, "not_authenticated").await;
    // A new login gets a new token, and the right code works with it.
    let token = mfa_token(&app, "erin").await;
    json_of(verify(&app, &json!({"mfa_token": token, "code": right})).await, 200).await;
}

#[actix_web::test]
async fn wrong_codes_count_toward_the_accounts_failed_login_limit() {
    let app = TestApp::spawn().await; // LOGIN_MAX_FAILURES = 5
    let (_, secret, step, _) = enrolled(&app, "frank").await;
    // The password step counts as an attempt until the second step succeeds (1), then four
    // wrong codes (2..=5); the next attempt is past the limit, the right code included.
    let token = mfa_token(&app, "frank").await;
    let right = code_at(&secret, step + 1);
    let wrong = if right == "000000" { "000001" } else { "000000" };
    for _ in 0..4 {
        error_code(verify(&app, &json!({"mfa_token": token, "code": wrong})).await, 401, "mfa_code_invalid").await;
    }
    let locked = verify(&app, &json!({"mfa_token": token, "code": right})).await;
    assert!(locked.headers().get("retry-after").is_some());
    error_code(locked, 429, "rate_limited").await;
    error_code(app.login_response("frank", PASSWORD).await, 429, "rate_limited").await;
}

#[actix_web::test]
async fn a_completed_second_step_resets_the_failure_count() {
    let app = TestApp::spawn().await; // LOGIN_MAX_FAILURES = 5
    let (_, secret, step, _) = enrolled(&app, "gina").await;
    for _ in 0..3 {
        error_code(app.login_response("gina", "Wrong12345").await, 401, "invalid_credentials").await;
    }
    let token = mfa_token(&app, "gina").await;
    json_of(verify(&app, &json!({"mfa_token": token, "code": code_at(&secret, step + 1)})).await, 200).await;
    // Counting starts again: five attempts fit.
    let token = mfa_token(&app, "gina").await;
    for _ in 0..4 {
        error_code(
            verify(&app, &json!({"mfa_token": token, "code": wrong_code(&secret, step)})).await,
            401,
            "mfa_code_invalid",
        )
        .await;
    }
}

#[actix_web::test]
async fn an_expired_mfa_token_is_refused() {
    let app = TestApp::spawn().await;
    let (_, secret, step, _) = enrolled(&app, "hank").await;
    let token = mfa_token(&app, "hank").await;
    execute(&app, "UPDATE mfa_challenges SET expires_at = created_at").await;
    let res = verify(&app, &json!({"mfa_token": token, "code": code_at(&secret, step + 1)})).await;
    error_code(res, 401, "not_authenticated").await;
}

#[actix_web::test]
async fn the_second_step_takes_exactly_one_well_formed_proof() {
    let app = TestApp::spawn().await;
    let (_, _, _, codes) = enrolled(&app, "iris").await;
    let token = mfa_token(&app, "iris").await;
    for body in [
        json!({"mfa_token": token}),
        json!({"mfa_token": token, "code": "123456", "recovery_code": codes[0]}),
        json!({"mfa_token": token, "code": "12345"}),
        json!({"mfa_token": token, "recovery_code": "not a code"}),
    ] {
        error_code(verify(&app, &body).await, 422, "validation_failed").await;
    }
    // None of those spent an attempt.
    assert_eq!(count_rows(&app, "SELECT CAST(SUM(attempts) AS BIGINT) FROM mfa_challenges").await, 0);
}

// ---- recovery codes ---------------------------------------------------------------------------

#[actix_web::test]
async fn a_recovery_code_replaces_a_totp_code_once() {
    let app = TestApp::spawn().await;
    let (tokens, _, _, codes) = enrolled(&app, "jack").await;
    let token = mfa_token(&app, "jack").await;
    // Typed without the dash and in capitals, as people do.
    let typed = codes[3].replace('-', "").to_uppercase();
    let pair = json_of(verify(&app, &json!({"mfa_token": token, "recovery_code": typed})).await, 200).await;
    let access = pair["access_token"].as_str().expect("access");
    assert_eq!(status(&app, access).await["recovery_codes_left"], 9);
    let token = mfa_token(&app, "jack").await;
    let again = verify(&app, &json!({"mfa_token": token, "recovery_code": codes[3]})).await;
    error_code(again, 401, "mfa_code_invalid").await;
    json_of(verify(&app, &json!({"mfa_token": token, "recovery_code": codes[4]})).await, 200).await;
    let types = my_event_types(&app, &tokens.access).await;
    assert_eq!(types.iter().filter(|t| *t == "recovery_code_used").count(), 2, "{types:?}");
}

#[actix_web::test]
async fn another_users_recovery_code_does_not_work() {
    let app = TestApp::spawn().await;
    enrolled(&app, "kate").await;
    let (_, _, _, leo_codes) = enrolled(&app, "leo").await;
    let token = mfa_token(&app, "kate").await;
    let res = verify(&app, &json!({"mfa_token": token, "recovery_code": leo_codes[0]})).await;
    error_code(res, 401, "mfa_code_invalid").await;
}

#[actix_web::test]
async fn regenerating_recovery_codes_needs_the_password_and_retires_the_old_ones() {
    let app = TestApp::spawn().await;
    let (_, plain) = app.user("mona").await;
    let regen = format!("{MFA}/recovery-codes");
    error_code(app.post_json(&regen, Some(&plain.access), &json!({"password": PASSWORD})).await, 409, "conflict").await;

    let (tokens, _, _, old) = enrolled(&app, "nina").await;
    let wrong = app.post_json(&regen, Some(&tokens.access), &json!({"password": "Wrong12345"})).await;
    error_code(wrong, 400, "password_incorrect").await;
    let fresh = json_of(app.post_json(&regen, Some(&tokens.access), &json!({"password": PASSWORD})).await, 200).await;
    let fresh: Vec<String> = fresh["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !old.contains(c)));
    let token = mfa_token(&app, "nina").await;
    error_code(verify(&app, &json!({"mfa_token": token, "recovery_code": old[0]})).await, 401, "mfa_code_invalid")
        .await;
    json_of(verify(&app, &json!({"mfa_token": token, "recovery_code": fresh[0]})).await, 200).await;
    assert!(my_event_types(&app, &tokens.access).await.contains(&"recovery_codes_regenerated".to_owned()));
}

// ---- turning it off ---------------------------------------------------------------------------

#[actix_web::test]
async fn disabling_totp_needs_the_password_and_logins_are_one_step_again() {
    let app = TestApp::spawn().await;
    let (tokens, _, _, _) = enrolled(&app, "olga").await;
    let disable = format!("{MFA}/totp/disable");
    let wrong = app.post_json(&disable, Some(&tokens.access), &json!({"password": "Wrong12345"})).await;
    error_code(wrong, 400, "password_incorrect").await;
    assert_eq!(status(&app, &tokens.access).await["totp"], true);
    let res = app.post_json(&disable, Some(&tokens.access), &json!({"password": PASSWORD})).await;
    assert_eq!(res.status(), 204);
    assert_eq!(status(&app, &tokens.access).await, json!({"totp": false, "recovery_codes_left": 0, "passkeys": 0}));
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM recovery_codes").await, 0);
    assert_eq!(app.login_response("olga", PASSWORD).await.status(), 200);
    assert!(my_event_types(&app, &tokens.access).await.contains(&"mfa_disabled".to_owned()));
    // And it can be enrolled again.
    enrol(&app, &tokens).await;
    error_code(app.login_response("olga", PASSWORD).await, 403, "mfa_required").await;
}

// ---- who may ----------------------------------------------------------------------------------

#[actix_web::test]
async fn second_factors_need_a_session_not_an_api_key_nor_nobody() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("pete").await;
    let created = json_of(
        app.post_json(
            "/api/v1/auth/api-keys",
            Some(&tokens.access),
            &json!({"name": "k", "scopes": ["users:write", "profile:write"]}),
        )
        .await,
        201,
    )
    .await;
    let key = created["key"].as_str().expect("key");
    let routes = [
        (Method::GET, MFA.to_owned(), Value::Null),
        (Method::POST, format!("{MFA}/totp"), json!({})),
        (Method::POST, format!("{MFA}/totp/confirm"), json!({"code": "123456"})),
        (Method::POST, format!("{MFA}/totp/disable"), json!({"password": PASSWORD})),
        (Method::POST, format!("{MFA}/recovery-codes"), json!({"password": PASSWORD})),
    ];
    for (method, path, body) in &routes {
        let res = app.send_json(method.clone(), path, Some(key), body).await;
        error_code(res, 403, "insufficient_scope").await;
        let res = app.send_json(method.clone(), path, None, body).await;
        error_code(res, 401, "not_authenticated").await;
    }
}

#[actix_web::test]
async fn the_openapi_document_describes_the_mfa_required_answer() {
    let app = TestApp::spawn().await;
    let doc = json_of(app.get("/openapi.json", None).await, 200).await;
    let props = &doc["components"]["schemas"]["ErrorBody"]["properties"];
    assert!(props.get("mfa_token").is_some() && props.get("methods").is_some(), "{props}");
    let login = &doc["paths"]["/api/v1/auth/token"]["post"]["responses"];
    assert!(login.get("403").is_some(), "login documents 403 mfa_required");
    for path in ["/api/v1/auth/mfa/verify", "/api/v1/auth/mfa/totp", "/api/v1/auth/mfa/totp/confirm"] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }
}

#[actix_web::test]
async fn the_operator_resets_a_users_second_factors_from_the_command_line() {
    let app = TestApp::spawn().await;
    let (tokens, _, _, _) = enrolled(&app, "quinn").await;
    error_code(app.login_response("quinn", PASSWORD).await, 403, "mfa_required").await;
    let out = crate::helpers::hexgate(&app.database_url).args(["mfa-reset", "--login", "Quinn"]).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(app.login_response("quinn", PASSWORD).await.status(), 200);
    assert_eq!(status(&app, &tokens.access).await["totp"], false);
    let unknown =
        crate::helpers::hexgate(&app.database_url).args(["mfa-reset", "--login", "nobody"]).output().expect("run");
    assert!(!unknown.status.success());
}

#[actix_web::test]
async fn no_secret_code_or_token_reaches_the_audit_log() {
    let app = TestApp::spawn().await;
    let (_, secret, step, codes) = enrolled(&app, "rita").await;
    let token = mfa_token(&app, "rita").await;
    error_code(
        verify(&app, &json!({"mfa_token": token, "code": wrong_code(&secret, step)})).await,
        401,
        "mfa_code_invalid",
    )
    .await;
    json_of(verify(&app, &json!({"mfa_token": token, "recovery_code": codes[0]})).await, 200).await;
    let token = mfa_token(&app, "rita").await;
    let fresh = code_at(&secret, step + 1);
    json_of(verify(&app, &json!({"mfa_token": token, "code": fresh})).await, 200).await;
    let admin = app.admin().await;
    let events = json_of(app.get("/api/v1/audit-events?limit=100", Some(&admin.access)).await, 200).await;
    let text = events.to_string();
    assert!(text.contains("recovery_code_used") && text.contains("mfa_enabled"), "{text}");
    // (Six-digit codes are not searched for: timestamps hold six-digit runs by chance.)
    let plain: Vec<String> = codes.iter().map(|c| c.replace('-', "")).collect();
    for secret_text in [secret.as_str(), token.as_str()]
        .into_iter()
        .chain(codes.iter().map(String::as_str))
        .chain(plain.iter().map(String::as_str))
    {
        assert!(!text.contains(secret_text), "{secret_text} is in the audit log");
    }
}

/// `auth_logins_total{outcome=…}` as `/metrics` shows it now.
async fn logins(app: &TestApp, outcome: &str) -> f64 {
    let text = app.get("/metrics", None).await.text().await.expect("metrics");
    let prefix = format!("auth_logins_total{{outcome=\"{outcome}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).map_or(0.0, |v| v.trim().parse().expect("a number"))
}

#[actix_web::test]
async fn the_two_steps_of_a_login_are_counted_by_outcome() {
    let app = TestApp::spawn().await;
    let (_, secret, step, _) = enrolled(&app, "sam").await;
    let (required, failure, success) =
        (logins(&app, "mfa_required").await, logins(&app, "failure").await, logins(&app, "success").await);
    let token = mfa_token(&app, "sam").await;
    let right = code_at(&secret, step + 1);
    let wrong = if right == "000000" { "000001" } else { "000000" };
    error_code(verify(&app, &json!({"mfa_token": token, "code": wrong})).await, 401, "mfa_code_invalid").await;
    json_of(verify(&app, &json!({"mfa_token": token, "code": right})).await, 200).await;
    assert_eq!(logins(&app, "mfa_required").await - required, 1.0);
    assert_eq!(logins(&app, "failure").await - failure, 1.0, "a wrong code");
    assert_eq!(logins(&app, "success").await - success, 1.0, "the completed second step");
}
