//! The access-token verifier: whatever a client puts after `Bearer`, it never panics, and the only
//! tokens it accepts carry exactly the claims hexgate signed. Inputs either stand alone or are
//! spliced into a real token, so the fuzzer works on the header, payload and signature too.
#![no_main]

use std::pin::pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};

use chrono::Duration;
use hexgate_crypto_adapter::{JwtConfig, JwtIssuer};
use hexgate_domain::{SessionId, UserId};
use hexgate_ports::{AccessClaims, TokenIssuer};
use libfuzzer_sys::fuzz_target;
use secrecy::{ExposeSecret, SecretString};

/// HS256 signing does no I/O: its future is ready at the first poll.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("HS256 signing does no I/O"),
    }
}

struct Fixture {
    issuer: JwtIssuer,
    token: String,
    claims: AccessClaims,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let issuer = JwtIssuer::new(JwtConfig {
        secret: SecretString::from("fuzzing-secret-of-at-least-32-bytes!!".to_owned()),
        issuer: "hexgate".into(),
        audience: "hexgate-api".into(),
        access_ttl: Duration::minutes(15),
        leeway_secs: 0,
    })
    .expect("a valid configuration");
    let token = ready(issuer.issue_access(UserId::new(), SessionId::new()))
        .expect("signing works")
        .token
        .expose_secret()
        .to_owned();
    let claims = issuer.verify_access_cached(&token).expect("a fresh token verifies");
    Fixture { issuer, token, claims }
});

fuzz_target!(|data: &[u8]| {
    let fixture = &*FIXTURE;
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let candidate = if mode % 2 == 0 {
        text.to_owned()
    } else {
        // Replace a slice of the real token, chosen by the mode byte, with the input.
        let token = &fixture.token;
        let at = (usize::from(mode) * 7) % token.len();
        let end = (at + text.len().min(16)).min(token.len());
        if !token.is_char_boundary(at) || !token.is_char_boundary(end) {
            return;
        }
        format!("{}{}{}", &token[..at], text, &token[end..])
    };
    if let Ok(claims) = fixture.issuer.verify_access_cached(&candidate) {
        assert_eq!(claims, fixture.claims, "a token hexgate did not sign was accepted: {candidate:?}");
    }
});
