//! The second-factor repositories on both databases: the rules that must hold when requests race
//! (a TOTP step accepted once, an `mfa_token` tried at most five times, a ceremony finished once, a
//! sign count never moved back) and what deleting a user takes along.

mod support;

use std::sync::Arc;

use chrono::{Duration, Utc};
use hexgate_domain::passkey::{CeremonyKind, Passkey, PasskeyId, PasskeyName};
use hexgate_domain::{Email, FullName, NewUser, PasswordHash, PermissionSet, User, UserId, Username};
use hexgate_ports::{MfaRepository, PasskeyRepository, StoredPasskey, TokenHash, UserRepository};
use hexgate_postgres_adapter::{SqlMfaRepository, SqlPasskeyRepository, SqlUserRepository};
use support::on_both;

fn user(name: &str) -> User {
    NewUser {
        email: Email::parse(&format!("{name}@example.com")).expect("email"),
        username: Username::parse(name).expect("username"),
        full_name: FullName::parse(name).expect("name"),
        is_active: true,
        permissions: PermissionSet::EMPTY,
        password_hash: PasswordHash::from_phc(format!("$argon2id$fake${name}")),
    }
    .into_user(UserId::new(), chrono::SubsecRound::trunc_subsecs(Utc::now(), 6))
}

fn hash(text: &str) -> TokenHash {
    TokenHash(format!("{text:0>64}"))
}

async fn enabled_totp(repo: &SqlMfaRepository, user: UserId) {
    assert!(repo.set_pending_totp(user, b"sealed", Utc::now()).await.expect("pending"));
    let codes = [hash("a"), hash("b")];
    assert!(repo.enable_totp(user, b"sealed", 100, &codes, Utc::now(), &[]).await.expect("enable"));
}

#[tokio::test]
async fn a_totp_step_is_accepted_once_however_many_race_for_it() {
    on_both(|db| async move {
        let users = SqlUserRepository::new(db.clone());
        let repo = Arc::new(SqlMfaRepository::new(db));
        let u = user("racer");
        users.insert(&u).await.expect("user");
        enabled_totp(&repo, u.id).await;
        assert!(!repo.accept_totp_step(u.id, 100).await.expect("step"), "the confirming step is spent");
        let tries: Vec<_> = (0..8)
            .map(|_| {
                let repo = repo.clone();
                tokio::spawn(async move { repo.accept_totp_step(u.id, 101).await.expect("step") })
            })
            .collect();
        let mut won = 0;
        for t in tries {
            won += usize::from(t.await.expect("task"));
        }
        assert_eq!(won, 1);
        assert!(!repo.accept_totp_step(u.id, 99).await.expect("older"), "never backwards");
        // A pending enrolment cannot replace one that is on.
        assert!(!repo.set_pending_totp(u.id, b"other", Utc::now()).await.expect("pending"));
        assert_eq!(repo.totp(u.id).await.expect("read").expect("row").sealed_secret, b"sealed");
    })
    .await;
}

#[tokio::test]
async fn an_mfa_token_takes_at_most_five_attempts_and_is_spent_once() {
    on_both(|db| async move {
        let users = SqlUserRepository::new(db.clone());
        let repo = Arc::new(SqlMfaRepository::new(db));
        let u = user("guesser");
        users.insert(&u).await.expect("user");
        let now = Utc::now();
        repo.create_challenge(&hash("t"), u.id, now, now + Duration::minutes(5)).await.expect("create");
        let tries: Vec<_> = (0..12)
            .map(|_| {
                let repo = repo.clone();
                tokio::spawn(async move { repo.attempt_challenge(&hash("t"), Utc::now(), 5).await.expect("attempt") })
            })
            .collect();
        let mut counted = 0;
        for t in tries {
            if let Some(owner) = t.await.expect("task") {
                assert_eq!(owner, u.id);
                counted += 1;
            }
        }
        assert_eq!(counted, 5);
        assert!(repo.spend_challenge(&hash("t")).await.expect("spend"));
        assert!(!repo.spend_challenge(&hash("t")).await.expect("again"));
        // An expired token takes no attempt.
        repo.create_challenge(&hash("old"), u.id, now - Duration::minutes(10), now - Duration::minutes(5))
            .await
            .expect("create");
        assert_eq!(repo.attempt_challenge(&hash("old"), now, 5).await.expect("attempt"), None);
    })
    .await;
}

#[tokio::test]
async fn recovery_codes_are_spent_once_and_go_with_totp() {
    on_both(|db| async move {
        let users = SqlUserRepository::new(db.clone());
        let repo = SqlMfaRepository::new(db);
        let u = user("coder");
        users.insert(&u).await.expect("user");
        enabled_totp(&repo, u.id).await;
        assert_eq!(repo.recovery_codes_left(u.id).await.expect("count"), 2);
        assert!(repo.spend_recovery_code(u.id, &hash("a"), &[]).await.expect("spend"));
        assert!(!repo.spend_recovery_code(u.id, &hash("a"), &[]).await.expect("again"));
        assert!(repo.replace_recovery_codes(u.id, &[hash("c")], Utc::now(), &[]).await.expect("replace"));
        assert!(!repo.spend_recovery_code(u.id, &hash("b"), &[]).await.expect("old code"));
        assert!(repo.disable_totp(u.id, &[]).await.expect("disable"));
        assert_eq!(repo.recovery_codes_left(u.id).await.expect("count"), 0);
        assert!(!repo.replace_recovery_codes(u.id, &[hash("d")], Utc::now(), &[]).await.expect("without TOTP"));
        assert_eq!(repo.recovery_codes_left(u.id).await.expect("count"), 0);
    })
    .await;
}

fn stored(user: UserId, credential_id: &str) -> StoredPasskey {
    StoredPasskey {
        passkey: Passkey {
            id: PasskeyId::new(),
            user_id: user,
            name: PasskeyName::parse("key").expect("name"),
            created_at: chrono::SubsecRound::trunc_subsecs(Utc::now(), 6),
            last_used_at: None,
        },
        credential_id: credential_id.into(),
        credential: "{}".into(),
        sign_count: 3,
    }
}

#[tokio::test]
async fn a_ceremony_finishes_once_and_a_sign_count_moves_forward_once() {
    on_both(|db| async move {
        let users = SqlUserRepository::new(db.clone());
        let repo = Arc::new(SqlPasskeyRepository::new(db));
        let (a, b) = (user("owner"), user("other"));
        users.insert(&a).await.expect("user");
        users.insert(&b).await.expect("user");
        let id = uuid::Uuid::now_v7();
        let now = Utc::now();
        repo.put_ceremony(id, CeremonyKind::Login, None, "state", now, now + Duration::minutes(5)).await.expect("put");
        assert_eq!(repo.take_ceremony(id, CeremonyKind::Registration, now).await.expect("kind"), None);
        let tries: Vec<_> = (0..8)
            .map(|_| {
                let repo = repo.clone();
                tokio::spawn(
                    async move { repo.take_ceremony(id, CeremonyKind::Login, Utc::now()).await.expect("take") },
                )
            })
            .collect();
        let mut taken = 0;
        for t in tries {
            taken += usize::from(t.await.expect("task").is_some());
        }
        assert_eq!(taken, 1);

        let key = stored(a.id, "cred-1");
        assert!(repo.create(&key, &[]).await.expect("create"));
        assert!(
            !repo.create(&stored(b.id, "cred-1"), &[]).await.expect("same credential"),
            "one account per credential"
        );
        let tries: Vec<_> = (0..6)
            .map(|i| {
                let repo = repo.clone();
                let pid = key.passkey.id;
                tokio::spawn(async move { repo.record_use(pid, 3, "{}", 4 + i, Utc::now()).await.expect("use") })
            })
            .collect();
        let mut moved = 0;
        for t in tries {
            moved += usize::from(t.await.expect("task"));
        }
        assert_eq!(moved, 1, "only one assertion checked against count 3 is recorded");
        assert!(!repo.delete(b.id, key.passkey.id, &[]).await.expect("not b's"));
        assert_eq!(repo.count(a.id).await.expect("count"), 1);
        // Deleting the user takes the passkey along.
        users.delete(a.id).await.expect("delete user");
        assert_eq!(repo.find_by_credential_id("cred-1").await.expect("find"), None);
    })
    .await;
}
