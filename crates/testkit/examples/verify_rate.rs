//! Access-token verifications per second on one core, in process (no HTTP, no store): `N`
//! (default 2,000) distinct EdDSA tokens (the default) and HS256 ones, each verified once on one
//! thread, then the same tokens again at once (the EdDSA issuer remembers a verified token for a
//! second, so a client's next request does not pay the signature check again).
//! `bench/run.sh` prints it beside the HTTP figures; run alone with
//! `cargo run --release -p hexgate-testkit --example verify_rate`.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use hexgate_crypto_adapter::{EdDsaIssuer, JwtAlgorithm, JwtConfig, JwtIssuer, SigningKeyRing};
use hexgate_domain::{SessionId, UserId};
use hexgate_ports::{SigningKeyPolicy, SigningKeyService, TokenIssuer};
use hexgate_testkit::{InMemoryStore, ManualClock};
use secrecy::{ExposeSecret, SecretString};

const SECRET: &str = "bench-secret-key-0123456789-abcdefghijklmnop";

fn config() -> JwtConfig {
    JwtConfig {
        secret: SecretString::from(SECRET.to_owned()),
        issuer: "hexgate".into(),
        audience: "hexgate-api".into(),
        access_ttl: Duration::minutes(15),
        leeway_secs: 5,
    }
}

async fn rate(name: &str, issuer: &dyn TokenIssuer, n: u32) {
    let mut tokens = Vec::new();
    for _ in 0..n {
        let issued = issuer.issue_access(UserId::new(), SessionId::new()).await.expect("issue");
        tokens.push(issued.token.expose_secret().to_owned());
    }
    for label in ["", " again"] {
        let started = Instant::now();
        for token in &tokens {
            issuer.verify_access_cached(std::hint::black_box(token)).expect("valid");
        }
        let per = started.elapsed().as_secs_f64() / f64::from(n);
        println!("verify {name}{label}: {:.0} verifications/s per core ({:.1} µs each)", 1.0 / per, per * 1e6);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let store = Arc::new(InMemoryStore::new());
    let ring = Arc::new(SigningKeyRing::new(
        store.clone(),
        SECRET.as_bytes(),
        JwtAlgorithm::EdDsa,
        StdDuration::from_secs(60),
    ));
    let policy = SigningKeyPolicy {
        access_ttl: Duration::minutes(15),
        leeway: Duration::seconds(5),
        issuer: "hexgate".into(),
        public_base_url: "https://auth.example.com".into(),
    };
    let clock = Arc::new(ManualClock::at_now());
    SigningKeyService::new(store, ring.clone(), clock, policy).ensure_key().await.expect("key");
    rate("EdDSA", &EdDsaIssuer::new(ring, &config()), n).await;
    rate("HS256", &JwtIssuer::new(config()).expect("key"), n).await;
}
