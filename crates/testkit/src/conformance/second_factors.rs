//! [`MfaRepository`](hexgate_ports::MfaRepository) and
//! [`PasskeyRepository`](hexgate_ports::PasskeyRepository): the rules that must hold when
//! requests race — a TOTP step accepted once and never an older one, an `mfa_token` tried at most
//! five times and spent once, a ceremony finished once, a sign count moved on once — and what an
//! admin's reset and a user's deletion take along.

use chrono::Duration;
use hexgate_domain::UserId;
use hexgate_domain::passkey::{CeremonyKind, Passkey, PasskeyId, PasskeyName};
use hexgate_ports::StoredPasskey;

use super::support::{hash, now, race, stored_user};
use crate::Storage;

async fn enabled_totp(s: &Storage, user: UserId) {
    assert!(s.mfa.set_pending_totp(user, b"sealed", now()).await.expect("pending"));
    let codes = [hash("a"), hash("b")];
    assert!(s.mfa.enable_totp(user, b"sealed", 100, &codes, now(), &[]).await.expect("enable"));
}

fn stored(user: UserId, credential_id: &str) -> StoredPasskey {
    StoredPasskey {
        passkey: Passkey {
            id: PasskeyId::new(),
            user_id: user,
            name: PasskeyName::parse("key").expect("name"),
            created_at: now(),
            last_used_at: None,
        },
        credential_id: credential_id.into(),
        credential: "{}".into(),
        sign_count: 3,
    }
}

pub async fn a_totp_step_is_accepted_once_however_many_race_for_it(s: Storage) {
    let u = stored_user(&s, "racer").await;
    // A pending secret is replaced; the confirmation must name the one pending.
    assert!(s.mfa.set_pending_totp(u.id, b"first", now()).await.expect("pending"));
    assert!(!s.mfa.enable_totp(u.id, b"first-no-more", 1, &[], now(), &[]).await.expect("enable"), "not pending");
    enabled_totp(&s, u.id).await;
    assert!(!s.mfa.accept_totp_step(u.id, 100).await.expect("step"), "the confirming step is spent");
    let mfa = s.mfa.clone();
    let won = race(8, |_| {
        let mfa = mfa.clone();
        async move { mfa.accept_totp_step(u.id, 101).await.expect("step") }
    })
    .await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1);
    assert!(!s.mfa.accept_totp_step(u.id, 99).await.expect("older"), "never backwards");
    assert!(!s.mfa.set_pending_totp(u.id, b"other", now()).await.expect("pending"), "on stays on");
    assert_eq!(s.mfa.totp(u.id).await.expect("read").expect("row").sealed_secret, b"sealed");
}

pub async fn an_mfa_token_takes_at_most_five_attempts_and_is_spent_once(s: Storage) {
    let u = stored_user(&s, "guesser").await;
    let t = now();
    s.mfa.create_challenge(&hash("t"), u.id, t, t + Duration::minutes(5)).await.expect("create");
    let mfa = s.mfa.clone();
    let counted = race(12, |_| {
        let mfa = mfa.clone();
        async move { mfa.attempt_challenge(&hash("t"), now(), 5).await.expect("attempt") }
    })
    .await;
    assert_eq!(counted.iter().filter(|c| **c == Some(u.id)).count(), 5);
    assert_eq!(counted.iter().filter(|c| c.is_none()).count(), 7);
    assert!(s.mfa.spend_challenge(&hash("t")).await.expect("spend"));
    assert!(!s.mfa.spend_challenge(&hash("t")).await.expect("again"));
    s.mfa.create_challenge(&hash("old"), u.id, t - Duration::minutes(10), t - Duration::minutes(5)).await.expect("old");
    assert_eq!(s.mfa.attempt_challenge(&hash("old"), t, 5).await.expect("attempt"), None, "expired");
}

pub async fn recovery_codes_are_spent_once_and_go_with_totp(s: Storage) {
    let u = stored_user(&s, "coder").await;
    enabled_totp(&s, u.id).await;
    assert_eq!(s.mfa.recovery_codes_left(u.id).await.expect("count"), 2);
    assert!(s.mfa.spend_recovery_code(u.id, &hash("a"), &[]).await.expect("spend"));
    assert!(!s.mfa.spend_recovery_code(u.id, &hash("a"), &[]).await.expect("again"));
    let other = stored_user(&s, "other").await;
    assert!(!s.mfa.spend_recovery_code(other.id, &hash("b"), &[]).await.expect("not theirs"));
    assert!(s.mfa.replace_recovery_codes(u.id, &[hash("c")], now(), &[]).await.expect("replace"));
    assert!(!s.mfa.spend_recovery_code(u.id, &hash("b"), &[]).await.expect("old code"));
    assert!(s.mfa.disable_totp(u.id, &[]).await.expect("disable"));
    assert!(!s.mfa.disable_totp(u.id, &[]).await.expect("nothing left"));
    assert_eq!(s.mfa.recovery_codes_left(u.id).await.expect("count"), 0);
    assert!(!s.mfa.replace_recovery_codes(u.id, &[hash("d")], now(), &[]).await.expect("without TOTP"));
    assert_eq!(s.mfa.recovery_codes_left(u.id).await.expect("count"), 0);
}

pub async fn a_ceremony_finishes_once_and_only_as_its_own_kind(s: Storage) {
    let u = stored_user(&s, "ceremonial").await;
    let id = uuid::Uuid::now_v7();
    let t = now();
    s.passkeys.put_ceremony(id, CeremonyKind::Login, None, "state", t, t + Duration::minutes(5)).await.expect("put");
    assert_eq!(s.passkeys.take_ceremony(id, CeremonyKind::Registration, t).await.expect("kind"), None);
    let passkeys = s.passkeys.clone();
    let taken = race(8, |_| {
        let passkeys = passkeys.clone();
        async move { passkeys.take_ceremony(id, CeremonyKind::Login, now()).await.expect("take") }
    })
    .await;
    assert_eq!(taken.iter().filter(|t| t.is_some()).count(), 1);
    let late = uuid::Uuid::now_v7();
    s.passkeys
        .put_ceremony(
            late,
            CeremonyKind::Registration,
            Some(u.id),
            "s",
            t - Duration::minutes(6),
            t - Duration::minutes(1),
        )
        .await
        .expect("put");
    assert_eq!(s.passkeys.take_ceremony(late, CeremonyKind::Registration, t).await.expect("take"), None, "expired");
}

pub async fn a_credential_has_one_account_and_its_sign_count_moves_on_once(s: Storage) {
    let (a, b) = (stored_user(&s, "owner").await, stored_user(&s, "other").await);
    let key = stored(a.id, "cred-1");
    assert!(s.passkeys.create(&key, &[]).await.expect("create"));
    assert!(!s.passkeys.create(&stored(b.id, "cred-1"), &[]).await.expect("same credential"));
    assert_eq!(s.passkeys.find_by_credential_id("cred-1").await.expect("find"), Some(key.clone()));
    let passkeys = s.passkeys.clone();
    let pid = key.passkey.id;
    let moved = race(6, |i| {
        let passkeys = passkeys.clone();
        let count = 4 + u32::try_from(i).expect("small");
        async move { passkeys.record_use(pid, 3, "{}", count, now()).await.expect("use") }
    })
    .await;
    assert_eq!(moved.iter().filter(|m| **m).count(), 1, "one assertion checked against count 3 is recorded");
    let after = s.passkeys.find_by_credential_id("cred-1").await.expect("find").expect("passkey");
    assert!(after.sign_count > 3 && after.passkey.last_used_at.is_some());
    assert!(!s.passkeys.delete(b.id, pid, &[]).await.expect("not b's"));
    assert_eq!(s.passkeys.count(a.id).await.expect("count"), 1);
    assert_eq!(s.passkeys.list(b.id).await.expect("list"), vec![]);
}

pub async fn a_reset_and_a_deleted_user_take_every_factor_along(s: Storage) {
    let u = stored_user(&s, "lost").await;
    enabled_totp(&s, u.id).await;
    s.passkeys.create(&stored(u.id, "cred-lost"), &[]).await.expect("create");
    s.mfa.create_challenge(&hash("pending"), u.id, now(), now() + Duration::minutes(5)).await.expect("challenge");
    s.mfa.remove_every_factor(u.id, &[]).await.expect("reset");
    assert_eq!(s.mfa.totp(u.id).await.expect("totp"), None);
    assert_eq!(s.mfa.recovery_codes_left(u.id).await.expect("codes"), 0);
    assert_eq!(s.passkeys.count(u.id).await.expect("passkeys"), 0);
    assert_eq!(s.mfa.attempt_challenge(&hash("pending"), now(), 5).await.expect("attempt"), None);

    let gone = stored_user(&s, "gone").await;
    enabled_totp(&s, gone.id).await;
    s.passkeys.create(&stored(gone.id, "cred-gone"), &[]).await.expect("create");
    s.users.delete(gone.id).await.expect("delete");
    assert_eq!(s.mfa.totp(gone.id).await.expect("totp"), None);
    assert_eq!(s.mfa.recovery_codes_left(gone.id).await.expect("codes"), 0);
    assert_eq!(s.passkeys.find_by_credential_id("cred-gone").await.expect("find"), None);
}
