//! The API-key path: whatever a client sends as a key, `ApiKeyService::authenticate` never panics
//! and accepts exactly one string, the key that was made (not a prefix of it, not the key with
//! anything around it). Refresh tokens take the same road (the same hash, looked up by equality),
//! so this target covers their parsing too. Inputs stand alone or are spliced into the real key.
#![no_main]

use std::sync::{Arc, LazyLock};

use chrono::{Duration, SubsecRound, Utc};
use hexgate_crypto_adapter::{JwtConfig, JwtIssuer};
use hexgate_domain::api_key::{ApiKey, ApiKeyId, ApiKeyName, KEY_PREFIX, Scope, ScopeSet};
use hexgate_domain::{Email, FullName, NewUser, PasswordHash, PermissionSet, UserId, Username};
use hexgate_ports::{ApiKeyRepository, ApiKeyService, SystemClock, TokenIssuer, UserRepository};
use hexgate_testkit::InMemoryStore;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    service: ApiKeyService,
    secret: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let store = Arc::new(InMemoryStore::new());
    let issuer = Arc::new(
        JwtIssuer::new(JwtConfig {
            secret: SecretString::from("fuzzing-secret-of-at-least-32-bytes!!".to_owned()),
            issuer: "hexgate".into(),
            audience: "hexgate-api".into(),
            access_ttl: Duration::minutes(15),
            leeway_secs: 0,
        })
        .expect("a valid configuration"),
    );
    let now = Utc::now().trunc_subsecs(6);
    let owner = NewUser {
        email: Email::parse("owner@example.com").expect("email"),
        username: Username::parse("owner").expect("username"),
        full_name: FullName::parse("Key Owner").expect("full name"),
        is_active: true,
        permissions: PermissionSet::EMPTY,
        password_hash: PasswordHash::from_phc("$argon2id$fake$owner".to_owned()),
    }
    .into_user(UserId::new(), now);
    let secret = format!("{KEY_PREFIX}Xk3v9QaZ0mJ2cV7pL4tR8yW1eB6nD5sF3gH9kA2uQ0o");
    let key = ApiKey {
        id: ApiKeyId::new(),
        user_id: owner.id,
        name: ApiKeyName::parse("fuzz").expect("name"),
        scopes: ScopeSet::EMPTY.with(Scope::ProfileRead),
        prefix: secret[..12].to_owned(),
        created_at: now,
        expires_at: None,
        last_used_at: None,
    };
    runtime.block_on(async {
        store.insert(&owner).await.expect("owner stored");
        store.create(&key, &issuer.hash_refresh(&secret), &[]).await.expect("key stored");
    });
    let service = ApiKeyService::new(store, issuer, Arc::new(SystemClock));
    assert!(runtime.block_on(service.authenticate(&secret)).is_ok(), "the key made works");
    Fixture { runtime, service, secret }
});

fuzz_target!(|data: &[u8]| {
    let fixture = &*FIXTURE;
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let candidate = match mode % 3 {
        0 => text.to_owned(),
        1 => format!("{KEY_PREFIX}{text}"),
        _ => {
            let key = &fixture.secret;
            let at = (usize::from(mode) * 5) % key.len();
            let end = (at + text.len().min(8)).min(key.len());
            format!("{}{}{}", &key[..at], text, &key[end..])
        }
    };
    if fixture.runtime.block_on(fixture.service.authenticate(&candidate)).is_ok() {
        assert_eq!(candidate, fixture.secret, "a string that is not the key was accepted");
    }
});
