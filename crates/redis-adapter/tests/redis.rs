//! Against the machine's real Redis (127.0.0.1:6379, or HEXGATE_TEST_REDIS_URL), each test under
//! a random key prefix so runs never see each other's keys.

use std::time::Duration;

use chrono::Utc;
use deadpool_redis::redis;
use futures_util::StreamExt;
use hexgate_ports::{PortError, PubSub, RateLimiter, RevocationList};
use hexgate_redis_adapter::{RedisPubSub, RedisRateLimiter, RedisRevocationList, RedisSettings, RedisStore};

fn url() -> String {
    std::env::var("HEXGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

async fn store(prefix: &str) -> RedisStore {
    let store = RedisStore::new(&RedisSettings {
        url: url(),
        key_prefix: prefix.to_owned(),
        pool_size: 8,
        timeout: Duration::from_secs(2),
        revocation_answer_ttl: Duration::ZERO,
    })
    .expect("settings");
    store.ping().await.unwrap_or_else(|e| {
        panic!("Redis is not reachable at {} ({e}); start it with: redis-server --daemonize yes --port 6379 --save \"\" --appendonly no", url())
    });
    store
}

fn prefix() -> String {
    format!("hexgate-test:{}:", uuid::Uuid::new_v4().simple())
}

async fn raw_pttl(key: &str) -> i64 {
    let client = redis::Client::open(url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("conn");
    redis::cmd("PTTL").arg(key).query_async(&mut conn).await.expect("pttl")
}

#[tokio::test]
async fn a_hit_counts_and_sets_the_expiry_in_one_step() {
    let p = prefix();
    let limiter = RedisRateLimiter::new(store(&p).await);
    let first = limiter.hit("client:/x", Duration::from_secs(60)).await.expect("hit");
    assert_eq!(first.count, 1);
    assert!(first.resets_in > Duration::from_secs(59) && first.resets_in <= Duration::from_secs(60));
    assert_eq!(limiter.hit("client:/x", Duration::from_secs(60)).await.expect("hit").count, 2);
    let ttl = raw_pttl(&format!("{p}client:/x")).await;
    assert!(ttl > 0, "the key has an expiry: {ttl}");
    assert_eq!(limiter.peek("client:/x").await.expect("peek").count, 2);
    limiter.clear("client:/x").await.expect("clear");
    assert_eq!(limiter.peek("client:/x").await.expect("peek").count, 0);
}

#[tokio::test]
async fn a_window_restarts_after_it_expires() {
    let limiter = RedisRateLimiter::new(store(&prefix()).await);
    let window = Duration::from_millis(200);
    limiter.hit("k", window).await.expect("hit");
    limiter.hit("k", window).await.expect("hit");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(limiter.hit("k", window).await.expect("hit").count, 1);
}

#[tokio::test]
async fn a_key_left_without_an_expiry_gets_one_at_the_next_hit() {
    let p = prefix();
    let key = format!("{p}stuck");
    let client = redis::Client::open(url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("conn");
    redis::cmd("SET").arg(&key).arg(5).query_async::<()>(&mut conn).await.expect("set");
    let limiter = RedisRateLimiter::new(store(&p).await);
    assert_eq!(limiter.hit("stuck", Duration::from_secs(30)).await.expect("hit").count, 6);
    assert!(raw_pttl(&key).await > 0);
}

#[tokio::test]
async fn two_instances_share_one_count() {
    let p = prefix();
    let a = RedisRateLimiter::new(store(&p).await);
    let b = RedisRateLimiter::new(store(&p).await);
    let window = Duration::from_secs(60);
    let hits = (0..50).map(|i| if i % 2 == 0 { a.hit("shared", window) } else { b.hit("shared", window) });
    let counts: Vec<u64> =
        futures_util::future::join_all(hits).await.into_iter().map(|r| r.expect("hit").count).collect();
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=50).collect::<Vec<u64>>(), "every hit got its own count");
}

#[tokio::test]
async fn a_revoked_token_is_revoked_everywhere_until_it_would_have_expired() {
    let p = prefix();
    let here = RedisRevocationList::new(store(&p).await, Duration::ZERO);
    let there = RedisRevocationList::new(store(&p).await, Duration::ZERO);
    here.revoke("jti-1", Utc::now() + chrono::Duration::minutes(15)).await.expect("revoke");
    assert!(there.is_revoked("jti-1").await.expect("check"));
    assert!(!there.is_revoked("jti-2").await.expect("check"));
    let ttl = raw_pttl(&format!("{p}revoked:jti-1")).await;
    assert!(ttl > 14 * 60 * 1000 && ttl <= 15 * 60 * 1000, "{ttl}");
    here.revoke("old", Utc::now() - chrono::Duration::seconds(1)).await.expect("revoke");
    assert!(!there.is_revoked("old").await.expect("check"));
}

#[tokio::test]
async fn a_not_revoked_answer_is_remembered_briefly_and_a_revocation_here_forgets_it_at_once() {
    let p = prefix();
    let ttl = Duration::from_millis(400);
    let here = RedisRevocationList::new(store(&p).await, ttl);
    let there = RedisRevocationList::new(store(&p).await, ttl);
    let until = Utc::now() + chrono::Duration::minutes(15);
    assert!(!here.is_revoked("jti-a").await.expect("check"));
    assert!(!there.is_revoked("jti-a").await.expect("check"));
    // Revoked through `here`: `here` knows at once; `there` may answer from memory until its
    // answer is `ttl` old, then asks Redis again.
    here.revoke("jti-a", until).await.expect("revoke");
    assert!(here.is_revoked("jti-a").await.expect("check"));
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    assert!(there.is_revoked("jti-a").await.expect("check"), "no answer outlives its ttl");
    // A revoked answer is never turned into "not revoked" by memory.
    assert!(there.is_revoked("jti-a").await.expect("check"));
    // Remembered: deleting the key behind its back does not change the answer within the ttl,
    // which proves the second check did not reach Redis.
    assert!(!there.is_revoked("jti-b").await.expect("check"));
    here.revoke("jti-b", until).await.expect("revoke");
    assert!(!there.is_revoked("jti-b").await.expect("check"), "answered from memory");
}

#[tokio::test]
async fn a_message_published_on_one_instance_reaches_subscribers_on_another() {
    let p = prefix();
    let publisher = RedisPubSub::new(store(&p).await);
    let subscriber = RedisPubSub::new(store(&p).await);
    let mut chat = subscriber.subscribe("chat").await.expect("subscribe");
    let mut other = subscriber.subscribe("other").await.expect("subscribe");
    let elsewhere = RedisPubSub::new(store(&prefix()).await);
    let mut foreign = elsewhere.subscribe("chat").await.expect("subscribe");
    publisher.publish("chat", b"hello").await.expect("publish");
    let got = tokio::time::timeout(Duration::from_secs(2), chat.next()).await.expect("in time");
    assert_eq!(got.as_deref(), Some(&b"hello"[..]));
    assert!(tokio::time::timeout(Duration::from_millis(200), other.next()).await.is_err());
    assert!(tokio::time::timeout(Duration::from_millis(200), foreign.next()).await.is_err(), "prefixes isolate");
}

#[tokio::test]
async fn an_unreachable_redis_is_reported_as_unavailable_quickly() {
    let store = RedisStore::new(&RedisSettings {
        url: "redis://127.0.0.1:1".to_owned(),
        key_prefix: prefix(),
        pool_size: 2,
        timeout: Duration::from_millis(500),
        revocation_answer_ttl: Duration::ZERO,
    })
    .expect("settings");
    let started = std::time::Instant::now();
    let limiter = RedisRateLimiter::new(store.clone());
    assert!(matches!(limiter.hit("k", Duration::from_secs(1)).await, Err(PortError::Unavailable(_))));
    let revocations = RedisRevocationList::new(store, Duration::from_secs(1));
    assert!(matches!(revocations.is_revoked("x").await, Err(PortError::Unavailable(_))));
    assert!(started.elapsed() < Duration::from_secs(3));
}
