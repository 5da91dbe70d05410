//! The account page in headless Chromium, with the DevTools protocol's virtual authenticator
//! (CTAP2, resident keys, user verification): a user enrols TOTP from the page (the secret read
//! off it, the code computed by the test), sees the error for a wrong code, registers a passkey,
//! logs out and logs back in with it, and logs in with a password and a TOTP code.

use serde_json::json;

use crate::browser::{DevTools, click, launch, set};
use crate::chat::connect_url;
use crate::helpers::TestApp;
use crate::mfa::{code_at, current_step};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn shown(id: &str) -> String {
    format!("!document.getElementById({}).closest('[hidden]')", json!(id))
}

fn content(id: &str) -> String {
    format!("document.getElementById({}).textContent", json!(id))
}

#[actix_web::test]
async fn the_account_page_enrols_totp_registers_a_passkey_and_logs_in_with_each() {
    // WebAuthn wants a domain, not an IP: the page is served as http://localhost:<port>, which
    // is the relying party's origin.
    let port = free_port().to_string();
    let origin = format!("http://localhost:{port}");
    let app = TestApp::spawn_with(&[("PORT", &port), ("WEBAUTHN_ORIGIN", &origin)]).await;
    app.user("ada").await;
    let browser = launch();
    let mut tools = DevTools { ws: connect_url(&browser.devtools).await, next_id: 0 };
    let page = tools.open(&format!("{origin}/account")).await;
    tools.call(Some(&page), "WebAuthn.enable", json!({"enableUI": false})).await;
    let authenticator = tools
        .call(
            Some(&page),
            "WebAuthn.addVirtualAuthenticator",
            json!({"options": {"protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                               "hasUserVerification": true, "isUserVerified": true,
                               "automaticPresenceSimulation": true}}),
        )
        .await;
    let authenticator_id = authenticator["authenticatorId"].as_str().expect("authenticator").to_owned();
    tools.wait_for(&page, "document.readyState === 'complete' && document.getElementById('login')", "true").await;

    // Password login.
    tools.eval(&page, &[set("username", "ada"), set("password", "Password123"), click("login")].concat()).await;
    tools.wait_for(&page, &format!("{} === 'ada'", content("whoami")), "true").await;
    tools.wait_for(&page, &format!("{}.includes('TOTP: off')", content("mfa-status")), "true").await;
    let sessions = tools
        .wait_for(
            &page,
            "document.querySelectorAll('#sessions li').length > 0",
            "document.querySelectorAll('#sessions li[data-current=\"true\"]').length",
        )
        .await;
    assert_eq!(sessions, json!(1), "the current session is marked");

    // TOTP enrolment: the secret and its QR code (an SVG from hexgate) are on the page.
    tools.eval(&page, &click("totp-start")).await;
    let secret =
        tools.wait_for(&page, &format!("{}.length >= 32", content("totp-secret")), &content("totp-secret")).await;
    let secret = secret.as_str().expect("secret").to_owned();
    let qr = tools
        .wait_for(
            &page,
            "document.getElementById('totp-qr').complete && document.getElementById('totp-qr').naturalWidth > 0",
            "document.getElementById('totp-qr').src",
        )
        .await;
    assert!(qr.as_str().is_some_and(|src| src.starts_with("blob:")), "{qr}");
    // A wrong code shows the error and turns nothing on.
    let step = current_step();
    let right = code_at(&secret, step);
    let wrong = if right == "000000" { "000001" } else { "000000" };
    tools.eval(&page, &[set("totp-code", wrong), click("totp-confirm")].concat()).await;
    let error = tools.wait_for(&page, &format!("{}.length > 0", content("totp-error")), &content("totp-error")).await;
    assert_eq!(error, json!("Invalid or already used code"));
    tools.eval(&page, &[set("totp-code", &right), click("totp-confirm")].concat()).await;
    let codes = tools
        .wait_for(
            &page,
            "document.querySelectorAll('#recovery-codes li').length === 10",
            "document.querySelectorAll('#recovery-codes li').length",
        )
        .await;
    assert_eq!(codes, json!(10));
    let recovery = tools.eval(&page, "document.querySelector('#recovery-codes li').textContent").await;
    let recovery = recovery.as_str().expect("a recovery code").to_owned();
    tools
        .wait_for(&page, &format!("{}.includes('TOTP: on · recovery codes left: 10')", content("mfa-status")), "true")
        .await;
    assert_eq!(tools.eval(&page, &content("totp-error")).await, json!(""));

    // Register a passkey with the virtual authenticator.
    tools.eval(&page, &[set("passkey-name", "virtual key"), click("passkey-register")].concat()).await;
    tools
        .wait_for(
            &page,
            "[...document.querySelectorAll('#passkeys li')].some(li => li.textContent.startsWith('virtual key'))",
            "true",
        )
        .await;
    assert_eq!(tools.eval(&page, &content("passkey-error")).await, json!(""));
    let credentials =
        tools.call(Some(&page), "WebAuthn.getCredentials", json!({"authenticatorId": authenticator_id})).await;
    let credentials = credentials["credentials"].as_array().expect("credentials").clone();
    assert_eq!(credentials.len(), 1);
    assert_eq!(credentials[0]["isResidentCredential"], true, "a discoverable credential");

    // Log out, then log in with the passkey: no password, no TOTP code.
    tools.eval(&page, &click("logout")).await;
    tools.wait_for(&page, &shown("login"), "true").await;
    tools.eval(&page, &click("passkey-login")).await;
    tools.wait_for(&page, &format!("{} === 'ada'", content("whoami")), "true").await;
    assert_eq!(tools.eval(&page, &content("login-error")).await, json!(""));
    let last_used = tools.eval(&page, "document.querySelectorAll('#sessions li').length").await;
    assert!(last_used.as_u64().is_some_and(|n| n >= 1));

    // Log out, then log in with the password: the page asks for the code.
    tools.eval(&page, &click("logout")).await;
    tools.wait_for(&page, &shown("login"), "true").await;
    tools.eval(&page, &[set("username", "ada"), set("password", "Password123"), click("login")].concat()).await;
    tools.wait_for(&page, &shown("mfa-code"), "true").await;
    let next = code_at(&secret, step + 1);
    tools.eval(&page, &[set("mfa-code", &next), click("mfa-verify")].concat()).await;
    tools.wait_for(&page, &format!("{} === 'ada'", content("whoami")), "true").await;

    // Another session of ada's (over HTTP, with a recovery code) shows up and is revoked here.
    let body = crate::helpers::error_code(app.login_response("ada", "Password123").await, 403, "mfa_required").await;
    let res = app
        .post_json("/api/v1/auth/mfa/verify", None, &json!({"mfa_token": body["mfa_token"], "recovery_code": recovery}))
        .await;
    assert_eq!(res.status(), 200);
    let pair: serde_json::Value = res.json().await.expect("json");
    let access = pair["access_token"].as_str().expect("access").to_owned();
    let before = tools.eval(&page, "document.querySelectorAll('#sessions li').length").await;
    let before = before.as_u64().expect("count");
    tools.eval(&page, "refreshSessions()").await;
    tools
        .wait_for(&page, &format!("document.querySelectorAll('#sessions li').length === {}", before + 1), "true")
        .await;
    // Revoke every other session, one button at a time.
    for left in (1..=before).rev() {
        tools.eval(&page, "document.querySelector('.session-revoke').click()").await;
        tools.wait_for(&page, &format!("document.querySelectorAll('#sessions li').length === {left}"), "true").await;
    }
    let current = tools.eval(&page, "document.querySelector('#sessions li').dataset.current").await;
    assert_eq!(current, json!("true"), "the page's own session stays");
    assert_eq!(app.get("/api/v1/users/me", Some(&access)).await.status(), 401, "the revoked session is over");
    drop(browser);
}
