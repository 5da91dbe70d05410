//! The EdDSA access-token verifier (the default): whatever follows `Bearer`, neither the cached
//! path every request takes nor the full path (which may ask the key store about an unknown `kid`)
//! panics, and the only token either accepts is the one hexgate signed, with its exact claims.
//! Inputs stand alone or are spliced into a real token (header, `kid`, payload, signature).
#![no_main]

use std::sync::{Arc, LazyLock};
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use hexgate_crypto_adapter::{EdDsaIssuer, JwtAlgorithm, JwtConfig, SigningKeyRing};
use hexgate_domain::{SessionId, UserId};
use hexgate_ports::{AccessClaims, KeyRing, SigningKeyRepository, TokenIssuer};
use hexgate_testkit::InMemoryStore;
use libfuzzer_sys::fuzz_target;
use secrecy::{ExposeSecret, SecretString};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    issuer: EdDsaIssuer,
    token: String,
    claims: AccessClaims,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let secret = "fuzzing-secret-of-at-least-32-bytes!!";
    let store = Arc::new(InMemoryStore::new());
    let ring = Arc::new(SigningKeyRing::new(
        store.clone() as Arc<dyn SigningKeyRepository>,
        secret.as_bytes(),
        JwtAlgorithm::EdDsa,
        StdDuration::from_secs(3600),
    ));
    let config = JwtConfig {
        secret: SecretString::from(secret.to_owned()),
        issuer: "hexgate".into(),
        audience: "hexgate-api".into(),
        access_ttl: Duration::minutes(15),
        leeway_secs: 0,
    };
    let issuer = EdDsaIssuer::new(ring.clone(), &config);
    let (token, claims) = runtime.block_on(async {
        let first = ring.generate(Utc::now()).expect("a key");
        assert!(store.create_first(&first).await.expect("stored"));
        ring.reload().await.expect("loaded");
        let token = issuer.issue_access(UserId::new(), SessionId::new()).await.expect("signed");
        let token = token.token.expose_secret().to_owned();
        let claims = issuer.verify_access(&token).await.expect("a fresh token verifies");
        (token, claims)
    });
    Fixture { runtime, issuer, token, claims }
});

fuzz_target!(|data: &[u8]| {
    let fixture = &*FIXTURE;
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let candidate = if mode % 2 == 0 {
        text.to_owned()
    } else {
        let token = &fixture.token;
        let at = (usize::from(mode) * 7) % token.len();
        let end = (at + text.len().min(16)).min(token.len());
        if !token.is_char_boundary(at) || !token.is_char_boundary(end) {
            return;
        }
        format!("{}{}{}", &token[..at], text, &token[end..])
    };
    if let Ok(claims) = fixture.issuer.verify_access_cached(&candidate) {
        assert_eq!(claims, fixture.claims, "a token hexgate did not sign was accepted (cached): {candidate:?}");
    }
    if let Ok(claims) = fixture.runtime.block_on(fixture.issuer.verify_access(&candidate)) {
        assert_eq!(claims, fixture.claims, "a token hexgate did not sign was accepted: {candidate:?}");
    }
});
