//! The use cases (`AuthService`, `UserService`) over the in-process adapters: real JWT, an instant
//! password hasher (Argon2 has its own tests in crypto-adapter), storage in memory (the testkit's store, held to the same conformance suite as the SQL adapter),
//! and a clock the tests move. No database: the whole file runs in well under a second.

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use hexgate_crypto_adapter::{HmacCursorSealer, JwtConfig, JwtIssuer};
use hexgate_domain::{Email, FullName, Password, PasswordHash, Permission, PermissionSet, User, UserId, Username};
use hexgate_memory_adapter::{InMemoryRateLimiter, InMemoryRevocationList};
use hexgate_ports::{
    AccountTokenRepository, AuthPolicy, AuthService, BatchField, Clock, LoginAttempt, NewAccount, Principal, Resource,
    ServiceError, SuperuserOutcome, TokenHash, TokenPair, TokenPurpose, UserChanges, UserService,
};
use hexgate_testkit::{FastHasher, InMemoryStore};

fn ctx() -> hexgate_ports::RequestContext {
    hexgate_ports::RequestContext::default()
}
use secrecy::{ExposeSecret, SecretString};

struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn advance(&self, by: Duration) {
        let mut now = self.0.lock().expect("clock");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

struct World {
    auth: AuthService,
    users: UserService,
    clock: Arc<ManualClock>,
    store: Arc<InMemoryStore>,
}

fn world_with(open_registration: bool, max_failures: u64) -> World {
    let store = Arc::new(InMemoryStore::new());
    let hasher = Arc::new(FastHasher);
    let clock = Arc::new(ManualClock(Mutex::new(Utc::now())));
    let tokens = Arc::new(
        JwtIssuer::new(JwtConfig {
            secret: SecretString::from("service-test-key-0123456789abcdef".to_owned()),
            issuer: "hexgate".into(),
            audience: "hexgate-api".into(),
            access_ttl: Duration::minutes(15),
            leeway_secs: 0,
        })
        .expect("key"),
    );
    let auth = AuthService::new(
        store.clone(),
        store.clone(),
        store.clone(),
        hasher.clone(),
        tokens,
        Arc::new(InMemoryRevocationList::new()),
        Arc::new(InMemoryRateLimiter::new()),
        clock.clone(),
        AuthPolicy {
            refresh_ttl: Duration::days(30),
            refresh_reuse_grace: Duration::seconds(10),
            login_max_failures: max_failures,
            login_failure_window: StdDuration::from_secs(900),
        },
    );
    let cursors = Arc::new(HmacCursorSealer::new(&SecretString::from("service-test-cursor-key-0123456789".to_owned())));
    let users = UserService::new(store.clone(), hasher, clock.clone(), cursors, open_registration);
    World { auth, users, clock, store }
}

fn world() -> World {
    world_with(true, 5)
}

fn account(name: &str) -> NewAccount {
    NewAccount {
        email: Email::parse(&format!("{name}@example.com")).expect("email"),
        username: Username::parse(name).expect("username"),
        full_name: FullName::default(),
        is_active: true,
        password: Password::parse("Password123").expect("password"),
    }
}

fn attempt(login: &str, password: &str) -> LoginAttempt {
    LoginAttempt { login: login.into(), password: Password::candidate(password), user_agent: None, ip: None }
}

impl World {
    async fn signed_in(&self, name: &str) -> (User, TokenPair, Principal) {
        let user = self.users.register(None, account(name), &ctx()).await.expect("register");
        let pair = self.auth.login(attempt(name, "Password123"), &ctx()).await.expect("login");
        let principal = self.auth.authenticate_active(pair.access_token.expose_secret()).await.expect("auth");
        (user, pair, principal)
    }

    async fn admin(&self) -> User {
        self.users.ensure_superuser(account("root"), false).await.expect("superuser");
        let pair = self.auth.login(attempt("root", "Password123"), &ctx()).await.expect("login");
        self.auth.authenticate(pair.access_token.expose_secret()).await.expect("auth").user
    }
}

#[tokio::test]
async fn sign_up_never_grants_permissions_and_duplicates_conflict() {
    let w = world();
    let user = w.users.register(None, account("ada"), &ctx()).await.expect("register");
    assert_eq!(user.permissions, PermissionSet::EMPTY);
    assert!(!user.is_verified);
    assert_eq!(w.users.register(None, account("ada"), &ctx()).await.unwrap_err(), ServiceError::EmailTaken);
    let mut same_name = account("ada");
    same_name.email = Email::parse("other@example.com").expect("email");
    assert_eq!(w.users.register(None, same_name, &ctx()).await.unwrap_err(), ServiceError::UsernameTaken);
}

#[tokio::test]
async fn sign_up_queues_a_welcome_mail_with_the_user_and_a_refused_one_queues_nothing() {
    let w = world();
    let user = w.users.register(None, account("mailme"), &ctx()).await.expect("register");
    assert!(w.users.register(None, account("mailme"), &ctx()).await.is_err());
    let jobs = w.store.queued_jobs();
    assert_eq!(jobs, vec![hexgate_ports::welcome_job(user.id)]);
}

#[tokio::test]
async fn closed_registration_needs_an_admin() {
    let w = world_with(false, 5);
    assert_eq!(w.users.register(None, account("anon"), &ctx()).await.unwrap_err(), ServiceError::Unauthenticated);
    let admin = w.admin().await;
    let made = w.users.register(Some(&admin), account("made"), &ctx()).await.expect("admin may");
    assert_eq!(w.users.register(Some(&made), account("nope"), &ctx()).await.unwrap_err(), ServiceError::Forbidden);
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_fail_alike_and_inactive_users_are_refused() {
    let w = world();
    let (user, _, _) = w.signed_in("bob").await;
    assert_eq!(w.auth.login(attempt("bob", "Wrong12345"), &ctx()).await.err(), Some(ServiceError::InvalidCredentials));
    assert_eq!(
        w.auth.login(attempt("ghost", "Wrong12345"), &ctx()).await.err(),
        Some(ServiceError::InvalidCredentials)
    );
    assert!(w.auth.login(attempt("  BOB@Example.com ", "Password123"), &ctx()).await.is_ok());
    let admin = w.admin().await;
    w.users
        .update(&admin, user.id, UserChanges { is_active: Some(false), ..UserChanges::default() }, &ctx())
        .await
        .expect("deactivate");
    assert_eq!(w.auth.login(attempt("bob", "Password123"), &ctx()).await.err(), Some(ServiceError::InactiveUser));
}

#[tokio::test]
async fn past_the_failure_limit_every_attempt_is_refused_until_the_window_ends() {
    let w = world_with(true, 2);
    w.signed_in("carol").await;
    for _ in 0..2 {
        assert_eq!(
            w.auth.login(attempt("carol", "Wrong12345"), &ctx()).await.err(),
            Some(ServiceError::InvalidCredentials)
        );
    }
    match w.auth.login(attempt("carol@example.com", "Password123"), &ctx()).await.err() {
        Some(ServiceError::TooManyAttempts { retry_after_secs }) => assert!((1..=900).contains(&retry_after_secs)),
        other => panic!("expected 429, got {other:?}"),
    }
}

#[tokio::test]
async fn refresh_rotates_then_reuse_kills_the_family() {
    let w = world();
    let (_, first, _) = w.signed_in("dave").await;
    let second = w.auth.refresh(first.refresh_token.expose_secret(), &ctx()).await.expect("rotate");
    w.clock.advance(Duration::seconds(11));
    assert_eq!(
        w.auth.refresh(first.refresh_token.expose_secret(), &ctx()).await.err(),
        Some(ServiceError::Unauthenticated)
    );
    assert_eq!(
        w.auth.refresh(second.refresh_token.expose_secret(), &ctx()).await.err(),
        Some(ServiceError::Unauthenticated)
    );
    assert_eq!(
        w.auth.authenticate(second.access_token.expose_secret()).await.err(),
        Some(ServiceError::Unauthenticated),
        "the family's access tokens die with it"
    );
}

#[tokio::test]
async fn a_second_refresh_within_grace_gets_a_pair_of_the_same_family() {
    let w = world();
    let (_, first, _) = w.signed_in("erin").await;
    let a = w.auth.refresh(first.refresh_token.expose_secret(), &ctx()).await.expect("first tab");
    w.clock.advance(Duration::seconds(5));
    let b = w.auth.refresh(first.refresh_token.expose_secret(), &ctx()).await.expect("second tab");
    let pa = w.auth.authenticate(a.access_token.expose_secret()).await.expect("a");
    let pb = w.auth.authenticate(b.access_token.expose_secret()).await.expect("b");
    assert_eq!(pa.claims.session_id, pb.claims.session_id);
}

#[tokio::test]
async fn refresh_tokens_expire() {
    let w = world();
    let (_, pair, _) = w.signed_in("frank").await;
    w.clock.advance(Duration::days(31));
    assert_eq!(
        w.auth.refresh(pair.refresh_token.expose_secret(), &ctx()).await.err(),
        Some(ServiceError::Unauthenticated)
    );
}

#[tokio::test]
async fn logout_revokes_the_access_token_and_the_session() {
    let w = world();
    let (_, pair, principal) = w.signed_in("gail").await;
    w.auth.logout(&principal, None, &ctx()).await.expect("logout");
    assert_eq!(w.auth.authenticate(pair.access_token.expose_secret()).await.err(), Some(ServiceError::Unauthenticated));
    assert_eq!(
        w.auth.refresh(pair.refresh_token.expose_secret(), &ctx()).await.err(),
        Some(ServiceError::Unauthenticated)
    );
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_other_sessions() {
    let w = world();
    let (_, _, here) = w.signed_in("hank").await;
    let elsewhere = w.auth.login(attempt("hank", "Password123"), &ctx()).await.expect("login");
    let new = Password::parse("Newpass123").expect("valid");
    assert!(matches!(
        w.auth.change_password(&here, &Password::candidate("nope"), &new, &ctx()).await,
        Err(ServiceError::PasswordIncorrect)
    ));
    w.auth.change_password(&here, &Password::candidate("Password123"), &new, &ctx()).await.expect("change");
    assert!(w.auth.authenticate(elsewhere.access_token.expose_secret()).await.is_err());
    assert_eq!(w.auth.sessions(&here).await.expect("list").len(), 1);
    assert!(w.auth.login(attempt("hank", "Newpass123"), &ctx()).await.is_ok());
}

#[tokio::test]
async fn a_password_change_kills_the_reset_links_sent_before_it() {
    let w = world();
    let (user, _, here) = w.signed_in("hal").await;
    let link = TokenHash("reset-link-hash".into());
    let now = w.clock.now();
    w.store.issue(user.id, TokenPurpose::PasswordReset, &link, now + Duration::hours(1), now).await.expect("issue");
    let new = Password::parse("Newpass123").expect("valid");
    w.auth.change_password(&here, &Password::candidate("Password123"), &new, &ctx()).await.expect("change");
    let later = PasswordHash::from_phc("$fast$later".into());
    assert_eq!(w.store.reset_password(&link, &later, w.clock.now()).await.expect("store"), None);
}

#[tokio::test]
async fn sessions_can_be_revoked_only_by_their_owner() {
    let w = world();
    let (_, _, mine) = w.signed_in("ivy").await;
    let (_, _, theirs) = w.signed_in("jack").await;
    assert_eq!(
        w.auth.revoke_session(&theirs, mine.claims.session_id, &ctx()).await.err(),
        Some(ServiceError::NotFound(Resource::Session))
    );
    w.auth.revoke_session(&mine, mine.claims.session_id, &ctx()).await.expect("own");
}

#[tokio::test]
async fn the_permission_matrix_holds_through_the_service() {
    let w = world();
    let (me, _, _) = w.signed_in("kate").await;
    let (other, _, _) = w.signed_in("liam").await;
    assert_eq!(w.users.get(&me, me.id).await.expect("self").id, me.id);
    assert_eq!(w.users.get(&me, other.id).await.err(), Some(ServiceError::Forbidden));
    assert_eq!(w.users.get(&me, UserId::new()).await.err(), Some(ServiceError::Forbidden));
    let admin = w.admin().await;
    assert_eq!(w.users.get(&admin, UserId::new()).await.err(), Some(ServiceError::NotFound(Resource::User)));
    let manager = w
        .users
        .set_permissions(&admin, other.id, PermissionSet::EMPTY.with(Permission::UserManager), &ctx())
        .await
        .expect("grant");
    assert!(w.users.list(&manager, &Default::default(), Default::default()).await.is_ok());
    assert_eq!(w.users.delete(&manager, me.id, &ctx()).await.err(), Some(ServiceError::Forbidden));
}

#[tokio::test]
async fn the_last_admin_cannot_leave() {
    let w = world();
    let admin = w.admin().await;
    assert!(matches!(
        w.users.set_permissions(&admin, admin.id, PermissionSet::EMPTY, &ctx()).await,
        Err(ServiceError::LastAdmin)
    ));
    assert!(matches!(w.users.delete(&admin, admin.id, &ctx()).await, Err(ServiceError::LastAdmin)));
}

#[tokio::test]
async fn batch_checks_duplicates_and_taken_names_before_creating_anything() {
    let w = world();
    let admin = w.admin().await;
    w.users.register(None, account("taken"), &ctx()).await.expect("register");
    let dup = vec![account("one"), account("one")];
    assert_eq!(
        w.users.create_batch(&admin, dup, &ctx()).await.err(),
        Some(ServiceError::DuplicateInBatch(BatchField::Emails))
    );
    let taken = vec![account("two"), account("taken")];
    assert_eq!(
        w.users.create_batch(&admin, taken, &ctx()).await.err(),
        Some(ServiceError::EmailsTaken(vec!["taken@example.com".into()]))
    );
    assert_eq!(w.users.list(&admin, &Default::default(), Default::default()).await.expect("list").total, Some(2));
    let created = w.users.create_batch(&admin, vec![account("three"), account("four")], &ctx()).await.expect("batch");
    let names: Vec<&str> = created.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, vec!["three", "four"]);
}

#[tokio::test]
async fn ensure_superuser_is_idempotent_and_never_promotes_a_stranger_by_itself() {
    let w = world();
    let stranger = w.users.register(None, account("root"), &ctx()).await.expect("register");
    assert_eq!(
        w.users.ensure_superuser(account("root"), false).await.expect("ok"),
        SuperuserOutcome::ExistsWithoutAdmin(stranger.id)
    );
    assert_eq!(
        w.users.ensure_superuser(account("root"), true).await.expect("ok"),
        SuperuserOutcome::Promoted(stranger.id)
    );
    assert_eq!(
        w.users.ensure_superuser(account("root"), false).await.expect("ok"),
        SuperuserOutcome::AlreadyAdmin(stranger.id)
    );
}
