//! The signing-key use cases and the EdDSA issuer over the in-memory store, with a clock the tests
//! move and a store wrapper that counts reads: what two instances see of one rotation, what a
//! wrong `SECRET_KEY` does, and what random kids cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hexgate_crypto_adapter::{EdDsaIssuer, JwtAlgorithm, JwtConfig, SigningKeyRing};
use hexgate_domain::{SessionId, UserId};
use hexgate_ports::{
    KeySetupError, PortError, SigningKeyPolicy, SigningKeyRecord, SigningKeyRepository, SigningKeyService, TokenIssuer,
    TokenRejection,
};
use hexgate_testkit::{InMemoryStore, ManualClock};
use secrecy::{ExposeSecret, SecretString};

const SECRET: &str = "signing-test-secret-0123456789abcdef";

/// The store, counting the reads the issuers make of it.
struct Counting {
    inner: Arc<InMemoryStore>,
    reads: AtomicU64,
}

#[async_trait]
impl SigningKeyRepository for Counting {
    async fn create_first(&self, key: &SigningKeyRecord) -> Result<bool, PortError> {
        self.inner.create_first(key).await
    }
    async fn rotate(&self, key: &SigningKeyRecord, now: DateTime<Utc>) -> Result<(), PortError> {
        self.inner.rotate(key, now).await
    }
    async fn live(&self) -> Result<Vec<SigningKeyRecord>, PortError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.live().await
    }
    async fn list(&self) -> Result<Vec<SigningKeyRecord>, PortError> {
        self.inner.list().await
    }
    async fn retire(&self, rotated_before: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<String>, PortError> {
        self.inner.retire(rotated_before, now).await
    }
}

fn jwt_config() -> JwtConfig {
    JwtConfig {
        secret: SecretString::from(SECRET.to_owned()),
        issuer: "hexgate".into(),
        audience: "hexgate-api".into(),
        access_ttl: Duration::minutes(15),
        leeway_secs: 5,
    }
}

/// One instance: its key ring (over the shared store) and issuer, its key service.
struct Instance {
    store: Arc<Counting>,
    issuer: EdDsaIssuer,
    keys: SigningKeyService,
}

fn instance(shared: &Arc<InMemoryStore>, secret: &str, clock: &Arc<ManualClock>, cache: StdDuration) -> Instance {
    let store = Arc::new(Counting { inner: shared.clone(), reads: AtomicU64::new(0) });
    let ring = Arc::new(SigningKeyRing::new(store.clone(), secret.as_bytes(), JwtAlgorithm::EdDsa, cache));
    let issuer = EdDsaIssuer::new(ring.clone(), &jwt_config());
    let policy = SigningKeyPolicy {
        access_ttl: Duration::minutes(15),
        leeway: Duration::seconds(5),
        issuer: "hexgate".into(),
        public_base_url: "https://auth.example.com".into(),
    };
    let keys = SigningKeyService::new(store.clone(), ring, clock.clone(), policy);
    Instance { store, issuer, keys }
}

fn kid(token: &str) -> String {
    let header = URL_SAFE_NO_PAD.decode(token.split('.').next().expect("header")).expect("b64");
    let header: serde_json::Value = serde_json::from_slice(&header).expect("json");
    header["kid"].as_str().expect("kid").to_owned()
}

async fn token(issuer: &EdDsaIssuer) -> String {
    let issued = issuer.issue_access(UserId::new(), SessionId::new()).await.expect("issue");
    issued.token.expose_secret().to_owned()
}

const HOUR: StdDuration = StdDuration::from_secs(3600);

#[tokio::test]
async fn the_first_key_is_made_once_and_a_rotation_keeps_old_tokens_until_retirement() {
    let shared = Arc::new(InMemoryStore::new());
    let clock = Arc::new(ManualClock::at_now());
    let a = instance(&shared, SECRET, &clock, HOUR);
    a.keys.ensure_key().await.expect("first start");
    a.keys.ensure_key().await.expect("second start");
    assert_eq!(a.keys.list_as_operator().await.expect("list").len(), 1, "one first key");

    let old = token(&a.issuer).await;
    // Keys are listed newest first: the rotation comes a minute after the first key.
    clock.advance(Duration::minutes(1));
    let new_jwk = a.keys.rotate_as_operator().await.expect("rotate");
    let new = token(&a.issuer).await;
    assert_eq!(kid(&new), new_jwk.kid, "this instance signs with the new key at once");
    assert_ne!(kid(&old), kid(&new));
    a.issuer.verify_access(&old).await.expect("old tokens stay valid");
    a.issuer.verify_access(&new).await.expect("new tokens are valid");
    let published: Vec<String> = a.keys.jwks().await.expect("jwks").into_iter().map(|k| k.kid).collect();
    assert_eq!(published, vec![kid(&new), kid(&old)]);

    // Not before every token of the old key has expired (lifetime + leeway) …
    clock.advance(Duration::minutes(15));
    assert!(a.keys.retire_expired().await.expect("retire").is_empty());
    clock.advance(Duration::seconds(6));
    assert_eq!(a.keys.retire_expired().await.expect("retire"), vec![kid(&old)]);
    let published: Vec<String> = a.keys.jwks().await.expect("jwks").into_iter().map(|k| k.kid).collect();
    assert_eq!(published, vec![kid(&new)], "a retired key leaves the JWKS");
    // … and a fresh instance (a cache that never saw it) refuses the retired key.
    let b = instance(&shared, SECRET, &clock, HOUR);
    b.keys.ensure_key().await.expect("start");
    assert_eq!(b.issuer.verify_access(&old).await, Err(TokenRejection::UnknownKey));
    b.issuer.verify_access(&new).await.expect("the live key verifies");
}

#[tokio::test]
async fn another_instance_verifies_a_new_key_at_once_and_signs_with_it_after_its_cache_time() {
    let shared = Arc::new(InMemoryStore::new());
    let clock = Arc::new(ManualClock::at_now());
    let a = instance(&shared, SECRET, &clock, HOUR);
    let b = instance(&shared, SECRET, &clock, HOUR);
    let c = instance(&shared, SECRET, &clock, StdDuration::from_millis(300));
    for started in [&a, &b, &c] {
        started.keys.ensure_key().await.expect("start");
    }
    let first = kid(&token(&c.issuer).await);
    // A new key made on A: B has never seen it, and verifies A's token with one read.
    tokio::time::sleep(StdDuration::from_millis(600)).await;
    a.keys.rotate_as_operator().await.expect("rotate on a");
    let from_a = token(&a.issuer).await;
    let reads = b.store.reads.load(Ordering::SeqCst);
    b.issuer.verify_access(&from_a).await.expect("b verifies a's new key");
    assert_eq!(b.store.reads.load(Ordering::SeqCst) - reads, 1, "by reading the store once");
    b.issuer.verify_access(&from_a).await.expect("and again");
    assert_eq!(b.store.reads.load(Ordering::SeqCst) - reads, 1, "from its cache now");
    assert_eq!(kid(&token(&b.issuer).await), kid(&from_a), "that read also gave b the new active key");
    // C signs with the new key once its cache (300 ms here) is older than KEY_CACHE_SECONDS.
    tokio::time::sleep(StdDuration::from_millis(350)).await;
    let signed = kid(&token(&c.issuer).await);
    assert_ne!(signed, first);
    assert_eq!(signed, kid(&from_a));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_random_kids_cost_a_bounded_number_of_store_reads() {
    let shared = Arc::new(InMemoryStore::new());
    let clock = Arc::new(ManualClock::at_now());
    let a = Arc::new(instance(&shared, SECRET, &clock, HOUR));
    a.keys.ensure_key().await.expect("start");
    let real = token(&a.issuer).await;
    let payload = real.split('.').nth(1).expect("payload").to_owned();
    let reads = a.store.reads.load(Ordering::SeqCst);
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..10_000)
        .map(|_| {
            let a = a.clone();
            let forged_header = URL_SAFE_NO_PAD
                .encode(serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": uuid::Uuid::new_v4()}).to_string());
            let forged = format!("{forged_header}.{payload}.{}", URL_SAFE_NO_PAD.encode([7u8; 64]));
            tokio::spawn(async move { a.issuer.verify_access(&forged).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task"), Err(TokenRejection::UnknownKey));
    }
    let elapsed = started.elapsed();
    let made = a.store.reads.load(Ordering::SeqCst) - reads;
    let bound = 2 * elapsed.as_secs() + 3;
    assert!(made <= bound, "{made} reads for 10,000 random kids in {elapsed:?}");
    a.issuer.verify_access(&real).await.expect("the real token still verifies");
}

#[tokio::test]
async fn a_wrong_secret_key_stops_start_up_and_makes_no_key() {
    let shared = Arc::new(InMemoryStore::new());
    let clock = Arc::new(ManualClock::at_now());
    instance(&shared, SECRET, &clock, HOUR).keys.ensure_key().await.expect("first start");
    let wrong = instance(&shared, "another-secret-0123456789abcdefghij", &clock, HOUR);
    let err = wrong.keys.ensure_key().await.expect_err("refused");
    assert!(matches!(err, KeySetupError::WrongSecret(ref keys) if keys.len() == 1), "{err}");
    assert!(err.to_string().contains("SECRET_KEY"), "{err}");
    assert_eq!(wrong.keys.list_as_operator().await.expect("list").len(), 1, "no key made behind the operator's back");
}

#[tokio::test]
async fn refusals_happen_before_any_store_read() {
    let shared = Arc::new(InMemoryStore::new());
    let clock = Arc::new(ManualClock::at_now());
    let a = instance(&shared, SECRET, &clock, HOUR);
    a.keys.ensure_key().await.expect("start");
    let real = token(&a.issuer).await;
    let payload = real.split('.').nth(1).expect("payload").to_owned();
    let reads = a.store.reads.load(Ordering::SeqCst);
    let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    assert!(a.issuer.verify_access(&format!("{none}.{payload}.")).await.is_err());
    let hs = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT","kid":"x"}"#);
    assert_eq!(a.issuer.verify_access(&format!("{hs}.{payload}.c2ln")).await, Err(TokenRejection::WrongAlgorithm));
    let no_kid = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"JWT"}"#);
    assert_eq!(a.issuer.verify_access(&format!("{no_kid}.{payload}.c2ln")).await, Err(TokenRejection::UnknownKey));
    assert_eq!(a.store.reads.load(Ordering::SeqCst), reads, "none of these read the store");
    assert_eq!(a.issuer.verify_access_cached(&real).map(|c| c.jti.is_empty()), Ok(false));
}
