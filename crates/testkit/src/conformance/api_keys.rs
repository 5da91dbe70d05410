//! [`ApiKeyRepository`](hexgate_ports::ApiKeyRepository): found by hash with their owner, listed
//! newest first, deleted by their owner only (with the event, or none), `last_used_at` written at
//! most once per interval, gone with their owner.

use chrono::Duration;
use hexgate_domain::UserId;
use hexgate_domain::api_key::{ApiKey, ApiKeyId, ApiKeyName, Scope, ScopeSet};
use hexgate_domain::audit::AuditEventType;
use hexgate_ports::{AuditFilter, AuditStamp, PortError, RequestContext};
use serde_json::json;

use super::support::{hash, now, stored_user};
use crate::Storage;

fn key(user: UserId, name: &str, at: chrono::DateTime<chrono::Utc>) -> ApiKey {
    ApiKey {
        id: ApiKeyId::new(),
        user_id: user,
        name: ApiKeyName::parse(name).expect("name"),
        scopes: ScopeSet::EMPTY.with(Scope::OrdersRead).with(Scope::ProfileWrite),
        prefix: format!("hgk_{name:.8}"),
        created_at: at,
        expires_at: Some(at + Duration::days(30)),
        last_used_at: None,
    }
}

pub async fn keys_are_found_by_hash_with_their_owner_and_listed_newest_first(s: Storage) {
    let owner = stored_user(&s, "keyowner").await;
    let t0 = now();
    let (first, second) = (key(owner.id, "first", t0), key(owner.id, "second", t0 + Duration::seconds(1)));
    s.api_keys.create(&first, &hash("k1"), &[]).await.expect("create");
    s.api_keys.create(&second, &hash("k2"), &[]).await.expect("create");
    let (found, user) = s.api_keys.find_by_hash(&hash("k1")).await.expect("find").expect("a key");
    assert_eq!((found, user), (first.clone(), owner.clone()), "the key and its owner, as written");
    assert_eq!(s.api_keys.find_by_hash(&hash("nope")).await.expect("find"), None);
    assert_eq!(s.api_keys.list(owner.id).await.expect("list"), vec![second, first]);
    let other = stored_user(&s, "keyother").await;
    assert!(s.api_keys.list(other.id).await.expect("list").is_empty());
    let orphan = key(UserId::new(), "orphan", t0);
    assert!(matches!(s.api_keys.create(&orphan, &hash("k3"), &[]).await, Err(PortError::NotFound)), "no owner");
}

pub async fn only_the_owner_deletes_a_key_and_its_event_is_written_with_it(s: Storage) {
    let owner = stored_user(&s, "keydel").await;
    let thief = stored_user(&s, "keythief").await;
    let k = key(owner.id, "del", now());
    let stamp = AuditStamp::new(now(), Some(owner.id), &RequestContext::default());
    let created = stamp.event(AuditEventType::ApiKeyCreated, Some(owner.id), json!({}));
    s.api_keys.create(&k, &hash("kd"), std::slice::from_ref(&created)).await.expect("create");
    let revoked = stamp.event(AuditEventType::ApiKeyRevoked, Some(owner.id), json!({}));
    assert!(!s.api_keys.delete(thief.id, k.id, std::slice::from_ref(&revoked)).await.expect("delete"), "not theirs");
    assert!(s.api_keys.find_by_hash(&hash("kd")).await.expect("find").is_some());
    assert!(s.api_keys.delete(owner.id, k.id, std::slice::from_ref(&revoked)).await.expect("delete"));
    assert_eq!(s.api_keys.find_by_hash(&hash("kd")).await.expect("find"), None, "gone at once");
    assert!(!s.api_keys.delete(owner.id, k.id, std::slice::from_ref(&revoked)).await.expect("delete"), "once");
    let events = s.audit.list(&AuditFilter::default(), None, 10).await.expect("list");
    let types: Vec<AuditEventType> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(types, vec![AuditEventType::ApiKeyRevoked, AuditEventType::ApiKeyCreated], "one event per change");
}

pub async fn last_used_is_written_at_most_once_per_interval(s: Storage) {
    let owner = stored_user(&s, "keytouch").await;
    let k = key(owner.id, "touch", now());
    s.api_keys.create(&k, &hash("kt"), &[]).await.expect("create");
    let t0 = now();
    let minute = Duration::seconds(60);
    assert!(s.api_keys.touch(k.id, t0, minute).await.expect("touch"), "first use writes");
    assert!(!s.api_keys.touch(k.id, t0 + Duration::seconds(30), minute).await.expect("touch"), "not within the minute");
    let (read, _) = s.api_keys.find_by_hash(&hash("kt")).await.expect("find").expect("key");
    assert_eq!(read.last_used_at, Some(t0));
    assert!(s.api_keys.touch(k.id, t0 + Duration::seconds(61), minute).await.expect("touch"), "a minute later");
}

pub async fn a_users_keys_go_with_them(s: Storage) {
    let owner = stored_user(&s, "keycascade").await;
    s.api_keys.create(&key(owner.id, "c", now()), &hash("kc"), &[]).await.expect("create");
    s.users.delete(owner.id).await.expect("delete");
    assert_eq!(s.api_keys.find_by_hash(&hash("kc")).await.expect("find"), None);
}
