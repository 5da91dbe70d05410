//! [`AccountTokenRepository`](hexgate_ports::AccountTokenRepository): single-use tokens, also under
//! concurrent use; a reset ends every session; purposes and expiry are kept apart.

use chrono::Duration;
use hexgate_domain::PasswordHash;
use hexgate_ports::TokenPurpose;

use super::support::{hash, now, race, session, stored_user};
use crate::Storage;

fn new_hash() -> PasswordHash {
    PasswordHash::from_phc("$argon2id$fake$new".to_owned())
}

pub async fn a_reset_token_is_spent_once_and_ends_every_session(s: Storage) {
    let u = stored_user(&s, "forgetful").await;
    let t0 = now();
    let expires = t0 + Duration::hours(1);
    s.account_tokens.issue(u.id, TokenPurpose::PasswordReset, &hash("r1"), expires, t0).await.expect("issue");
    s.account_tokens.issue(u.id, TokenPurpose::PasswordReset, &hash("r2"), expires, t0).await.expect("issue");
    s.account_tokens.issue(u.id, TokenPurpose::EmailVerification, &hash("v1"), expires, t0).await.expect("issue");
    let (a, b) = (session(u.id, t0), session(u.id, t0));
    s.sessions.create(&a, &hash("sa")).await.expect("session");
    s.sessions.create(&b, &hash("sb")).await.expect("session");

    let t1 = t0 + Duration::minutes(5);
    assert_eq!(s.account_tokens.reset_password(&hash("r1"), &new_hash(), t1).await.expect("reset"), Some(u.id));
    let after = s.users.get(u.id).await.expect("get").expect("user");
    assert_eq!((after.password_hash, after.updated_at), (new_hash(), t1), "the password is set");
    assert_eq!(s.account_tokens.reset_password(&hash("r1"), &new_hash(), t1).await.expect("reset"), None, "once");
    assert_eq!(
        s.account_tokens.reset_password(&hash("r2"), &new_hash(), t1).await.expect("reset"),
        None,
        "the user's other reset links die with it"
    );
    assert!(s.sessions.list_live(u.id, t1).await.expect("list").is_empty(), "every session is revoked");
    assert_eq!(s.sessions.principal(u.id, a.id, t1).await.expect("principal"), None);
    let verified = s.account_tokens.verify_email(&hash("v1"), t1).await.expect("verify");
    assert!(verified.is_some_and(|v| v.is_verified), "a verification link is another purpose: still good");
}

pub async fn expired_used_and_wrong_purpose_tokens_do_nothing(s: Storage) {
    let u = stored_user(&s, "careful").await;
    let t0 = now();
    let hour = t0 + Duration::hours(1);
    s.account_tokens.issue(u.id, TokenPurpose::PasswordReset, &hash("r1"), hour, t0).await.expect("issue");
    s.account_tokens.issue(u.id, TokenPurpose::EmailVerification, &hash("v1"), hour, t0).await.expect("issue");
    let late = t0 + Duration::hours(2);
    assert_eq!(s.account_tokens.reset_password(&hash("r1"), &new_hash(), late).await.expect("reset"), None, "expired");
    assert_eq!(s.account_tokens.verify_email(&hash("v1"), late).await.expect("verify"), None, "expired");
    assert_eq!(s.account_tokens.verify_email(&hash("r1"), t0).await.expect("verify"), None, "a reset token");
    assert_eq!(
        s.account_tokens.reset_password(&hash("v1"), &new_hash(), t0).await.expect("reset"),
        None,
        "a verify token"
    );
    assert_eq!(s.account_tokens.reset_password(&hash("zz"), &new_hash(), t0).await.expect("reset"), None, "unknown");
    let stored = s.users.get(u.id).await.expect("get").expect("user");
    assert_eq!((stored.password_hash, stored.is_verified), (u.password_hash, false), "nothing changed");
}

pub async fn a_verification_token_verifies_once(s: Storage) {
    let u = stored_user(&s, "verifiable").await;
    let t0 = now();
    s.account_tokens
        .issue(u.id, TokenPurpose::EmailVerification, &hash("v1"), t0 + Duration::hours(1), t0)
        .await
        .expect("issue");
    let verified = s.account_tokens.verify_email(&hash("v1"), t0).await.expect("verify").expect("a live token");
    assert_eq!((verified.id, verified.is_verified, verified.updated_at), (u.id, true, t0));
    assert_eq!(s.users.get(u.id).await.expect("get"), Some(verified), "the answer is the stored user");
    assert_eq!(s.account_tokens.verify_email(&hash("v1"), t0).await.expect("verify"), None, "single use");
}

pub async fn invalidate_kills_only_unused_tokens_of_that_purpose(s: Storage) {
    let (u, v) = (stored_user(&s, "changer").await, stored_user(&s, "bystander").await);
    let t0 = now();
    let hour = t0 + Duration::hours(1);
    s.account_tokens.issue(u.id, TokenPurpose::PasswordReset, &hash("ur"), hour, t0).await.expect("issue");
    s.account_tokens.issue(u.id, TokenPurpose::EmailVerification, &hash("uv"), hour, t0).await.expect("issue");
    s.account_tokens.issue(v.id, TokenPurpose::PasswordReset, &hash("vr"), hour, t0).await.expect("issue");
    s.account_tokens.invalidate(u.id, TokenPurpose::PasswordReset, t0).await.expect("invalidate");
    assert_eq!(s.account_tokens.reset_password(&hash("ur"), &new_hash(), t0).await.expect("reset"), None, "killed");
    assert!(s.account_tokens.verify_email(&hash("uv"), t0).await.expect("verify").is_some(), "another purpose lives");
    assert_eq!(
        s.account_tokens.reset_password(&hash("vr"), &new_hash(), t0).await.expect("reset"),
        Some(v.id),
        "another user's token lives"
    );
}

pub async fn concurrent_resets_with_one_token_let_one_through(s: Storage) {
    let u = stored_user(&s, "raced").await;
    let t0 = now();
    s.account_tokens
        .issue(u.id, TokenPurpose::PasswordReset, &hash("r1"), t0 + Duration::hours(1), t0)
        .await
        .expect("issue");
    let outcomes = race(4, |i| {
        let tokens = s.account_tokens.clone();
        async move {
            let hash_i = PasswordHash::from_phc(format!("$argon2id$fake$racer{i}"));
            tokens.reset_password(&hash("r1"), &hash_i, t0).await.expect("reset")
        }
    })
    .await;
    assert_eq!(outcomes.iter().filter(|o| o.is_some()).count(), 1, "a token is spent once: {outcomes:?}");
}
